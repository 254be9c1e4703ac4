// Content digests ("sha256:<64 hex>") and streaming SHA-256.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::image {

// Checks an OCI digest. Only sha256 is accepted: it is what every registry serves,
// and a digest berth cannot verify must not be trusted.
Status ValidateDigest(absl::string_view digest);

// The 64 hex characters after "sha256:".
inline absl::string_view DigestHex(absl::string_view digest) { return digest.substr(7); }

// SHA-256 over a stream of bytes.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  void Update(absl::string_view data) { Update(data.data(), data.size()); }
  // "sha256:<hex>" of everything given so far; the hasher is spent afterwards.
  std::string Finish();

 private:
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx_;
};

std::string Sha256Of(absl::string_view data);

}  // namespace berth::image
