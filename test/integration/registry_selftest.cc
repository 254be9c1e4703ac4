// The test registry and the test images, checked against a real docker-registry:
// each auth mode starts and stops cleanly, the catalog pushes and comes back byte
// for byte, auth refuses what it must, and the images hold what they promise.
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "test/integration/leak_check.h"
#include "test/integration/test_crypto.h"
#include "test/integration/test_images.h"
#include "test/integration/test_registry.h"

namespace berth::testing {
namespace {

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                         \
  ASSERT_OK_AND_ASSIGN_IMPL_(BERTH_STATUS_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status();           \
  lhs = std::move(tmp).value()

// A docker-registry started by a test, remembered so that teardown can check that
// it is gone.
struct Started {
  pid_t pid;
  std::string dir;
  int port;
  int token_port;
};

bool PortAcceptsConnections(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/docker-registry", X_OK) != 0) {
      GTEST_SKIP() << "needs Debian's docker-registry (./dev.sh setup)";
    }
  }

  void TearDown() override {
    for (auto& registry : registries_) {
      if (HasFailure()) std::cerr << "---- registry log " << registry->dir() << " ----\n" << registry->Log();
      Status stopped = registry->Stop();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
    registries_.clear();
    // Everything the tests started is gone: the process, anything naming its
    // directory, the directory, both ports.
    for (const Started& s : started_) {
      errno = 0;
      EXPECT_EQ(::kill(s.pid, 0), -1) << "registry pid " << s.pid << " still exists";
      EXPECT_EQ(errno, ESRCH);
      EXPECT_EQ(HostSnapshot::Take(s.dir).processes, std::set<std::string>{});
      EXPECT_FALSE(std::filesystem::exists(s.dir)) << s.dir;
      EXPECT_FALSE(PortAcceptsConnections(s.port)) << "registry port " << s.port;
      if (s.token_port != 0) {
        EXPECT_FALSE(PortAcceptsConnections(s.token_port)) << "token port " << s.token_port;
      }
    }
    started_.clear();
    if (!scratch_.empty()) (void)RemoveAll(scratch_);
  }

  TestRegistry* StartRegistry(TestRegistry::Options options = {}) {
    auto registry = TestRegistry::Start(options);
    EXPECT_TRUE(registry.ok()) << registry.status();
    if (!registry.ok()) return nullptr;
    started_.push_back({(*registry)->pid(), (*registry)->dir(), (*registry)->port(), (*registry)->token_port()});
    registries_.push_back(std::move(*registry));
    return registries_.back().get();
  }

  // A temporary directory removed at teardown.
  const std::string& Scratch() {
    if (scratch_.empty()) {
      char tmpl[] = "/tmp/berth-registry-test-XXXXXX";
      if (::mkdtemp(tmpl) != nullptr) scratch_ = tmpl;
    }
    return scratch_;
  }

  std::vector<std::unique_ptr<TestRegistry>> registries_;
  std::vector<Started> started_;
  std::string scratch_;
};

// The registry serves image's manifest by tag with the digest pushed, and every blob
// it references byte for byte (for an index: every image by digest too).
void ExpectServed(RegistryClient& client, const TestImage& image) {
  SCOPED_TRACE(image.Reference(client.host_port()));
  auto expect_manifest = [&](absl::string_view reference, const Blob& manifest) {
    auto response = client.GetManifest(image.repository, reference, manifest.media_type);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(response->Header("docker-content-digest"), manifest.digest);
    EXPECT_EQ(response->Header("content-type"), manifest.media_type);
    EXPECT_EQ(response->body, manifest.data);
  };
  auto expect_blobs = [&](const Image& single) {
    auto config = client.GetBlob(image.repository, single.config.digest);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(*config, single.config.data);
    for (const Layer& layer : single.layers) {
      auto data = client.GetBlob(image.repository, layer.digest);
      ASSERT_TRUE(data.ok()) << data.status();
      EXPECT_EQ(*data, layer.data);
    }
  };
  expect_manifest(image.tag, image.manifest());
  if (const Image* single = std::get_if<Image>(&image.content)) {
    expect_blobs(*single);
  } else {
    for (const Image& child : std::get<ImageIndex>(image.content).images) {
      expect_manifest(child.manifest.digest, child.manifest);
      expect_blobs(child);
    }
  }
}

// Runs argv with output to a file; returns the exit code (-1 for a signal) and
// the output.
std::pair<int, std::string> RunCaptured(const std::vector<std::string>& args, const std::string& out_path) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  char path_env[] = "PATH=/bin";
  char* envp[] = {path_env, nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return {-1, absl::StrCat("spawn ", args[0], ": ", std::strerror(rc))};
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  pollfd pfd{pidfd.get(), POLLIN, 0};
  if (::poll(&pfd, 1, 30000) == 0) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out_path).value_or("")};
}

