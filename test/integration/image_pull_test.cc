// Images end to end: a real berthd pulling from a real docker-registry on loopback
// (anonymous, basic and token auth, mirrors), unpacking standard and hostile test
// images, and answering the ImageService.
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"
#include "image/manifest.h"
#include "test/integration/berthd_fixture.h"
#include "test/integration/test_images.h"
#include "test/integration/test_registry.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;

// A port on 127.0.0.1 that nothing listens on.
int DeadPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// repeated contains value.
#define EXPECT_THAT_REPO(repeated, value)                                             \
  EXPECT_NE(std::find((repeated).begin(), (repeated).end(), (value)), (repeated).end()) \
      << (value) << " not in [" << absl::StrJoin((repeated), ", ") << "]"

int CountEntries(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir, ec)) ++n;
  return n;
}

class ImagePullTest : public BerthdFixture {
 protected:
  void SetUp() override {
    BerthdFixture::SetUp();
    if (IsSkipped()) return;
    auto registry = TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
  }
  void TearDown() override {
    if (registry_) {
      EXPECT_TRUE(registry_->Stop().ok());
    }
    BerthdFixture::TearDown();
  }

  std::string Push(const TestImage& image, TestRegistry* registry = nullptr) {
    RegistryClient client = (registry ? registry : registry_.get())->Client();
    auto digest = PushTestImage(client, image);
    EXPECT_TRUE(digest.ok()) << digest.status();
    return digest.value_or("");
  }

  grpc::Status Pull(const std::string& ref, ::runtime::v1::PullImageResponse* response,
                    const ::runtime::v1::AuthConfig* auth = nullptr) {
    ::runtime::v1::PullImageRequest request;
    request.mutable_image()->set_image(ref);
    if (auth) *request.mutable_auth() = *auth;
    return client().image().PullImage(Ctx().get(), request, response);
  }

  std::optional<::runtime::v1::Image> Status(const std::string& ref) {
    ::runtime::v1::ImageStatusRequest request;
    request.mutable_image()->set_image(ref);
    ::runtime::v1::ImageStatusResponse response;
    auto status = client().image().ImageStatus(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!response.has_image()) return std::nullopt;
    return response.image();
  }

  // Mounts the layers berthd unpacked for image (read-only overlay) at a fresh
  // directory, so the rootfs a container would see can be compared.
  struct ReadOnlyRootfs {
    std::string path;
    ~ReadOnlyRootfs() {
      if (!path.empty()) ::umount2(path.c_str(), MNT_DETACH);
    }
  };
  std::unique_ptr<ReadOnlyRootfs> MountImage(const Image& image) {
    auto config = image::ParseImageConfig(image.config.data);
    EXPECT_TRUE(config.ok()) << config.status();
    std::vector<std::string> chain = image::ChainIds(config->diff_ids);
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((root_ + "/berth.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::vector<std::string> lowers;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      sqlite3_stmt* stmt = nullptr;
      sqlite3_prepare_v2(db, "SELECT snapshot_id FROM layers WHERE chain_id = ?", -1, &stmt, nullptr);
      sqlite3_bind_text(stmt, 1, it->c_str(), -1, SQLITE_TRANSIENT);
      EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW) << "layer " << *it << " not unpacked";
      lowers.push_back(absl::StrCat(root_, "/images/snapshots/", sqlite3_column_int64(stmt, 0)));
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    // Overlay needs two lower dirs when it has no upper dir.
    std::string empty = dir_ + "/empty-lower";
    (void)MakeDirs(empty);
    lowers.push_back(empty);
    auto mounted = std::make_unique<ReadOnlyRootfs>();
    std::string path = dir_ + "/rootfs-" + std::to_string(++mounts_);
    EXPECT_TRUE(MakeDirs(path).ok());
    std::string data = "lowerdir=" + absl::StrJoin(lowers, ":");
    EXPECT_EQ(::mount("overlay", path.c_str(), "overlay", MS_RDONLY, data.c_str()), 0) << strerror(errno);
    mounted->path = path;
    return mounted;
  }

  void ExpectNoImageContentLeft() {
    EXPECT_EQ(CountEntries(root_ + "/images/snapshots"), 0) << "layers left behind";
    EXPECT_EQ(CountEntries(root_ + "/images/blobs/sha256"), 0) << "blobs left behind";
    EXPECT_EQ(CountEntries(root_ + "/images/ingest"), 0) << "partial downloads left behind";
  }

  std::unique_ptr<TestRegistry> registry_;
  int mounts_ = 0;
};

TEST_F(ImagePullTest, PullsListsFindsByEveryNameAndRemoves) {
  auto busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok()) << busybox.status();
  std::string manifest_digest = Push(*busybox);
  StartBerthd();
  const std::string ref = busybox->Reference(registry_->host_port());
  const std::string id = busybox->HostImage().config.digest;

