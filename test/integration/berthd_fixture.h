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
// >= 0) becomes fd 3 of the child; extra_env (NAME=value) is added to ours.
pid_t SpawnLogged(const std::string& path, const std::vector<std::string>& args, const std::string& log_path,
                  int ready_fd = -1, const std::vector<std::string>& extra_env = {});
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
  // Every berthd started from now on (StartBerthd, RunBerthdToExit) dies at the
  // fault point of this name (base/fault_point.h); empty disarms.
  void ArmFaultPoint(const std::string& name) { fault_point_ = name; }
  // Waits for the running berthd to die at the armed fault point, fails the test if it
  // ends any other way, and disarms the point.
  void AwaitFaultPointDeath();
  // Starts berthd as StartBerthd last did, armed with a point of its start-up, and
  // waits for it to die there.
  void StartBerthdToFaultPoint();
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
  std::string fault_point_;
  std::vector<std::string> last_extra_flags_;
  std::vector<std::string> BerthdEnv() const;
  std::unique_ptr<cri::CriClient> client_;
};

}  // namespace berth::testing
