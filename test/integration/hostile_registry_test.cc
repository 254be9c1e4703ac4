// Pulls from a registry that misbehaves on purpose (hostile_registry.h): a body that
// stalls, ends early or has the wrong length, a manifest that changes between
// requests or is ambiguous (CVE-2021-41190), redirect loops, a redirect to another
// host (whose requests must not carry the registry's credentials: the CVE-2020-15157
// class) and a layer that expands 1000-fold. Each pull fails within its deadline, with
// a message naming the cause, and leaves no image, blob, partial download or layer.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "test/integration/berthd_fixture.h"
#include "test/integration/hostile_registry.h"
#include "test/integration/test_images.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kRepository[] = "berth-test/hostile";
// The progress timeout berthd runs with here (images.pull_progress_timeout_seconds).
constexpr int kProgressTimeoutSeconds = 2;
// Four attempts, each up to the progress timeout (as curl measures it: a few seconds
// more) with backoff between: a pull taking longer than this has no deadline.
constexpr auto kPullDeadline = std::chrono::seconds(45);
constexpr int64_t kMaxLayerBytes = 16 << 20;

class HostileRegistryTest : public BerthdFixture {
 protected:
  void SetUp() override {
    BerthdFixture::SetUp();
    if (IsSkipped()) return;
    auto registry = HostileRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    // Bytes enough that half a body is more than curl's first read.
    std::string payload;
    for (int i = 0; payload.size() < 256 << 10; ++i) absl::StrAppend(&payload, i, " hostile registry\n");
    auto layer = BuildLayer({File("payload", payload)}, Compression::kNone);
    ASSERT_TRUE(layer.ok()) << layer.status();
    auto image = BuildImage(ImageSpec{}, {*layer});
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = *image;
    registry_->PutImage(kRepository, "latest", image_);
    std::string config = dir_ + "/berth.yaml";
    ASSERT_TRUE(WriteFileAtomically(config, absl::StrCat("images:\n  pull_progress_timeout_seconds: ",
                                                         kProgressTimeoutSeconds, "\n  max_layer_bytes: ",
                                                         kMaxLayerBytes, "\n"))
                    .ok());
    StartBerthd({"--config", config});
  }

  void TearDown() override {
    registry_.reset();  // wakes whatever handler still stalls
    BerthdFixture::TearDown();
  }

  std::string Reference() const { return absl::StrCat(registry_->host_port(), "/", kRepository, ":latest"); }
  std::string BlobPath(const std::string& digest) const { return absl::StrCat("/v2/", kRepository, "/blobs/", digest); }
  const Layer& TheLayer() const { return image_.layers[0]; }

  grpc::Status Pull(const std::string& ref, const std::string& username = "", const std::string& password = "") {
    ::runtime::v1::PullImageRequest request;
    request.mutable_image()->set_image(ref);
    if (!username.empty()) {
      request.mutable_auth()->set_username(username);
      request.mutable_auth()->set_password(password);
    }
    ::runtime::v1::PullImageResponse response;
    auto ctx = cri::CriClient::Context(std::chrono::minutes(2));
    return client().image().PullImage(ctx.get(), request, &response);
  }

  // Pulls, expecting a failure of code whose message has cause, within the deadline;
  // then checks nothing of the pull stayed.
  void ExpectPullFails(grpc::StatusCode code, const std::string& cause) {
    auto start = std::chrono::steady_clock::now();
    grpc::Status status = Pull(Reference());
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(cause), std::string::npos) << status.error_message();
    EXPECT_LT(took, kPullDeadline);
    ExpectNothingLeft();
  }

  void ExpectNothingLeft() {
    ::runtime::v1::ListImagesResponse list;
    ASSERT_TRUE(client().image().ListImages(Ctx().get(), {}, &list).ok());
    EXPECT_EQ(list.images_size(), 0);
    for (const char* sub : {"/images/blobs/sha256", "/images/ingest", "/images/snapshots"}) {
      std::error_code ec;
      int entries = 0;
      for ([[maybe_unused]] const auto& entry : fs::directory_iterator(root_ + sub, ec)) ++entries;
      EXPECT_EQ(entries, 0) << sub << " holds what a failed pull left";
    }
  }

  // Serves everything as Serve does, but answers path through misbehave.
  void Misbehave(const std::string& path, HostileRegistry::Handler misbehave) {
    registry_->SetHandler([this, path, misbehave](const HostileRegistry::Request& request,
                                                  HostileRegistry::Connection& connection) {
      if (request.path == path) {
        misbehave(request, connection);
      } else {
        registry_->Serve(request, connection);
      }
    });
  }

  std::unique_ptr<HostileRegistry> registry_;
  Image image_;
};

