#include "image/registry_client.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "image/digest.h"

namespace berth::image {
namespace {

constexpr int kAttempts = 4;
constexpr auto kFirstBackoff = std::chrono::milliseconds(250);
constexpr long kConnectTimeoutSeconds = 15;
constexpr size_t kMaxTokenResponse = 1 << 20;
// What is kept of an error response's body while streaming a blob.
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr char kUserAgent[] = "berth/0.1 (CRI runtime)";

// libcurl wants one global init before any thread uses it.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Transient transport failures. A refused connection or an unknown host is not
// transient enough to wait for: the next endpoint (a mirror, the upstream) is tried.
bool Retryable(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
  }
}

bool RetryableHttp(long code) {
  return code == 408 || code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
}

}  // namespace

struct RegistryClient::Response {
  long http_code = 0;
  std::string body;
  std::string content_type;
  std::string www_authenticate;
  std::string docker_content_digest;
  CURLcode curl_code = CURLE_OK;
  std::string curl_error;
  Status sink_status;
  bool too_large = false;
};

struct RegistryClient::Challenge {
  std::string scheme;  // "bearer" or "basic", lowercased
  std::map<std::string, std::string> params;
};

namespace {

// Parses `Bearer realm="...",service="...",scope="..."`; quoted values may hold commas.
bool ParseChallenge(absl::string_view header, std::string* scheme,
                    std::map<std::string, std::string>* params) {
  header = absl::StripAsciiWhitespace(header);
  size_t space = header.find(' ');
  *scheme = absl::AsciiStrToLower(header.substr(0, space));
  if (scheme->empty()) return false;
  if (space == absl::string_view::npos) return true;
  absl::string_view rest = header.substr(space + 1);
  while (!rest.empty()) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    size_t eq = rest.find('=');
    if (eq == absl::string_view::npos) break;
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(0, eq)));
    rest = rest.substr(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value += rest[i];
      }
      rest = rest.substr(std::min(i + 1, rest.size()));
    } else {
      size_t comma = rest.find(',');
      value = std::string(absl::StripAsciiWhitespace(rest.substr(0, comma)));
      rest = comma == absl::string_view::npos ? absl::string_view() : rest.substr(comma);
    }
    (*params)[key] = value;
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
  return true;
}

struct TransferState {
  std::string* body;
  size_t max_bytes;
  const BlobSink* sink;
  Status* sink_status;
  bool* too_large;
  size_t received = 0;
  long http_code = 0;
  CURL* curl;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  size_t n = size * count;
  if (state->http_code == 0) curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &state->http_code);
  state->received += n;
  // Error bodies are short JSON; only a 2xx body goes to the sink.
  if (state->sink != nullptr && state->http_code >= 200 && state->http_code < 300) {
    *state->sink_status = (*state->sink)(data, n);
    return state->sink_status->ok() ? n : 0;
  }
  if (state->received > state->max_bytes) {
    *state->too_large = true;
    return 0;
  }
  state->body->append(data, n);
  return n;
}


}  // namespace

RegistryClient::RegistryClient(Endpoint endpoint, std::string repository, Credentials credentials)
    : endpoint_(std::move(endpoint)),
      base_url_(endpoint_.base_url),
      repository_(std::move(repository)),
      credentials_(std::move(credentials)) {
  InitCurlOnce();
  if (!credentials_.registry_token.empty()) authorization_ = "Bearer " + credentials_.registry_token;
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::BasicAuthHeader() const {
  std::string user_pass;
  if (!credentials_.auth.empty()) {
    if (!absl::Base64Unescape(credentials_.auth, &user_pass)) user_pass.clear();
  }
  if (user_pass.empty() && !credentials_.username.empty()) {
    user_pass = credentials_.username + ":" + credentials_.password;
  }
  if (user_pass.empty()) return "";
  return "Basic " + absl::Base64Escape(user_pass);
}

StatusOr<RegistryClient::Response> RegistryClient::GetOnce(const std::string& url,
                                                           const std::string& accept,
                                                           size_t max_bytes, const BlobSink* sink) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return absl::InternalError("curl_easy_init failed");
  Response response;
  std::string authorization;
  {
    std::lock_guard<std::mutex> lock(mu_);
    authorization = authorization_;
  }
  curl_slist* raw_headers = nullptr;
  if (!accept.empty()) raw_headers = curl_slist_append(raw_headers, ("Accept: " + accept).c_str());
  if (!authorization.empty()) {
    raw_headers = curl_slist_append(raw_headers, ("Authorization: " + authorization).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);

  TransferState state{&response.body, max_bytes, sink, &response.sink_status, &response.too_large, 0, 0,
                      curl.get()};
  struct HeaderState {
    Response* response;
  } header_state{&response};
  auto on_header = +[](char* data, size_t size, size_t count, void* user) -> size_t {
    auto* hs = static_cast<HeaderState*>(user);
    absl::string_view line(data, size * count);
    size_t colon = line.find(':');
    if (colon != absl::string_view::npos) {
      std::string name = absl::AsciiStrToLower(line.substr(0, colon));
      std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      // A redirect's headers come first; the final response's win.
      if (name == "content-type") hs->response->content_type = value;
      else if (name == "www-authenticate") hs->response->www_authenticate = value;
      else if (name == "docker-content-digest") hs->response->docker_content_digest = value;
    }
    return size * count;
  };
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // A registry reached over https must not be redirected to plain http.
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                   absl::StartsWith(url, "https://") ? "https" : "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  // A transfer slower than that for this long is dead; no cap on a whole blob's time.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(progress_timeout_.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &header_state);
  // Proxies come from the environment like every other HTTP client on the node.
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  response.curl_code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.http_code);
  if (response.curl_code != CURLE_OK) {
    response.curl_error = error[0] ? error : curl_easy_strerror(response.curl_code);
  }
  return response;
}

