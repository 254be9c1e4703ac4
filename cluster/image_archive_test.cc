#include "cluster/image_archive.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "base/file_util.h"
#include "image/digest.h"
#include "test/integration/test_images.h"

namespace berth::cluster {
namespace {

namespace t = berth::testing;
using Json = nlohmann::json;

class ImageArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/berth-archive-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    std::filesystem::create_directory(dir_ + "/work");
    auto layer = t::BuildLayer({t::File("hello", "hello from the archive\n")}, t::Compression::kGzip);
    ASSERT_TRUE(layer.ok());
    auto image = t::BuildImage(t::ImageSpec{}, {*layer});
    ASSERT_TRUE(image.ok());
    image_ = *image;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static t::TarEntry BlobEntry(const std::string& digest, const std::string& data) {
    return t::File("blobs/sha256/" + std::string(image::DigestHex(digest)), data);
  }

  // An OCI layout of image_ whose index.json entry carries annotations.
  std::vector<t::TarEntry> OciLayout(const Json& annotations) {
    Json index = {{"schemaVersion", 2},
                  {"manifests",
                   {{{"mediaType", t::kOciManifest},
                     {"digest", image_.manifest.digest},
                     {"size", image_.manifest.data.size()},
                     {"annotations", annotations}}}}};
    return {t::File("oci-layout", R"({"imageLayoutVersion": "1.0.0"})"), t::File("index.json", index.dump()),
            BlobEntry(image_.manifest.digest, image_.manifest.data), BlobEntry(image_.config.digest, image_.config.data),
            BlobEntry(image_.layers[0].digest, image_.layers[0].data)};
  }

  // The entries as a tar file; its path.
  std::string Archive(const std::vector<t::TarEntry>& entries, t::Compression compression = t::Compression::kNone) {
    auto tar = t::BuildLayer(entries, compression);
    EXPECT_TRUE(tar.ok());
    const std::string path = dir_ + "/archive-" + std::to_string(++archives_) + ".tar";
    EXPECT_TRUE(WriteFileAtomically(path, tar->data).ok());
    return path;
  }

  // Each read in a work directory of its own, as berthctl gives it.
  StatusOr<std::vector<ArchiveImage>> Read(const std::string& archive) {
    const std::string work = dir_ + "/work/" + std::to_string(++reads_);
    std::filesystem::create_directory(work);
    return ReadImageArchive(archive, work);
  }

  std::string dir_;
  t::Image image_;
  int archives_ = 0;
  int reads_ = 0;
};

TEST_F(ImageArchiveTest, AnOciLayoutGivesItsNamedImagesWithCheckedBlobs) {
  auto images = Read(Archive(OciLayout({{"io.containerd.image.name", "example.test/team/app:dev"},
                                        {"org.opencontainers.image.ref.name", "dev"}}),
                             t::Compression::kGzip));
  ASSERT_TRUE(images.ok()) << images.status();
  ASSERT_EQ(images->size(), 1u);
  const ArchiveImage& got = images->front();
  EXPECT_EQ(got.name.domain, "example.test");
  EXPECT_EQ(got.name.path, "team/app");
  EXPECT_EQ(got.name.tag, "dev");
  EXPECT_EQ(got.manifest.digest, image_.manifest.digest);
  EXPECT_EQ(got.manifest.media_type, t::kOciManifest);
  EXPECT_EQ(got.config.data, image_.config.data);
  ASSERT_EQ(got.layers.size(), 1u);
  EXPECT_EQ(got.layers[0].digest, image_.layers[0].digest);
  EXPECT_EQ(got.layers[0].media_type, t::kOciLayerGzip);
  EXPECT_EQ(ReadFile(got.layers[0].file).value(), image_.layers[0].data);
  // podman's and skopeo's name is the reference annotation.
  auto named = Read(Archive(OciLayout({{"org.opencontainers.image.ref.name", "localhost/app:1"}})));
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->front().name.TagRef(), "localhost/app:1");
}

TEST_F(ImageArchiveTest, AnIndexInTheLayoutGivesThisMachinesImage) {
  t::ImageSpec other;
  other.platform = {.os = "linux", .architecture = "s390x", .variant = ""};
  auto foreign = t::BuildImage(other, image_.layers);
  ASSERT_TRUE(foreign.ok());
  auto index = t::BuildIndex({*foreign, image_});
  ASSERT_TRUE(index.ok());
  Json top = {{"schemaVersion", 2},
              {"manifests",
               {{{"mediaType", t::kOciIndex},
                 {"digest", index->index.digest},
                 {"size", index->index.data.size()},
                 {"annotations", {{"io.containerd.image.name", "docker.io/library/app:multi"}}}}}}};
  auto images = Read(Archive({t::File("oci-layout", "{}"), t::File("index.json", top.dump()),
                              BlobEntry(index->index.digest, index->index.data),
                              BlobEntry(foreign->manifest.digest, foreign->manifest.data),
                              BlobEntry(foreign->config.digest, foreign->config.data),
                              BlobEntry(image_.manifest.digest, image_.manifest.data),
                              BlobEntry(image_.config.digest, image_.config.data),
                              BlobEntry(image_.layers[0].digest, image_.layers[0].data)}));
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->front().manifest.digest, image_.manifest.digest);
  EXPECT_EQ(images->front().name.path, "library/app");
}

