// What an OCI runtime's failure means, in gRPC codes: classified once, here, from
// what the runtime printed. berth-runtime tags its message with the code it meant
// ("[NOT_FOUND] kill: container does not exist: x"); runc and crun print plain
// messages, mapped through a table of the phrases they use. What matches nothing is
// INTERNAL.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::runtime {

// output is what the runtime wrote to stderr (or stdout when stderr was empty);
// what names the failed step ("kill"). The message keeps the runtime's words.
Status ClassifyRuntimeError(absl::string_view handler, absl::string_view what, int exit_code,
                            absl::string_view output);

// How berth-runtime tags a failure so that berthd keeps its code: "[CODE] message"
// for the codes worth keeping, the plain message otherwise.
std::string TagRuntimeError(const Status& status);

}  // namespace berth::runtime
