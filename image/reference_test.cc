#include "image/reference.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

struct Good {
  const char* in;
  const char* domain;
  const char* path;
  const char* tag;
  const char* digest;
};

const char kDigest[] = "sha256:6a0c3b2f7d1f0f7a6f3a9e4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4";

TEST(ReferenceTest, NormalisesLikeKubeletAndContainerd) {
  const std::string digest = kDigest;
  const Good cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", ""},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", ""},
      {"library/busybox", "docker.io", "library/busybox", "latest", ""},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", ""},
      {"index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", ""},
      {"bitnami/redis:7", "docker.io", "bitnami/redis", "7", ""},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", ""},
      {"localhost/app", "localhost", "app", "latest", ""},
      {"127.0.0.1:5000/a/b/c:v1.0-rc_2", "127.0.0.1:5000", "a/b/c", "v1.0-rc_2", ""},
      {"[::1]:5000/x:y", "[::1]:5000", "x", "y", ""},
      {"gcr.io/k8s-staging-cri-tools/test-image-1:latest", "gcr.io", "k8s-staging-cri-tools/test-image-1", "latest", ""},
      {"my-reg.io/a__b/c.d/e--f", "my-reg.io", "a__b/c.d/e--f", "latest", ""},
  };
  for (const auto& c : cases) {
    auto ref = ParseReference(c.in);
    ASSERT_TRUE(ref.ok()) << c.in << ": " << ref.status();
    EXPECT_EQ(ref->domain, c.domain) << c.in;
    EXPECT_EQ(ref->path, c.path) << c.in;
    EXPECT_EQ(ref->tag, c.tag) << c.in;
    EXPECT_EQ(ref->digest, c.digest) << c.in;
  }
  auto pinned = ParseReference("busybox@" + digest);
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->tag, "");
  EXPECT_EQ(pinned->digest, digest);
  EXPECT_EQ(pinned->String(), "docker.io/library/busybox@" + digest);
  auto both = ParseReference("quay.io/a/b:1@" + digest);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->tag, "1");
  EXPECT_EQ(both->TagRef(), "quay.io/a/b:1");
  EXPECT_EQ(both->String(), "quay.io/a/b:1@" + digest);
}

TEST(ReferenceTest, RefusesInvalidReferencesSayingWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"Busybox", "must be lowercase"},
      {"busybox:", "tag"},
      {"busybox:-x", "tag \"-x\""},
      {"busybox@sha256:abc", "64 lowercase hex"},
      {"busybox@md5:0123", "only sha256"},
      {"a//b", "path component \"\""},
      {"a/b_", "path component \"b_\""},
      {"a/-b", "path component \"-b\""},
      {"a/b...c", "path component"},
      {"bad host.io:x/y", "white space"},
      {"host.io:99x/y", "registry host"},
      {"6a0c3b2f7d1f0f7a6f3a9e4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4", "64-character hex"},
      {":tag", "no repository name"},
      // Found by fuzz/reference_fuzz: an empty first component was read past its end.
      {"/\x16", "path component \"\""},
      {"/busybox", "path component \"\""},
  };
  for (const auto& [in, why] : cases) {
    auto ref = ParseReference(in);
    ASSERT_FALSE(ref.ok()) << in;
    EXPECT_EQ(ref.status().code(), StatusCode::kInvalidArgument) << in;
    EXPECT_NE(ref.status().message().find(why), absl::string_view::npos) << in << ": " << ref.status();
  }
}

TEST(ReferenceTest, RecognisesImageIds) {
  EXPECT_TRUE(LooksLikeImageId(kDigest));
  EXPECT_TRUE(LooksLikeImageId(std::string(kDigest).substr(7)));
  EXPECT_FALSE(LooksLikeImageId("busybox"));
  EXPECT_FALSE(LooksLikeImageId("sha256:abc"));
}

}  // namespace
}  // namespace berth::image
