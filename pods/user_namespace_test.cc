#include "pods/user_namespace.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

PodSpec PodWith(NamespaceMode mode, std::vector<runtime::IdMapping> uids, std::vector<runtime::IdMapping> gids) {
  PodSpec pod;
  pod.userns.mode = mode;
  pod.userns.uids = std::move(uids);
  pod.userns.gids = std::move(gids);
  return pod;
}

TEST(PodUserNamespaceTest, AcceptsNodeWithoutMappingsAndPodWithOneEach) {
  EXPECT_TRUE(CheckPodUserNamespace(PodWith(NamespaceMode::kNode, {}, {})).ok());
  EXPECT_TRUE(CheckPodUserNamespace(PodWith(NamespaceMode::kPod, {{0, 1000, 100000}}, {{0, 1000, 100000}})).ok());
}

TEST(PodUserNamespaceTest, RefusesWhatKubeletMayNotAskFor) {
  auto refused = [](const PodSpec& pod, const char* words) {
    Status status = CheckPodUserNamespace(pod);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << words;
    EXPECT_NE(status.message().find(words), absl::string_view::npos) << status;
  };
  refused(PodWith(NamespaceMode::kNode, {{0, 1000, 10}}, {}), "NODE takes no id mappings");
  refused(PodWith(NamespaceMode::kPod, {{0, 1000, 10}, {10, 5000, 10}}, {{0, 1000, 10}}), "exactly one uid mapping");
  refused(PodWith(NamespaceMode::kPod, {{0, 1000, 10}}, {}), "exactly one gid mapping");
  refused(PodWith(NamespaceMode::kPod, {{1, 1000, 100000}}, {{1, 1000, 100000}}), "must map container id 0");
  refused(PodWith(NamespaceMode::kPod, {{0, 0, 65536}}, {{0, 0, 65536}}), "host id 0");
  refused(PodWith(NamespaceMode::kPod, {{0, 1000, 0}}, {{0, 1000, 0}}), "length 0");
  refused(PodWith(NamespaceMode::kContainer, {}, {}), "mode CONTAINER is not supported");
  refused(PodWith(NamespaceMode::kTarget, {}, {}), "mode TARGET is not supported");
  PodSpec host_network = PodWith(NamespaceMode::kPod, {{0, 1000, 10}}, {{0, 1000, 10}});
  host_network.network = NamespaceMode::kNode;
  refused(host_network, "host's network");
}

TEST(ContainerUserNamespaceTest, MustBeThePods) {
  PodSpec pod = PodWith(NamespaceMode::kPod, {{0, 1000, 100000}}, {{0, 1000, 100000}});
  ContainerSpec container;
  container.name = "c";
  EXPECT_TRUE(CheckContainerUserNamespace(pod, container).ok());
  container.security.userns = pod.userns;
  EXPECT_TRUE(CheckContainerUserNamespace(pod, container).ok());
  container.security.userns->uids[0].host_id = 2000;
  EXPECT_EQ(CheckContainerUserNamespace(pod, container).code(), StatusCode::kInvalidArgument);

  ContainerSpec with_mount;
  with_mount.mounts.push_back(MountSpec::Bind("/data", "/srv", false));
  with_mount.mounts[0].uid_mappings = pod.userns.uids;
  with_mount.mounts[0].gid_mappings = pod.userns.gids;
  EXPECT_TRUE(CheckContainerUserNamespace(pod, with_mount).ok());
  with_mount.mounts[0].gid_mappings[0].length = 5;
  EXPECT_EQ(CheckContainerUserNamespace(pod, with_mount).code(), StatusCode::kInvalidArgument);
  with_mount.mounts[0].gid_mappings = pod.userns.gids;
  EXPECT_EQ(CheckContainerUserNamespace(PodSpec(), with_mount).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::pods
