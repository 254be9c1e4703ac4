// Named crash points for the robustness tests (test/integration/fault_point_test.cc).
//
// berthd started with BERTH_FAULT_POINT=<name> in its environment kills itself with
// SIGKILL the first time it reaches the point of that name, as an operator's kill -9
// would at that instant; it first writes "fault point <name> reached" to stderr, so
// a test can tell the point from any other death. Points sit at the step boundaries
// of each lifecycle call, where a crash leaves the most half-made state.
//
// Unarmed (the variable unset, as it always is outside those tests), a point costs
// one compare of a pointer read once at start-up.
#pragma once

namespace berth {

inline constexpr char kFaultPointVariable[] = "BERTH_FAULT_POINT";

void FaultPoint(const char* name);

}  // namespace berth
