#include "image/manifest.h"

#include <gtest/gtest.h>

#include "image/digest.h"

namespace berth::image {
namespace {

std::string D(char c) { return "sha256:" + std::string(64, c); }

TEST(ManifestTest, ClassifiesByMediaTypeHeaderOrShape) {
  EXPECT_EQ(ClassifyManifest(R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})", "").value(),
            ManifestKind::kIndex);
  EXPECT_EQ(ClassifyManifest(R"({"schemaVersion":2})", "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8").value(),
            ManifestKind::kManifest);
  EXPECT_EQ(ClassifyManifest(R"({"manifests":[]})", "").value(), ManifestKind::kIndex);
  auto schema1 = ClassifyManifest(R"({"schemaVersion":1,"fsLayers":[]})", "");
  ASSERT_FALSE(schema1.ok());
  EXPECT_NE(schema1.status().message().find("schema 1"), absl::string_view::npos);
  EXPECT_FALSE(ClassifyManifest("[1,2]", "").ok());
}

// CVE-2021-41190: a document readable as an index and as a manifest is refused,
// whichever its mediaType or the registry's Content-Type says it is.
TEST(ManifestTest, AmbiguousDocumentsAreRefused) {
  const std::string both = R"({"manifests":[],"config":{},"layers":[]})";
  for (const char* header : {"", "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"}) {
    auto kind = ClassifyManifest(both, header);
    ASSERT_FALSE(kind.ok()) << header;
    EXPECT_EQ(kind.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(kind.status().message().find("ambiguous"), absl::string_view::npos);
  }
  EXPECT_FALSE(ClassifyManifest(R"({"mediaType":"application/vnd.oci.image.index.v1+json","layers":[]})", "").ok());
  EXPECT_FALSE(ClassifyManifest(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]})", "").ok());
  EXPECT_FALSE(ClassifyManifest(R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
                                "application/vnd.oci.image.manifest.v1+json")
                   .ok());
  // A generic Content-Type says nothing either way.
  EXPECT_TRUE(ClassifyManifest(R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
                               "application/json")
                  .ok());
}

TEST(ManifestTest, SelectsThePlatformWithVariantDefaults) {
  std::string index = R"({"manifests":[
    {"mediaType":"m","digest":")" + D('a') + R"(","size":1,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
    {"mediaType":"m","digest":")" + D('b') + R"(","size":2,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"m","digest":")" + D('c') + R"(","size":3,"platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"m","digest":")" + D('d') + R"(","size":4,"platform":{"os":"windows","architecture":"amd64"}}]})";
  auto entries = ParseIndex(index);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(SelectPlatform(*entries, {"linux", "amd64", ""})->digest, D('c'));
  EXPECT_EQ(SelectPlatform(*entries, {"linux", "arm64", ""})->digest, D('b'));
  EXPECT_EQ(SelectPlatform(*entries, {"linux", "arm", ""})->digest, D('a'));
  EXPECT_EQ(SelectPlatform(*entries, {"windows", "amd64", ""})->digest, D('d'));
  auto missing = SelectPlatform(*entries, {"linux", "s390x", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("linux/arm64/v8"), absl::string_view::npos);
}

TEST(ManifestTest, ParsesManifestAndRefusesBadDescriptors) {
  auto m = ParseManifest(R"({"config":{"mediaType":"c","digest":")" + D('1') + R"(","size":10},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + D('2') + R"(","size":20}]})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->config.size, 10);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(LayerCompression(m->layers[0].media_type).value(), Compression::kGzip);
  EXPECT_FALSE(ParseManifest(R"({"config":{"digest":"sha256:zz","size":1},"layers":[]})").ok());
  EXPECT_FALSE(ParseManifest(R"({"config":{"digest":")" + D('1') + R"(","size":-1},"layers":[]})").ok());
}

TEST(ManifestTest, ReadsConfigFields) {
  auto c = ParseImageConfig(R"({"architecture":"amd64","os":"linux",
    "config":{"User":"1000:1000","Env":["PATH=/bin"],"Entrypoint":["/bin/sh"],"Cmd":["-c","true"],
              "WorkingDir":"/w","StopSignal":"SIGQUIT","Labels":{"a":"b"},"Volumes":{"/data":{}}},
    "rootfs":{"type":"layers","diff_ids":[")" + D('3') + R"("]}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->user, "1000:1000");
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(c->stop_signal, "SIGQUIT");
  EXPECT_EQ(c->labels.at("a"), "b");
  EXPECT_EQ(c->volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(c->diff_ids.size(), 1u);
}

TEST(ManifestTest, ChainIdsFollowTheOciSpec) {
  auto chain = ChainIds({D('a'), D('b'), D('c')});
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0], D('a'));
  EXPECT_EQ(chain[1], Sha256Of(D('a') + " " + D('b')));
  EXPECT_EQ(chain[2], Sha256Of(chain[1] + " " + D('c')));
}

TEST(ManifestTest, LayerMediaTypes) {
  EXPECT_EQ(LayerCompression("application/vnd.docker.image.rootfs.diff.tar.gzip").value(), Compression::kGzip);
  EXPECT_EQ(LayerCompression("application/vnd.oci.image.layer.v1.tar+zstd").value(), Compression::kZstd);
  EXPECT_EQ(LayerCompression("application/vnd.oci.image.layer.v1.tar").value(), Compression::kNone);
  EXPECT_FALSE(LayerCompression("application/json").ok());
}

}  // namespace
}  // namespace berth::image
