// Go programs the tests build at test time from this repository (client-go's
// streaming clients, NRI's Go stub plugin), against modules from the Go proxy.
#pragma once

#include <string>

namespace berth::testing {

// Builds BERTH_SOURCE_DIR/source_dir into BERTH_BINARY_DIR/name, once per test run
// (a second or so from the module cache; the first build on a machine fetches the
// modules). The binary's path, or "" with why in *why_not where no Go toolchain is
// installed (*no_go set, when given) or the build failed. purpose ends the message
// of the first case ("... to build <purpose>").
std::string BuildGoProgram(const std::string& source_dir, const std::string& name, const std::string& purpose,
                           std::string* why_not, bool* no_go = nullptr);

}  // namespace berth::testing
