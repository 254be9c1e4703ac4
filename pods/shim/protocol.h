// What berthd and berth-shim say to each other, written once for both sides: the
// shim's command line, its ready reply on fd 3, the exit record it leaves behind and
// the commands its control FIFO takes.
//
// Shims outlive berthd: one started by an older berthd still runs after an upgrade,
// and the new berthd reads what it writes. So every reader here accepts what each
// earlier protocol version wrote (version 0 wrote exit records without a version),
// and kProtocolVersion goes up whenever a writer changes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::pods::shim {

inline constexpr int kProtocolVersion = 1;
// The fd the shim reports on; berthd reads it until it closes.
inline constexpr int kReadyFd = 3;

// A container's shim: where its runtime, bundle, log and state files are.
struct ShimOptions {
  std::string id;
  std::string bundle;
  std::string runtime;       // the OCI runtime binary
  std::string runtime_root;  // its --root
  std::string log;           // the CRI log file (/dev/null when kubelet gave none)
  std::string exit_file;
  std::string control;       // the control FIFO
  std::string oom_file;      // memory.oom_control (v1) or memory.events (v2); may be empty
  std::string runtime_log;   // where the runtime logs (JSON); may be empty
  bool tty = false;          // the container gets a terminal, logged as stdout
  bool stdin = false;        // the container's stdin is a pipe the shim holds open
  bool stdin_once = false;   // the first attacher to close stdin closes the container's
  std::string attach;        // the attach socket; empty from a berthd before attach
  // Restore instead of create: the runtime's `restore` from these CRIU images (with
  // that CRIU and work dir), so the container resumes where its checkpoint stopped.
  std::string restore_images;
  std::string restore_work;
  std::string criu;
  bool tcp_established = false;  // restore the TCP connections the checkpoint kept

  // The command line, shim binary first.
  std::vector<std::string> ToArgv(const std::string& shim_binary) const;
};

// Reads a container shim's arguments (without the program name). INVALID_ARGUMENT
// naming an unknown flag, one without its value, or a required one missing.
StatusOr<ShimOptions> ParseShimArgs(const std::vector<std::string>& args);

// A pod's shared-PID-namespace init: `SHIM --pod-init POD_DIR [USERNS_PATH]`. It writes its pid
// to PodInitPidFile(POD_DIR), so that a pod whose record was never written can
// still be cleaned up, and names itself kPodInitName.
// userns_path: the pod's user namespace, joined before the PID namespace is made
// (so that it owns it); empty for none.
std::vector<std::string> PodInitArgv(const std::string& shim_binary, const std::string& pod_dir,
                                     const std::string& userns_path);
std::string PodInitPidFile(const std::string& pod_dir);
inline constexpr char kPodInitName[] = "berth-pod-init";

// The ready reply: "OK <pid>" once the container (or pod init) exists, or
// "ERR <message>".
std::string ReadyLine(pid_t pid);
std::string FailedLine(absl::string_view message);
// The pid an OK names; INTERNAL with the shim's message for an ERR, or for anything
// else (a shim that died before it answered).
StatusOr<pid_t> ParseReadyReply(absl::string_view reply);

// How the container's init ended, as the shim records it in its exit file.
struct ExitRecord {
  int exit_code = -1;       // 128+n when killed by signal n
  int64_t finished_at = 0;  // unix nanoseconds
  bool oom_killed = false;
};
std::string SerializeExitRecord(const ExitRecord& record);
StatusOr<ExitRecord> ParseExitRecord(absl::string_view text);

// Commands on the control FIFO, one per line.
enum class ControlCommand { kReopenLog };
std::string ControlLine(ControlCommand command);
// The commands in what was read from the FIFO; unknown lines are skipped (a newer
// berthd may send more than this shim knows).
std::vector<ControlCommand> ParseControl(absl::string_view bytes);

// Attach: a connection to the shim's attach socket carries frames both ways,
// [kind:1][length:4, big-endian][payload]: the container's output to every
// attacher, and from an attacher stdin, the end of its stdin, and terminal sizes.
enum class AttachFrame : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kCloseStdin = 3, kResize = 4 };

std::string EncodeAttachFrame(AttachFrame kind, absl::string_view payload);
// A resize payload: width and height, 16 bits each, big-endian.
std::string EncodeTerminalSize(uint16_t width, uint16_t height);
bool DecodeTerminalSize(absl::string_view payload, uint16_t* width, uint16_t* height);

// Frames out of the bytes of a connection, as they arrive.
class AttachFrameReader {
 public:
  void Feed(absl::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }
  // The next whole frame, if one has arrived; nullopt for a frame over 1 MiB too
  // (with bad() set: the connection is not a berth one).
  std::optional<std::pair<AttachFrame, std::string>> Next();
  bool bad() const { return bad_; }

 private:
  std::string buffer_;
  bool bad_ = false;
};

}  // namespace berth::pods::shim
