#include "test/integration/test_registry.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "test/integration/test_crypto.h"

namespace berth::testing {
namespace {

constexpr char kRegistryBinary[] = "/usr/bin/docker-registry";
constexpr char kHtpasswdBinary[] = "/usr/bin/htpasswd";
constexpr char kLoopback[] = "127.0.0.1";
constexpr char kService[] = "berth-test-registry";
constexpr char kIssuer[] = "berth-test-token-issuer";
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr size_t kMaxRequestBytes = 64 * 1024;

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// ---- HTTP client ----

// True for http(s)://127.0.0.1:PORT or http(s)://127.0.0.1:PORT/...: the only URLs
// the tests may reach.
bool IsLoopbackUrl(absl::string_view url) {
  if (!absl::ConsumePrefix(&url, "http://127.0.0.1:") && !absl::ConsumePrefix(&url, "https://127.0.0.1:")) {
    return false;
  }
  size_t digits = 0;
  while (digits < url.size() && std::isdigit(static_cast<unsigned char>(url[digits]))) ++digits;
  if (digits == 0 || digits > 5) return false;
  return digits == url.size() || url[digits] == '/';
}

size_t CollectBody(char* data, size_t size, size_t nmemb, void* out) {
  static_cast<std::string*>(out)->append(data, size * nmemb);
  return size * nmemb;
}

size_t CollectHeader(char* data, size_t size, size_t nmemb, void* out) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(out);
  absl::string_view line(data, size * nmemb);
  // A new status line starts a new response (after a 100 Continue, say).
  if (absl::StartsWith(line, "HTTP/")) {
    headers->clear();
  } else if (size_t colon = line.find(':'); colon != absl::string_view::npos) {
    headers->emplace_back(absl::AsciiStrToLower(line.substr(0, colon)),
                          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * nmemb;
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

std::string UrlDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// key=value&key=value, decoded, repeated keys kept.
std::vector<std::pair<std::string, std::string>> ParseForm(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    out.emplace_back(UrlDecode(kv.first), UrlDecode(kv.second));
  }
  return out;
}

}  // namespace

std::string HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

StatusOr<HttpResponse> SendHttp(const HttpRequest& request) {
  if (!IsLoopbackUrl(request.url)) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing to contact ", request.url, ": tests only talk to http://127.0.0.1"));
  }
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  CURL* c = curl.get();
  HttpResponse response;
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  // Never through a proxy from the environment, never anywhere a redirect points.
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // https only to a loopback server of the test's own making (kubelet's, with the
  // self-signed certificate it generates): nothing to verify it against.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);

  bool has_content_type = false;
  curl_slist* headers = nullptr;
  for (const auto& header : request.headers) {
    if (absl::StartsWithIgnoreCase(header, "content-type:")) has_content_type = true;
    headers = curl_slist_append(headers, header.c_str());
  }
  const std::string& method = request.method;
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!has_content_type) headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    headers = curl_slist_append(headers, "Expect:");
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(method, " ", request.url, ": ", curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string AuthChallenge::Param(absl::string_view name) const {
  for (const auto& [key, value] : params) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header) {
  AuthChallenge challenge;
  header = absl::StripAsciiWhitespace(header);
  size_t space = header.find(' ');
  challenge.scheme = absl::AsciiStrToLower(header.substr(0, space));
  if (challenge.scheme.empty()) return absl::InvalidArgumentError("empty WWW-Authenticate");
  absl::string_view rest = space == absl::string_view::npos ? "" : header.substr(space + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) ++i;
    if (i >= rest.size()) break;
    size_t eq = rest.find('=', i);
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("malformed WWW-Authenticate: ", header));
    }
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(i, eq - i)));
    i = eq + 1;
    std::string value;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      while (i < rest.size() && rest[i] != '"') {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i++]);
      }
      if (i >= rest.size()) {
        return absl::InvalidArgumentError(absl::StrCat("unterminated quote in WWW-Authenticate: ", header));
      }
      ++i;
    } else {
      size_t end = rest.find(',', i);
      if (end == absl::string_view::npos) end = rest.size();
      value = std::string(absl::StripAsciiWhitespace(rest.substr(i, end - i)));
      i = end;
    }
    challenge.params.emplace_back(std::move(key), std::move(value));
  }
  return challenge;
}

// ---- RegistryClient ----

