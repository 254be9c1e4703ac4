#include "pods/shim/criu_log.h"

#include <gtest/gtest.h>

namespace berth::pods::shim {
namespace {

TEST(CriuLogTest, NamesTheFirstRealCause) {
  // As CRIU 4.2 wrote it here, dumping a container whose stdout was a host file.
  const char* dump =
      "(00.006083) Warn  (criu/kerndat.c:1642): CRIU was built without libnftables support\n"
      "(00.021921) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n"
      "(00.133575) Error (criu/files-reg.c:1790): Can't lookup mount=27 for fd=1 path=/tmp/cx/out\n"
      "(00.133594) Error (criu/cr-dump.c:1698): Dump files (pid: 20591) failed with -1\n"
      "(00.189633) Error (criu/cr-dump.c:2128): Dumping FAILED.\n";
  EXPECT_EQ(CriuLogCause(dump), "Can't lookup mount=27 for fd=1 path=/tmp/cx/out");
  EXPECT_EQ(CriuLogCause("(00.1) Error (criu/cr-restore.c:2400): Restoring FAILED.\n"), "");
  EXPECT_EQ(CriuLogCause(""), "");
  EXPECT_EQ(CriuLogFileCause("/nonexistent/dump.log"), "");
}

}  // namespace
}  // namespace berth::pods::shim
