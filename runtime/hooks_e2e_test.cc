// End-to-end tests of the OCI hooks (runtime/hooks.h): every kind, on berth-runtime
// and on runc alike, and what a failing or hung one does.
#include "runtime/e2e_fixture.h"

namespace berth::runtime_test {
namespace {

// Every hook kind, on berth-runtime and on runc alike: each sees the state of its
// moment, in the namespaces the spec names, in the spec's order.
class RuntimeHooksTest : public RuntimeE2eTest {
 protected:
  // A hook running the host's (or, for startContainer, the container's) shell.
  json Hook(const std::string& script, std::optional<int> timeout = std::nullopt) {
    json hook = {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}, {"env", {"PATH=/bin:/usr/bin"}}};
    if (timeout) hook["timeout"] = *timeout;
    return hook;
  }

  // Appends the kind to the order file and keeps the state it was given.
  json Recording(const std::string& kind) {
    return Hook(absl::StrCat("cat > ", dir_, "/", kind, ".json; readlink /proc/self/ns/mnt > ", dir_, "/", kind,
                             ".mnt; readlink /proc/$$/ns/pid > ", dir_, "/", kind, ".pidns; echo ", kind, " >> ",
                             dir_, "/order"));
  }

  void RunsEveryHookInOrder(const std::string& runtime, const std::string& id) {
    json config = Config(id, {"cat", "/tmp/started"});
    config["process"]["noNewPrivileges"] = false;
    config["hooks"] = {
        {"prestart", {Recording("prestart")}},
        {"createRuntime", {Recording("createRuntime")}},
        {"createContainer", {Recording("createContainer")}},
        // In the container, after pivot_root: its shell, its /tmp.
        {"startContainer", {Hook("cat > /tmp/started")}},
        {"poststart", {Recording("poststart")}},
        {"poststop", {Recording("poststop")}},
    };
    UniqueFd out;
    pid_t pid = Create(runtime, id, config, &out);
    ASSERT_GT(pid, 0);
    // runc 1.1 runs poststart already here, at create, and gives createContainer the
    // pid the container's namespace sees; berth-runtime does as the spec says.
    const bool runc = runtime == kRunc;
    auto order = ReadFile(dir_ + "/order");
    ASSERT_TRUE(order.ok());
    EXPECT_EQ(*order, runc ? "prestart\ncreateRuntime\ncreateContainer\npoststart\n"
                           : "prestart\ncreateRuntime\ncreateContainer\n") << runtime;
    auto init_mnt = ReadFile(absl::StrCat("/proc/", pid, "/ns/mnt"));
    char host_mnt[64] = {}, container_mnt[64] = {};
    ASSERT_GT(::readlink("/proc/self/ns/mnt", host_mnt, sizeof host_mnt - 1), 0);
    ASSERT_GT(::readlink(absl::StrCat("/proc/", pid, "/ns/mnt").c_str(), container_mnt, sizeof container_mnt - 1), 0);
    EXPECT_EQ(Trimmed(*ReadFile(dir_ + "/createRuntime.mnt")), host_mnt) << runtime << ": in the runtime's namespace";
    char host_pid_ns[64] = {};
    ASSERT_GT(::readlink("/proc/self/ns/pid", host_pid_ns, sizeof host_pid_ns - 1), 0);
    EXPECT_EQ(Trimmed(*ReadFile(dir_ + "/createRuntime.pidns")), host_pid_ns) << runtime << ": in the runtime's";
    EXPECT_EQ(Trimmed(*ReadFile(dir_ + "/createContainer.mnt")), container_mnt) << runtime << ": in the container's";
    for (const char* kind : {"prestart", "createRuntime", "createContainer"}) {
      json state = json::parse(*ReadFile(absl::StrCat(dir_, "/", kind, ".json")));
      EXPECT_EQ(state["id"], id) << runtime << " " << kind;
      EXPECT_EQ(state["pid"], runc && kind == std::string("createContainer") ? 1 : pid) << runtime << " " << kind;
      EXPECT_EQ(state["bundle"], dir_ + "/" + id) << runtime << " " << kind;
    }
    EXPECT_EQ(json::parse(*ReadFile(dir_ + "/createRuntime.json"))["status"], "creating") << runtime;

    Result start = RunCommand({runtime, "--root", state_, "start", id});
    ASSERT_EQ(start.exit_code, 0) << start.err;
    // startContainer's stdin was the state, which the container then printed.
    json started = json::parse(ReadUntilEof(out.get()));
    EXPECT_EQ(started["id"], id) << runtime;
    EXPECT_EQ(WaitExit(pid), 0);
    EXPECT_EQ(*ReadFile(dir_ + "/order"), "prestart\ncreateRuntime\ncreateContainer\npoststart\n") << runtime;
    EXPECT_EQ(json::parse(*ReadFile(dir_ + "/poststart.json"))["pid"], pid) << runtime;

    Result del = RunCommand({runtime, "--root", state_, "delete", id});
    ASSERT_EQ(del.exit_code, 0) << del.err;
    EXPECT_EQ(*ReadFile(dir_ + "/order"), "prestart\ncreateRuntime\ncreateContainer\npoststart\npoststop\n") << runtime;
    EXPECT_EQ(json::parse(*ReadFile(dir_ + "/poststop.json"))["id"], id) << runtime;
    ExpectGone(id);
  }
};

TEST_F(RuntimeHooksTest, BerthRuntimeRunsEveryHookInOrder) { RunsEveryHookInOrder(kBerthRuntime, "hooked"); }

TEST_F(RuntimeHooksTest, RuncRunsTheSameHooksAlike) {
  if (!Exists(kRunc)) GTEST_SKIP() << "runc not installed";
  RunsEveryHookInOrder(kRunc, "hooked-runc");
}

TEST_F(RuntimeHooksTest, AFailingOrHungCreateHookFailsCreateAndLeavesNothing) {
  json failing = Config("hook-fails", {"true"});
  failing["hooks"] = {{"createRuntime", {Hook("echo no device for this container >&2; exit 3")}}};
  UniqueFd out;
  Result result;
  EXPECT_EQ(Create(kBerthRuntime, "hook-fails", failing, &out, &result), 0);
  EXPECT_NE(result.err.find("createRuntime hook /bin/sh failed with exit code 3: no device for this container"),
            std::string::npos)
      << result.err;
  ExpectGone("hook-fails");

  json hung = Config("hook-hangs", {"true"});
  hung["hooks"] = {{"createContainer", {Hook("sleep 30", 1)}}};
  EXPECT_EQ(Create(kBerthRuntime, "hook-hangs", hung, &out, &result), 0);
  EXPECT_NE(result.err.find("did not finish within its timeout of 1 s"), std::string::npos) << result.err;
  ExpectGone("hook-hangs");

  // Hooks that ran before a later one failed get their poststop, as a container
  // they saw would.
  json undone = Config("hook-undone", {"true"});
  undone["hooks"] = {{"createRuntime", {Hook("true")}},
                     {"createContainer", {Hook("exit 1")}},
                     {"poststop", {Hook(absl::StrCat("cat > ", dir_, "/undone.json"))}}};
  EXPECT_EQ(Create(kBerthRuntime, "hook-undone", undone, &out, &result), 0);
  EXPECT_EQ(json::parse(ReadFile(dir_ + "/undone.json").value_or("{}"))["id"], "hook-undone") << result.err;
  ExpectGone("hook-undone");

  // Whatever bytes a failing hook writes, the JSON log takes them.
  json noisy = Config("hook-noisy", {"true"});
  noisy["hooks"] = {{"createRuntime", {Hook("printf 'bad \\377\\376 bytes' >&2; exit 4")}}};
  const std::string bundle = WriteBundle("hook-noisy", noisy);
  const std::string log = dir_ + "/runtime-log.json";
  Result logged = RunCommand({kBerthRuntime, "--root", state_, "--log", log, "--log-format", "json", "create",
                              "--bundle", bundle, "hook-noisy"});
  EXPECT_EQ(logged.exit_code, 1) << logged.err;
  EXPECT_NE(ReadFile(log).value_or("").find("failed with exit code 4"), std::string::npos);
  ExpectGone("hook-noisy");

  json relative = Config("hook-relative", {"true"});
  relative["hooks"] = {{"poststop", {{{"path", "sh"}}}}};
  EXPECT_EQ(Create(kBerthRuntime, "hook-relative", relative, &out, &result), 0);
  EXPECT_NE(result.err.find("is not absolute"), std::string::npos) << result.err;
}

TEST_F(RuntimeHooksTest, AFailingPoststartHookOnlyWarns) {
  json config = Config("poststart-fails", {"true"});
  config["hooks"] = {{"poststart", {Hook("echo too late >&2; exit 1")}}};
  UniqueFd out;
  pid_t pid = Create(kBerthRuntime, "poststart-fails", config, &out);
  ASSERT_GT(pid, 0);
  Result start = RunCommand({kBerthRuntime, "--root", state_, "start", "poststart-fails"});
  EXPECT_EQ(start.exit_code, 0) << start.err;
  EXPECT_NE(start.err.find("warning: poststart hook /bin/sh failed with exit code 1: too late"), std::string::npos)
      << start.err;
  EXPECT_EQ(WaitExit(pid), 0);
}

}  // namespace
}  // namespace berth::runtime_test