RegistryClient::RegistryClient(std::string host_port, std::optional<Credentials> credentials)
    : host_port_(std::move(host_port)), credentials_(std::move(credentials)) {}

std::string RegistryClient::Url(absl::string_view path_or_url) const {
  if (absl::StartsWith(path_or_url, "http://") || absl::StartsWith(path_or_url, "https://")) {
    return std::string(path_or_url);
  }
  return absl::StrCat("http://", host_port_, path_or_url);
}

StatusOr<std::string> RegistryClient::FetchToken(const AuthChallenge& challenge) {
  std::string realm = challenge.Param("realm");
  if (realm.empty()) return absl::InvalidArgumentError("Bearer challenge without a realm");
  std::string url = realm;
  char sep = realm.find('?') == std::string::npos ? '?' : '&';
  if (std::string service = challenge.Param("service"); !service.empty()) {
    absl::StrAppend(&url, std::string(1, sep), "service=", UrlEncode(service));
    sep = '&';
  }
  if (std::string scope = challenge.Param("scope"); !scope.empty()) {
    for (absl::string_view one : absl::StrSplit(scope, ' ', absl::SkipEmpty())) {
      absl::StrAppend(&url, std::string(1, sep), "scope=", UrlEncode(one));
      sep = '&';
    }
  }
  HttpRequest request{.method = "GET", .url = url};
  if (credentials_) {
    request.headers.push_back(absl::StrCat(
        "Authorization: Basic ", Base64Encode(absl::StrCat(credentials_->username, ":", credentials_->password))));
  }
  ASSIGN_OR_RETURN(HttpResponse response, SendHttp(request));
  if (response.status != 200) {
    StatusCode code = response.status == 401 || response.status == 403 ? StatusCode::kUnauthenticated
                                                                         : StatusCode::kUnavailable;
    return Status(code, absl::StrCat("token server ", realm, " answered ", response.status, ": ", response.body));
  }
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return absl::InternalError(absl::StrCat("token response is not JSON: ", response.body));
  for (const char* key : {"token", "access_token"}) {
    auto it = body.find(key);
    if (it != body.end() && it->is_string() && !it->get<std::string>().empty()) {
      ++tokens_fetched_;
      return it->get<std::string>();
    }
  }
  return absl::InternalError(absl::StrCat("token response without a token: ", response.body));
}

StatusOr<HttpResponse> RegistryClient::Send(HttpRequest request) {
  request.url = Url(request.url);
  const std::vector<std::string> base_headers = request.headers;
  std::string auth_header = basic_header_;
  if (auth_header.empty() && !tokens_.empty()) auth_header = absl::StrCat("Bearer ", tokens_.back().second);
  for (int attempt = 0;; ++attempt) {
    request.headers = base_headers;
    if (!auth_header.empty()) request.headers.push_back(absl::StrCat("Authorization: ", auth_header));
    ASSIGN_OR_RETURN(HttpResponse response, SendHttp(request));
    if (response.status != 401 || attempt >= 2) return response;
    std::string header = response.Header("www-authenticate");
    if (header.empty()) return response;
    ASSIGN_OR_RETURN(AuthChallenge challenge, ParseAuthChallenge(header));
    if (challenge.scheme == "basic") {
      if (!credentials_ || !basic_header_.empty()) return response;
      basic_header_ = absl::StrCat(
          "Basic ", Base64Encode(absl::StrCat(credentials_->username, ":", credentials_->password)));
      auth_header = basic_header_;
    } else if (challenge.scheme == "bearer") {
      std::string scope = challenge.Param("scope");
      std::string token;
      for (const auto& [cached_scope, cached_token] : tokens_) {
        if (cached_scope == scope) token = cached_token;
      }
      if (token.empty() || absl::StrCat("Bearer ", token) == auth_header) {
        ASSIGN_OR_RETURN(token, FetchToken(challenge));
        std::erase_if(tokens_, [&](const auto& entry) { return entry.first == scope; });
        tokens_.emplace_back(scope, token);
      }
      auth_header = absl::StrCat("Bearer ", token);
    } else {
      return response;
    }
  }
}

StatusOr<HttpResponse> RegistryClient::Get(absl::string_view path, std::vector<std::string> headers) {
  return Send(HttpRequest{.method = "GET", .url = std::string(path), .headers = std::move(headers)});
}

