#include "cluster/image_archive.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "base/file_util.h"
#include "image/digest.h"
#include "image/manifest.h"
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

  // An OCI layout of image_ whose index.json entry carries annotations (and
  // whatever else entry sets).
  std::vector<t::TarEntry> OciLayout(const Json& annotations, const Json& entry = Json::object()) {
    Json pointer = {{"mediaType", t::kOciManifest},
                    {"digest", image_.manifest.digest},
                    {"size", image_.manifest.data.size()},
                    {"annotations", annotations}};
    pointer.update(entry);
    Json index = {{"schemaVersion", 2}, {"manifests", {pointer}}};
    return {t::File("oci-layout", R"({"imageLayoutVersion": "1.0.0"})"), t::File("index.json", index.dump()),
            BlobEntry(image_.manifest.digest, image_.manifest.data),
            BlobEntry(image_.config.digest, image_.config.data),
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
  EXPECT_EQ(got.blobs->manifest.digest, image_.manifest.digest);
  EXPECT_EQ(got.blobs->manifest.media_type, t::kOciManifest);
  EXPECT_EQ(got.blobs->config.data, image_.config.data);
  ASSERT_EQ(got.blobs->layers.size(), 1u);
  EXPECT_EQ(got.blobs->layers[0].digest, image_.layers[0].digest);
  EXPECT_EQ(got.blobs->layers[0].media_type, t::kOciLayerGzip);
  EXPECT_EQ(ReadFile(got.blobs->layers[0].file).value(), image_.layers[0].data);
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
  EXPECT_EQ(images->front().blobs->manifest.digest, image_.manifest.digest);
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
  EXPECT_EQ(got.blobs->config.digest, image::Sha256Of(image->config.data));
  EXPECT_EQ(got.blobs->layers[0].digest, layer->diff_id);
  auto manifest = Json::parse(got.blobs->manifest.data);
  EXPECT_EQ(manifest["config"]["digest"], got.blobs->config.digest);
  EXPECT_EQ(manifest["layers"][0]["digest"], layer->diff_id);
  EXPECT_EQ(got.blobs->manifest.digest, image::Sha256Of(got.blobs->manifest.data));
  // Docker 25 writes its blobs once and links the legacy names to them.
  auto linked = Read(Archive({t::File("manifest.json", Json{{{"Config", "blobs/sha256/c"}, {"RepoTags", {"a:1"}},
                                                              {"Layers", {"legacy/layer.tar"}}}}
                                                          .dump()),
                              t::File("blobs/sha256/c", image->config.data), t::File("blobs/sha256/l", layer->tar),
                              t::Symlink("legacy/layer.tar", "../blobs/sha256/l")}));
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->front().blobs->layers[0].digest, layer->diff_id);
}

TEST_F(ImageArchiveTest, HostileOrBrokenArchivesAreRefused) {
  struct Case {
    std::string name;
    std::vector<t::TarEntry> entries;
    std::string says;
  };
  const Json named = {{"io.containerd.image.name", "app:1"}};
  const std::string layer_blob = "blobs/sha256/" + std::string(image::DigestHex(image_.layers[0].digest));
  const std::string host_config = image_.config.data;
  auto layout = [](std::vector<t::TarEntry> entries) { return entries; };
  std::vector<t::TarEntry> tampered = OciLayout(named);
  tampered.back().content = std::string(tampered.back().content.size(), 'x');
  std::vector<t::TarEntry> escaping = OciLayout(named);
  escaping.back() = t::Symlink(layer_blob, "/etc/passwd");
  std::vector<t::TarEntry> looping = {t::File("oci-layout", "{}"), t::Symlink("index.json", "a"), t::Symlink("a", "b"),
                                      t::Symlink("b", "index.json")};
  std::vector<t::TarEntry> long_name = OciLayout(named);
  long_name.push_back(t::File(std::string(5000, 'n'), "x"));
  // A manifest whose own media type would be a header of the push.
  Json odd_manifest = Json::parse(image_.manifest.data);
  odd_manifest["mediaType"] = "text/plain\r\nX-Injected: 1";
  const std::string odd = odd_manifest.dump();
  std::vector<t::TarEntry> injecting = OciLayout(named, {{"digest", image::Sha256Of(odd)}, {"size", odd.size()}});
  injecting.push_back(BlobEntry(image::Sha256Of(odd), odd));
  Json many_tags = Json::array();
  for (int i = 0; i <= 1000; ++i) many_tags.push_back("app:" + std::to_string(i));
  auto layer = t::BuildLayer({t::File("hello", "hi\n")}, t::Compression::kNone);
  ASSERT_TRUE(layer.ok());
  auto docker_image = t::BuildImage(t::ImageSpec{}, {*layer});
  ASSERT_TRUE(docker_image.ok());
  t::ImageSpec foreign_spec;
  foreign_spec.platform = {.os = "linux", .architecture = "s390x", .variant = ""};
  auto foreign = t::BuildImage(foreign_spec, image_.layers);
  ASSERT_TRUE(foreign.ok());
  image_ = *foreign;
  std::vector<t::TarEntry> wrong_platform = OciLayout(named);
  std::vector<Case> cases = {
      {"tampered layer", tampered, "holds sha256:"},
      {"a size that is not the blob's", OciLayout(named, {{"size", 1}}), "bytes, not 1"},
      {"link out of the archive", escaping, "is missing"},
      {"links in a loop", looping, "neither an OCI image layout"},
      {"a name too long", long_name, "over 4096 bytes"},
      {"a manifest type that is no manifest's", injecting, "is not an image manifest"},
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
               t::File("c.json", host_config), t::File("l.tar", "not the layer")}),
       "its config lists"},
      {"too many names",
       layout({t::File("manifest.json", Json{{{"Config", "c.json"}, {"RepoTags", many_tags}, {"Layers", {"l.tar"}}}}
                                            .dump()),
               t::File("c.json", docker_image->config.data), t::File("l.tar", layer->tar)}),
       "more than 1000 images"},
  };
  for (const auto& c : cases) {
    auto images = Read(Archive(c.entries));
    ASSERT_FALSE(images.ok()) << c.name;
    EXPECT_TRUE(absl::IsInvalidArgument(images.status())) << c.name << ": " << images.status();
    EXPECT_TRUE(absl::StrContains(images.status().ToString(), c.says)) << c.name << ": " << images.status();
  }
  auto garbage = dir_ + "/garbage.tar";
  ASSERT_TRUE(WriteFileAtomically(garbage, std::string(2048, 'x')).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(Read(garbage).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Read(dir_ + "/absent.tar").status()));
}

TEST_F(ImageArchiveTest, NamesOutsideTheArchiveAreSkippedAndHardLinksFollowed) {
  std::vector<t::TarEntry> entries = OciLayout({{"io.containerd.image.name", "app:1"}});
  // The layer blob as a hard link to a file of another name.
  t::TarEntry layer = entries.back();
  entries.back() = t::File("stash/layer", layer.content);
  entries.push_back(t::Hardlink(layer.path, "stash/layer"));
  entries.push_back(t::File("../../escaped", "x"));
  entries.push_back(t::File("/abs-escaped", "x"));
  entries.push_back(t::Hardlink("dangling", "../../etc/passwd"));
  auto images = Read(Archive(entries));
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->front().blobs->layers[0].digest, image_.layers[0].digest);
  // Nothing is ever written at a name the archive gives.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/escaped"));
  EXPECT_FALSE(std::filesystem::exists("/abs-escaped"));
}

}  // namespace
}  // namespace berth::cluster
