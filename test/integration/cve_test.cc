// Regression tests for classes of vulnerability that have hit container runtimes,
// one test per class, each on berth's runtime and runc. Each test names the CVE
// that made the class known; other tests cover more classes and say so where they
// do (sysctls: PodLifecycleTest.SysctlsReachOnlyThePodsOwnNamespaces, CVE-2022-0811;
// supplementary groups: PodLifecycleTest.MergesCommandEnvAndUserLikeKubernetes,
// CVE-2023-25173; image volume sub paths: ImageVolumeTest, CVE-2022-23648; hostile
// layer entries: the layer unpacker's unit tests and fuzz/layer_fuzz, CVE-2021-32760;
// ambiguous manifests and credentials on redirects: HostileRegistryTest, CVE-2021-41190
// and CVE-2020-15157).
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/mount_points.h"
#include "base/process.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/test_images.h"

namespace berth::testing {
namespace {

bool IsMountPoint(const std::string& path) {
  auto mounts = MountPointsUnder(std::filesystem::path(path).parent_path().string());
  return mounts.ok() && std::find(mounts->begin(), mounts->end(), path) != mounts->end();
}

// runc before 1.2.8 (Debian 12 ships 1.1.5) has neither the CVE-2025-31133 nor the
// CVE-2025-52881 fix; its tests skip, saying so, rather than fail on the host's runc.
bool RuncPredatesNovember2025Fixes() {
  auto version = RunProcess({"/usr/sbin/runc", "--version"}, {});
  std::string line = version.ok() ? version->out.substr(0, version->out.find('\n')) : "";
  return absl::StrContains(line, " 1.0.") || absl::StrContains(line, " 1.1.") ||
         (absl::StrContains(line, " 1.2.") && !absl::StrContains(line, " 1.2.8") && !absl::StrContains(line, " 1.2.9"));
}

class CveTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
  }

  // Creates and starts the container; the status of the first of the two that failed
  // (these tests accept a refusal at either, as long as nothing escapes).
  grpc::Status CreateAndStartOrSay(const std::string& pod, const ::runtime::v1::PodSandboxConfig& pod_config,
                                   const ::runtime::v1::ContainerConfig& config, std::string* id) {
    grpc::Status created = Create(pod, pod_config, config, id);
    if (!created.ok()) return created;
    ::runtime::v1::StartContainerRequest start;
    start.set_container_id(*id);
    ::runtime::v1::StartContainerResponse started;
    return client().runtime().StartContainer(Ctx().get(), start, &started);
  }
};

