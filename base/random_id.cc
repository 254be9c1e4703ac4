#include "base/random_id.h"

#include <sys/random.h>

namespace berth {

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  size_t got = 0;
  while (got < count) {
    ssize_t n = ::getrandom(bytes.data() + got, count - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return bytes;
}

std::string RandomId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(64);
  for (unsigned char b : RandomBytes(32)) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

}  // namespace berth