  ::runtime::v1::PullImageResponse pulled;
  auto status = Pull(ref, &pulled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(pulled.image_ref(), id);

  const std::string digest_ref = absl::StrCat(registry_->host_port(), "/", busybox->repository, "@", manifest_digest);
  for (const std::string& name : {ref, id, id.substr(7), digest_ref}) {
    auto image = Status(name);
    ASSERT_TRUE(image.has_value()) << name;
    EXPECT_EQ(image->id(), id) << name;
    EXPECT_THAT_REPO(image->repo_tags(), ref);
    EXPECT_THAT_REPO(image->repo_digests(), digest_ref);
    EXPECT_GT(image->size(), 1000000u) << "busybox is ~2 MB";
  }
  EXPECT_FALSE(Status(absl::StrCat(registry_->host_port(), "/berth-test/busybox:other")).has_value());

  ::runtime::v1::ListImagesResponse list;
  ASSERT_TRUE(client().image().ListImages(Ctx().get(), {}, &list).ok());
  ASSERT_EQ(list.images_size(), 1);
  EXPECT_EQ(list.images(0).id(), id);

  // The unpacked rootfs is the image: owners, modes, links, mtimes.
  {
    auto rootfs = MountImage(busybox->HostImage());
    auto diffs = CompareRootfs(rootfs->path, busybox->expected, busybox->expected_absent);
    EXPECT_TRUE(diffs.empty()) << absl::StrJoin(diffs, "\n");
  }

  ::runtime::v1::ImageFsInfoResponse fs_info;
  ASSERT_TRUE(client().image().ImageFsInfo(Ctx().get(), {}, &fs_info).ok());
  EXPECT_GT(fs_info.image_filesystems(0).used_bytes().value(), 2000000u);

  ::runtime::v1::RemoveImageRequest remove;
  remove.mutable_image()->set_image(digest_ref);
  ::runtime::v1::RemoveImageResponse removed;
  ASSERT_TRUE(client().image().RemoveImage(Ctx().get(), remove, &removed).ok());
  EXPECT_FALSE(Status(ref).has_value());
  EXPECT_FALSE(Status(id).has_value());
  ExpectNoImageContentLeft();
  // Removing what is gone is not an error.
  EXPECT_TRUE(client().image().RemoveImage(Ctx().get(), remove, &removed).ok());
}

TEST_F(ImagePullTest, UnpacksLayersWithWhiteoutsOpaqueDirsLinksAndXattrs) {
  auto layered = MultiLayerImage();
  auto zstd = ZstdImage();
  ASSERT_TRUE(layered.ok() && zstd.ok());
  Push(*layered);
  Push(*zstd);
  StartBerthd();
  for (const TestImage* image : {&*layered, &*zstd}) {
    ::runtime::v1::PullImageResponse pulled;
    auto status = Pull(image->Reference(registry_->host_port()), &pulled);
    ASSERT_TRUE(status.ok()) << image->repository << ": " << status.error_message();
    auto rootfs = MountImage(image->HostImage());
    auto diffs = CompareRootfs(rootfs->path, image->expected, image->expected_absent);
    EXPECT_TRUE(diffs.empty()) << image->repository << ":\n" << absl::StrJoin(diffs, "\n");
  }
}

TEST_F(ImagePullTest, PicksTheNodePlatformFromAnIndexOrManifestList) {
  StartBerthd();
  for (ManifestFormat format : {ManifestFormat::kOci, ManifestFormat::kDocker}) {
    auto multiarch = MultiArchImage(format);
    ASSERT_TRUE(multiarch.ok()) << multiarch.status();
    std::string index_digest = Push(*multiarch);
    ::runtime::v1::PullImageResponse pulled;
    auto status = Pull(multiarch->Reference(registry_->host_port()), &pulled);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(pulled.image_ref(), multiarch->HostImage().config.digest);
    auto image = Status(pulled.image_ref());
    ASSERT_TRUE(image.has_value());
    // The repo digest is the index's: what the user can pull again on any platform.
    EXPECT_THAT_REPO(image->repo_digests(),
                     absl::StrCat(registry_->host_port(), "/", multiarch->repository, "@", index_digest));
    auto rootfs = MountImage(multiarch->HostImage());
    EXPECT_EQ(ReadFile(rootfs->path + "/platform").value_or(""), image::HostPlatform().String() + "\n");
  }
}

TEST_F(ImagePullTest, ReportsTheImageUser) {
  auto users = UserImages();
  ASSERT_TRUE(users.ok()) << users.status();
  for (const auto& image : *users) Push(image);
  StartBerthd();
  std::map<std::string, ::runtime::v1::Image> by_tag;
  for (const auto& image : *users) {
    ::runtime::v1::PullImageResponse pulled;
    ASSERT_TRUE(Pull(image.Reference(registry_->host_port()), &pulled).ok());
    by_tag[image.tag] = *Status(pulled.image_ref());
  }
  EXPECT_EQ(by_tag["1000"].uid().value(), 1000);
  EXPECT_EQ(by_tag["1000"].username(), "");
  EXPECT_FALSE(by_tag["berth"].has_uid());
  EXPECT_EQ(by_tag["berth"].username(), "berth");
  EXPECT_EQ(by_tag["1000-2000"].uid().value(), 1000);
}

TEST_F(ImagePullTest, HostileImagesAreRefusedAndWriteNothingOutside) {
  auto sentinels = EscapeSentinels::Create();
  ASSERT_TRUE(sentinels.ok()) << sentinels.status();
  auto hostile = HostileImages(**sentinels);
  ASSERT_TRUE(hostile.ok()) << hostile.status();
  ASSERT_GE(hostile->size(), 10u);
  for (const auto& h : *hostile) Push(h.image);
  StartBerthd();
  for (const auto& h : *hostile) {
    ::runtime::v1::PullImageResponse pulled;
    auto status = Pull(h.image.Reference(registry_->host_port()), &pulled);
    EXPECT_FALSE(status.ok()) << h.name << " (" << h.what << ") was accepted";
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << h.name << ": " << status.error_message();
    for (const auto& path : h.must_not_exist) {
      EXPECT_FALSE(fs::exists(fs::symlink_status(path))) << h.name << " created " << path;
    }
  }
  auto violations = (*sentinels)->Violations();
  EXPECT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");
  ::runtime::v1::ListImagesResponse list;
  ASSERT_TRUE(client().image().ListImages(Ctx().get(), {}, &list).ok());
  EXPECT_EQ(list.images_size(), 0);
  ExpectNoImageContentLeft();
  EXPECT_EQ(CountEntries(root_ + "/images/snapshots"), 0) << "a staging directory was left";
}

TEST_F(ImagePullTest, BasicAndTokenAuthWithEveryCredentialForm) {
  auto busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok());
  StartBerthd();
  for (RegistryAuth mode : {RegistryAuth::kBasic, RegistryAuth::kToken}) {
    TestRegistry::Options options;
    options.auth = mode;
    auto registry = TestRegistry::Start(options);
    ASSERT_TRUE(registry.ok()) << registry.status();
    Push(*busybox, registry->get());
    const std::string ref = busybox->Reference((*registry)->host_port());
    const char* mode_name = mode == RegistryAuth::kBasic ? "basic" : "token";

    ::runtime::v1::PullImageResponse pulled;
    auto status = Pull(ref, &pulled);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << mode_name << ": " << status.error_message();

    ::runtime::v1::AuthConfig wrong;
    wrong.set_username((*registry)->username());
    wrong.set_password("wrong");
    status = Pull(ref, &pulled, &wrong);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << mode_name << ": " << status.error_message();

    ::runtime::v1::AuthConfig user_pass;
    user_pass.set_username((*registry)->username());
    user_pass.set_password((*registry)->password());
    status = Pull(ref, &pulled, &user_pass);
    ASSERT_TRUE(status.ok()) << mode_name << ": " << status.error_message();

    // The same credentials as AuthConfig.auth (base64 "user:password"), after a removal.
    ::runtime::v1::RemoveImageRequest remove;
    remove.mutable_image()->set_image(pulled.image_ref());
    ::runtime::v1::RemoveImageResponse removed;
    ASSERT_TRUE(client().image().RemoveImage(Ctx().get(), remove, &removed).ok());
    ::runtime::v1::AuthConfig encoded;
    encoded.set_auth(absl::Base64Escape((*registry)->username() + ":" + (*registry)->password()));
    status = Pull(ref, &pulled, &encoded);
    EXPECT_TRUE(status.ok()) << mode_name << ": " << status.error_message();
    ASSERT_TRUE(client().image().RemoveImage(Ctx().get(), remove, &removed).ok());
    EXPECT_TRUE((*registry)->Stop().ok());
  }
  ExpectNoImageContentLeft();
}

