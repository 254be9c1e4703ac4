#include "runtime/signals.h"

#include <signal.h>
#include <string.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::runtime {

StatusOr<int> ParseSignal(absl::string_view name) {
  int number;
  if (absl::SimpleAtoi(name, &number)) {
    if (number <= 0 || number >= NSIG) return absl::InvalidArgumentError(absl::StrCat("bad signal ", name));
    return number;
  }
  std::string upper = absl::AsciiStrToUpper(name);
  if (!absl::StartsWith(upper, "SIG")) upper = "SIG" + upper;
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    if (abbrev != nullptr && upper == absl::StrCat("SIG", abbrev)) return sig;
  }
  if (absl::StartsWith(upper, "SIGRTMIN+") || absl::StartsWith(upper, "SIGRTMAX-")) {
    int offset;
    if (absl::SimpleAtoi(upper.substr(9), &offset)) {
      int sig = upper[6] == 'I' ? SIGRTMIN + offset : SIGRTMAX - offset;
      if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown signal ", name));
}

}  // namespace berth::runtime
