// The pod and container records' tables in the state database (see RecordStore).
#pragma once

#include "base/state_db.h"

namespace berth::pods {

const Schema& RecordSchema();

}  // namespace berth::pods
