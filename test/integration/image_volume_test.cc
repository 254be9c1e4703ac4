// Image volumes (KEP-4639) on berth's runtime and on runc, through a real berthd:
// an image's files mounted read-only (one copy per pod, nothing copied), a sub path
// resolved inside the image whatever its links say, the refusals, the image's id in
// ContainerStatus, and the image kept while a container mounts it.
#include <unistd.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"
#include "base/mount_points.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/test_images.h"

namespace berth::testing {
namespace {

// berth-test/volume: data only, no busybox. Its links try to lead a sub path out of
// the image, to the host's /etc.
StatusOr<TestImage> VolumeImage() {
  ASSIGN_OR_RETURN(Layer base, BuildLayer({Dir("data"), File("data/greeting", "hello from the image\n"),
                                           Dir("data/etc"), File("data/etc/marker", "image etc\n")}));
  ASSIGN_OR_RETURN(Layer links, BuildLayer({Symlink("data/absolute", "/etc"), Symlink("data/dotdot", "../../../../etc"),
                                            File("top", "second layer\n")}));
  ImageSpec spec;
  spec.cmd = {"none"};
  ASSIGN_OR_RETURN(Image image, BuildImage(spec, {std::move(base), std::move(links)}, ManifestFormat::kOci));
  TestImage out;
  out.repository = "berth-test/volume";
  out.content = std::move(image);
  return out;
}

class ImageVolumeTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
    if (IsSkipped() || HasFatalFailure()) return;
    auto volume = VolumeImage();
    ASSERT_TRUE(volume.ok()) << volume.status();
    RegistryClient push = registry_->Client();
    ASSERT_TRUE(PushTestImage(push, *volume).ok());
    volume_ref_ = volume->Reference(registry_->host_port());
    ::runtime::v1::PullImageRequest pull;
    pull.mutable_image()->set_image(volume_ref_);
    ::runtime::v1::PullImageResponse pulled;
    auto status = client().image().PullImage(Ctx().get(), pull, &pulled);
    ASSERT_TRUE(status.ok()) << status.error_message();
    volume_id_ = pulled.image_ref();
  }

  // As kubelet sends it: the image by the id PullImage answered, read-only.
  ::runtime::v1::Mount* AddImageMount(::runtime::v1::ContainerConfig& config, const std::string& path,
                                      const std::string& sub_path = "") {
    auto* mount = config.add_mounts();
    mount->set_container_path(path);
    mount->set_readonly(true);
    mount->mutable_image()->set_image(volume_id_);
    mount->mutable_image()->set_user_specified_image(volume_ref_);
    mount->set_image_sub_path(sub_path);
    return mount;
  }

  std::string Sh(const std::string& id, const std::string& script, int expected_exit = 0) {
    auto response = Exec(id, {"/bin/sh", "-c", script});
    EXPECT_EQ(response.exit_code(), expected_exit) << script << ": " << response.stdout() << response.stderr();
    return response.stdout();
  }

  grpc::Status RemoveImage(const std::string& image) {
    ::runtime::v1::RemoveImageRequest request;
    request.mutable_image()->set_image(image);
    ::runtime::v1::RemoveImageResponse response;
    return client().image().RemoveImage(Ctx().get(), request, &response);
  }

  std::string volume_ref_;
  std::string volume_id_;
};

