#include "image/reference.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "image/digest.h"

namespace berth::image {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: lowercase alphanumerics joined by ".", "_", "__" or runs of "-".
bool ValidPathComponent(absl::string_view component) {
  if (component.empty() || !IsLowerAlnum(component.front()) || !IsLowerAlnum(component.back())) {
    return false;
  }
  for (size_t i = 0; i < component.size(); ++i) {
    char c = component[i];
    if (IsLowerAlnum(c)) continue;
    if (c == '.' || c == '_') {
      // One ".", one "_" or "__"; never two separators of other kinds in a row.
      size_t run = 1;
      while (i + run < component.size() && !IsLowerAlnum(component[i + run])) ++run;
      absl::string_view sep = component.substr(i, run);
      if (sep != "." && sep != "_" && sep != "__") return false;
      i += run - 1;
      continue;
    }
    if (c == '-') {
      size_t run = 1;
      while (i + run < component.size() && component[i + run] == '-') ++run;
      if (i + run < component.size() && !IsLowerAlnum(component[i + run])) return false;
      i += run - 1;
      continue;
    }
    return false;
  }
  return true;
}

bool ValidTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength) return false;
  auto word = [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(tag[0])) return false;
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// A host, optionally with a port: DNS labels or an IPv4 address, or [IPv6].
bool ValidDomain(absl::string_view domain) {
  if (domain.empty()) return false;
  absl::string_view host = domain;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == absl::string_view::npos) return false;
    absl::string_view rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != absl::string_view::npos) {
      return false;
    }
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    absl::string_view port = rest.substr(1);
    return !port.empty() && port.find_first_not_of("0123456789") == absl::string_view::npos;
  }
  size_t colon = host.rfind(':');
  if (colon != absl::string_view::npos) {
    absl::string_view port = host.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != absl::string_view::npos) return false;
    host = host.substr(0, colon);
  }
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

Status Invalid(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid image reference \"", text, "\": ", why));
}

}  // namespace

std::string Reference::TagRef() const { return tag.empty() ? "" : Repository() + ":" + tag; }

std::string Reference::DigestRef(absl::string_view manifest_digest) const {
  return absl::StrCat(Repository(), "@", manifest_digest);
}

std::string Reference::String() const {
  std::string out = Repository();
  if (!tag.empty()) absl::StrAppend(&out, ":", tag);
  if (!digest.empty()) absl::StrAppend(&out, "@", digest);
  return out;
}

bool LooksLikeImageId(absl::string_view text) {
  absl::ConsumePrefix(&text, "sha256:");
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

StatusOr<Reference> ParseReference(absl::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  if (text.find_first_of(" \t\n\r") != absl::string_view::npos) return Invalid(text, "contains white space");
  Reference ref;
  absl::string_view rest = text;
  if (size_t at = rest.find('@'); at != absl::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    Status valid = ValidateDigest(ref.digest);
    if (!valid.ok()) return Invalid(text, valid.message());
    rest = rest.substr(0, at);
  }
  // A tag is what follows the last ':' unless that ':' is part of the host's port
  // (then a '/' comes after it).
  if (size_t colon = rest.rfind(':');
      colon != absl::string_view::npos && rest.find('/', colon) == absl::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!ValidTag(ref.tag)) {
      return Invalid(text, absl::StrCat("tag \"", ref.tag,
                                        "\" must be 1-128 of letters, digits, '_', '.', '-', "
                                        "not starting with '.' or '-'"));
    }
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return Invalid(text, "no repository name");

  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  absl::string_view first = parts.front();
  // The first component is a registry host when it looks like one.
  bool has_domain = parts.size() > 1 && (first.find('.') != absl::string_view::npos ||
                                         first.find(':') != absl::string_view::npos ||
                                         first == "localhost" || absl::StartsWith(first, "["));
  if (has_domain) {
    if (!ValidDomain(first)) return Invalid(text, absl::StrCat("registry host \"", first, "\" is not valid"));
    ref.domain = std::string(first);
    parts.erase(parts.begin());
  } else {
    ref.domain = "docker.io";
  }
  if (ref.domain == "index.docker.io" || ref.domain == "registry-1.docker.io") ref.domain = "docker.io";
  for (absl::string_view component : parts) {
    if (!ValidPathComponent(component)) {
      if (absl::AsciiStrToLower(component) != component) {
        return Invalid(text, "repository name must be lowercase");
      }
      return Invalid(text, absl::StrCat("path component \"", component,
                                        "\" must be lowercase letters and digits joined by "
                                        "'.', '_', '__' or '-'"));
    }
  }
  ref.path = absl::StrJoin(parts, "/");
  if (ref.domain == "docker.io" && parts.size() == 1) ref.path = "library/" + ref.path;
  if (LooksLikeImageId(ref.path) || (parts.size() == 1 && LooksLikeImageId(parts[0]))) {
    return Invalid(text, "a repository name cannot be a 64-character hex string (that is an image ID)");
  }
  if (ref.Repository().size() > kMaxNameLength) {
    return Invalid(text, absl::StrCat("name longer than ", kMaxNameLength, " characters"));
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace berth::image
