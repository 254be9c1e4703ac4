// A client for one repository on one registry endpoint (OCI distribution spec):
// manifests and blobs over HTTP(S) with libcurl, with the registry's token or basic
// authentication, retries with backoff on transient failures, and digests verified
// as the bytes arrive.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "image/manifest.h"
#include "image/registry_hosts.h"

namespace berth::image {

// Credentials as CRI's AuthConfig carries them.
struct Credentials {
  std::string username;
  std::string password;
  std::string auth;            // base64("username:password"), an alternative to the two above
  std::string identity_token;  // an OAuth2 refresh token exchanged for access tokens
  std::string registry_token;  // a bearer token sent as is
  bool empty() const {
    return username.empty() && password.empty() && auth.empty() && identity_token.empty() &&
           registry_token.empty();
  }
};

struct FetchedManifest {
  std::string body;
  std::string media_type;  // the Content-Type the registry sent
  std::string digest;      // sha256 of body
};

// Receives a blob's bytes in order. Returning an error stops the download.
using BlobSink = std::function<Status(const char* data, size_t size)>;

class RegistryClient {
 public:
  RegistryClient(Endpoint endpoint, std::string repository, Credentials credentials);
  ~RegistryClient();

  // reference: a tag or a digest. When it is a digest the body is checked against it.
  StatusOr<FetchedManifest> GetManifest(absl::string_view reference, size_t max_bytes);
  // Streams the blob into sink; restart is called before a retried attempt starts
  // over, so the sink can discard what it took. Size and digest are verified.
  Status GetBlob(const Descriptor& blob, const BlobSink& sink, const std::function<void()>& restart);

  const Endpoint& endpoint() const { return endpoint_; }
  // A transfer moving less than 1 KiB/s for this long is given up (and retried).
  void set_progress_timeout(std::chrono::seconds timeout) { progress_timeout_ = timeout; }

 private:
  struct Response;
  struct Challenge;
  // One GET with authentication and retries; body goes to sink (or is collected).
  StatusOr<Response> Get(const std::string& path, const std::string& accept, size_t max_bytes,
                         const BlobSink* sink, const std::function<void()>* restart);
  StatusOr<Response> GetOnce(const std::string& url, const std::string& accept, size_t max_bytes,
                             const BlobSink* sink);
  Status Authenticate(const Challenge& challenge);
  StatusOr<std::string> FetchToken(const Challenge& challenge);
  std::string BasicAuthHeader() const;

  Endpoint endpoint_;
  std::string base_url_;  // endpoint_.base_url, switched to http:// when falling back
  const std::string repository_;
  const Credentials credentials_;
  std::chrono::seconds progress_timeout_{60};
  std::mutex mu_;
  std::string authorization_;  // the Authorization header value to send, if any
};

}  // namespace berth::image