StatusOr<bool> RegistryClient::BlobExists(absl::string_view repository, absl::string_view digest) {
  ASSIGN_OR_RETURN(HttpResponse response,
                   Send({.method = "HEAD", .url = absl::StrCat("/v2/", repository, "/blobs/", digest)}));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return absl::UnavailableError(
      absl::StrCat("HEAD blob ", repository, "@", digest, ": HTTP ", response.status));
}

Status RegistryClient::PushBlob(absl::string_view repository, absl::string_view digest,
                                absl::string_view data) {
  ASSIGN_OR_RETURN(bool exists, BlobExists(repository, digest));
  if (exists) {
    ++blobs_skipped_;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(HttpResponse started,
                   Send({.method = "POST", .url = absl::StrCat("/v2/", repository, "/blobs/uploads/")}));
  if (started.status != 202) {
    return absl::UnavailableError(absl::StrCat("start upload to ", repository, ": HTTP ", started.status, ": ",
                                               started.body));
  }
  std::string location = started.Header("location");
  if (location.empty()) return absl::InternalError("upload answer without Location");
  location = Url(location);
  absl::StrAppend(&location, location.find('?') == std::string::npos ? "?" : "&", "digest=", UrlEncode(digest));
  ASSIGN_OR_RETURN(HttpResponse finished,
                   Send({.method = "PUT", .url = location, .body = std::string(data)}));
  if (finished.status != 201) {
    return absl::UnavailableError(absl::StrCat("upload ", digest, " to ", repository, ": HTTP ", finished.status,
                                               ": ", finished.body));
  }
  ++blobs_uploaded_;
  return absl::OkStatus();
}

StatusOr<std::string> RegistryClient::PutManifest(absl::string_view repository, absl::string_view reference,
                                                  absl::string_view media_type, absl::string_view data) {
  ASSIGN_OR_RETURN(HttpResponse response,
                   Send({.method = "PUT",
                         .url = absl::StrCat("/v2/", repository, "/manifests/", reference),
                         .headers = {absl::StrCat("Content-Type: ", media_type)},
                         .body = std::string(data)}));
  if (response.status != 201) {
    return absl::UnavailableError(absl::StrCat("put manifest ", repository, ":", reference, ": HTTP ",
                                               response.status, ": ", response.body));
  }
  std::string digest = Sha256Digest(data);
  std::string answered = response.Header("docker-content-digest");
  if (answered != digest) {
    return absl::InternalError(absl::StrCat("registry stored manifest ", repository, ":", reference, " as ",
                                            answered, ", expected ", digest));
  }
  return digest;
}

StatusOr<HttpResponse> RegistryClient::GetManifest(absl::string_view repository, absl::string_view reference,
                                                   absl::string_view accept) {
  return Send({.method = "GET",
               .url = absl::StrCat("/v2/", repository, "/manifests/", reference),
               .headers = {absl::StrCat("Accept: ", accept)}});
}

StatusOr<std::string> RegistryClient::GetBlob(absl::string_view repository, absl::string_view digest) {
  ASSIGN_OR_RETURN(HttpResponse response, Get(absl::StrCat("/v2/", repository, "/blobs/", digest)));
  if (response.status != 200) {
    return Status(response.status == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                  absl::StrCat("GET blob ", repository, "@", digest, ": HTTP ", response.status));
  }
  if (Sha256Digest(response.body) != digest) {
    return absl::DataLossError(absl::StrCat("blob ", repository, "@", digest, " came back as ",
                                            Sha256Digest(response.body)));
  }
  return std::move(response.body);
}

// ---- token server ----

namespace {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

Status OpensslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, " failed (OpenSSL)"));
}