TEST_F(ImagePullTest, MirrorsAreTriedInOrderWithoutTheUpstream) {
  auto busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok());
  Push(*busybox);
  std::string config = dir_ + "/berth.yaml";
  // registry.invalid does not exist: only the mirrors can answer, the dead one first.
  ASSERT_TRUE(WriteFileAtomically(config, absl::StrCat(
      "registry:\n  hosts:\n    registry.invalid:\n      mirrors: [\"http://127.0.0.1:", DeadPort(),
      "\", \"http://", registry_->host_port(), "\"]\n      skip_upstream: true\n")).ok());
  StartBerthd({"--config", config});
  ::runtime::v1::PullImageResponse pulled;
  const std::string ref = "registry.invalid/" + busybox->repository + ":latest";
  auto status = Pull(ref, &pulled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto image = Status(ref);
  ASSERT_TRUE(image.has_value());
  EXPECT_THAT_REPO(image->repo_tags(), ref);

  // A name the mirrors do not have fails, naming each place it tried.
  status = Pull("registry.invalid/berth-test/absent:1", &pulled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_NE(status.error_message().find("mirror http://" + registry_->host_port()), std::string::npos)
      << status.error_message();
}

TEST_F(ImagePullTest, ConcurrentPullsShareTheirWork) {
  auto busybox = BusyboxImage();
  auto users = UserImages();
  ASSERT_TRUE(busybox.ok() && users.ok());
  Push(*busybox);
  for (const auto& image : *users) Push(image);
  StartBerthd();
  // Four pulls of one image and three of images sharing its busybox layer, at once.
  std::vector<std::string> refs(4, busybox->Reference(registry_->host_port()));
  for (const auto& image : *users) refs.push_back(image.Reference(registry_->host_port()));
  std::vector<grpc::Status> results(refs.size());
  std::vector<std::string> ids(refs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < refs.size(); ++i) {
    threads.emplace_back([&, i] {
      cri::CriClient own(socket_);
      ::runtime::v1::PullImageRequest request;
      request.mutable_image()->set_image(refs[i]);
      ::runtime::v1::PullImageResponse response;
      results[i] = own.image().PullImage(Ctx().get(), request, &response);
      ids[i] = response.image_ref();
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < refs.size(); ++i) EXPECT_TRUE(results[i].ok()) << refs[i] << ": " << results[i].error_message();
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(ids[i], ids[0]);
  ::runtime::v1::ListImagesResponse list;
  ASSERT_TRUE(client().image().ListImages(Ctx().get(), {}, &list).ok());
  EXPECT_EQ(list.images_size(), 1 + static_cast<int>(users->size()));
  // The shared busybox layer was unpacked once.
  auto busybox_layers = busybox->HostImage().layers.size();
  std::set<std::string> all_layers;
  for (const auto& image : *users) {
    auto config = image::ParseImageConfig(image.HostImage().config.data);
    for (const auto& chain : image::ChainIds(config->diff_ids)) all_layers.insert(chain);
  }
  auto config = image::ParseImageConfig(busybox->HostImage().config.data);
  for (const auto& chain : image::ChainIds(config->diff_ids)) all_layers.insert(chain);
  EXPECT_EQ(CountEntries(root_ + "/images/snapshots"), static_cast<int>(all_layers.size()))
      << busybox_layers << " busybox layers";
}

TEST_F(ImagePullTest, ImagesSurviveRestartAndKill) {
  auto busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok());
  Push(*busybox);
  StartBerthd();
  ::runtime::v1::PullImageResponse pulled;
  ASSERT_TRUE(Pull(busybox->Reference(registry_->host_port()), &pulled).ok());
  ASSERT_EQ(StopBerthd(SIGKILL).signal, SIGKILL);
  StartBerthd();
  auto image = Status(busybox->Reference(registry_->host_port()));
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->id(), pulled.image_ref());
  auto rootfs = MountImage(busybox->HostImage());
  EXPECT_TRUE(CompareRootfs(rootfs->path, busybox->expected, busybox->expected_absent).empty());
}

TEST_F(ImagePullTest, BadReferencesAndMissingImagesAreClearErrors) {
  StartBerthd();
  ::runtime::v1::PullImageResponse pulled;
  auto status = Pull("", &pulled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = Pull("Upper/Case:tag", &pulled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("must be lowercase"), std::string::npos) << status.error_message();
  status = Pull(registry_->host_port() + "/berth-test/never-pushed:1", &pulled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("berth-test/never-pushed:1"), std::string::npos) << status.error_message();
  ::runtime::v1::ImageStatusRequest empty;
  ::runtime::v1::ImageStatusResponse response;
  EXPECT_EQ(client().image().ImageStatus(Ctx().get(), empty, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ImagePullTest, BerthctlPullImagesInspectRmi) {
  auto busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok());
  Push(*busybox);
  StartBerthd();
  const std::string ref = busybox->Reference(registry_->host_port());
  ExitResult result = RunBerthctl({"pull", ref});
  ASSERT_EQ(result.exit_code, 0) << result.log;
  EXPECT_NE(result.log.find("Image is up to date for " + busybox->HostImage().config.digest), std::string::npos)
      << result.log;
  result = RunBerthctl({"images"});
  EXPECT_NE(result.log.find(registry_->host_port() + "/berth-test/busybox   latest"), std::string::npos) << result.log;
  result = RunBerthctl({"inspecti", ref});
  EXPECT_NE(result.log.find("\"chainIDs\""), std::string::npos) << result.log;
  result = RunBerthctl({"rmi", ref});
  EXPECT_EQ(result.exit_code, 0) << result.log;
  EXPECT_NE(result.log.find("Deleted: " + busybox->HostImage().config.digest), std::string::npos) << result.log;
  result = RunBerthctl({"rmi", ref});
  EXPECT_EQ(result.exit_code, 1) << result.log;
  EXPECT_NE(result.log.find("not found"), std::string::npos) << result.log;
}

}  // namespace
}  // namespace berth::testing