TEST_F(HostileRegistryTest, ABodyThatStallsTimesOut) {
  const std::string& data = TheLayer().data;
  Misbehave(BlobPath(TheLayer().digest), [&](const auto&, HostileRegistry::Connection& connection) {
    connection.Send(HostileRegistry::Head(200, {{"Content-Length", std::to_string(data.size())}}));
    // A few KiB, then nothing: curl averages speed over its last seconds, so a
    // large first part only delays the verdict.
    connection.Send(absl::string_view(data).substr(0, 4096));
    connection.StallUntilClosed();
  });
  ExpectPullFails(grpc::StatusCode::UNAVAILABLE, "too slow");
}

TEST_F(HostileRegistryTest, ABodyThatEndsEarlyFails) {
  const std::string& data = TheLayer().data;
  Misbehave(BlobPath(TheLayer().digest), [&](const auto&, HostileRegistry::Connection& connection) {
    connection.Send(HostileRegistry::Head(200, {{"Content-Length", std::to_string(data.size())}}));
    connection.Send(absl::string_view(data).substr(0, data.size() / 2));
  });
  ExpectPullFails(grpc::StatusCode::UNAVAILABLE, "bytes remaining");
}

TEST_F(HostileRegistryTest, AShortContentLengthIsCaughtByTheDescriptorSize) {
  const std::string& data = TheLayer().data;
  Misbehave(BlobPath(TheLayer().digest), [&](const auto&, HostileRegistry::Connection& connection) {
    connection.Send(HostileRegistry::Head(200, {{"Content-Length", std::to_string(data.size() / 2)}}));
    connection.Send(absl::string_view(data).substr(0, data.size() / 2));
  });
  ExpectPullFails(grpc::StatusCode::DATA_LOSS, absl::StrCat("expected ", data.size()));
}

TEST_F(HostileRegistryTest, ALongContentLengthIsRefused) {
  const std::string& data = TheLayer().data;
  Misbehave(BlobPath(TheLayer().digest), [&](const auto&, HostileRegistry::Connection& connection) {
    connection.Send(HostileRegistry::Head(200, {{"Content-Length", std::to_string(data.size() * 2)}}));
    connection.Send(data);
    connection.Send(data);
  });
  ExpectPullFails(grpc::StatusCode::DATA_LOSS, "larger than its declared");
}

// The manifest by digest is not the one the tag named: it changed between the two
// requests (or the registry lies), and the digest check refuses it.
TEST_F(HostileRegistryTest, AManifestThatChangesBetweenRequestsIsRefused) {
  auto index = BuildIndex({image_});
  ASSERT_TRUE(index.ok()) << index.status();
  registry_->Put(absl::StrCat("/v2/", kRepository, "/manifests/latest"), index->index.media_type, index->index.data);
  std::string changed = image_.manifest.data + " ";
  Misbehave(absl::StrCat("/v2/", kRepository, "/manifests/", image_.manifest.digest),
            [&](const auto&, HostileRegistry::Connection& connection) {
              connection.Send(HostileRegistry::Head(200, {{"Content-Type", image_.manifest.media_type},
                                                          {"Content-Length", std::to_string(changed.size())}}) +
                              changed);
            });
  ExpectPullFails(grpc::StatusCode::DATA_LOSS, "has digest");
}

// A tag's answer whose Docker-Content-Digest is not its body's digest.
TEST_F(HostileRegistryTest, AManifestUnlikeItsAnnouncedDigestIsRefused) {
  Misbehave(absl::StrCat("/v2/", kRepository, "/manifests/latest"),
            [&](const auto&, HostileRegistry::Connection& connection) {
              connection.Send(HostileRegistry::Head(
                                  200, {{"Content-Type", image_.manifest.media_type},
                                        {"Docker-Content-Digest", "sha256:" + std::string(64, 'e')},
                                        {"Content-Length", std::to_string(image_.manifest.data.size())}}) +
                              image_.manifest.data);
            });
  ExpectPullFails(grpc::StatusCode::DATA_LOSS, "the registry says");
}