// libtrust's key ID: the first 240 bits of the SHA-256 of the DER public key, base32,
// in twelve groups of four joined by ':' (github.com/docker/libtrust util.go).
StatusOr<std::string> LibtrustKeyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(key, &der);
  if (der_len <= 0) return OpensslError("i2d_PUBKEY");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(der, static_cast<size_t>(der_len), md, &md_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  static constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string b32;
  uint32_t buffer = 0;
  int bits = 0;
  for (int i = 0; i < 30; ++i) {  // 240 bits: exactly 48 base32 digits, no padding
    buffer = (buffer << 8) | md[i];
    bits += 8;
    while (bits >= 5) {
      b32.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  std::vector<std::string> groups;
  for (size_t i = 0; i < b32.size(); i += 4) groups.push_back(b32.substr(i, 4));
  return absl::StrJoin(groups, ":");
}

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return OpensslError("X509V3_EXT_conf_nid");
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : OpensslError("X509_add_ext");
}

// A fresh RSA key and a self-signed CA certificate for it, valid from an hour ago
// for a day.
Status MakeSigningKey(EvpPkeyPtr* key_out, X509Ptr* cert_out) {
  EvpPkeyPtr key(EVP_RSA_gen(2048));
  if (!key) return OpensslError("EVP_RSA_gen");
  X509Ptr cert(X509_new());
  if (!cert) return OpensslError("X509_new");
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("berth test token issuer"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  RETURN_IF_ERROR(AddExtension(x, NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(AddExtension(x, NID_key_usage, "critical,digitalSignature,keyCertSign"));
  RETURN_IF_ERROR(AddExtension(x, NID_subject_key_identifier, "hash"));
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) return OpensslError("X509_sign");
  *key_out = std::move(key);
  *cert_out = std::move(cert);
  return absl::OkStatus();
}

StatusOr<std::string> CertPem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpensslError("PEM_write_bio_X509");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

StatusOr<std::string> CertDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return OpensslError("i2d_X509");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

StatusOr<std::string> SignRs256(EVP_PKEY* key, absl::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return OpensslError("EVP_DigestSign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return OpensslError("EVP_DigestSign");
  }
  sig.resize(len);
  return sig;
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return "Internal Server Error";
  }
}

Status SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("send token response");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

// Answers GET /token?service=S&scope=... (and the OAuth2 password grant on POST
// /token) with RS256 JWTs that distribution 2.8 accepts: iss = issuer, aud =
// service, an access claim per granted scope, nbf/iat now, exp after the lifetime.
// One connection at a time, on its own thread, on 127.0.0.1 only.
class TestRegistry::TokenServer {
 public:
  struct Config {
    std::string username, password, service, issuer;
    bool anonymous_pull = false;
    TokenKeyHint key_hint = TokenKeyHint::kX5c;
    std::chrono::seconds lifetime{300};
  };

  // Generates the key and certificate (written as PEM to cert_path) and starts
  // serving.
  static StatusOr<std::unique_ptr<TokenServer>> Start(Config config, const std::string& cert_path) {
    auto server = std::unique_ptr<TokenServer>(new TokenServer(std::move(config)));
    X509Ptr cert;
    RETURN_IF_ERROR(MakeSigningKey(&server->key_, &cert));
    ASSIGN_OR_RETURN(std::string pem, CertPem(cert.get()));
    RETURN_IF_ERROR(WriteFileAtomically(cert_path, pem, 0644));
    ASSIGN_OR_RETURN(server->cert_der_, CertDer(cert.get()));
    ASSIGN_OR_RETURN(server->key_id_, LibtrustKeyId(server->key_.get()));

    server->listen_fd_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!server->listen_fd_) return ErrnoError("token server socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(server->listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return ErrnoError("bind token server to 127.0.0.1");
    }
    if (::listen(server->listen_fd_.get(), 64) != 0) return ErrnoError("listen token server");
    socklen_t len = sizeof addr;
    if (::getsockname(server->listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return ErrnoError("getsockname token server");
    }
    server->port_ = ntohs(addr.sin_port);
    server->stop_fd_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!server->stop_fd_) return ErrnoError("eventfd");
    server->thread_ = std::thread([s = server.get()] { s->Run(); });
    return server;
  }

  ~TokenServer() {
    if (thread_.joinable()) {
      uint64_t one = 1;
      (void)!::write(stop_fd_.get(), &one, sizeof one);
      thread_.join();
    }
  }

  int port() const { return port_; }
  std::string realm() const { return absl::StrCat("http://", kLoopback, ":", port_, "/token"); }
  std::vector<TokenRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  explicit TokenServer(Config config) : config_(std::move(config)) {}

  void Run() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      if (fds[0].revents & POLLIN) {
        UniqueFd conn(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (conn) Serve(conn.get());
      }
    }
  }

  // Reads until the end of headers (plus any Content-Length body), within 5s and
  // unless asked to stop. Returns false when the request never completed.
  bool ReadRequest(int fd, std::string* head, std::string* body) {
    auto deadline = Clock::now() + std::chrono::seconds(5);
    std::string data;
    size_t header_end = std::string::npos;
    size_t want = 0;
    for (;;) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          want = header_end + 4;
          for (absl::string_view line : absl::StrSplit(absl::string_view(data).substr(0, header_end), "\r\n")) {
            if (absl::StartsWithIgnoreCase(line, "content-length:")) {
              size_t n = 0;
              if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &n) || n > kMaxRequestBytes) {
                return false;
              }
              want += n;
            }
          }
        }
      }
      if (header_end != std::string::npos && data.size() >= want) break;
      if (data.size() > kMaxRequestBytes) return false;
      pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
      int ready = ::poll(fds, 2, RemainingMs(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0 || fds[1].revents != 0) return false;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    *head = data.substr(0, header_end);
    *body = data.substr(header_end + 4, want - header_end - 4);
    return true;
  }

  void Serve(int fd) {
    std::string head, body;
    if (!ReadRequest(fd, &head, &body)) return;
    int status = 500;
    std::string response_body;
    std::vector<std::string> extra_headers;
    try {
      Handle(head, body, &status, &response_body, &extra_headers);
    } catch (const std::exception& e) {
      status = 500;
      response_body = nlohmann::json({{"error", e.what()}}).dump();
    }
    std::string response = absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n",
                                        "Content-Type: application/json\r\n",
                                        "Content-Length: ", response_body.size(), "\r\n",
                                        "Connection: close\r\n");
    for (const auto& header : extra_headers) absl::StrAppend(&response, header, "\r\n");
    absl::StrAppend(&response, "\r\n", response_body);
    (void)SendAll(fd, response);
  }

  static nlohmann::json Error(absl::string_view code, absl::string_view message) {
    return {{"errors", {{{"code", code}, {"message", message}}}}};
  }

  void Handle(const std::string& head, const std::string& body, int* status, std::string* out,
              std::vector<std::string>* extra_headers) {
    std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
    std::vector<absl::string_view> request_line = absl::StrSplit(lines[0], ' ');
    if (request_line.size() != 3) {
      *status = 400;
      *out = Error("BAD_REQUEST", "malformed request line").dump();
      return;
    }
    TokenRequest record;
    record.method = std::string(request_line[0]);
    absl::string_view target = request_line[1];
    absl::string_view path = target.substr(0, target.find('?'));
    absl::string_view query = target.find('?') == absl::string_view::npos ? "" : target.substr(target.find('?') + 1);
    std::string authorization, content_type;
    for (size_t i = 1; i < lines.size(); ++i) {
      absl::string_view line = lines[i];
      size_t colon = line.find(':');
      if (colon == absl::string_view::npos) continue;
      absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
      absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
      if (absl::EqualsIgnoreCase(name, "authorization")) authorization = std::string(value);
      if (absl::EqualsIgnoreCase(name, "content-type")) content_type = std::string(value);
    }
    auto finish = [&](int code, const nlohmann::json& json) {
      *status = code;
      *out = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      record.status = code;
      absl::MutexLock lock(&mu_);
      requests_.push_back(record);
    };
    if (path != "/token") {
      *status = 404;
      *out = Error("NOT_FOUND", "only /token is served here").dump();
      return;
    }
    if (record.method != "GET" && record.method != "POST") {
      finish(405, Error("UNSUPPORTED", "GET or POST /token"));
      return;
    }

    // Parameters and credentials: the query and Basic auth for GET (docker's token
    // protocol), the form body for POST (OAuth2 password grant).
    std::vector<std::pair<std::string, std::string>> params = ParseForm(query);
    std::optional<Credentials> credentials;
    if (record.method == "POST") {
      for (auto& kv : ParseForm(body)) params.push_back(std::move(kv));
      std::string grant_type, username, password;
      for (const auto& [key, value] : params) {
        if (key == "grant_type") grant_type = value;
        if (key == "username") username = value;
        if (key == "password") password = value;
      }
      if (grant_type != "password") {
        finish(400, {{"error", "unsupported_grant_type"}});
        return;
      }
      credentials = Credentials{username, password};
    } else if (absl::StartsWithIgnoreCase(authorization, "basic ")) {
      auto decoded = Base64Decode(absl::StripAsciiWhitespace(absl::string_view(authorization).substr(6)));
      if (decoded.ok()) {
        std::pair<std::string, std::string> up = absl::StrSplit(*decoded, absl::MaxSplits(':', 1));
        credentials = Credentials{up.first, up.second};
      } else {
        credentials = Credentials{};
      }
    }
    for (const auto& [key, value] : params) {
      if (key == "service") record.service = value;
      if (key == "scope") {
        for (absl::string_view one : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
          record.scopes.emplace_back(one);
        }
      }
    }
    if (credentials) {
      record.username = credentials->username;
      record.authenticated =
          credentials->username == config_.username && credentials->password == config_.password;
    }
    if (!record.authenticated && (credentials || !config_.anonymous_pull)) {
      extra_headers->push_back("WWW-Authenticate: Basic realm=\"berth test token server\"");
      finish(401, Error("UNAUTHORIZED", credentials ? "wrong username or password" : "authentication required"));
      return;
    }
    if (record.service != config_.service) {
      finish(400, Error("UNSUPPORTED", absl::StrCat("unknown service \"", record.service, "\"")));
      return;
    }

    nlohmann::json access = nlohmann::json::array();
    for (const std::string& scope : record.scopes) {
      // TYPE:NAME:ACTIONS, where NAME may itself hold colons (a registry host:port).
      size_t first = scope.find(':');
      size_t last = scope.rfind(':');
      if (first == std::string::npos || first == last) continue;
      std::vector<std::string> granted;
      for (absl::string_view action : absl::StrSplit(scope.substr(last + 1), ',', absl::SkipEmpty())) {
        if (record.authenticated || action == "pull") granted.emplace_back(action);
      }
      if (granted.empty()) continue;
      access.push_back({{"type", scope.substr(0, first)},
                        {"name", scope.substr(first + 1, last - first - 1)},
                        {"actions", granted}});
    }
    auto token = MakeJwt(record.username, access);
    if (!token.ok()) {
      finish(500, Error("INTERNAL", token.status().ToString()));
      return;
    }
    char issued_at[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(issued_at, sizeof issued_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    finish(200, {{"token", *token},
                 {"access_token", *token},
                 {"expires_in", config_.lifetime.count()},
                 {"issued_at", issued_at}});
  }

  StatusOr<std::string> MakeJwt(const std::string& subject, const nlohmann::json& access) {
    nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}};
    if (config_.key_hint == TokenKeyHint::kX5c) {
      header["x5c"] = {Base64Encode(cert_der_)};
    } else {
      header["kid"] = key_id_;
    }
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    nlohmann::json claims = {
        {"iss", config_.issuer}, {"sub", subject}, {"aud", config_.service},
        {"iat", now},           {"nbf", now},     {"exp", now + config_.lifetime.count()},
        {"jti", RandomHex(16)}, {"access", access},
    };
    std::string signing_input = absl::StrCat(Base64UrlEncode(header.dump()), ".",
                                             Base64UrlEncode(claims.dump(-1, ' ', false,
                                                                         nlohmann::json::error_handler_t::replace)));
    ASSIGN_OR_RETURN(std::string signature, SignRs256(key_.get(), signing_input));
    return absl::StrCat(signing_input, ".", Base64UrlEncode(signature));
  }

  const Config config_;
  EvpPkeyPtr key_;
  std::string cert_der_;
  std::string key_id_;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;
  int port_ = 0;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::vector<TokenRequest> requests_ ABSL_GUARDED_BY(mu_);
};

