#include "streaming/spdy/dictionary.h"

#include <cstdint>

namespace berth::streaming::spdy {
namespace {

// The draft builds the dictionary from common header names and values, each with a
// 32-bit big-endian length before it, then a run of status codes, reason phrases,
// dates and media types with no lengths at all.
constexpr const char* kWords[] = {
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
    "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
    "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
    "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
    "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
    "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
    "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
    "keep-alive", "origin"};

constexpr const char kTail[] =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

std::string Build() {
  std::string dictionary;
  for (const char* word : kWords) {
    const std::string text(word);
    const uint32_t length = static_cast<uint32_t>(text.size());
    for (int shift = 24; shift >= 0; shift -= 8) dictionary.push_back(static_cast<char>((length >> shift) & 0xff));
    dictionary += text;
  }
  dictionary += kTail;
  return dictionary;
}

}  // namespace

const std::string& HeaderDictionary() {
  static const std::string* dictionary = new std::string(Build());
  return *dictionary;
}

}  // namespace berth::streaming::spdy