// CVE-2021-41190: a document that is an index and a manifest at once.
TEST_F(HostileRegistryTest, AnAmbiguousManifestIsRefused) {
  auto index = BuildIndex({image_});
  ASSERT_TRUE(index.ok()) << index.status();
  auto doc = nlohmann::json::parse(index->index.data);
  auto manifest = nlohmann::json::parse(image_.manifest.data);
  doc["config"] = manifest["config"];
  doc["layers"] = manifest["layers"];
  registry_->Put(absl::StrCat("/v2/", kRepository, "/manifests/latest"), index->index.media_type, doc.dump());
  ExpectPullFails(grpc::StatusCode::INVALID_ARGUMENT, "ambiguous");
}

TEST_F(HostileRegistryTest, ARedirectLoopEnds) {
  const std::string path = BlobPath(TheLayer().digest);
  Misbehave(path, [&](const auto&, HostileRegistry::Connection& connection) {
    connection.Send(HostileRegistry::Head(307, {{"Location", path}, {"Content-Length", "0"}}));
  });
  ExpectPullFails(grpc::StatusCode::UNAVAILABLE, "redirects");
}

// A layer of 64 MiB of zeros in about 64 KiB of gzip: the cap stops it.
TEST_F(HostileRegistryTest, ALayerThatExpandsAThousandFoldIsStoppedAtTheCap) {
  std::string tar_entries_content(64 << 20, '\0');
  auto bomb = BuildLayer({File("zeros", std::move(tar_entries_content))}, Compression::kGzip);
  ASSERT_TRUE(bomb.ok()) << bomb.status();
  ASSERT_LT(bomb->data.size(), (64u << 20) / 500) << "not a 1000-fold layer";
  auto image = BuildImage(ImageSpec{}, {*bomb});
  ASSERT_TRUE(image.ok()) << image.status();
  registry_->PutImage(kRepository, "latest", *image);
  ExpectPullFails(grpc::StatusCode::RESOURCE_EXHAUSTED, "images.max_layer_bytes");
}

// Blobs redirected to another host (as registries send them to object storage):
// the pull works, and the other host never sees the registry's credentials.
TEST_F(HostileRegistryTest, CredentialsDoNotFollowARedirectToAnotherHost) {
  auto storage = HostileRegistry::Start("127.0.0.2");
  ASSERT_TRUE(storage.ok()) << storage.status();
  (*storage)->PutImage(kRepository, "latest", image_);
  const std::string user = "berth-tester", password = "s3cret-Pa55";
  const std::string expected = "Basic " + absl::Base64Escape(user + ":" + password);
  registry_->SetHandler([&](const HostileRegistry::Request& request, HostileRegistry::Connection& connection) {
    auto auth = request.headers.find("authorization");
    if (auth == request.headers.end() || auth->second != expected) {
      connection.Send(HostileRegistry::Head(401, {{"WWW-Authenticate", "Basic realm=\"hostile\""},
                                                  {"Content-Length", "0"}}));
      return;
    }
    if (absl::StrContains(request.path, "/blobs/")) {
      connection.Send(HostileRegistry::Head(
          307, {{"Location", "http://" + (*storage)->host_port() + request.path}, {"Content-Length", "0"}}));
      return;
    }
    registry_->Serve(request, connection);
  });
  grpc::Status pulled = Pull(Reference(), user, password);
  ASSERT_TRUE(pulled.ok()) << pulled.error_message();
  auto seen = (*storage)->requests();
  ASSERT_FALSE(seen.empty()) << "no blob was fetched through the redirect";
  for (const auto& request : seen) {
    EXPECT_EQ(request.headers.count("authorization"), 0u) << request.path << " carried the registry's credentials";
  }
  ::runtime::v1::RemoveImageRequest remove;
  remove.mutable_image()->set_image(Reference());
  ::runtime::v1::RemoveImageResponse removed;
  ASSERT_TRUE(client().image().RemoveImage(Ctx().get(), remove, &removed).ok());
  ExpectNothingLeft();
}

}  // namespace
}  // namespace berth::testing
