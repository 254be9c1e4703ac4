// A real docker-registry (distribution 2.8) for image tests, run as a child process
// on 127.0.0.1 with its storage in a temporary directory, and an HTTP client that
// speaks to it. The registry is either open, behind htpasswd Basic auth, or behind
// token auth served by a small JWT token server running in this process.
//
//   ASSIGN_OR_RETURN(auto registry, TestRegistry::Start({.auth = RegistryAuth::kToken}));
//   RegistryClient client = registry->Client();           // carries the credentials
//   ... PushImage(client, "berth-test/busybox", "latest", image) ...
//   pull "127.0.0.1:PORT/berth-test/busybox:latest" with registry->username()/password()
//
// Nothing here ever listens on or connects to anything but 127.0.0.1: the HTTP
// client refuses other URLs, ignores proxy settings and never follows redirects.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::testing {

// ---- HTTP ----------------------------------------------------------------------

struct HttpResponse {
  long status = 0;
  // Header names lowercased, in the order received (only the final response's).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header with this name (any case), or "" when absent.
  std::string Header(absl::string_view name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url = {};              // http://127.0.0.1:PORT/...
  std::vector<std::string> headers = {};  // "Name: value"
  std::string body = {};             // sent for POST, PUT and PATCH (even when empty)
};

// One HTTP exchange through libcurl. Fails with INVALID_ARGUMENT for any URL that is
// not http://127.0.0.1:PORT/... or https://127.0.0.1:PORT/... (whose certificate is
// not checked: it is a test server's own), with UNAVAILABLE when the connection fails; an HTTP
// error status is a successful exchange (look at response.status).
StatusOr<HttpResponse> SendHttp(const HttpRequest& request);

// A port on 127.0.0.1 that was free a moment ago: for a server that takes an
// address rather than a socket (the registry, Prometheus), so a race with another
// process is possible.
StatusOr<int> PickFreePort();

// A WWW-Authenticate challenge: `Bearer realm="...",service="...",scope="..."`.
struct AuthChallenge {
  std::string scheme;  // lowercased: "basic", "bearer"
  std::vector<std::pair<std::string, std::string>> params;
  std::string Param(absl::string_view name) const;  // "" when absent
};
StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header);

struct Credentials {
  std::string username;
  std::string password;
};

// Talks to one registry the way a docker client does: answers 401 challenges with
// Basic credentials or with a Bearer token fetched from the challenge's realm (Basic
// credentials sent to the token server, tokens cached per scope). Without
// credentials it still follows Bearer challenges, anonymously. One per thread.
class RegistryClient {
 public:
  explicit RegistryClient(std::string host_port, std::optional<Credentials> credentials = std::nullopt);

  const std::string& host_port() const { return host_port_; }

  // request.url may be a path ("/v2/...") or a full URL on this registry.
  StatusOr<HttpResponse> Send(HttpRequest request);
  StatusOr<HttpResponse> Get(absl::string_view path, std::vector<std::string> headers = {});

  // Whether the repository has the blob (HEAD /v2/<repo>/blobs/<digest>).
  StatusOr<bool> BlobExists(absl::string_view repository, absl::string_view digest);
  // POST /v2/<repo>/blobs/uploads/, then PUT <location>&digest=<digest> with data;
  // skipped (and counted in blobs_skipped) when the blob is already there.
  Status PushBlob(absl::string_view repository, absl::string_view digest, absl::string_view data);
  // PUT /v2/<repo>/manifests/<reference>; returns the registry's Docker-Content-Digest,
  // which must equal the digest of data.
  StatusOr<std::string> PutManifest(absl::string_view repository, absl::string_view reference,
                                    absl::string_view media_type, absl::string_view data);
  // GET /v2/<repo>/manifests/<reference> with this Accept header.
  StatusOr<HttpResponse> GetManifest(absl::string_view repository, absl::string_view reference,
                                     absl::string_view accept);
  // GET /v2/<repo>/blobs/<digest>; the body's digest is checked.
  StatusOr<std::string> GetBlob(absl::string_view repository, absl::string_view digest);

