#include "cluster/registry_push.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/curl_request.h"

namespace berth::cluster {

namespace {

struct Response {
  long status = 0;
  std::string body;
  std::string location;
};

size_t ReadHeader(char* data, size_t size, size_t count, void* out) {
  absl::string_view line(data, size * count);
  if (absl::StartsWithIgnoreCase(line, "location:")) {
    *static_cast<std::string*>(out) = std::string(absl::StripAsciiWhitespace(line.substr(9)));
  }
  return size * count;
}

struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};

// One request. body_file, when set, is sent as the body (a layer); else body.
StatusOr<Response> Send(const std::string& method, const std::string& url, const std::string& content_type,
                        const std::string& body, const std::string& body_file = "", int64_t body_size = 0) {
  const bool upload = method == "PUT" && !body_file.empty();
  ASSIGN_OR_RETURN(CurlRequest request, CurlRequest::Create(method, url));
  Response response;
  CURL* c = request.handle();
  // A registry that stops moving (under 1 KiB/s for 30 s) fails the push.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
  request.CollectBody(&response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &ReadHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.location);
  if (!content_type.empty()) request.AddHeader(absl::StrCat("Content-Type: ", content_type));
  std::unique_ptr<FILE, FileClose> file;
  if (upload) {
    // Read from the file as libcurl sends it: a layer is not held in memory.
    file.reset(std::fopen(body_file.c_str(), "rbe"));
    if (!file) return ErrnoError(absl::StrCat("open ", body_file));
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READDATA, file.get());
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
  } else if (method != "GET" && method != "HEAD") {
    request.SetBody(body);
  }
  ASSIGN_OR_RETURN(response.status, request.Perform());
  return response;
}

Status Unexpected(const std::string& what, const Response& response) {
  return absl::UnavailableError(
      absl::StrCat(what, ": the registry answered ", response.status, " ", response.body.substr(0, 300)));
}

}  // namespace

StatusOr<RegistryPusher> RegistryPusher::Create(const std::string& host_port) {
  absl::string_view rest = host_port;
  if (!absl::ConsumePrefix(&rest, "127.0.0.1:") && !absl::ConsumePrefix(&rest, "localhost:")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "registry ", host_port, ": give one on this machine's loopback, 127.0.0.1:PORT (nodes reach it there)"));
  }
  RegistryPusher pusher;
  if (!absl::SimpleAtoi(rest, &pusher.port_) || pusher.port_ < 1 || pusher.port_ > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("registry ", host_port, ": bad port"));
  }
  pusher.base_ = absl::StrCat("http://127.0.0.1:", pusher.port_);
  return pusher;
}

Status RegistryPusher::Ping() const {
  auto response = Send("GET", base_ + "/v2/", "", "");
  if (!response.ok() || response->status != 200) {
    return absl::UnavailableError(absl::StrCat(
        "no registry answers at ", base_, "/v2/ (",
        response.ok() ? absl::StrCat("HTTP ", response->status) : std::string(response.status().message()),
        "); start one there, e.g. Debian's docker-registry with http.addr 127.0.0.1:", port_));
  }
  return absl::OkStatus();
}

StatusOr<bool> RegistryPusher::HasBlob(const std::string& repository, const std::string& digest) const {
  ASSIGN_OR_RETURN(Response response, Send("HEAD", absl::StrCat(base_, "/v2/", repository, "/blobs/", digest), "", ""));
  return response.status == 200;
}

Status RegistryPusher::PushBlob(const std::string& repository, const Blob& blob) const {
  ASSIGN_OR_RETURN(bool present, HasBlob(repository, blob.digest));
  if (present) return absl::OkStatus();
  ASSIGN_OR_RETURN(Response started, Send("POST", absl::StrCat(base_, "/v2/", repository, "/blobs/uploads/"), "", ""));
  if (started.status != 202 || started.location.empty()) return Unexpected("start an upload", started);
  std::string url = started.location;
  if (absl::StartsWith(url, "/")) url = base_ + url;
  if (!absl::StartsWith(url, base_ + "/")) {
    return absl::UnavailableError(absl::StrCat("the registry sent the upload elsewhere: ", url));
  }
  absl::StrAppend(&url, absl::StrContains(url, "?") ? "&" : "?", "digest=", blob.digest);
  ASSIGN_OR_RETURN(Response done, Send("PUT", url, "application/octet-stream", blob.data, blob.file, blob.size));
  if (done.status != 201) return Unexpected(absl::StrCat("upload ", blob.digest), done);
  return absl::OkStatus();
}

StatusOr<std::string> RegistryPusher::Push(const std::string& repository, const std::string& tag,
                                           const BuiltImage& image) const {
  return Push(repository, tag, image.config, {image.layer}, image.manifest);
}

StatusOr<std::string> RegistryPusher::Push(const std::string& repository, const std::string& tag, const Blob& config,
                                           const std::vector<Blob>& layers, const Blob& manifest) const {
  for (const auto& layer : layers) RETURN_IF_ERROR(PushBlob(repository, layer));
  RETURN_IF_ERROR(PushBlob(repository, config));
  ASSIGN_OR_RETURN(Response put, Send("PUT", absl::StrCat(base_, "/v2/", repository, "/manifests/", tag),
                                      manifest.media_type, manifest.data));
  if (put.status != 201) return Unexpected(absl::StrCat("put ", repository, ":", tag), put);
  return manifest.digest;
}

}  // namespace berth::cluster