TEST_P(ImageVolumeTest, MountsTheImageReadOnlyOncePerPod) {
  auto pod_config = PodConfig("volume");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("a", {"/bin/sh", "-c", "sleep 3600"});
  AddImageMount(config, "/vol");
  AddImageMount(config, "/etc-from-image", "data/etc");
  std::string a = CreateAndStart(pod, pod_config, config);

  EXPECT_EQ(Sh(a, "cat /vol/data/greeting /vol/top"), "hello from the image\nsecond layer\n");
  EXPECT_EQ(Sh(a, "cat /etc-from-image/marker; ls /etc-from-image"), "image etc\nmarker\n");
  auto write = Exec(a, {"/bin/sh", "-c", "touch /vol/new 2>&1"});
  EXPECT_NE(write.exit_code(), 0);
  EXPECT_TRUE(absl::StrContains(write.stdout(), "Read-only file system")) << write.stdout();
  // Read-only, but not noexec: an image's programs may run from it.
  std::string options = Sh(a, "grep ' /vol ' /proc/self/mounts");
  EXPECT_TRUE(absl::StrContains(options, " ro,")) << options;
  EXPECT_FALSE(absl::StrContains(options, "noexec")) << options;

  // ContainerStatus names the image by the id kubelet gave.
  auto status = StatusOf(a);
  int image_mounts = 0;
  for (const auto& m : status.mounts()) {
    if (!m.has_image() || m.image().image().empty()) continue;
    ++image_mounts;
    EXPECT_EQ(m.image().image_ref(), volume_id_) << m.container_path();
  }
  EXPECT_EQ(image_mounts, 2);

  // A second container of the pod shares the pod's one copy of the image.
  auto second = ContainerConfig("b", {"/bin/sh", "-c", "sleep 3600"});
  AddImageMount(second, "/vol");
  std::string b = CreateAndStart(pod, pod_config, second);
  EXPECT_EQ(Sh(b, "cat /vol/data/greeting"), "hello from the image\n");
  auto mounted = MountPointsUnder(dir_);
  ASSERT_TRUE(mounted.ok());
  int copies = 0;
  for (const auto& point : *mounted) copies += absl::StrContains(point, "/image-volumes/");
  EXPECT_EQ(copies, 1) << absl::StrJoin(*mounted, "\n");

  // While a container mounts it, the image stays, whatever removes it.
  auto refused = RemoveImage(volume_ref_);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_TRUE(absl::StrContains(refused.error_message(), a) || absl::StrContains(refused.error_message(), b))
      << refused.error_message();

  ASSERT_TRUE(RemovePod(pod).ok());
  EXPECT_TRUE(RemoveImage(volume_ref_).ok()) << "no container mounts it any more";
}

// A sub path cannot lead out of the image (CVE-2022-23648: a volume path that
// escaped to the host).
TEST_P(ImageVolumeTest, SubPathStaysInsideTheImage) {
  auto pod_config = PodConfig("subpath");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("c", {"/bin/sh", "-c", "sleep 3600"});
  // Both links lead to the image's own /etc (which it lacks), never the host's.
  AddImageMount(config, "/absolute", "data/absolute");
  std::string id;
  auto status = Create(pod, pod_config, config, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "does not exist in image")) << status.error_message();

  config.clear_mounts();
  AddImageMount(config, "/dotdot", "data/dotdot");
  status = Create(pod, pod_config, config, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();

  config.clear_mounts();
  AddImageMount(config, "/missing", "not-there");
  status = Create(pod, pod_config, config, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "\"not-there\"")) << status.error_message();

  // A link that stays inside resolves inside: data/etc via "data/../data/etc".
  config.clear_mounts();
  AddImageMount(config, "/inside", "data/../data/etc");
  std::string ok = CreateAndStart(pod, pod_config, config);
  EXPECT_EQ(Sh(ok, "cat /inside/marker"), "image etc\n");
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_P(ImageVolumeTest, RefusesWritableAndHostPathImageMounts) {
  auto pod_config = PodConfig("refusals");
  std::string pod = RunPod(pod_config);
  auto refused = [&](const ::runtime::v1::ContainerConfig& config, const char* words) {
    std::string id;
    auto status = Create(pod, pod_config, config, &id);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << words << ": " << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), words)) << status.error_message();
    EXPECT_TRUE(id.empty());
  };
  auto writable = ContainerConfig("w", {"/bin/true"});
  AddImageMount(writable, "/vol")->set_readonly(false);
  refused(writable, "must be read-only");
  auto with_host = ContainerConfig("h", {"/bin/true"});
  AddImageMount(with_host, "/vol")->set_host_path(dir_);
  refused(with_host, "both an image and a host path");

  // An image the node does not have: kubelet pulls first.
  auto absent = ContainerConfig("a", {"/bin/true"});
  AddImageMount(absent, "/vol")->mutable_image()->set_image("sha256:" + std::string(64, 'e'));
  std::string id;
  auto status = Create(pod, pod_config, absent, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  ASSERT_TRUE(RemovePod(pod).ok());
}

INSTANTIATE_TEST_SUITE_P(Handlers, ImageVolumeTest, ::testing::Values("berth", "runc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
