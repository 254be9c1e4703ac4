#include "pods/types.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::pods {
std::string PodSpec::ReservationKey() const {
  return absl::StrCat(name, "_", namespace_name, "_", uid, "_", attempt);
}

StatusOr<uint64_t> ParseQuantity(const std::string& text) {
  auto bad = [&] { return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a resource quantity")); };
  size_t end = 0;
  while (end < text.size() && (absl::ascii_isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  if (end == 0) return bad();
  double number = 0;
  if (!absl::SimpleAtod(text.substr(0, end), &number)) return bad();
  std::string suffix = text.substr(end);
  static const std::pair<const char*, double> kSuffixes[] = {
      {"", 1},      {"m", 1e-3},  {"k", 1e3},   {"M", 1e6},          {"G", 1e9},          {"T", 1e12},
      {"P", 1e15},  {"E", 1e18},  {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}};
  double multiplier = 0;
  for (const auto& [name, value] : kSuffixes) {
    if (suffix == name) multiplier = value;
  }
  if (multiplier == 0 && suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int exponent = 0;
    if (!absl::SimpleAtoi(suffix.substr(1), &exponent) || exponent < 0 || exponent > 18) return bad();
    multiplier = std::pow(10.0, exponent);
  }
  if (multiplier == 0) return bad();
  double value = std::ceil(number * multiplier);
  if (!(value >= 0) || value > 1.8e19) return bad();
  return static_cast<uint64_t>(value);
}

}  // namespace berth::pods
