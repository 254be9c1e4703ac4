// The NRI protocol's messages (nri/proto/nri.proto, generated), under a short name,
// with what the wire needs beside them: the services' names and the event mask.
#pragma once

#include <cstdint>

#include "nri/proto/nri.pb.h"

namespace berth::nri {

namespace api = ::nri::pkg::api::v1alpha1;

// What ttrpc requests name as their service.
inline constexpr char kPluginService[] = "nri.pkg.api.v1alpha1.Plugin";
inline constexpr char kRuntimeService[] = "nri.pkg.api.v1alpha1.Runtime";

// The NRI version berth speaks; sent in Configure, so a plugin need not guess it
// from the runtime's name.
inline constexpr char kNriVersion[] = "v0.12.1";

// A plugin subscribes with a mask of 1 << (event - 1) bits; none set means all.
inline constexpr uint32_t EventBit(api::Event event) { return 1u << (static_cast<int>(event) - 1); }
inline constexpr uint32_t kAllEvents = (1u << (static_cast<int>(api::LAST) - 1)) - 1;

}  // namespace berth::nri
