#include "cri/server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "base/file_util.h"
#include "base/log.h"

namespace berth::cri {
namespace {

// kubelet and containerd allow messages this large (big ListContainers answers).
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;

StatusOr<UniqueFd> LockSocket(const std::string& socket_path) {
  std::string lock_path = socket_path + ".lock";
  return LockFileExclusively(lock_path, absl::StrCat("another berthd is already serving on ", socket_path, " (",
                                                     lock_path, " is locked)"));
}

// Removes a socket file nobody listens on. A live listener that is not a berthd (it
// would hold the lock) is left alone, and so is anything that is not a socket.
Status RemoveStaleSocket(const std::string& socket_path) {
  struct stat st;
  if (::lstat(socket_path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("stat ", socket_path));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(socket_path, " exists and is not a socket; refusing to replace it"));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return ErrnoError("socket");
  if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("another process is listening on ", socket_path));
  }
  BERTH_LOG(Info) << "replacing stale socket" << Kv("socket", socket_path);
  if (::unlink(socket_path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("remove stale socket ", socket_path));
  }
  return absl::OkStatus();
}

}  // namespace

CriServer::CriServer(pods::Node& node, std::string socket_path, UniqueFd lock,
                     std::unique_ptr<StreamingBackend> streaming_backend, std::unique_ptr<streaming::Server> streaming)
    : node_(node),
      socket_path_(std::move(socket_path)),
      lock_(std::move(lock)),
      streaming_backend_(std::move(streaming_backend)),
      streaming_(std::move(streaming)),
      runtime_service_(node, *streaming_),
      image_service_(node) {}

StatusOr<std::unique_ptr<CriServer>> CriServer::Start(pods::Node& node,
                                                       const std::string& socket_path) {
  RETURN_IF_ERROR(MakeDirs(std::filesystem::path(socket_path).parent_path().string(), 0711));
  ASSIGN_OR_RETURN(UniqueFd lock, LockSocket(socket_path));
  RETURN_IF_ERROR(RemoveStaleSocket(socket_path));
  auto backend = std::make_unique<StreamingBackend>(node);
  const pods::StreamingConfig& config = node.config().streaming;
  streaming::ServerOptions options;
  options.address = config.address;
  options.port = static_cast<uint16_t>(config.port);
  options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  options.timeouts.drain = std::chrono::seconds(config.drain_timeout_seconds);
  if (!config.tls_cert_file.empty()) {
    options.tls = streaming::TlsFiles{.cert_file = config.tls_cert_file,
                                      .key_file = config.tls_key_file,
                                      .client_ca_file = config.tls_client_ca_file};
  }
  ASSIGN_OR_RETURN(std::unique_ptr<streaming::Server> streaming, streaming::Server::Start(options, backend.get()));
  std::unique_ptr<CriServer> server(
      new CriServer(node, socket_path, std::move(lock), std::move(backend), std::move(streaming)));

  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(&server->runtime_service_);
  builder.RegisterService(&server->image_service_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve gRPC on ", socket_path,
                                               " (see the gRPC error above)"));
  }
  if (!node.config().metrics.address.empty()) {
    ASSIGN_OR_RETURN(server->metrics_, MetricsEndpoint::Start(node.config().metrics.address, node));
  }
  // Root and the group that owns the directory may talk CRI; nobody else.
  if (::chmod(socket_path.c_str(), 0660) != 0) {
    return ErrnoError(absl::StrCat("chmod ", socket_path));
  }
  return server;
}

void CriServer::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Event streams last as long as their clients: ended first, they do not hold the
  // shutdown for its whole grace period.
  node_.lifecycle().events().CloseAll();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  ::unlink(socket_path_.c_str());
}

CriServer::~CriServer() {
  if (server_ != nullptr) Shutdown(std::chrono::milliseconds(0));
}

}  // namespace berth::cri
