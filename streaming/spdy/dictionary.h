// The zlib dictionary SPDY/3 header blocks are compressed with (SPDY/3 draft
// §2.6.10.1): 1423 bytes, Adler-32 0xe3c6a7c2.
#pragma once

#include <string>

namespace berth::streaming::spdy {

const std::string& HeaderDictionary();

}  // namespace berth::streaming::spdy