  int blobs_uploaded() const { return blobs_uploaded_; }
  int blobs_skipped() const { return blobs_skipped_; }
  int tokens_fetched() const { return tokens_fetched_; }

 private:
  std::string Url(absl::string_view path_or_url) const;
  StatusOr<std::string> FetchToken(const AuthChallenge& challenge);

  std::string host_port_;
  std::optional<Credentials> credentials_;
  std::string basic_header_;  // set once the registry asked for Basic auth
  std::vector<std::pair<std::string, std::string>> tokens_;  // scope -> token
  int blobs_uploaded_ = 0;
  int blobs_skipped_ = 0;
  int tokens_fetched_ = 0;
};

// ---- the registry --------------------------------------------------------------

enum class RegistryAuth {
  kNone,   // anyone may pull and push
  kBasic,  // htpasswd (bcrypt) Basic auth for everything
  kToken,  // Bearer tokens from the in-process token server
};

// How the token server names its signing key in the JWT header; distribution 2.8
// accepts either (x5c: the certificate itself, checked against rootcertbundle;
// kid: libtrust's fingerprint of the public key of a certificate in the bundle).
enum class TokenKeyHint { kX5c, kKeyId };

// One request the token server answered.
struct TokenRequest {
  std::string method;               // GET, or POST for the OAuth2 password grant
  std::string service;
  std::vector<std::string> scopes;  // as requested: "repository:NAME:pull,push"
  std::string username;             // "" when anonymous
  bool authenticated = false;       // the credentials matched
  long status = 0;                  // the HTTP status answered
};

class TestRegistry {
 public:
  struct Options {
    RegistryAuth auth = RegistryAuth::kNone;
    std::string username = "berth-tester";
    std::string password = "s3cret-Pa55";
    // Token mode: anonymous token requests get pull-only tokens (like a public
    // repository on Docker Hub) instead of 401.
    bool anonymous_pull = false;
    TokenKeyHint key_hint = TokenKeyHint::kX5c;
    std::chrono::seconds token_lifetime{300};
    std::chrono::seconds start_timeout{30};
  };

  // Starts the registry (and the token server) and waits until it listens. Call from
  // a thread that outlives the registry: the child is killed when that thread exits
  // (PR_SET_PDEATHSIG), so a crashed test leaves no registry behind.
  static StatusOr<std::unique_ptr<TestRegistry>> Start(Options options);
  static StatusOr<std::unique_ptr<TestRegistry>> Start() { return Start(Options{}); }
  ~TestRegistry();  // Stop()
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  // SIGTERM to the registry's pid (SIGKILL after 10s), reaped through a pidfd; stops
  // the token server and removes the temporary directory. Idempotent.
  Status Stop();

  std::string host_port() const;  // "127.0.0.1:PORT"
  int port() const { return port_; }
  const std::string& username() const { return options_.username; }
  const std::string& password() const { return options_.password; }
  Credentials credentials() const { return {options_.username, options_.password}; }
  RegistryAuth auth() const { return options_.auth; }
  // A client with this registry's credentials (none for an open registry).
  RegistryClient Client() const;
  // A client without credentials.
  RegistryClient AnonymousClient() const;

  pid_t pid() const { return pid_; }        // -1 once stopped
  const std::string& dir() const { return dir_; }  // config, storage, log; gone once stopped
  std::string Log() const;                  // what the registry wrote so far

  // Token mode only.
  std::string token_realm() const;          // "http://127.0.0.1:PORT/token"
  std::string token_service() const;        // the registry's service name (JWT aud)
  std::string token_issuer() const;
  int token_port() const;                   // 0 without a token server
  std::vector<TokenRequest> token_requests() const;

 private:
  class TokenServer;
  explicit TestRegistry(Options options);
  Status StartRegistry();
  Status SpawnAndWaitReady(const std::string& config_path, bool* port_in_use);

  Options options_;
  std::string dir_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::unique_ptr<TokenServer> token_server_;
};

}  // namespace berth::testing
