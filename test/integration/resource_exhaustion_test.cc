// berthd out of disk and out of file descriptors: its state root on a small tmpfs
// that fills during a pull, during a container's writes and during a create, and a
// file descriptor limit that runs out. Every call that cannot work fails with
// RESOURCE_EXHAUSTED naming the cause, leaves nothing half-made, the database stays
// intact, and once space or descriptors are back everything works again.
#include <sys/mount.h>
#include <sys/resource.h>

#include <filesystem>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/process_files.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/test_images.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;

// Room for the two busybox test images and a few containers, not for more.
constexpr char kStateRootSize[] = "48m";

class ResourceExhaustionTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(MakeDirs(root_, 0700).ok());
    ASSERT_EQ(::mount("berth-test-small", root_.c_str(), "tmpfs", 0, absl::StrCat("size=", kStateRootSize).c_str()), 0)
        << strerror(errno);
    mounted_ = true;
    StartWithImages({});
  }

  void CleanUpHost() override {
    if (mounted_) {
      EXPECT_EQ(::umount2(root_.c_str(), MNT_DETACH), 0) << strerror(errno);
    }
  }

  int ImageCount() {
    ::runtime::v1::ListImagesResponse list;
    EXPECT_TRUE(client().image().ListImages(Ctx().get(), {}, &list).ok());
    return list.images_size();
  }

  int Entries(const std::string& dir) {
    std::error_code ec;
    int n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir, ec)) ++n;
    return n;
  }

  bool mounted_ = false;
};

// Incompressible bytes: a layer of them costs its full size twice (blob and layer).
std::string NoiseBytes(size_t size) {
  std::mt19937_64 random(20261205);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t word = random();
    std::memcpy(bytes.data() + i, &word, 8);
  }
  return bytes;
}

TEST_F(ResourceExhaustionTest, AFullDiskFailsThePullAndLeavesNothing) {
  auto layer = BuildLayer({File("noise", NoiseBytes(64 << 20))}, Compression::kGzip);
  ASSERT_TRUE(layer.ok()) << layer.status();
  auto image = BuildImage(ImageSpec{}, {*layer});
  ASSERT_TRUE(image.ok()) << image.status();
  RegistryClient push = registry_->Client();
  ASSERT_TRUE(PushImage(push, "berth-test/too-big", "latest", *image).ok());
  const int snapshots = Entries(root_ + "/images/snapshots");
  const int blobs = Entries(root_ + "/images/blobs/sha256");

  ::runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(registry_->host_port() + "/berth-test/too-big:latest");
  ::runtime::v1::PullImageResponse response;
  grpc::Status pulled = client().image().PullImage(Ctx().get(), request, &response);
  EXPECT_EQ(pulled.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << pulled.error_message();
  EXPECT_NE(pulled.error_message().find("No space left on device"), std::string::npos) << pulled.error_message();

  // The images it had are whole, and nothing of the failed pull stayed.
  EXPECT_EQ(ImageCount(), 2);
  EXPECT_EQ(Entries(root_ + "/images/ingest"), 0);
  EXPECT_EQ(Entries(root_ + "/images/snapshots"), snapshots);
  EXPECT_EQ(Entries(root_ + "/images/blobs/sha256"), blobs);
  auto pod_config = PodConfig("after-pull");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("works", {"sleep", "3600"}));
  EXPECT_EQ(Exec(id, {"echo", "alive"}).stdout(), "alive\n");
}