// ---- child processes ----

namespace {

// Forks and execs argv[0] with exactly env; stdin from /dev/null, stdout to out_fd,
// stderr to err_fd. The child gets SIGKILL if the calling thread dies first.
StatusOr<pid_t> SpawnChild(const std::vector<std::string>& args, const std::vector<std::string>& env,
                           int out_fd, int err_fd) {
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) return ErrnoError("open /dev/null");
  std::vector<char*> argv, envp;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  for (const auto& var : env) envp.push_back(const_cast<char*>(var.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here: the parent may have other threads.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(devnull.get(), STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
        ::dup2(err_fd, STDERR_FILENO) < 0) {
      ::_exit(127);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

UniqueFd PidFd(pid_t pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

// Waits up to timeout for pid to exit (through its pidfd) and reaps it; returns
// the wait status, or DEADLINE_EXCEEDED (the child is left running).
StatusOr<int> WaitForExit(pid_t pid, int pidfd, std::chrono::milliseconds timeout) {
  pollfd pfd{pidfd, POLLIN, 0};
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int ready = ::poll(&pfd, 1, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoError("poll pidfd");
    if (ready == 0) return absl::DeadlineExceededError(absl::StrCat("pid ", pid, " still running"));
    break;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError(absl::StrCat("waitpid ", pid));
  }
  return status;
}

// Stops pid: SIGTERM, then SIGKILL if it has not exited within kStopTimeout.
Status TerminateChild(pid_t pid, int pidfd) {
  ::kill(pid, SIGTERM);
  auto status = WaitForExit(pid, pidfd, kStopTimeout);
  if (status.ok()) return absl::OkStatus();
  ::kill(pid, SIGKILL);
  status = WaitForExit(pid, pidfd, kStopTimeout);
  if (!status.ok()) return Annotate(status.status(), "even after SIGKILL");
  return absl::OkStatus();
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

std::vector<std::string> ChildEnv(const std::string& home) {
  return {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", absl::StrCat("HOME=", home), "LANG=C"};
}

}  // namespace

StatusOr<int> PickFreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return ErrnoError("bind 127.0.0.1:0");
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return ErrnoError("getsockname");
  return ntohs(addr.sin_port);
}


// ---- TestRegistry ----

TestRegistry::TestRegistry(Options options) : options_(std::move(options)) {}

TestRegistry::~TestRegistry() {
  Status status = Stop();
  if (!status.ok()) std::cerr << "TestRegistry: stop: " << status << "\n";
}

StatusOr<std::unique_ptr<TestRegistry>> TestRegistry::Start(Options options) {
  if (::access(kRegistryBinary, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kRegistryBinary, " is missing: install Debian's docker-registry package"));
  }
  std::unique_ptr<TestRegistry> registry(new TestRegistry(std::move(options)));
  char tmpl[] = "/tmp/berth-registry-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return ErrnoError("mkdtemp /tmp/berth-registry-XXXXXX");
  registry->dir_ = tmpl;
  // On failure the destructor stops whatever started and removes dir_.
  RETURN_IF_ERROR(Annotate(registry->StartRegistry(), "start test registry"));
  return registry;
}

Status TestRegistry::StartRegistry() {
  RETURN_IF_ERROR(MakeDirs(absl::StrCat(dir_, "/storage"), 0755));
  log_path_ = absl::StrCat(dir_, "/registry.log");
  std::string auth_yaml;
  switch (options_.auth) {
    case RegistryAuth::kNone:
      break;
    case RegistryAuth::kBasic: {
      // htpasswd -B (bcrypt, the only hash distribution accepts), cost 5 for speed.
      std::string htpasswd_path = absl::StrCat(dir_, "/htpasswd");
      std::string err_path = absl::StrCat(dir_, "/htpasswd.err");
      UniqueFd out(::open(htpasswd_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (!out || !err) return ErrnoError("create htpasswd file");
      ASSIGN_OR_RETURN(pid_t pid, SpawnChild({kHtpasswdBinary, "-B", "-C", "5", "-b", "-n", options_.username,
                                              options_.password},
                                             ChildEnv(dir_), out.get(), err.get()));
      UniqueFd pidfd = PidFd(pid);
      if (!pidfd) return ErrnoError("pidfd_open htpasswd");
      auto status = WaitForExit(pid, pidfd.get(), std::chrono::seconds(30));
      if (!status.ok()) {
        (void)TerminateChild(pid, pidfd.get());
        return status.status();
      }
      if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
        return absl::InternalError(absl::StrCat("htpasswd failed (", DescribeWaitStatus(*status),
                                                "): ", ReadFile(err_path).value_or("")));
      }
      auth_yaml = absl::StrCat("auth:\n  htpasswd:\n    realm: berth-test-registry\n    path: ", htpasswd_path,
                               "\n");
      break;
    }
    case RegistryAuth::kToken: {
      std::string cert_path = absl::StrCat(dir_, "/token-root.pem");
      ASSIGN_OR_RETURN(token_server_, TokenServer::Start({.username = options_.username,
                                                          .password = options_.password,
                                                          .service = kService,
                                                          .issuer = kIssuer,
                                                          .anonymous_pull = options_.anonymous_pull,
                                                          .key_hint = options_.key_hint,
                                                          .lifetime = options_.token_lifetime},
                                                         cert_path));
      auth_yaml = absl::StrCat("auth:\n  token:\n    realm: ", token_server_->realm(), "\n    service: ", kService,
                               "\n    issuer: ", kIssuer, "\n    rootcertbundle: ", cert_path, "\n");
      break;
    }
  }

  std::string config_path = absl::StrCat(dir_, "/config.yml");
  Status last = absl::OkStatus();
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSIGN_OR_RETURN(port_, PickFreePort());
    std::string config = absl::StrCat(
        "version: 0.1\n"
        "log:\n  level: info\n  formatter: text\n"
        "storage:\n  filesystem:\n    rootdirectory: ", dir_, "/storage\n",
        "  delete:\n    enabled: true\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        "http:\n  addr: ", kLoopback, ":", port_, "\n  secret: berth-test-", RandomHex(8), "\n",
        auth_yaml);
    RETURN_IF_ERROR(WriteFileAtomically(config_path, config, 0644));
    bool port_in_use = false;
    last = SpawnAndWaitReady(config_path, &port_in_use);
    if (last.ok() || !port_in_use) return last;
  }
  return last;
}

Status TestRegistry::SpawnAndWaitReady(const std::string& config_path, bool* port_in_use) {
  UniqueFd log(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!log) return ErrnoError(absl::StrCat("create ", log_path_));
  // Readiness is the registry's "listening on" log line, which it writes once its
  // socket is bound and listening: watch the log file rather than poll the port.
  UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify) return ErrnoError("inotify_init1");
  if (::inotify_add_watch(inotify.get(), log_path_.c_str(), IN_MODIFY) < 0) {
    return ErrnoError(absl::StrCat("inotify_add_watch ", log_path_));
  }
  ASSIGN_OR_RETURN(pid_, SpawnChild({kRegistryBinary, "serve", config_path}, ChildEnv(dir_), log.get(), log.get()));
  UniqueFd pidfd = PidFd(pid_);
  if (!pidfd) {
    Status error = ErrnoError("pidfd_open registry");
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return error;
  }
  const std::string ready_line = absl::StrCat("listening on ", kLoopback, ":", port_);
  auto deadline = Clock::now() + options_.start_timeout;
  for (;;) {
    std::string text = ReadFile(log_path_).value_or("");
    if (absl::StrContains(text, ready_line)) {
      pidfd_ = pidfd.Release();
      return absl::OkStatus();
    }
    pollfd fds[2] = {{inotify.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (fds[1].revents != 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      text = ReadFile(log_path_).value_or("");
      *port_in_use = absl::StrContains(text, "address already in use");
      return absl::UnavailableError(absl::StrCat("docker-registry exited (", DescribeWaitStatus(status),
                                                 ") before listening:\n", text));
    }
    if (ready <= 0) {
      (void)TerminateChild(pid_, pidfd.get());
      pid_ = -1;
      return absl::DeadlineExceededError(absl::StrCat("docker-registry did not listen within ",
                                                      options_.start_timeout.count(), "s:\n",
                                                      ReadFile(log_path_).value_or("")));
    }
    char events[4096];
    while (::read(inotify.get(), events, sizeof events) > 0) {
    }
  }
}

Status TestRegistry::Stop() {
  Status result = absl::OkStatus();
  if (pid_ > 0) {
    Status stopped = TerminateChild(pid_, pidfd_);
    if (!stopped.ok()) result = Annotate(stopped, absl::StrCat("stop docker-registry pid ", pid_));
    pid_ = -1;
  }
  if (pidfd_ >= 0) {
    ::close(pidfd_);
    pidfd_ = -1;
  }
  token_server_.reset();
  if (!dir_.empty()) {
    Status removed = RemoveAll(dir_);
    if (!removed.ok() && result.ok()) result = removed;
    dir_.clear();
  }
  return result;
}

std::string TestRegistry::host_port() const { return absl::StrCat(kLoopback, ":", port_); }

RegistryClient TestRegistry::Client() const {
  if (options_.auth == RegistryAuth::kNone) return RegistryClient(host_port());
  return RegistryClient(host_port(), credentials());
}

RegistryClient TestRegistry::AnonymousClient() const { return RegistryClient(host_port()); }

std::string TestRegistry::Log() const { return ReadFile(log_path_).value_or(""); }

std::string TestRegistry::token_realm() const { return token_server_ ? token_server_->realm() : ""; }
std::string TestRegistry::token_service() const { return kService; }
std::string TestRegistry::token_issuer() const { return kIssuer; }
int TestRegistry::token_port() const { return token_server_ ? token_server_->port() : 0; }

std::vector<TokenRequest> TestRegistry::token_requests() const {
  return token_server_ ? token_server_->requests() : std::vector<TokenRequest>{};
}

}  // namespace berth::testing
