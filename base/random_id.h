// Identifiers for pods and containers: 64 hex digits from the kernel's random
// source, as containerd and CRI-O make them.
#pragma once

#include <cstddef>
#include <string>

namespace berth {

std::string RandomId();
// count bytes from the kernel's random source.
std::string RandomBytes(size_t count);

}  // namespace berth