// The entries of a tar stream as libarchive reads them, names verbatim; fails on
// a damaged stream.
StatusOr<std::vector<std::string>> ReadTarNames(const std::string& tar) {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), &archive_read_free);
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_memory(reader.get(), tar.data(), tar.size()) != ARCHIVE_OK) {
    return absl::DataLossError(archive_error_string(reader.get()));
  }
  std::vector<std::string> names;
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) return names;
    if (r != ARCHIVE_OK) return absl::DataLossError(archive_error_string(reader.get()));
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    if (const char* link = archive_entry_hardlink(entry)) absl::StrAppend(&name, " link to ", link);
    if (const char* link = archive_entry_symlink(entry)) absl::StrAppend(&name, " -> ", link);
    names.push_back(name);
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(reader.get(), &block, &size, &offset)) == ARCHIVE_OK) {
    }
    if (r != ARCHIVE_EOF) return absl::DataLossError(archive_error_string(reader.get()));
  }
}

// Decompresses a layer blob with libarchive's own detection.
StatusOr<std::string> Decompress(const std::string& data) {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), &archive_read_free);
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  if (archive_read_open_memory(reader.get(), data.data(), data.size()) != ARCHIVE_OK) {
    return absl::DataLossError(archive_error_string(reader.get()));
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK) {
    return absl::DataLossError(archive_error_string(reader.get()));
  }
  std::string out;
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data(reader.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (n < 0) return absl::DataLossError(archive_error_string(reader.get()));
  return out;
}

// ---- the HTTP client's own rules ----

