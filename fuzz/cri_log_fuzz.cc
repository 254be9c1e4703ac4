// The CRI log writer on what a container writes: any bytes, in any chunks, on
// either stream. Every record it makes is one line in kubelet's format, no longer
// than the cap, and nothing the container wrote is lost or reordered.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "pods/shim/cri_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using berth::pods::CriLogWriter;
  std::string pending, records, written;
  size_t at = 0;
  // The first byte of each chunk is its length (and whether the stream ends there).
  while (at < size) {
    size_t length = std::min<size_t>(data[at] & 0x7f, size - at - 1);
    bool flush = (data[at] & 0x80) != 0;
    absl::string_view chunk(reinterpret_cast<const char*>(data) + at + 1, length);
    written.append(chunk.data(), chunk.size());
    records += CriLogWriter::Format("stdout", pending, chunk, 1700000000000000000, flush);
    at += 1 + length;
  }
  records += CriLogWriter::Format("stdout", pending, "", 1700000000000000000, true);
  std::string replayed;
  for (absl::string_view line : absl::StrSplit(records, '\n', absl::SkipEmpty())) {
    // "TIMESTAMP stdout F|P CONTENT"
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    if (fields.size() < 3 || fields[1] != "stdout" || (fields[2] != "F" && fields[2] != "P")) __builtin_trap();
    absl::string_view content = fields.size() == 4 ? fields[3] : "";
    if (content.size() > CriLogWriter::kMaxLine) __builtin_trap();
    replayed.append(content.data(), content.size());
    if (fields[2] == "F") replayed.push_back('\n');
  }
  if (replayed != written) __builtin_trap();
  return 0;
}
