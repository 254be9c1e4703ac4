#include "pods/shim/protocol.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace berth::pods::shim {
namespace {

TEST(ShimProtocolTest, ArgumentsRoundTrip) {
  ShimOptions o;
  o.id = "c1";
  o.bundle = "/b";
  o.runtime = "/proc/1/fd/5";
  o.runtime_root = "/run/berth/runtime/berth";
  o.log = "/var/log/pods/x/c.log";
  o.exit_file = "/run/berth/containers/c1/exit.json";
  o.control = "/run/berth/containers/c1/control";
  o.oom_file = "/sys/fs/cgroup/memory/berth/c1/memory.oom_control";
  o.tty = true;
  std::vector<std::string> argv = o.ToArgv("/usr/lib/berth-shim");
  EXPECT_EQ(argv[0], "/usr/lib/berth-shim");
  auto parsed = ParseShimArgs(std::vector<std::string>(argv.begin() + 1, argv.end()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id, o.id);
  EXPECT_EQ(parsed->runtime, o.runtime);
  EXPECT_EQ(parsed->oom_file, o.oom_file);
  EXPECT_EQ(parsed->runtime_log, "");
  EXPECT_TRUE(parsed->tty);
  EXPECT_FALSE(parsed->stdin);
}

TEST(ShimProtocolTest, RestoreArgumentsRoundTrip) {
  ShimOptions o;
  o.id = "c1";
  o.bundle = "/b";
  o.runtime = "/usr/sbin/runc";
  o.runtime_root = "/run/berth/runtime/runc";
  o.log = "/dev/null";
  o.exit_file = "/run/berth/containers/c1/exit.json";
  o.control = "/run/berth/containers/c1/control";
  o.restore_images = "/var/lib/berth/containers/c1/checkpoint/checkpoint";
  o.restore_work = "/run/berth/containers/c1/criu-restore";
  o.criu = "/usr/sbin/criu";
  o.tcp_established = true;
  std::vector<std::string> argv = o.ToArgv("/usr/lib/berth-shim");
  auto parsed = ParseShimArgs(std::vector<std::string>(argv.begin() + 1, argv.end()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->restore_images, o.restore_images);
  EXPECT_EQ(parsed->restore_work, o.restore_work);
  EXPECT_EQ(parsed->criu, o.criu);
  EXPECT_TRUE(parsed->tcp_established);

  argv.erase(std::find(argv.begin(), argv.end(), "--restore-work"), std::find(argv.begin(), argv.end(), "--criu"));
  auto half = ParseShimArgs(std::vector<std::string>(argv.begin() + 1, argv.end()));
  EXPECT_EQ(half.status().code(), StatusCode::kInvalidArgument) << "images without a work dir";
}

TEST(ShimProtocolTest, BadArgumentsAreNamed) {
  auto missing = ParseShimArgs({"--id", "c1"});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("is required"), std::string::npos) << missing.status();
  auto unknown = ParseShimArgs({"--colour", "red"});
  EXPECT_NE(unknown.status().message().find("--colour"), std::string::npos) << unknown.status();
  auto no_value = ParseShimArgs({"--id"});
  EXPECT_NE(no_value.status().message().find("--id needs a value"), std::string::npos) << no_value.status();
}

TEST(ShimProtocolTest, ReadyReplies) {
  EXPECT_EQ(*ParseReadyReply(ReadyLine(4242) + "\n"), 4242);
  auto failed = ParseReadyReply(FailedLine("runtime create failed: no such file"));
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal);
  EXPECT_EQ(failed.status().message(), "runtime create failed: no such file");
  EXPECT_FALSE(ParseReadyReply("").ok());
  EXPECT_FALSE(ParseReadyReply("OK -3").ok());
  EXPECT_FALSE(ParseReadyReply("OK").ok());
}

TEST(ShimProtocolTest, ExitRecordsOfEveryVersionAreRead) {
  ExitRecord written{137, 1700000000123456789, true};
  auto read = ParseExitRecord(SerializeExitRecord(written));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->exit_code, 137);
  EXPECT_EQ(read->finished_at, 1700000000123456789);
  EXPECT_TRUE(read->oom_killed);
  // What shims before the versioned protocol wrote (still running after an upgrade).
  auto old = ParseExitRecord("{\"exit_code\":3,\"finished_at\":17,\"oom_killed\":false}\n");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->exit_code, 3);
  EXPECT_FALSE(old->oom_killed);
  EXPECT_EQ(ParseExitRecord("{\"exit_code\":3").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseExitRecord("{\"exit_code\":\"3\",\"finished_at\":1}").status().code(), StatusCode::kDataLoss);
}

TEST(ShimProtocolTest, ControlCommands) {
  std::string line = ControlLine(ControlCommand::kReopenLog);
  EXPECT_EQ(ParseControl(line), std::vector<ControlCommand>{ControlCommand::kReopenLog});
  EXPECT_EQ(ParseControl(line + "resize 80 24\n" + line).size(), 2u);
  EXPECT_TRUE(ParseControl("nonsense\n").empty());
}

}  // namespace
}  // namespace berth::pods::shim
