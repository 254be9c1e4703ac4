// Hashing, encoding and randomness for the test registry and image builder, on
// OpenSSL's EVP API.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::testing {

// "sha256:<64 lowercase hex digits>" of data: an OCI content digest.
std::string Sha256Digest(absl::string_view data);

// Standard base64 with padding (RFC 4648 section 4), and its inverse.
std::string Base64Encode(absl::string_view data);
StatusOr<std::string> Base64Decode(absl::string_view text);

// URL-safe base64 without padding, as JWTs use it (RFC 7515 section 2).
std::string Base64UrlEncode(absl::string_view data);

// n random bytes as 2n lowercase hex digits.
std::string RandomHex(size_t n);

}  // namespace berth::testing
