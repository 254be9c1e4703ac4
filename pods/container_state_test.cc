#include "pods/container_state.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

std::string Record() {
  shim::ExitRecord record;
  record.exit_code = 3;
  record.finished_at = 1700000000000000000;
  return shim::SerializeExitRecord(record);
}

TEST(ObserveExitTest, ARecordWrittenJustBeforeTheShimExitedIsRead) {
  // The first read finds nothing; by the time the liveness check runs, the shim has
  // written the record and exited. The container exited: it is not UNKNOWN.
  int reads = 0;
  auto read = [&reads]() -> StatusOr<std::string> {
    if (reads++ == 0) return absl::NotFoundError("no exit file yet");
    return Record();
  };
  ExitObservation seen = ObserveExit(read, [] { return false; });
  EXPECT_EQ(reads, 2);
  ASSERT_EQ(seen.state, ExitObservation::kExited);
  EXPECT_EQ(seen.exit.exit_code, 3);
}

TEST(ObserveExitTest, RunningUnrecordedAndUnreadable) {
  auto missing = []() -> StatusOr<std::string> { return absl::NotFoundError("no exit file"); };
  EXPECT_EQ(ObserveExit(missing, [] { return true; }).state, ExitObservation::kRunning);
  EXPECT_EQ(ObserveExit(missing, [] { return false; }).state, ExitObservation::kUnrecorded);
  ExitObservation garbled = ObserveExit([]() -> StatusOr<std::string> { return std::string("{\"exit_code\": \"x\"}"); },
                                        [] { return false; });
  EXPECT_EQ(garbled.state, ExitObservation::kUnreadable);
  EXPECT_FALSE(garbled.why.empty());
}

}  // namespace
}  // namespace berth::pods