Status RegistryClient::Authenticate(const Challenge& challenge) {
  if (challenge.scheme == "basic") {
    std::string basic = BasicAuthHeader();
    if (basic.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(base_url_, " requires credentials for ", repository_, " and none were given"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    authorization_ = basic;
    return absl::OkStatus();
  }
  if (challenge.scheme == "bearer") {
    ASSIGN_OR_RETURN(std::string token, FetchToken(challenge));
    std::lock_guard<std::mutex> lock(mu_);
    authorization_ = "Bearer " + token;
    return absl::OkStatus();
  }
  return absl::UnimplementedError(
      absl::StrCat(base_url_, " asks for unsupported authentication scheme \"", challenge.scheme, "\""));
}

StatusOr<std::string> RegistryClient::FetchToken(const Challenge& challenge) {
  auto realm_it = challenge.params.find("realm");
  if (realm_it == challenge.params.end() || realm_it->second.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(base_url_, ": bearer challenge without a realm"));
  }
  const std::string& realm = realm_it->second;
  if (!absl::StartsWith(realm, "https://") && !absl::StartsWith(realm, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat(base_url_, ": token realm \"", realm, "\" is not an http(s) URL"));
  }
  std::string service = challenge.params.count("service") ? challenge.params.at("service") : "";
  std::string scope = absl::StrCat("repository:", repository_, ":pull");

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  CURL* c = curl.get();
  auto escape = [c](const std::string& s) {
    char* e = curl_easy_escape(c, s.c_str(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
  };
  std::string url = realm;
  std::string form;
  curl_slist* raw_headers = nullptr;
  if (!credentials_.identity_token.empty()) {
    // OAuth2: trade the refresh token for an access token.
    form = absl::StrCat("grant_type=refresh_token&client_id=berth&service=", escape(service),
                        "&scope=", escape(scope), "&refresh_token=", escape(credentials_.identity_token));
  } else {
    absl::StrAppend(&url, realm.find('?') == std::string::npos ? "?" : "&",
                    "service=", escape(service), "&scope=", escape(scope));
    std::string basic = BasicAuthHeader();
    if (!basic.empty()) raw_headers = curl_slist_append(raw_headers, ("Authorization: " + basic).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  std::string body;
  auto on_body = +[](char* data, size_t size, size_t count, void* user) -> size_t {
    auto* out = static_cast<std::string*>(user);
    if (out->size() + size * count > kMaxTokenResponse) return 0;
    out->append(data, size * count);
    return size * count;
  };
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (!form.empty()) curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  CURLcode code = curl_easy_perform(c);
  long http_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http_code);
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("fetch token from ", realm, ": ", curl_easy_strerror(code)));
  }
  if (http_code == 401 || http_code == 403) {
    return absl::PermissionDeniedError(absl::StrCat(
        "token server ", realm, " refused ", credentials_.empty() ? "anonymous access" : "the credentials",
        " for ", repository_, " (HTTP ", http_code, ")"));
  }
  if (http_code != 200) {
    return absl::UnavailableError(absl::StrCat("token server ", realm, " answered HTTP ", http_code));
  }
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("token server ", realm, " sent no JSON"));
  }
  for (const char* key : {"token", "access_token"}) {
    if (auto it = doc.find(key); it != doc.end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("token server ", realm, " sent no token"));
}

StatusOr<RegistryClient::Response> RegistryClient::Get(const std::string& path, const std::string& accept,
                                                       size_t max_bytes, const BlobSink* sink,
                                                       const std::function<void()>* restart) {
  std::chrono::milliseconds backoff = kFirstBackoff;
  bool authenticated_once = false;
  bool fell_back_to_http = false;
  std::mt19937 jitter(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1 && restart != nullptr && *restart) (*restart)();
    std::string url = base_url_ + path;
    ASSIGN_OR_RETURN(Response response, GetOnce(url, accept, max_bytes, sink));
    if (!response.sink_status.ok()) return response.sink_status;
    if (response.too_large) {
      return absl::InvalidArgumentError(absl::StrCat(url, ": response larger than ", max_bytes, " bytes"));
    }
    if (response.curl_code != CURLE_OK) {
      // An insecure registry may speak only plain HTTP.
      if (endpoint_.allow_http_fallback && !fell_back_to_http && absl::StartsWith(base_url_, "https://")) {
        base_url_ = "http://" + base_url_.substr(8);
        fell_back_to_http = true;
        --attempt;
        continue;
      }
      if (Retryable(response.curl_code) && attempt < kAttempts) {
        BERTH_LOG(Info) << "registry request failed, retrying" << Kv("url", url)
                        << Kv("error", response.curl_error) << Kv("attempt", attempt);
        std::this_thread::sleep_for(backoff + std::chrono::milliseconds(jitter() % 100));
        backoff *= 2;
        continue;
      }
      return absl::UnavailableError(absl::StrCat("GET ", url, ": ", response.curl_error));
    }
    if (response.http_code == 401 && !authenticated_once) {
      Challenge challenge;
      if (!ParseChallenge(response.www_authenticate, &challenge.scheme, &challenge.params)) {
        return absl::PermissionDeniedError(absl::StrCat("GET ", url, ": 401 without an authentication challenge"));
      }
      RETURN_IF_ERROR(Authenticate(challenge));
      authenticated_once = true;
      --attempt;
      continue;
    }
    if (RetryableHttp(response.http_code) && attempt < kAttempts) {
      std::this_thread::sleep_for(backoff + std::chrono::milliseconds(jitter() % 100));
      backoff *= 2;
      continue;
    }
    if (response.http_code >= 200 && response.http_code < 300) return response;
    std::string detail = response.body.substr(0, 300);
    if (response.http_code == 404) {
      return absl::NotFoundError(absl::StrCat(url, " not found (HTTP 404) ", detail));
    }
    if (response.http_code == 401 || response.http_code == 403) {
      return absl::PermissionDeniedError(absl::StrCat(
          "GET ", url, ": access denied (HTTP ", response.http_code, ") ", detail));
    }
    return absl::UnavailableError(absl::StrCat("GET ", url, ": HTTP ", response.http_code, " ", detail));
  }
}

