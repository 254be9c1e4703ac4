#include "test/integration/stream_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "base/process.h"
#include "test/integration/go_program.h"

namespace berth::testing {

std::string StreamClient(std::string* missing, bool* no_go) {
  return BuildGoProgram("test/streaming/client", "streamclient", "client-go's executor for the streaming tests", missing,
                        no_go);
}

Forwarder::Forwarder(std::vector<std::string> command, int port) {
  command.insert(command.end(), {"-forward", std::to_string(port)});
  std::vector<char*> argv;
  for (auto& arg : command) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
  UniqueFd in_r(in[0]), out_w(out[1]);
  stdin_ = UniqueFd(in[1]);
  UniqueFd out_r(out[0]);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  out_w.Reset();
  std::string line;
  char c;
  while (::read(out_r.get(), &c, 1) == 1 && c != '\n') line += c;
  local_port_ = std::atoi(line.c_str());
}

Forwarder::~Forwarder() {
  stdin_.Reset();  // its end stops the forwarder
  if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
}

ReadingChild StartReadingUntil(const std::vector<std::string>& argv, const std::string& marker) {
  ReadingChild child;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return child;
  UniqueFd out_w(out[1]);
  child.stdout_pipe = UniqueFd(out[0]);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  child.pid = ::fork();
  if (child.pid == 0) {
    ::dup2(out_w.get(), 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  out_w.Reset();
  char buffer[256];
  while (child.pid > 0 && child.seen.find(marker) == std::string::npos) {
    ssize_t n = ::read(child.stdout_pipe.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    child.seen.append(buffer, static_cast<size_t>(n));
  }
  return child;
}

std::string Exchange(int port, const std::string& data) {
  UniqueFd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return "";
  for (size_t sent = 0; sent < data.size();) {
    ssize_t n = ::write(socket_fd.get(), data.data() + sent, data.size() - sent);
    if (n <= 0) return "";
    sent += static_cast<size_t>(n);
  }
  ::shutdown(socket_fd.get(), SHUT_WR);
  std::string got;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(socket_fd.get(), buffer, sizeof buffer)) > 0) got.append(buffer, static_cast<size_t>(n));
  return got;
}

}  // namespace berth::testing
