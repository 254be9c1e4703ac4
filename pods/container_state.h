// How a created or running container stands now, from its shim's exit record and
// whether its shim or process still runs (Lifecycle::Observe uses it).
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "pods/shim/protocol.h"

namespace berth::pods {

struct ExitObservation {
  enum State {
    kRunning,     // no exit record, and the shim or the process still runs
    kExited,      // the record says how it ended
    kUnreadable,  // a record that does not parse (why says so)
    kUnrecorded,  // shim and process gone, no record: nobody knows how it ended
  };
  State state = kRunning;
  shim::ExitRecord exit;
  std::string why;
};

// read_exit_record reads the shim's exit file; shim_or_container_alive says whether
// either still runs. The record is read again when both are gone, since the shim
// writes it just before it exits.
ExitObservation ObserveExit(const std::function<StatusOr<std::string>()>& read_exit_record,
                            const std::function<bool()>& shim_or_container_alive);

}  // namespace berth::pods