StatusOr<FetchedManifest> RegistryClient::GetManifest(absl::string_view reference, size_t max_bytes) {
  ASSIGN_OR_RETURN(Response response,
                   Get(absl::StrCat("/v2/", repository_, "/manifests/", reference),
                       media_type::kAcceptManifests, max_bytes, nullptr, nullptr));
  FetchedManifest manifest;
  manifest.digest = Sha256Of(response.body);
  if (absl::StartsWith(reference, "sha256:") && manifest.digest != reference) {
    return absl::DataLossError(absl::StrCat("manifest ", reference, " from ", base_url_,
                                            " has digest ", manifest.digest));
  }
  // A registry that names the digest of what it sends must send that: otherwise the
  // manifest changed under the request, or the registry lies about it.
  if (absl::StartsWith(response.docker_content_digest, "sha256:") &&
      response.docker_content_digest != manifest.digest) {
    return absl::DataLossError(absl::StrCat("manifest ", reference, " from ", base_url_, " has digest ",
                                            manifest.digest, " but the registry says ",
                                            response.docker_content_digest));
  }
  manifest.body = std::move(response.body);
  manifest.media_type = std::move(response.content_type);
  return manifest;
}

Status RegistryClient::GetBlob(const Descriptor& blob, const BlobSink& sink,
                               const std::function<void()>& restart) {
  Sha256 hasher;
  int64_t received = 0;
  BlobSink verifying = [&](const char* data, size_t size) -> Status {
    received += static_cast<int64_t>(size);
    if (received > blob.size) {
      return absl::DataLossError(absl::StrCat("blob ", blob.digest, " is larger than its declared ",
                                              blob.size, " bytes"));
    }
    hasher.Update(data, size);
    return sink(data, size);
  };
  std::function<void()> restart_all = [&] {
    hasher = Sha256();
    received = 0;
    if (restart) restart();
  };
  ASSIGN_OR_RETURN(Response response, Get(absl::StrCat("/v2/", repository_, "/blobs/", blob.digest), "",
                                          kMaxErrorBody, &verifying, &restart_all));
  (void)response;
  if (received != blob.size) {
    return absl::DataLossError(absl::StrCat("blob ", blob.digest, ": got ", received, " bytes, expected ",
                                            blob.size));
  }
  std::string digest = hasher.Finish();
  if (digest != blob.digest) {
    return absl::DataLossError(absl::StrCat("blob ", blob.digest, " from ", base_url_,
                                            " has digest ", digest));
  }
  return absl::OkStatus();
}

}  // namespace berth::image