TEST_F(ResourceExhaustionTest, AContainerThatFillsTheDiskBlocksCreatesUntilSpaceIsBack) {
  auto pod_config = PodConfig("filler");
  std::string pod = RunPod(pod_config);
  std::string filler = CreateAndStart(pod, pod_config, ContainerConfig("filler", {"sleep", "3600"}));
  std::string other = CreateAndStart(pod, pod_config, ContainerConfig("other", {"sleep", "3600"}));
  // The container's writable layer is on the state root: it fills it.
  auto filled = Exec(filler, {"sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=256 2>&1; sync; echo exit=$?"});
  EXPECT_NE(filled.stdout().find("No space left on device"), std::string::npos) << filled.stdout();

  // A create on a full disk fails saying so, and nothing of it stays.
  const int containers = Entries(root_ + "/containers");
  std::string id;
  grpc::Status created = Create(pod, pod_config, ContainerConfig("blocked", {"sleep", "3600"}), &id);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << created.error_message();
  // Whichever write hit the wall says so: a file's (ENOSPC) or the database's.
  EXPECT_TRUE(created.error_message().find("No space left on device") != std::string::npos ||
              created.error_message().find("database or disk is full") != std::string::npos)
      << created.error_message();
  EXPECT_EQ(Entries(root_ + "/containers"), containers);
  ::runtime::v1::ListContainersResponse listed;
  ASSERT_TRUE(client().runtime().ListContainers(Ctx().get(), {}, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 2);

  // The database takes no write now; a stop's state change waits for space, and the
  // container is stopped either way.
  ::runtime::v1::StopContainerRequest stop;
  stop.set_container_id(other);
  ::runtime::v1::StopContainerResponse stopped;
  grpc::Status stop_status = client().runtime().StopContainer(Ctx().get(), stop, &stopped);
  if (!stop_status.ok()) {
    EXPECT_EQ(stop_status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << stop_status.error_message();
  }

  // Space back: everything works again, and berthd's records survived.
  EXPECT_EQ(Exec(filler, {"rm", "/fill"}).exit_code(), 0);
  ASSERT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok());
  EXPECT_EQ(StatusOf(other).state(), ::runtime::v1::CONTAINER_EXITED);
  std::string again = CreateAndStart(pod, pod_config, ContainerConfig("blocked", {"sleep", "3600"}));
  EXPECT_EQ(Exec(again, {"echo", "alive"}).stdout(), "alive\n");
  ASSERT_EQ(StopBerthd(SIGKILL).signal, SIGKILL);
  StartBerthd();
  EXPECT_EQ(StatusOf(again).state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(StatusOf(filler).state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(StatusOf(other).state(), ::runtime::v1::CONTAINER_EXITED);
}

// berthd at its file descriptor limit: calls that need one more fail naming the
// cause, nothing they began stays, berthd itself goes on serving, and once the limit
// is raised the same calls work.
TEST_F(ResourceExhaustionTest, AtTheFdLimitCallsFailCleanlyAndRecover) {
  auto pod_config = PodConfig("fds");
  std::string pod = RunPod(pod_config);
  rlimit original{};
  ASSERT_EQ(::prlimit(berthd_pid_, RLIMIT_NOFILE, nullptr, &original), 0);
  const uint64_t open_now = CountOpenFiles({berthd_pid_}).descriptors;
  ASSERT_GT(open_now, 0u);
  rlimit tight{static_cast<rlim_t>(open_now + 8), original.rlim_max};
  ASSERT_EQ(::prlimit(berthd_pid_, RLIMIT_NOFILE, &tight, nullptr), 0);

  grpc::Status failed;
  std::vector<std::string> made;
  for (int i = 0; i < 40 && failed.ok(); ++i) {
    std::string id;
    failed = Create(pod, pod_config, ContainerConfig(absl::StrCat("c", i), {"sleep", "3600"}), &id);
    if (!failed.ok()) break;
    made.push_back(id);
    ::runtime::v1::StartContainerRequest start;
    start.set_container_id(id);
    ::runtime::v1::StartContainerResponse started;
    failed = client().runtime().StartContainer(Ctx().get(), start, &started);
  }
  ASSERT_FALSE(failed.ok()) << "the limit was never reached";
  EXPECT_TRUE(failed.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              failed.error_code() == grpc::StatusCode::INTERNAL)
      << failed.error_code() << " " << failed.error_message();
  EXPECT_NE(failed.error_message().find("Too many open files"), std::string::npos) << failed.error_message();

  ASSERT_EQ(::prlimit(berthd_pid_, RLIMIT_NOFILE, &original, nullptr), 0);
  ::runtime::v1::ListContainersResponse listed;
  ASSERT_TRUE(client().runtime().ListContainers(Ctx().get(), {}, &listed).ok());
  EXPECT_EQ(static_cast<size_t>(listed.containers_size()), made.size()) << "a half-made container is listed";
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("after", {"sleep", "3600"}));
  EXPECT_EQ(Exec(id, {"echo", "alive"}).stdout(), "alive\n");
}

}  // namespace
}  // namespace berth::testing
