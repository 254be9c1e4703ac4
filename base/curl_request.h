// One HTTP request over libcurl, set up as berth's small clients of services on this
// machine want it (the cluster's API server, the loopback registry): no proxy
// (everything they reach is on this machine or in its nodes), no signals (they run
// on threads of their own), a connect timeout, and the server checked against a
// given CA with a client certificate when asked. The handle and its header list are
// freed with the request.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace berth {

class CurlRequest {
 public:
  // method: GET, HEAD, or any other sent as given. INTERNAL when libcurl cannot
  // make a handle.
  static StatusOr<CurlRequest> Create(const std::string& method, const std::string& url);

  // For what one client alone sets: callbacks, uploads, time limits.
  CURL* handle() const { return curl_.get(); }

  // Checks the server against ca and presents certificate and key (PEM). The
  // strings are used in place: they must outlive Perform.
  void UseTls(const std::string& ca, const std::string& certificate, const std::string& key);
  void AddHeader(const std::string& line);
  // The request's body, used in place: it must outlive Perform.
  void SetBody(const std::string& body);
  // Appends the answer's body to body.
  void CollectBody(std::string* body);

  // Sends it: the HTTP status, or UNAVAILABLE naming the request and libcurl's
  // reason when there was no answer.
  StatusOr<long> Perform();

 private:
  struct CurlFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };

  std::string method_;
  std::string url_;
  std::unique_ptr<CURL, CurlFree> curl_;
  std::unique_ptr<curl_slist, CurlFree> headers_;
};

}  // namespace berth