// CVE-2024-21626 (runc "Leaky Vessels"): a file descriptor of the runtime's, left
// open into the container, let a working directory of /proc/self/fd/N reach the
// host. The container's processes hold only their stdio, and a working directory
// through /proc/self/fd is not the host's.
TEST_P(CveTest, NoRuntimeFdReachesTheContainer_CVE_2024_21626) {
  if (IsSkipped() || HasFatalFailure()) return;
  auto pod_config = PodConfig("fds");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("sleeper", {"/bin/sleep", "3600"}));
  auto init_fds = Exec(id, {"/bin/ls", "/proc/1/fd"});
  EXPECT_EQ(init_fds.stdout(), "0\n1\n2\n") << "the init holds more than its stdio";
  // An exec'd ls holds its stdio and the directory it lists.
  auto exec_fds = Exec(id, {"/bin/ls", "/proc/self/fd"});
  EXPECT_EQ(exec_fds.stdout(), "0\n1\n2\n3\n") << "an exec holds more than its stdio";

  for (int fd = 3; fd <= 8; ++fd) {
    auto config = ContainerConfig("cwd" + std::to_string(fd), {"/bin/sleep", "3600"});
    config.set_working_dir("/proc/self/fd/" + std::to_string(fd));
    std::string cwd_id;
    // Refused at create or start: nothing to reach.
    if (!CreateAndStartOrSay(pod, pod_config, config, &cwd_id).ok()) continue;
    // Started: its working directory must be inside its own root.
    int pid = VerboseContainerInfo(cwd_id).value("pid", 0);
    ASSERT_GT(pid, 0);
    std::error_code ec;
    std::string cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec).string();
    std::string root = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/root", ec).string();
    EXPECT_TRUE(absl::StartsWith(cwd, root)) << "fd " << fd << ": cwd " << cwd << " is outside the root " << root;
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2022-31030 (containerd): ExecSync kept all a process wrote, so a process in
// the container that writes without end exhausted the daemon's memory. berthd keeps
// a bounded part, answers, and lives on.
TEST_P(CveTest, ExecOutputIsBounded_CVE_2022_31030) {
  if (IsSkipped() || HasFatalFailure()) return;
  auto pod_config = PodConfig("flood");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sleep", "3600"}));
  grpc::Status status;
  auto flood = Exec(id, {"/bin/sh", "-c", "head -c 100000000 /dev/zero; head -c 100000000 /dev/zero >&2"}, 60,
                    &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(flood.exit_code(), 0);
  EXPECT_EQ(flood.stdout().size(), 4u << 20);
  EXPECT_EQ(flood.stderr().size(), 4u << 20);
  EXPECT_EQ(Exec(id, {"/bin/echo", "alive"}).stdout(), "alive\n");
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2020-15257 (containerd): shims listened on abstract unix sockets, which a
// container on the host's network namespace could reach. berth's shims and daemon
// listen on no abstract socket: a host-network container sees none of berth's.
TEST_P(CveTest, HostNetworkContainersReachNoAbstractSocketOfBerths_CVE_2020_15257) {
  if (IsSkipped() || HasFatalFailure()) return;
  auto pod_config = PodConfig("hostnet");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      ::runtime::v1::NODE);
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sleep", "3600"}));
  // /proc/net/unix of the host's network namespace: every abstract name starts "@".
  auto sockets = Exec(id, {"/bin/cat", "/proc/net/unix"});
  ASSERT_EQ(sockets.exit_code(), 0);
  for (absl::string_view line : absl::StrSplit(sockets.stdout(), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 8 || !absl::StartsWith(fields.back(), "@")) continue;
    EXPECT_FALSE(absl::StrContains(fields.back(), "berth")) << "abstract socket " << fields.back();
    EXPECT_FALSE(absl::StrContains(fields.back(), dir_)) << "abstract socket " << fields.back();
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2021-30465 (runc): a mount destination through a symlink of the image was
// followed on the host, so a volume could be mounted over a host directory. Mount
// destinations resolve inside the container's root: an absolute link and a link of
// "../" steps both land inside it, and the host directory they name is untouched.
TEST_P(CveTest, MountDestinationsResolveInsideTheRoot_CVE_2021_30465) {
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string host_target = dir_ + "/host-target";
  ASSERT_TRUE(MakeDirs(host_target, 0755).ok());
  const std::string volume = dir_ + "/volume";
  ASSERT_TRUE(MakeDirs(volume, 0755).ok());
  ASSERT_TRUE(WriteFileAtomically(volume + "/secret", "the pod's\n").ok());
  auto busybox = BusyboxLayer();
  ASSERT_TRUE(busybox.ok()) << busybox.status();
  auto links = BuildLayer({Symlink("escape", host_target), Symlink("up", "../../../../../../../.." + host_target)});
  ASSERT_TRUE(links.ok()) << links.status();
  auto built = BuildImage(ImageSpec{}, {*busybox, *links});
  ASSERT_TRUE(built.ok()) << built.status();
  TestImage image;
  image.repository = "berth-test/symlinks";
  image.content = *std::move(built);
  RegistryClient push = registry_->Client();
  ASSERT_TRUE(PushTestImage(push, image).ok());
  const std::string reference = image.Reference(registry_->host_port());
  Pull(reference);

  auto pod_config = PodConfig("links");
  std::string pod = RunPod(pod_config);
  for (const char* destination : {"/escape", "/up"}) {
    auto config = ContainerConfig(destination + 1, {"/bin/sleep", "3600"});
    config.mutable_image()->set_image(reference);
    auto* mount = config.add_mounts();
    mount->set_container_path(destination);
    mount->set_host_path(volume);
    std::string id;
    grpc::Status created = CreateAndStartOrSay(pod, pod_config, config, &id);
    ASSERT_TRUE(created.ok()) << destination << ": " << created.error_message();
    // Mounted inside: the link leads to the volume within the container.
    EXPECT_EQ(Exec(id, {"/bin/cat", std::string(destination) + "/secret"}).stdout(), "the pod's\n") << destination;
    std::error_code ec;
    EXPECT_TRUE(std::filesystem::is_empty(host_target, ec)) << destination << " reached the host's " << host_target;
    EXPECT_FALSE(IsMountPoint(host_target)) << destination << " was mounted on the host's " << host_target;
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2019-5736 (runc): a container that made the runtime execute itself inside it
// (an exec'd program of "#!/proc/self/exe") could reopen the runtime's binary through
// /proc/PID/exe and overwrite it on the host. The runtime the container can reach is
// never the host's file: it runs from a sealed copy, and cannot be opened for writing
// from inside. The attack runs as the PoC does, racing execs of such a program, and
// only ever opens for append with nothing written, so a vulnerable runtime is
// reported, not damaged.
TEST_P(CveTest, TheRuntimeBinaryCannotBeReachedFromTheContainer_CVE_2019_5736) {
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string binary = GetParam() == "runc" ? "/usr/sbin/runc" : BERTH_BINARY_DIR "/cmd/berth-runtime";
  auto before = ReadFile(binary);
  ASSERT_TRUE(before.ok()) << before.status();
  auto pod_config = PodConfig("overwrite");
  std::string pod = RunPod(pod_config);
  // The attacker: for each process whose exe is not the container's own busybox,
  // note the target and try to open it for writing.
  const std::string attack =
      "printf '#!/proc/self/exe\\n' > /evil; chmod +x /evil; : > /attack.log; "
      "while [ ! -e /stop ]; do for p in /proc/[0-9]*; do "
      "t=$(readlink $p/exe 2>/dev/null) || continue; case $t in /bin/busybox|'') continue;; esac; "
      "echo \"seen $t\" >> /attack.log; "
      "case $t in /memfd:*) continue;; esac; "
      "( : >> $p/exe ) 2>/dev/null && echo \"opened $t\" >> /attack.log; "
      "done; done; sleep 3600";
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("attacker", {"/bin/sh", "-c", attack}));
  ASSERT_EQ(Exec(id, {"sh", "-c", "while [ ! -e /attack.log ]; do :; done"}).exit_code(), 0);
  for (int i = 0; i < 40; ++i) (void)Exec(id, {"/evil"});
  ASSERT_EQ(Exec(id, {"touch", "/stop"}).exit_code(), 0);
  std::string log = Exec(id, {"cat", "/attack.log"}).stdout();
  std::cout << "runtime sightings by the attacker:\n" << log;
  EXPECT_EQ(log.find("opened"), std::string::npos) << "the runtime binary was opened for writing:\n" << log;
  EXPECT_EQ(ReadFile(binary).value_or(""), *before) << binary << " changed";
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2025-31133 and CVE-2025-52565 (runc): masked paths are masked by binding
// /dev/null over them, and the terminal bound at /dev/console; with the container's
// /dev/null or /dev/console a symlink (say to /proc/sys/kernel/core_pattern), the
// runtime bound a writable host control file into the container instead. Here the
// container's /dev is a volume whose null and console lead to host control files:
// either the runtime refuses it, or the masks and the console are real devices, and
// the host's files are neither reachable nor changed.
TEST_P(CveTest, MasksAndConsoleAreNotRedirectedBySymlinks_CVE_2025_31133_CVE_2025_52565) {
  if (IsSkipped() || HasFatalFailure()) return;
  if (GetParam() == "runc" && RuncPredatesNovember2025Fixes()) {
    GTEST_SKIP() << "this host's runc predates the fix for CVE-2025-31133 (runc 1.2.8): "
                 << "it binds whatever the container's /dev/null names over masked paths";
  }
  const std::string core_pattern = ReadFile("/proc/sys/kernel/core_pattern").value_or("");
  auto pod_config = PodConfig("masks");
  std::string pod = RunPod(pod_config);
  for (bool tty : {false, true}) {
    const std::string dev = dir_ + (tty ? "/dev-tty" : "/dev-plain");
    ASSERT_TRUE(MakeDirs(dev + "/pts", 0755).ok());
    ASSERT_EQ(::symlink("pts/ptmx", (dev + "/ptmx").c_str()), 0);
    if (tty) {
      // A real null device, so that the console is what is left to redirect.
      ASSERT_EQ(::mknod((dev + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0) << strerror(errno);
    } else {
      ASSERT_EQ(::symlink("/proc/sys/kernel/core_pattern", (dev + "/null").c_str()), 0);
    }
    ASSERT_EQ(::symlink("/proc/sysrq-trigger", (dev + "/console").c_str()), 0);
    auto config = ContainerConfig(tty ? "console" : "masked", {"/bin/sleep", "3600"});
    config.set_tty(tty);
    auto* mount = config.add_mounts();
    mount->set_container_path("/dev");
    mount->set_host_path(dev);
    std::string id;
    grpc::Status created = CreateAndStartOrSay(pod, pod_config, config, &id);
    if (created.ok()) {
      // Started: every mask is the null device and the console a terminal. (Nothing
      // is written: on a vulnerable runtime that would change the host's file.)
      auto seen = Exec(id, {"sh", "-c",
                            "for p in /proc/kcore /proc/keys /proc/timer_list; do "
                            "[ -e $p ] && stat -c '%n %t,%T' $p; done; "
                            "[ -e /dev/console ] && stat -c 'console %F' /dev/console; true"});
      for (absl::string_view line : absl::StrSplit(seen.stdout(), '\n', absl::SkipEmpty())) {
        if (absl::StartsWith(line, "console")) {
          EXPECT_EQ(line, "console character special file") << "tty " << tty;
        } else {
          EXPECT_TRUE(absl::EndsWith(line, " 1,3")) << "tty " << tty << ": not the null device: " << line;
        }
      }
    } else {
      std::cout << "refused (tty " << tty << "): " << created.error_message() << "\n";
      EXPECT_NE(created.error_message(), "") << "refused without a reason";
    }
    EXPECT_EQ(ReadFile("/proc/sys/kernel/core_pattern").value_or(""), core_pattern);
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2025-52881 (runc): the runtime's writes under /proc (sysctls, LSM labels) could
// be redirected by what the container had mounted there, to a file of the host. A pod
// sysctl here meets a volume bound over its /proc/sys file: the write must not land in
// the volume's file (a harmless stand-in for a host control file), and the container is
// refused rather than left with the sysctl unset.
TEST_P(CveTest, SysctlWritesAreNotRedirectedByMounts_CVE_2025_52881) {
  if (IsSkipped() || HasFatalFailure()) return;
  if (GetParam() == "runc" && RuncPredatesNovember2025Fixes()) {
    GTEST_SKIP() << "this host's runc predates the fix for CVE-2025-52881 (runc 1.2.8): "
                 << "its /proc writes follow what the container mounted there";
  }
  const std::string stand_in = dir_ + "/stand-in";
  ASSERT_TRUE(WriteFileAtomically(stand_in, "untouched\n").ok());
  auto pod_config = PodConfig("redirect");
  (*pod_config.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "80";
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("redirected", {"/bin/sleep", "3600"});
  auto* mount = config.add_mounts();
  mount->set_container_path("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  mount->set_host_path(stand_in);
  std::string id;
  grpc::Status created = CreateAndStartOrSay(pod, pod_config, config, &id);
  EXPECT_EQ(ReadFile(stand_in).value_or(""), "untouched\n") << "the sysctl was written into the volume";
  if (!created.ok()) std::cout << "refused: " << created.error_message() << "\n";
  ASSERT_TRUE(RemovePod(pod).ok());
}

INSTANTIATE_TEST_SUITE_P(Handlers, CveTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
