// Identifiers for pods and containers: 64 hex digits from the kernel's random
// source, as containerd and CRI-O make them.
#pragma once

#include <string>

namespace berth {

std::string RandomId();

}  // namespace berth
