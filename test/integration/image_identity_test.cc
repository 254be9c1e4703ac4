// One image, one id, whatever asks: PullImage, ImageStatus, ListImages,
// ContainerStatus and ListContainers agree, an image pulled under two names is one
// image, simultaneous RemoveImage calls all succeed, and every Stop or Remove of
// something unknown or already gone is OK (kubelet retries them).
#include <thread>

#include <gtest/gtest.h>

#include "test/integration/pod_fixture.h"
#include "test/integration/test_images.h"

namespace berth::testing {
namespace {

class ImageIdentityTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartWithImages({});
  }

  std::string PullRef(const std::string& ref) {
    ::runtime::v1::PullImageRequest request;
    request.mutable_image()->set_image(ref);
    ::runtime::v1::PullImageResponse response;
    auto status = client().image().PullImage(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.image_ref();
  }

  std::string StatusId(const std::string& ref) {
    ::runtime::v1::ImageStatusRequest request;
    request.mutable_image()->set_image(ref);
    ::runtime::v1::ImageStatusResponse response;
    EXPECT_TRUE(client().image().ImageStatus(Ctx().get(), request, &response).ok());
    return response.has_image() ? response.image().id() : "";
  }
};

TEST_F(ImageIdentityTest, EveryApiNamesAnImageByOneId) {
  // The same image under a second name.
  auto busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok());
  TestImage mirror = *busybox;
  mirror.repository = "berth-test/mirror";
  RegistryClient push = registry_->Client();
  ASSERT_TRUE(PushTestImage(push, mirror).ok());
  const std::string mirror_ref = mirror.Reference(registry_->host_port());

  std::string id = PullRef(image_);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(PullRef(mirror_ref), id);
  EXPECT_EQ(StatusId(image_), id);
  EXPECT_EQ(StatusId(mirror_ref), id);
  ::runtime::v1::ListImagesResponse list;
  ASSERT_TRUE(client().image().ListImages(Ctx().get(), {}, &list).ok());
  int listed = 0;
  for (const auto& image : list.images()) {
    for (const auto& tag : image.repo_tags()) {
      if (tag == image_ || tag == mirror_ref) {
        EXPECT_EQ(image.id(), id) << tag;
        ++listed;
      }
    }
  }
  EXPECT_EQ(listed, 2);

  auto pod_config = PodConfig("identity");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("c", {"sleep", "3600"});
  config.mutable_image()->set_image(id);  // as kubelet names it: by the id PullImage gave
  std::string container = CreateAndStart(pod, pod_config, config);
  EXPECT_EQ(StatusOf(container).image_id(), id);
  EXPECT_EQ(StatusOf(container).image_ref(), id);
  // The image a pod's status shows is a name of it, not the id kubelet created it by
  // (kubelet's wait for a changed image compares names).
  EXPECT_EQ(StatusOf(container).image().image(), image_);
  auto by_name = ContainerConfig("by-name", {"sleep", "3600"});
  by_name.mutable_image()->set_image(mirror_ref);
  EXPECT_EQ(StatusOf(CreateAndStart(pod, pod_config, by_name)).image().image(), mirror_ref);
  ::runtime::v1::ListContainersRequest request;
  request.mutable_filter()->set_id(container);
  ::runtime::v1::ListContainersResponse containers;
  ASSERT_TRUE(client().runtime().ListContainers(Ctx().get(), request, &containers).ok());
  ASSERT_EQ(containers.containers_size(), 1);
  EXPECT_EQ(containers.containers(0).image_id(), id);
  ASSERT_TRUE(RemovePod(pod).ok());

  // Five at once: each OK, and the image gone for every name after.
  std::vector<std::thread> removers;
  std::vector<grpc::Status> results(5);
  for (size_t i = 0; i < results.size(); ++i) {
    removers.emplace_back([&, i] {
      ::runtime::v1::RemoveImageRequest remove;
      remove.mutable_image()->set_image(id);
      ::runtime::v1::RemoveImageResponse removed;
      results[i] = client().image().RemoveImage(Ctx().get(), remove, &removed);
    });
  }
  for (auto& t : removers) t.join();
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.error_message();
  EXPECT_EQ(StatusId(image_), "");
  EXPECT_EQ(StatusId(mirror_ref), "");
}

TEST_F(ImageIdentityTest, StopAndRemoveOfWhatIsGoneAreOk) {
  const std::string unknown(64, 'a');
  ::runtime::v1::StopPodSandboxRequest stop_pod;
  stop_pod.set_pod_sandbox_id(unknown);
  ::runtime::v1::StopPodSandboxResponse stopped_pod;
  EXPECT_TRUE(client().runtime().StopPodSandbox(Ctx().get(), stop_pod, &stopped_pod).ok());
  ::runtime::v1::RemovePodSandboxRequest remove_pod;
  remove_pod.set_pod_sandbox_id(unknown);
  ::runtime::v1::RemovePodSandboxResponse removed_pod;
  EXPECT_TRUE(client().runtime().RemovePodSandbox(Ctx().get(), remove_pod, &removed_pod).ok());
  ::runtime::v1::StopContainerRequest stop;
  stop.set_container_id(unknown);
  ::runtime::v1::StopContainerResponse stopped;
  EXPECT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok());
  ::runtime::v1::RemoveContainerRequest remove;
  remove.set_container_id(unknown);
  ::runtime::v1::RemoveContainerResponse removed;
  EXPECT_TRUE(client().runtime().RemoveContainer(Ctx().get(), remove, &removed).ok());
  ::runtime::v1::RemoveImageRequest remove_image;
  remove_image.mutable_image()->set_image(std::string(64, '0'));
  ::runtime::v1::RemoveImageResponse removed_image;
  EXPECT_TRUE(client().image().RemoveImage(Ctx().get(), remove_image, &removed_image).ok());

  // Twice over: a real pod and container stopped and removed, then again.
  auto pod_config = PodConfig("twice");
  std::string pod = RunPod(pod_config);
  std::string container = CreateAndStart(pod, pod_config, ContainerConfig("c", {"sleep", "3600"}));
  for (int round = 0; round < 2; ++round) {
    stop.set_container_id(container);
    stop.set_timeout(1);
    EXPECT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok()) << round;
  }
  for (int round = 0; round < 2; ++round) {
    remove.set_container_id(container);
    EXPECT_TRUE(client().runtime().RemoveContainer(Ctx().get(), remove, &removed).ok()) << round;
    stop_pod.set_pod_sandbox_id(pod);
    EXPECT_TRUE(client().runtime().StopPodSandbox(Ctx().get(), stop_pod, &stopped_pod).ok()) << round;
  }
  for (int round = 0; round < 2; ++round) {
    remove_pod.set_pod_sandbox_id(pod);
    EXPECT_TRUE(client().runtime().RemovePodSandbox(Ctx().get(), remove_pod, &removed_pod).ok()) << round;
  }
}

}  // namespace
}  // namespace berth::testing
