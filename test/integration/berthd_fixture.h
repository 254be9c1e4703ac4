// A real berthd for integration tests: started as root on a temporary root, state
// directory, socket and CNI conf dir; stopped at teardown, which then fails the test
// if anything it made is still on the host.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cri/client.h"
#include "test/integration/leak_check.h"

namespace berth::testing {

// How a berthd run ended, for tests of start-up failures.
struct ExitResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string log;     // everything it wrote to stdout and stderr
};

// Spawns path with args; stdout and stderr are appended to log_path; ready_fd (if
// >= 0) becomes fd 3 of the child.
pid_t SpawnLogged(const std::string& path, const std::vector<std::string>& args, const std::string& log_path,
                  int ready_fd = -1);
// Waits for the child pid to exit, up to timeout, watching a pidfd; kills it (and
// fails the test) after that. Reaps it.
ExitResult WaitForChildExit(pid_t pid, std::chrono::milliseconds timeout);

class BerthdFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts berthd with the fixture's dirs plus extra flags, and waits until it says
  // READY on its ready fd (or fails the test with its log if it exits first).
  void StartBerthd(const std::vector<std::string>& extra_flags = {});
  // Runs berthd with exactly these flags and waits for it to exit; for refusals.
  ExitResult RunBerthdToExit(const std::vector<std::string>& flags);
  // Sends sig and waits for the exit; returns how it ended.
  ExitResult StopBerthd(int sig = SIGTERM);
  // Runs berthctl against the fixture's socket; returns exit code and output.
  ExitResult RunBerthctl(const std::vector<std::string>& args);

  // Undoes what the test made on the host outside berth on purpose (a CNI bridge,
  // say); runs after berthd stopped and before the leak check.
  virtual void CleanUpHost() {}
  // Removes the loopback-only network SetUp installs, leaving no network config.
  void RemoveDefaultNetwork();

  // The flags that point berthd at this fixture's dirs.
  std::vector<std::string> DirFlags() const;
  cri::CriClient& client();
  static std::unique_ptr<grpc::ClientContext> Ctx() {
    return cri::CriClient::Context(std::chrono::seconds(30));
  }

  std::string dir_;       // the test's own temporary directory
  std::string root_;      // --root
  std::string state_;     // --state-dir
  std::string socket_;    // --socket
  std::string cni_conf_;  // --cni-conf-dir
  std::string cni_bin_;   // --cni-bin-dir
  pid_t berthd_pid_ = -1;
  std::string berthd_log_;

 private:
  HostSnapshot before_;
  std::unique_ptr<cri::CriClient> client_;
};

}  // namespace berth::testing