TEST(HttpClientTest, RefusesAnythingButLoopbackHttp) {
  for (const char* url : {"http://10.0.0.1/v2/", "http://127.0.0.1.example.com/v2/", "https://10.0.0.1:5000/v2/",
                          "https://127.0.0.1.example.com/v2/",
                          "http://127.0.0.1:80@example.com/v2/", "http://localhost:5000/v2/", "http://[::1]:5000/",
                          "http://127.0.0.2:5000/", "ftp://127.0.0.1:21/"}) {
    auto response = SendHttp({.method = "GET", .url = url});
    EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(HttpClientTest, ParsesChallenges) {
  auto challenge = ParseAuthChallenge(
      R"(Bearer realm="http://127.0.0.1:1234/token",service="reg",)"
      R"(scope="repository:a/b:pull,push",error="insufficient_scope")");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->scheme, "bearer");
  EXPECT_EQ(challenge->Param("realm"), "http://127.0.0.1:1234/token");
  EXPECT_EQ(challenge->Param("service"), "reg");
  EXPECT_EQ(challenge->Param("scope"), "repository:a/b:pull,push");
  EXPECT_EQ(challenge->Param("error"), "insufficient_scope");
  challenge = ParseAuthChallenge(R"(Basic realm="berth test")");
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(challenge->scheme, "basic");
  EXPECT_EQ(challenge->Param("realm"), "berth test");
  EXPECT_FALSE(ParseAuthChallenge(R"(Bearer realm="unterminated)").ok());
}

// ---- registry lifecycle ----

TEST_F(RegistryTest, StopKillsTheRegistryAndRemovesItsDirectory) {
  for (RegistryAuth auth : {RegistryAuth::kNone, RegistryAuth::kBasic, RegistryAuth::kToken}) {
    auto registry = TestRegistry::Start({.auth = auth});
    ASSERT_TRUE(registry.ok()) << registry.status();
    pid_t pid = (*registry)->pid();
    std::string dir = (*registry)->dir();
    int port = (*registry)->port();
    int token_port = (*registry)->token_port();
    EXPECT_GT(pid, 0);
    EXPECT_EQ((*registry)->host_port(), absl::StrCat("127.0.0.1:", port));
    EXPECT_TRUE(PortAcceptsConnections(port));
    EXPECT_EQ(token_port != 0, auth == RegistryAuth::kToken);
    EXPECT_EQ(HostSnapshot::Take(dir).processes.size(), 1u);
    // The registry listens on loopback only.
    std::string config = ReadFile(dir + "/config.yml").value_or("");
    EXPECT_NE(config.find(absl::StrCat("addr: 127.0.0.1:", port)), std::string::npos) << config;

    ASSERT_TRUE((*registry)->Stop().ok());
    EXPECT_EQ((*registry)->pid(), -1);
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
    EXPECT_FALSE(std::filesystem::exists(dir));
    EXPECT_FALSE(PortAcceptsConnections(port));
    if (token_port != 0) {
      EXPECT_FALSE(PortAcceptsConnections(token_port));
    }
    EXPECT_TRUE(HostSnapshot::Take(dir).processes.empty());
    EXPECT_TRUE((*registry)->Stop().ok()) << "Stop is idempotent";
  }
}

TEST_F(RegistryTest, DestructorStopsTheRegistry) {
  pid_t pid;
  std::string dir;
  {
    auto registry = TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    pid = (*registry)->pid();
    dir = (*registry)->dir();
  }
  errno = 0;
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// ---- anonymous registry ----

TEST_F(RegistryTest, AnonymousRegistryServesTheStandardCatalog) {
  TestRegistry* registry = StartRegistry();
  ASSERT_NE(registry, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<TestImage> images, StandardTestImages());
  ASSERT_GE(images.size(), 9u);
  RegistryClient pusher = registry->Client();
  for (const TestImage& image : images) {
    auto digest = PushTestImage(pusher, image);
    ASSERT_TRUE(digest.ok()) << image.Reference(registry->host_port()) << ": " << digest.status();
    EXPECT_EQ(*digest, image.digest());
  }
  RegistryClient puller = registry->AnonymousClient();
  for (const TestImage& image : images) ExpectServed(puller, image);

  // Registry 2.8 answers a client that does not take indexes with the linux/amd64
  // image of a list; check the OCI index is stored as one.
  auto response = puller.GetManifest("berth-test/multiarch", "latest", kOciIndex);
  ASSERT_TRUE(response.ok());
  auto index = nlohmann::json::parse(response->body, nullptr, false);
  ASSERT_TRUE(index.is_object());
  std::set<std::string> platforms;
  for (const auto& m : index["manifests"]) {
    std::string p = absl::StrCat(m["platform"]["os"].get<std::string>(), "/",
                                 m["platform"]["architecture"].get<std::string>());
    if (m["platform"].contains("variant")) absl::StrAppend(&p, "/", m["platform"]["variant"].get<std::string>());
    platforms.insert(p);
  }
  EXPECT_EQ(platforms, (std::set<std::string>{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}));

  auto tags = puller.Get("/v2/berth-test/user/tags/list");
  ASSERT_TRUE(tags.ok());
  auto tag_list = nlohmann::json::parse(tags->body, nullptr, false);
  ASSERT_TRUE(tag_list.is_object()) << tags->body;
  std::set<std::string> tag_set;
  for (const auto& t : tag_list["tags"]) tag_set.insert(t.get<std::string>());
  EXPECT_EQ(tag_set, (std::set<std::string>{"1000", "berth", "1000-2000"}));

  // Delete is enabled.
  auto deleted = puller.Send({.method = "DELETE",
                              .url = absl::StrCat("/v2/berth-test/zstd/manifests/", images[6].digest())});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(images[6].repository, "berth-test/zstd");
  EXPECT_EQ(deleted->status, 202) << deleted->body;
}

TEST_F(RegistryTest, PushSkipsBlobsTheRegistryHas) {
  TestRegistry* registry = StartRegistry();
  ASSERT_NE(registry, nullptr);
  ASSERT_OK_AND_ASSIGN(TestImage oci, BusyboxImage(ManifestFormat::kOci));
  ASSERT_OK_AND_ASSIGN(TestImage docker, BusyboxImage(ManifestFormat::kDocker));
  RegistryClient client = registry->Client();
  ASSERT_TRUE(PushTestImage(client, oci).ok());
  EXPECT_EQ(client.blobs_uploaded(), 2);  // layer and config
  EXPECT_EQ(client.blobs_skipped(), 0);
  // The Docker form has the same layer and config bytes under other media types:
  // nothing new to upload.
  ASSERT_TRUE(PushTestImage(client, docker).ok());
  EXPECT_EQ(client.blobs_uploaded(), 2);
  EXPECT_EQ(client.blobs_skipped(), 2);
  // Same layer, new config.
  ASSERT_OK_AND_ASSIGN(std::vector<TestImage> users, UserImages());
  users[0].repository = oci.repository;
  ASSERT_TRUE(PushTestImage(client, users[0]).ok());
  EXPECT_EQ(client.blobs_uploaded(), 3);
  EXPECT_EQ(client.blobs_skipped(), 3);
  ASSERT_TRUE(PushTestImage(client, oci).ok());
  EXPECT_EQ(client.blobs_uploaded(), 3);
  EXPECT_EQ(client.blobs_skipped(), 5);
}

// ---- Basic auth ----

TEST_F(RegistryTest, BasicAuthRegistryRefusesAnonymousAccess) {
  TestRegistry* registry = StartRegistry({.auth = RegistryAuth::kBasic});
  ASSERT_NE(registry, nullptr);
  const std::string base = absl::StrCat("http://", registry->host_port());

  ASSERT_OK_AND_ASSIGN(HttpResponse anonymous, SendHttp({.url = base + "/v2/"}));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(absl::StartsWith(anonymous.Header("www-authenticate"), "Basic realm="))
      << anonymous.Header("www-authenticate");

  RegistryClient wrong(registry->host_port(), Credentials{registry->username(), "wrong"});
  ASSERT_OK_AND_ASSIGN(HttpResponse refused, wrong.Get("/v2/"));
  EXPECT_EQ(refused.status, 401);
  RegistryClient right = registry->Client();
  ASSERT_OK_AND_ASSIGN(HttpResponse accepted, right.Get("/v2/"));
  EXPECT_EQ(accepted.status, 200);

  ASSERT_OK_AND_ASSIGN(TestImage busybox, BusyboxImage());
  RegistryClient anonymous_client = registry->AnonymousClient();
  EXPECT_FALSE(PushTestImage(anonymous_client, busybox).ok());
  EXPECT_FALSE(PushTestImage(wrong, busybox).ok());
  ASSERT_OK_AND_ASSIGN(std::string digest, PushTestImage(right, busybox));
  EXPECT_EQ(digest, busybox.digest());
  ExpectServed(right, busybox);

  ASSERT_OK_AND_ASSIGN(HttpResponse pull, anonymous_client.GetManifest(busybox.repository, "latest", kOciManifest));
  EXPECT_EQ(pull.status, 401);
  ASSERT_OK_AND_ASSIGN(HttpResponse blob, SendHttp({.url = base + "/v2/berth-test/busybox/blobs/" +
                                                          std::get<Image>(busybox.content).layers[0].digest}));
  EXPECT_EQ(blob.status, 401);
}

// ---- token auth ----

TEST_F(RegistryTest, TokenRegistryChallengesAndHonoursTokens) {
  TestRegistry* registry = StartRegistry({.auth = RegistryAuth::kToken});
  ASSERT_NE(registry, nullptr);
  const std::string base = absl::StrCat("http://", registry->host_port());

  // Anonymous: a Bearer challenge naming the token server.
  ASSERT_OK_AND_ASSIGN(HttpResponse anonymous, SendHttp({.url = base + "/v2/"}));
  EXPECT_EQ(anonymous.status, 401);
  ASSERT_OK_AND_ASSIGN(AuthChallenge challenge, ParseAuthChallenge(anonymous.Header("www-authenticate")));
  EXPECT_EQ(challenge.scheme, "bearer");
  EXPECT_EQ(challenge.Param("realm"), registry->token_realm());
  EXPECT_TRUE(absl::StartsWith(challenge.Param("realm"), "http://127.0.0.1:"));
  EXPECT_EQ(challenge.Param("service"), registry->token_service());

  // The token server wants the right credentials.
  const std::string token_url = absl::StrCat(registry->token_realm(), "?service=", registry->token_service(),
                                             "&scope=repository%3Aberth-test%2Fbusybox%3Apull%2Cpush");
  auto basic = [](absl::string_view user, absl::string_view pass) {
    return absl::StrCat("Authorization: Basic ", Base64Encode(absl::StrCat(user, ":", pass)));
  };
  ASSERT_OK_AND_ASSIGN(HttpResponse no_credentials, SendHttp({.url = token_url}));
  EXPECT_EQ(no_credentials.status, 401);
  auto error = nlohmann::json::parse(no_credentials.body, nullptr, false);
  ASSERT_TRUE(error.is_object()) << no_credentials.body;
  EXPECT_EQ(error["errors"][0]["code"], "UNAUTHORIZED") << no_credentials.body;
  EXPECT_TRUE(absl::StartsWith(no_credentials.Header("www-authenticate"), "Basic "));
  ASSERT_OK_AND_ASSIGN(HttpResponse wrong_password,
                       SendHttp({.url = token_url, .headers = {basic(registry->username(), "nope")}}));
  EXPECT_EQ(wrong_password.status, 401);
  ASSERT_OK_AND_ASSIGN(HttpResponse wrong_user,
                       SendHttp({.url = token_url, .headers = {basic("mallory", registry->password())}}));
  EXPECT_EQ(wrong_user.status, 401);
  ASSERT_OK_AND_ASSIGN(HttpResponse granted,
                       SendHttp({.url = token_url,
                                 .headers = {basic(registry->username(), registry->password())}}));
  ASSERT_EQ(granted.status, 200) << granted.body;
  auto body = nlohmann::json::parse(granted.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << granted.body;
  ASSERT_TRUE(body["token"].is_string());
  EXPECT_EQ(body["access_token"], body["token"]);
  EXPECT_EQ(body["expires_in"], 300);
  const std::string token = body["token"].get<std::string>();

  // The JWT says what distribution checks.
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  ASSERT_EQ(parts.size(), 3u);
  auto b64url = [](std::string s) {
    std::replace(s.begin(), s.end(), '-', '+');
    std::replace(s.begin(), s.end(), '_', '/');
    while (s.size() % 4 != 0) s.push_back('=');
    return Base64Decode(s).value_or("");
  };
  auto header = nlohmann::json::parse(b64url(parts[0]), nullptr, false);
  auto claims = nlohmann::json::parse(b64url(parts[1]), nullptr, false);
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_TRUE(header.contains("x5c"));
  EXPECT_EQ(claims["iss"], registry->token_issuer());
  EXPECT_EQ(claims["aud"], registry->token_service());
  EXPECT_EQ(claims["sub"], registry->username());
  EXPECT_EQ(claims["access"],
            nlohmann::json::parse(
                R"([{"type":"repository","name":"berth-test/busybox","actions":["pull","push"]}])"));

  // The registry takes the token.
  ASSERT_OK_AND_ASSIGN(HttpResponse with_token,
                       SendHttp({.url = base + "/v2/", .headers = {"Authorization: Bearer " + token}}));
  EXPECT_EQ(with_token.status, 200) << with_token.body << registry->Log();
  ASSERT_OK_AND_ASSIGN(HttpResponse forged, SendHttp({.url = base + "/v2/",
                                                      .headers = {"Authorization: Bearer " + parts[0] + "." +
                                                                  parts[1] + ".AAAA"}}));
  EXPECT_EQ(forged.status, 401);

  // Push and pull through challenges.
  ASSERT_OK_AND_ASSIGN(TestImage busybox, BusyboxImage());
  ASSERT_OK_AND_ASSIGN(TestImage multiarch, MultiArchImage());
  RegistryClient client = registry->Client();
  ASSERT_OK_AND_ASSIGN(std::string digest, PushTestImage(client, busybox));
  EXPECT_EQ(digest, busybox.digest());
  ASSERT_TRUE(PushTestImage(client, multiarch).ok());
  EXPECT_GE(client.tokens_fetched(), 2);
  RegistryClient puller = registry->Client();
  ExpectServed(puller, busybox);
  ExpectServed(puller, multiarch);

  // A token for one repository does not open another.
  ASSERT_OK_AND_ASSIGN(HttpResponse other_repo,
                       SendHttp({.url = base + "/v2/berth-test/multiarch/manifests/latest",
                                 .headers = {"Authorization: Bearer " + token,
                                             absl::StrCat("Accept: ", kOciIndex)}}));
  EXPECT_EQ(other_repo.status, 401);
  EXPECT_TRUE(absl::StrContains(other_repo.Header("www-authenticate"), "repository:berth-test/multiarch:pull"))
      << other_repo.Header("www-authenticate");

  // Without credentials nothing comes through.
  RegistryClient anonymous_client = registry->AnonymousClient();
  auto refused = anonymous_client.GetManifest(busybox.repository, "latest", kOciManifest);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << refused.status();
  EXPECT_FALSE(PushTestImage(anonymous_client, busybox).ok());

  // The token server saw the scopes the registry asked for.
  bool saw_push_scope = false;
  int refused_requests = 0;
  for (const TokenRequest& r : registry->token_requests()) {
    EXPECT_EQ(r.service, registry->token_service());
    if (!r.authenticated) ++refused_requests;
    for (const auto& scope : r.scopes) {
      if (scope == "repository:berth-test/busybox:pull,push" && r.authenticated && r.status == 200) {
        saw_push_scope = true;
      }
    }
  }
  EXPECT_TRUE(saw_push_scope);
  EXPECT_GE(refused_requests, 4);
}

TEST_F(RegistryTest, TokenRegistryAcceptsLibtrustKeyIds) {
  TestRegistry* registry = StartRegistry({.auth = RegistryAuth::kToken, .key_hint = TokenKeyHint::kKeyId});
  ASSERT_NE(registry, nullptr);
  ASSERT_OK_AND_ASSIGN(TestImage busybox, BusyboxImage(ManifestFormat::kDocker));
  RegistryClient client = registry->Client();
  auto digest = PushTestImage(client, busybox);
  ASSERT_TRUE(digest.ok()) << digest.status() << "\n" << registry->Log();
  ExpectServed(client, busybox);
}

TEST_F(RegistryTest, TokenRegistryWithAnonymousPull) {
  TestRegistry* registry = StartRegistry({.auth = RegistryAuth::kToken, .anonymous_pull = true});
  ASSERT_NE(registry, nullptr);
  ASSERT_OK_AND_ASSIGN(TestImage busybox, BusyboxImage());
  RegistryClient pusher = registry->Client();
  ASSERT_TRUE(PushTestImage(pusher, busybox).ok());
  RegistryClient anonymous_client = registry->AnonymousClient();
  ExpectServed(anonymous_client, busybox);
  ASSERT_OK_AND_ASSIGN(TestImage other, ZstdImage());
  EXPECT_FALSE(PushTestImage(anonymous_client, other).ok()) << "anonymous tokens carry pull only";
  // Wrong credentials still fail, even where anonymous pulls work.
  RegistryClient wrong(registry->host_port(), Credentials{"mallory", "x"});
  EXPECT_FALSE(wrong.GetManifest(busybox.repository, "latest", kOciManifest).ok());
}

// ---- the images themselves ----

TEST(TestImagesTest, BuildsAreDeterministic) {
  ASSERT_OK_AND_ASSIGN(std::vector<TarEntry> entries, BusyboxEntries());
  ASSERT_OK_AND_ASSIGN(Layer once, BuildLayer(entries));
  ASSERT_OK_AND_ASSIGN(Layer twice, BuildLayer(entries));
  EXPECT_EQ(once.digest, twice.digest);
  EXPECT_EQ(once.diff_id, twice.diff_id);
  ASSERT_OK_AND_ASSIGN(Layer zstd1, BuildLayer(entries, Compression::kZstd));
  ASSERT_OK_AND_ASSIGN(Layer zstd2, BuildLayer(entries, Compression::kZstd));
  EXPECT_EQ(zstd1.digest, zstd2.digest);
  EXPECT_EQ(zstd1.diff_id, once.diff_id);
  ASSERT_OK_AND_ASSIGN(TestImage a, MultiLayerImage());
  ASSERT_OK_AND_ASSIGN(TestImage b, MultiLayerImage());
  EXPECT_EQ(a.digest(), b.digest());
  // The gzip header carries no timestamp (bytes 4-7).
  ASSERT_GT(once.data.size(), 10u);
  EXPECT_EQ(once.data.substr(4, 4), std::string(4, '\0'));
}

TEST(TestImagesTest, LayersDecompressToTheirDiffIds) {
  ASSERT_OK_AND_ASSIGN(std::vector<TestImage> images, StandardTestImages());
  std::set<std::string> layer_media_types;
  for (const TestImage& image : images) {
    std::vector<const Image*> singles;
    if (const Image* single = std::get_if<Image>(&image.content)) {
      singles.push_back(single);
    } else {
      for (const Image& child : std::get<ImageIndex>(image.content).images) singles.push_back(&child);
    }
    for (const Image* single : singles) {
      auto config = nlohmann::json::parse(single->config.data, nullptr, false);
      ASSERT_TRUE(config.is_object());
      ASSERT_EQ(config["rootfs"]["diff_ids"].size(), single->layers.size());
      EXPECT_EQ(config["architecture"], single->spec.platform.architecture);
      for (size_t i = 0; i < single->layers.size(); ++i) {
        const Layer& layer = single->layers[i];
        layer_media_types.insert(single->LayerMediaType(i));
        EXPECT_EQ(Sha256Digest(layer.data), layer.digest);
        EXPECT_EQ(config["rootfs"]["diff_ids"][i], layer.diff_id);
        ASSERT_OK_AND_ASSIGN(std::string tar, Decompress(layer.data));
        EXPECT_EQ(Sha256Digest(tar), layer.diff_id) << image.repository << " layer " << i;
      }
    }
  }
  EXPECT_EQ(layer_media_types,
            (std::set<std::string>{kOciLayerGzip, kOciLayerTar, kOciLayerZstd, kDockerLayerGzip}));
}

TEST(TestImagesTest, ConfigsCarryTheirUsers) {
  ASSERT_OK_AND_ASSIGN(std::vector<TestImage> users, UserImages());
  std::map<std::string, std::string> by_tag;
  for (const TestImage& image : users) {
    auto config = nlohmann::json::parse(std::get<Image>(image.content).config.data, nullptr, false);
    by_tag[image.tag] = config["config"]["User"].get<std::string>();
  }
  EXPECT_EQ(by_tag, (std::map<std::string, std::string>{
                        {"1000", "1000"}, {"berth", "berth"}, {"1000-2000", "1000:2000"}}));
}

TEST_F(RegistryTest, CatalogImagesUnpackToWhatTheyPromiseAndRun) {
  if (::geteuid() != 0) GTEST_SKIP() << "unpacking owners and running chroot need root";
  ASSERT_OK_AND_ASSIGN(std::vector<TestImage> images, StandardTestImages());
  const std::string& scratch = Scratch();
  ASSERT_FALSE(scratch.empty());
  for (size_t i = 0; i < images.size(); ++i) {
    const TestImage& image = images[i];
    SCOPED_TRACE(absl::StrCat(image.repository, ":", image.tag));
    std::string rootfs = absl::StrCat(scratch, "/rootfs-", i);
    Status unpacked = ReferenceUnpack(image.HostImage(), rootfs);
    ASSERT_TRUE(unpacked.ok()) << unpacked;
    std::vector<std::string> diffs = CompareRootfs(rootfs, image.expected, image.expected_absent);
    EXPECT_TRUE(diffs.empty()) << absl::StrJoin(diffs, "\n");
    EXPECT_GE(image.expected.size(), 10u);
  }
  // CompareRootfs notices differences.
  std::string busybox_root = absl::StrCat(scratch, "/rootfs-0");
  EXPECT_EQ(CompareRootfs(busybox_root, {File("etc/passwd", "other\n").Mtime(1)}, {"bin"}).size(), 3u)
      << "content, mtime and an unexpected path";

  // busybox runs, as root and as the image's users.
  auto [code, out] = RunCaptured({"/usr/sbin/chroot", busybox_root, "/bin/sh", "-c",
                                  "id -un; ls /bin | wc -l; echo ok > /tmp/x && cat /tmp/x"},
                                 scratch + "/out");
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(absl::StartsWith(out, "root\n")) << out;
  EXPECT_TRUE(absl::EndsWith(out, "ok\n")) << out;
  auto [code2, out2] =
      RunCaptured({"/usr/sbin/chroot", "--userspec=1000:1000", busybox_root, "/bin/id"}, scratch + "/out2");
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_TRUE(absl::StartsWith(out2, "uid=1000(berth) gid=1000(berth)")) << out2;

  // The multi-arch index's host entry is the runnable one.
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].repository != "berth-test/multiarch") continue;
    auto [code3, out3] =
        RunCaptured({"/usr/sbin/chroot", absl::StrCat(scratch, "/rootfs-", i), "/bin/cat", "/platform"},
                                     scratch + "/out3");
    EXPECT_EQ(code3, 0) << out3;
    EXPECT_EQ(out3, HostPlatform().ToString() + "\n");
  }
}

// ---- hostile images ----

TEST_F(RegistryTest, HostileImagesSayWhatTheyTryAndPush) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EscapeSentinels> sentinels, EscapeSentinels::Create());
  const std::string s = sentinels->dir();
  EXPECT_TRUE(absl::StartsWith(s, "/tmp/berth-escape-")) << s;
  ASSERT_OK_AND_ASSIGN(std::vector<HostileImage> hostile, HostileImages(*sentinels));
  ASSERT_GE(hostile.size(), 10u);
  EXPECT_TRUE(sentinels->Violations().empty()) << absl::StrJoin(sentinels->Violations(), "\n");

  std::set<std::string> names;
  std::map<std::string, std::vector<std::string>> entries;
  for (const HostileImage& h : hostile) {
    SCOPED_TRACE(h.name);
    EXPECT_TRUE(names.insert(h.name).second) << "duplicate";
    EXPECT_FALSE(h.what.empty());
    for (const auto& path : h.must_not_exist) EXPECT_TRUE(absl::StartsWith(path, s + "/")) << path;
    for (const auto& path : h.canaries) {
      EXPECT_TRUE(absl::StartsWith(path, s + "/")) << path;
      EXPECT_TRUE(std::filesystem::is_regular_file(path)) << path;
    }
    EXPECT_FALSE(h.must_not_exist.empty() && h.canaries.empty() && h.rootfs_no_devices.empty() &&
                 h.rootfs_must_exist.empty() && !h.must_fail && h.name != "empty-name")
        << "says nothing a test could check";
    const Image& image = std::get<Image>(h.image.content);
    auto read = ReadTarNames(image.layers.back().tar);
    if (h.must_fail) {
      EXPECT_FALSE(read.ok()) << "a malformed layer read cleanly";
    } else {
      ASSERT_TRUE(read.ok()) << read.status();
      entries[h.name] = *read;
    }
  }
  // Names and link targets are in the tar verbatim.
  const std::string up = [] {
    std::string u;
    for (int i = 0; i < 24; ++i) u += "../";
    return u;
  }();
  EXPECT_EQ(entries["absolute-path"], std::vector<std::string>{s + "/absolute-path"});
  EXPECT_EQ(entries["dotdot"], std::vector<std::string>{up + s.substr(1) + "/dotdot"});
  EXPECT_EQ(entries["inner-dotdot"][1], "a/../../" + up + s.substr(1) + "/inner-dotdot");
  EXPECT_EQ(entries["symlink-absolute"][0], "escape -> " + s);
  EXPECT_EQ(entries["hardlink-absolute"][0], "linked link to " + s + "/canary-hardlink-absolute");
  EXPECT_EQ(entries["hardlink-dotdot"][0], "linked link to " + up + s.substr(1) + "/canary-hardlink-dotdot");
  EXPECT_EQ(entries["symlink-chain"][1], "link2 -> /");
  EXPECT_EQ(entries["dir-replaced-by-symlink"][2], "d -> " + s);
  EXPECT_EQ(entries["dot-symlink"][0], ". -> " + s);
  EXPECT_EQ(entries["empty-name"][0], "");
  EXPECT_EQ(entries["whiteout-dotdot"][1], up + s.substr(1) + "/.wh.canary-whiteout");
  EXPECT_EQ(entries["whiteout-parent"][1], "sub/.wh...");

  // They push (a registry does not look inside layers) and come back intact.
  TestRegistry* registry = StartRegistry();
  ASSERT_NE(registry, nullptr);
  RegistryClient client = registry->Client();
  for (const HostileImage& h : hostile) {
    auto digest = PushTestImage(client, h.image);
    ASSERT_TRUE(digest.ok()) << h.name << ": " << digest.status();
    ExpectServed(client, h.image);
  }
  EXPECT_TRUE(sentinels->Violations().empty()) << absl::StrJoin(sentinels->Violations(), "\n");

  // The sentinels notice escapes: a file appearing, a canary linked, rewritten, removed.
  const std::string escaped = hostile[0].must_not_exist[0];
  ASSERT_TRUE(WriteFileAtomically(escaped, "x").ok());
  std::string canary;
  for (const HostileImage& h : hostile) {
    if (!h.canaries.empty()) canary = h.canaries[0];
  }
  ASSERT_FALSE(canary.empty());
  std::string link = Scratch() + "/link";
  ASSERT_EQ(::link(canary.c_str(), link.c_str()), 0);
  std::vector<std::string> violations = sentinels->Violations();
  EXPECT_EQ(violations.size(), 2u) << absl::StrJoin(violations, "\n");
  ::unlink(escaped.c_str());
  ::unlink(link.c_str());
  EXPECT_TRUE(sentinels->Violations().empty());
  ASSERT_TRUE(WriteFileAtomically(canary, "rewritten").ok());
  EXPECT_EQ(sentinels->Violations().size(), 1u);
  ::unlink(canary.c_str());
  EXPECT_EQ(sentinels->Violations().size(), 1u);

  // The directory goes with the sentinels.
  sentinels.reset();
  EXPECT_FALSE(std::filesystem::exists(s));
}

}  // namespace
}  // namespace berth::testing
