// The image store's tables in the state database: images and their names, the
// content and layers they hold, the layers each container's rootfs holds.
#pragma once

#include "base/state_db.h"

namespace berth::image {

const Schema& ImageSchema();

}  // namespace berth::image
