// The mount table of berthd's mount namespace, for what must be unmounted before a
// directory can be removed (removing across a mount point would delete what the
// mount shows: a volume's files).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace berth {

// Mount points strictly below dir (dir itself excluded), deepest first.
StatusOr<std::vector<std::string>> MountPointsUnder(const std::string& dir);

// Detaches (MNT_DETACH) every mount strictly below dir; none is fine.
Status DetachMountsUnder(const std::string& dir);

// A mountinfo path field with its octal escapes (\040 for a space) undone.
std::string UnescapeMountPath(const std::string& field);

}  // namespace berth