TEST_F(ImageArchiveTest, ADockerArchiveGetsAnOciManifestPerTag) {
  auto layer = t::BuildLayer({t::File("hello", "hi\n")}, t::Compression::kNone);
  ASSERT_TRUE(layer.ok());
  auto image = t::BuildImage(t::ImageSpec{}, {*layer});
  ASSERT_TRUE(image.ok());
  Json listing = {{{"Config", "config.json"},
                   {"RepoTags", {"app:dev", "example.test/app:2"}},
                   {"Layers", {"abc/layer.tar"}}}};
  auto images = Read(Archive({t::File("manifest.json", listing.dump()), t::File("config.json", image->config.data),
                              t::File("abc/layer.tar", layer->tar)}));
  ASSERT_TRUE(images.ok()) << images.status();
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].name.TagRef(), "docker.io/library/app:dev");
  EXPECT_EQ((*images)[1].name.TagRef(), "example.test/app:2");
  const ArchiveImage& got = images->front();
  EXPECT_EQ(got.config.digest, image::Sha256Of(image->config.data));
  EXPECT_EQ(got.layers[0].digest, layer->diff_id);
  auto manifest = Json::parse(got.manifest.data);
  EXPECT_EQ(manifest["config"]["digest"], got.config.digest);
  EXPECT_EQ(manifest["layers"][0]["digest"], layer->diff_id);
  EXPECT_EQ(got.manifest.digest, image::Sha256Of(got.manifest.data));
  // Docker 25 writes its blobs once and links the legacy names to them.
  auto linked = Read(Archive({t::File("manifest.json", Json{{{"Config", "blobs/sha256/c"}, {"RepoTags", {"a:1"}},
                                                              {"Layers", {"legacy/layer.tar"}}}}
                                                          .dump()),
                              t::File("blobs/sha256/c", image->config.data), t::File("blobs/sha256/l", layer->tar),
                              t::Symlink("legacy/layer.tar", "../blobs/sha256/l")}));
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->front().layers[0].digest, layer->diff_id);
}

TEST_F(ImageArchiveTest, HostileOrBrokenArchivesAreRefusedAndNothingLeavesTheWorkDir) {
  struct Case {
    std::string name;
    std::vector<t::TarEntry> entries;
    std::string says;
  };
  auto layout = [](std::vector<t::TarEntry> entries) { return entries; };
  std::vector<t::TarEntry> tampered = OciLayout({{"io.containerd.image.name", "app:1"}});
  tampered.back().content = "not the layer";
  std::vector<t::TarEntry> escaping = OciLayout({{"io.containerd.image.name", "app:1"}});
  escaping.pop_back();
  escaping.push_back(t::Symlink("blobs/sha256/" + std::string(image::DigestHex(image_.layers[0].digest)),
                                "/etc/passwd"));
  std::vector<t::TarEntry> climbing = OciLayout({{"io.containerd.image.name", "app:1"}});
  climbing.push_back(t::File("../../escaped", "x"));
  climbing.push_back(t::File("/abs-escaped", "x"));
  t::ImageSpec foreign_spec;
  foreign_spec.platform = {.os = "linux", .architecture = "s390x", .variant = ""};
  auto foreign = t::BuildImage(foreign_spec, image_.layers);
  ASSERT_TRUE(foreign.ok());
  image_ = *foreign;
  std::vector<t::TarEntry> wrong_platform = OciLayout({{"io.containerd.image.name", "app:1"}});
  std::vector<Case> cases = {
      {"tampered layer", tampered, "holds sha256:"},
      {"link out of the archive", escaping, "is missing"},
      {"unnamed", OciLayout({{"org.opencontainers.image.ref.name", "latest"}}), "no image with a name"},
      {"bad name", OciLayout({{"io.containerd.image.name", "UPPER/Case:1"}}), "image name"},
      {"foreign platform", wrong_platform, "is for linux/s390x"},
      {"neither layout", layout({t::File("hello", "x")}), "neither an OCI image layout"},
      {"bad index", layout({t::File("oci-layout", "{}"), t::File("index.json", "[]")}), "no manifests list"},
      {"bad digest", layout({t::File("oci-layout", "{}"),
                             t::File("index.json", R"({"manifests":[{"digest":"sha256:../../x",)"
                                                   R"("annotations":{"io.containerd.image.name":"a:1"}}]})")}),
       "not a sha256 digest"},
      {"docker layer mismatch",
       layout({t::File("manifest.json", R"([{"Config":"c.json","RepoTags":["a:1"],"Layers":["l.tar"]}])"),
               t::File("c.json", image_.config.data), t::File("l.tar", "not the layer")}),
       "its config lists"},
  };
  for (const auto& c : cases) {
    auto images = Read(Archive(c.entries));
    ASSERT_FALSE(images.ok()) << c.name;
    EXPECT_TRUE(absl::IsInvalidArgument(images.status())) << c.name << ": " << images.status();
    EXPECT_TRUE(absl::StrContains(images.status().message(), c.says)) << c.name << ": " << images.status();
  }
  // The climbing names are skipped: the rest of the archive reads, and nothing was
  // written outside the work directory.
  auto climbed = Read(Archive(climbing));
  EXPECT_TRUE(climbed.ok()) << climbed.status();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/escaped"));
  EXPECT_FALSE(std::filesystem::exists("/abs-escaped"));
  auto garbage = dir_ + "/garbage.tar";
  ASSERT_TRUE(WriteFileAtomically(garbage, std::string(2048, 'x')).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(Read(garbage).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Read(dir_ + "/absent.tar").status()));
}

}  // namespace
}  // namespace berth::cluster
