#include "base/curl_request.h"

#include "absl/strings/str_cat.h"

namespace berth {

namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

curl_blob InPlace(const std::string& pem) {
  return {const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_NOCOPY};
}

}  // namespace

StatusOr<CurlRequest> CurlRequest::Create(const std::string& method, const std::string& url) {
  CurlRequest request;
  request.method_ = method;
  request.url_ = url;
  request.curl_.reset(curl_easy_init());
  if (!request.curl_) return absl::InternalError("curl_easy_init");
  CURL* c = request.curl_.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url_.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method_.c_str());
  }
  return request;
}

void CurlRequest::UseTls(const std::string& ca, const std::string& certificate, const std::string& key) {
  // libcurl copies each curl_blob, and with NOCOPY keeps pointing at the bytes.
  curl_blob ca_blob = InPlace(ca);
  curl_blob certificate_blob = InPlace(certificate);
  curl_blob key_blob = InPlace(key);
  CURL* c = curl_.get();
  curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca_blob);
  curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &certificate_blob);
  curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key_blob);
  curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
}

void CurlRequest::AddHeader(const std::string& line) {
  headers_.reset(curl_slist_append(headers_.release(), line.c_str()));
  curl_easy_setopt(curl_.get(), CURLOPT_HTTPHEADER, headers_.get());
}

void CurlRequest::SetBody(const std::string& body) {
  curl_easy_setopt(curl_.get(), CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl_.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
}

void CurlRequest::CollectBody(std::string* body) {
  curl_easy_setopt(curl_.get(), CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl_.get(), CURLOPT_WRITEDATA, body);
}

StatusOr<long> CurlRequest::Perform() {
  CURLcode code = curl_easy_perform(curl_.get());
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(method_, " ", url_, ": ", curl_easy_strerror(code)));
  }
  long status = 0;
  curl_easy_getinfo(curl_.get(), CURLINFO_RESPONSE_CODE, &status);
  return status;
}

}  // namespace berth
