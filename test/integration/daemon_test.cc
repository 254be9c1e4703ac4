// berthd as a daemon: its CRI answers before any pod exists, its socket, its config
// and its state database.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>

#include "base/file_util.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

using ::runtime::v1::RuntimeCondition;

class DaemonTest : public BerthdFixture {
 protected:
  // The Status conditions by type.
  std::map<std::string, RuntimeCondition> Conditions(bool verbose = false,
                                                     std::map<std::string, std::string>* info = nullptr) {
    ::runtime::v1::StatusRequest request;
    request.set_verbose(verbose);
    ::runtime::v1::StatusResponse response;
    auto status = client().runtime().Status(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, RuntimeCondition> out;
    for (const auto& c : response.status().conditions()) out[c.type()] = c;
    if (info) info->insert(response.info().begin(), response.info().end());
    return out;
  }
};

TEST_F(DaemonTest, VersionNamesBerthAndCriV1) {
  StartBerthd();
  ::runtime::v1::VersionResponse response;
  auto status = client().runtime().Version(Ctx().get(), {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.runtime_name(), "berth");
  EXPECT_EQ(response.runtime_api_version(), "v1");
  EXPECT_FALSE(response.runtime_version().empty());

  ExitResult ctl = RunBerthctl({"version"});
  EXPECT_EQ(ctl.exit_code, 0) << ctl.log;
  EXPECT_NE(ctl.log.find("RuntimeName:         berth"), std::string::npos) << ctl.log;
  ctl = RunBerthctl({"version", "-o", "json"});
  EXPECT_NE(ctl.log.find("\"runtimeApiVersion\": \"v1\""), std::string::npos) << ctl.log;
  ctl = RunBerthctl({"version", "-o", "yaml"});
  EXPECT_NE(ctl.log.find("runtimeName: berth"), std::string::npos) << ctl.log;
}

TEST_F(DaemonTest, NetworkReadyFollowsTheCniConfDirWithoutRestart) {
  RemoveDefaultNetwork();
  StartBerthd();
  auto conditions = Conditions();
  EXPECT_TRUE(conditions["RuntimeReady"].status());
  EXPECT_FALSE(conditions["NetworkReady"].status());
  EXPECT_EQ(conditions["NetworkReady"].reason(), "NetworkPluginNotReady");
  EXPECT_NE(conditions["NetworkReady"].message().find(cni_conf_), std::string::npos)
      << conditions["NetworkReady"].message();

  // A config whose plugin is missing still leaves the network not ready, and says why.
  ASSERT_TRUE(WriteFileAtomically(cni_conf_ + "/10-test.conflist",
                                  R"({"cniVersion":"1.0.0","name":"test","plugins":[{"type":"bridge"}]})")
                  .ok());
  conditions = Conditions();
  EXPECT_FALSE(conditions["NetworkReady"].status());
  EXPECT_NE(conditions["NetworkReady"].message().find("\"bridge\" not found"), std::string::npos)
      << conditions["NetworkReady"].message();

  ASSERT_TRUE(WriteFileAtomically(cni_bin_ + "/bridge", "#!/bin/sh\nexit 1\n", 0755).ok());
  std::map<std::string, std::string> info;
  conditions = Conditions(/*verbose=*/true, &info);
  EXPECT_TRUE(conditions["NetworkReady"].status()) << conditions["NetworkReady"].message();
  EXPECT_NE(info["node"].find("10-test.conflist"), std::string::npos) << info["node"];
  EXPECT_NE(info["config"].find("root: " + root_), std::string::npos) << info["config"];
}

TEST_F(DaemonTest, RuntimeConfigReportsCgroupfs) {
  StartBerthd();
  ::runtime::v1::RuntimeConfigResponse response;
  auto status = client().runtime().RuntimeConfig(Ctx().get(), {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.linux().cgroup_driver(), ::runtime::v1::CGROUPFS);
}

TEST_F(DaemonTest, PodCidrIsValidatedAndSurvivesRestart) {
  StartBerthd();
  ::runtime::v1::UpdateRuntimeConfigRequest request;
  ::runtime::v1::UpdateRuntimeConfigResponse response;
  request.mutable_runtime_config()->mutable_network_config()->set_pod_cidr("10.99.0.0/not-a-prefix");
  auto status = client().runtime().UpdateRuntimeConfig(Ctx().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("10.99.0.0/not-a-prefix"), std::string::npos);

  request.mutable_runtime_config()->mutable_network_config()->set_pod_cidr("10.99.0.0/24");
  status = client().runtime().UpdateRuntimeConfig(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  ASSERT_EQ(StopBerthd().exit_code, 0);
  StartBerthd();
  std::map<std::string, std::string> info;
  Conditions(/*verbose=*/true, &info);
  EXPECT_NE(info["node"].find("\"podCIDR\":\"10.99.0.0/24\""), std::string::npos) << info["node"];
}

TEST_F(DaemonTest, EmptyRequestsAreInvalidArgumentsNamingTheRpc) {
  StartBerthd();
  ::runtime::v1::CheckpointPodResponse checkpoint;
  auto status = client().runtime().CheckpointPod(Ctx().get(), {}, &checkpoint);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("CheckpointPod"), std::string::npos);

  ::runtime::v1::UpdatePodSandboxResourcesResponse resources;
  status = client().runtime().UpdatePodSandboxResources(Ctx().get(), {}, &resources);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("UpdatePodSandboxResources"), std::string::npos);

  ::runtime::v1::RestorePodResponse restore;
  status = client().runtime().RestorePod(Ctx().get(), {}, &restore);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("RestorePod"), std::string::npos);
}

TEST_F(DaemonTest, SocketIsOwnerAndGroupOnlyAndRemovedOnSigterm) {
  StartBerthd();
  struct stat st;
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ExitResult result = StopBerthd(SIGTERM);
  EXPECT_EQ(result.exit_code, 0) << result.log;
  EXPECT_NE(result.log.find("berthd stopped"), std::string::npos) << result.log;
  EXPECT_FALSE(std::filesystem::exists(socket_));
}

TEST_F(DaemonTest, SecondBerthdOnTheSameSocketIsRefused) {
  StartBerthd();
  // Another root, same socket: the socket's lock refuses it.
  ExitResult second = RunBerthdToExit({"--root", dir_ + "/root2", "--state-dir", dir_ + "/run2",
                                       "--socket", socket_, "--cni-conf-dir", cni_conf_});
  EXPECT_EQ(second.exit_code, 1) << second.log;
  EXPECT_NE(second.log.find("another berthd is already serving on " + socket_), std::string::npos)
      << second.log;
  // Same root, another socket: the root's lock refuses it.
  second = RunBerthdToExit({"--root", root_, "--state-dir", dir_ + "/run2", "--socket",
                            dir_ + "/run2/other.sock", "--cni-conf-dir", cni_conf_});
  EXPECT_EQ(second.exit_code, 1) << second.log;
  EXPECT_NE(second.log.find("is in use by another berthd"), std::string::npos) << second.log;
  // The first one still serves.
  ::runtime::v1::VersionResponse response;
  EXPECT_TRUE(client().runtime().Version(Ctx().get(), {}, &response).ok());
}

TEST_F(DaemonTest, StaleSocketFileIsReplaced) {
  ASSERT_TRUE(MakeDirs(state_).ok());
  // A socket bound and abandoned, as a killed berthd leaves it.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  StartBerthd();
  ::runtime::v1::VersionResponse response;
  EXPECT_TRUE(client().runtime().Version(Ctx().get(), {}, &response).ok());
}

TEST_F(DaemonTest, FileThatIsNotASocketIsNotReplaced) {
  ASSERT_TRUE(MakeDirs(state_).ok());
  ASSERT_TRUE(WriteFileAtomically(socket_, "precious").ok());
  ExitResult result = RunBerthdToExit(DirFlags());
  EXPECT_EQ(result.exit_code, 1) << result.log;
  EXPECT_NE(result.log.find("exists and is not a socket"), std::string::npos) << result.log;
  EXPECT_EQ(ReadFile(socket_).value_or(""), "precious");
}

TEST_F(DaemonTest, BadConfigIsAStartupErrorNamingTheKey) {
  std::string config = dir_ + "/berth.yaml";
  ASSERT_TRUE(WriteFileAtomically(config, "log_level: info\ncni:\n  conf_dirr: /etc/cni\n").ok());
  std::vector<std::string> flags = DirFlags();
  flags.insert(flags.end(), {"--config", config});
  ExitResult result = RunBerthdToExit(flags);
  EXPECT_EQ(result.exit_code, 2) << result.log;
  EXPECT_NE(result.log.find("unknown config key \"cni.conf_dirr\" (line 3)"), std::string::npos)
      << result.log;

  ASSERT_TRUE(WriteFileAtomically(config, "log_level: chatty\n").ok());
  result = RunBerthdToExit(flags);
  EXPECT_EQ(result.exit_code, 2) << result.log;
  EXPECT_NE(result.log.find("\"log_level\""), std::string::npos) << result.log;

  result = RunBerthdToExit({"--config", dir_ + "/missing.yaml"});
  EXPECT_EQ(result.exit_code, 2) << result.log;
  EXPECT_NE(result.log.find("missing.yaml"), std::string::npos) << result.log;

  result = RunBerthdToExit({"--no-such-flag"});
  EXPECT_EQ(result.exit_code, 2) << result.log;
  EXPECT_NE(result.log.find("no-such-flag"), std::string::npos) << result.log;
}

TEST_F(DaemonTest, FlagsOverrideTheConfigFile) {
  std::string config = dir_ + "/berth.yaml";
  ASSERT_TRUE(WriteFileAtomically(config, "root: /nonexistent/root\nlog_level: error\n").ok());
  std::vector<std::string> flags = {"--config", config, "--print-config", "--root", root_};
  ExitResult result = RunBerthdToExit(flags);
  EXPECT_EQ(result.exit_code, 0) << result.log;
  EXPECT_NE(result.log.find("root: " + root_), std::string::npos) << result.log;
  EXPECT_NE(result.log.find("log_level: error"), std::string::npos) << result.log;
}

TEST_F(DaemonTest, CorruptStateDatabaseIsRefusedAndKept) {
  ASSERT_TRUE(MakeDirs(root_).ok());
  const std::string garbage(4096, '\x5a');
  ASSERT_TRUE(WriteFileAtomically(root_ + "/berth.db", garbage).ok());
  ExitResult result = RunBerthdToExit(DirFlags());
  EXPECT_EQ(result.exit_code, 1) << result.log;
  EXPECT_NE(result.log.find("will not reset it"), std::string::npos) << result.log;
  EXPECT_EQ(ReadFile(root_ + "/berth.db").value_or(""), garbage);
}

}  // namespace
}  // namespace berth::testing
