#include "pods/shim/protocol.h"

#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace berth::pods::shim {
namespace {

constexpr char kReopenLogCommand[] = "reopen";

}  // namespace

std::vector<std::string> ShimOptions::ToArgv(const std::string& shim_binary) const {
  std::vector<std::string> argv = {shim_binary, "--id", id, "--bundle", bundle, "--runtime", runtime,
                                   "--runtime-root", runtime_root, "--log", log, "--exit-file", exit_file,
                                   "--control", control};
  if (!oom_file.empty()) argv.insert(argv.end(), {"--oom-file", oom_file});
  if (!runtime_log.empty()) argv.insert(argv.end(), {"--runtime-log", runtime_log});
  if (!attach.empty()) argv.insert(argv.end(), {"--attach", attach});
  if (!restore_images.empty()) {
    argv.insert(argv.end(), {"--restore-images", restore_images, "--restore-work", restore_work});
  }
  if (!criu.empty()) argv.insert(argv.end(), {"--criu", criu});
  if (tcp_established) argv.push_back("--tcp-established");
  if (tty) argv.push_back("--tty");
  if (stdin) argv.push_back("--stdin");
  if (stdin_once) argv.push_back("--stdin-once");
  return argv;
}

StatusOr<ShimOptions> ParseShimArgs(const std::vector<std::string>& args) {
  ShimOptions o;
  const std::map<std::string, std::string*> values = {
      {"--id", &o.id},           {"--bundle", &o.bundle},       {"--runtime", &o.runtime},
      {"--runtime-root", &o.runtime_root}, {"--log", &o.log},   {"--exit-file", &o.exit_file},
      {"--control", &o.control}, {"--oom-file", &o.oom_file},   {"--runtime-log", &o.runtime_log},
      {"--attach", &o.attach}, {"--restore-images", &o.restore_images}, {"--restore-work", &o.restore_work},
      {"--criu", &o.criu}};
  const std::map<std::string, bool*> switches = {{"--tty", &o.tty},
                                                 {"--stdin", &o.stdin},
                                                 {"--stdin-once", &o.stdin_once},
                                                 {"--tcp-established", &o.tcp_established}};
  for (size_t i = 0; i < args.size(); ++i) {
    if (auto value = values.find(args[i]); value != values.end()) {
      if (i + 1 == args.size()) return absl::InvalidArgumentError(absl::StrCat(args[i], " needs a value"));
      *value->second = args[++i];
    } else if (auto flag = switches.find(args[i]); flag != switches.end()) {
      *flag->second = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument ", args[i]));
    }
  }
  for (const auto& [name, value] : values) {
    bool optional = name == "--oom-file" || name == "--runtime-log" || name == "--attach" ||
                    name == "--restore-images" || name == "--restore-work" || name == "--criu";
    if (!optional && value->empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  }
  if (o.restore_images.empty() != o.restore_work.empty()) {
    return absl::InvalidArgumentError("--restore-images and --restore-work go together");
  }
  return o;
}

std::vector<std::string> PodInitArgv(const std::string& shim_binary, const std::string& pod_dir,
                                     const std::string& userns_path) {
  if (userns_path.empty()) return {shim_binary, "--pod-init", pod_dir};
  return {shim_binary, "--pod-init", pod_dir, userns_path};
}

std::string PodInitPidFile(const std::string& pod_dir) { return pod_dir + "/init.pid"; }

std::string ReadyLine(pid_t pid) { return absl::StrCat("OK ", pid); }

std::string FailedLine(absl::string_view message) { return absl::StrCat("ERR ", message); }

StatusOr<pid_t> ParseReadyReply(absl::string_view reply) {
  reply = absl::StripAsciiWhitespace(reply);
  if (absl::ConsumePrefix(&reply, "ERR ")) return absl::InternalError(std::string(reply));
  pid_t pid = 0;
  if (!absl::ConsumePrefix(&reply, "OK ") || !absl::SimpleAtoi(reply, &pid) || pid <= 0) {
    return absl::InternalError(reply.empty() ? std::string("the shim exited without answering")
                                             : absl::StrCat("the shim answered \"", reply, "\""));
  }
  return pid;
}

std::string SerializeExitRecord(const ExitRecord& record) {
  nlohmann::json doc = {{"version", kProtocolVersion},
                        {"exit_code", record.exit_code},
                        {"finished_at", record.finished_at},
                        {"oom_killed", record.oom_killed}};
  return doc.dump() + "\n";
}

StatusOr<ExitRecord> ParseExitRecord(absl::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return absl::DataLossError("exit record is not a JSON object");
  auto field = [&](const char* key) -> const nlohmann::json* {
    auto it = doc.find(key);
    return it == doc.end() ? nullptr : &*it;
  };
  const nlohmann::json* code = field("exit_code");
  const nlohmann::json* finished = field("finished_at");
  if (code == nullptr || !code->is_number_integer() || finished == nullptr || !finished->is_number_integer()) {
    return absl::DataLossError("exit record lacks exit_code or finished_at");
  }
  ExitRecord record;
  record.exit_code = code->get<int>();
  record.finished_at = finished->get<int64_t>();
  const nlohmann::json* oom = field("oom_killed");
  record.oom_killed = oom != nullptr && oom->is_boolean() && oom->get<bool>();
  return record;
}

std::string ControlLine(ControlCommand command) {
  switch (command) {
    case ControlCommand::kReopenLog:
      return absl::StrCat(kReopenLogCommand, "\n");
  }
  return "\n";
}

std::vector<ControlCommand> ParseControl(absl::string_view bytes) {
  std::vector<ControlCommand> commands;
  for (absl::string_view line : absl::StrSplit(bytes, '\n', absl::SkipWhitespace())) {
    if (absl::StripAsciiWhitespace(line) == kReopenLogCommand) commands.push_back(ControlCommand::kReopenLog);
  }
  return commands;
}

namespace {

constexpr size_t kMaxAttachFrame = 1 << 20;

}  // namespace

std::string EncodeAttachFrame(AttachFrame kind, absl::string_view payload) {
  std::string frame;
  frame.reserve(5 + payload.size());
  frame.push_back(static_cast<char>(kind));
  const uint32_t length = static_cast<uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((length >> shift) & 0xff));
  frame.append(payload.data(), payload.size());
  return frame;
}

std::string EncodeTerminalSize(uint16_t width, uint16_t height) {
  return {static_cast<char>(width >> 8), static_cast<char>(width & 0xff), static_cast<char>(height >> 8),
          static_cast<char>(height & 0xff)};
}

bool DecodeTerminalSize(absl::string_view payload, uint16_t* width, uint16_t* height) {
  if (payload.size() != 4) return false;
  auto byte = [&](size_t i) { return static_cast<uint16_t>(static_cast<uint8_t>(payload[i])); };
  *width = static_cast<uint16_t>(byte(0) << 8 | byte(1));
  *height = static_cast<uint16_t>(byte(2) << 8 | byte(3));
  return true;
}

std::optional<std::pair<AttachFrame, std::string>> AttachFrameReader::Next() {
  if (bad_ || buffer_.size() < 5) return std::nullopt;
  uint32_t length = 0;
  for (size_t i = 1; i < 5; ++i) length = (length << 8) | static_cast<uint8_t>(buffer_[i]);
  const auto kind = static_cast<uint8_t>(buffer_[0]);
  if (length > kMaxAttachFrame || kind > static_cast<uint8_t>(AttachFrame::kResize)) {
    bad_ = true;
    return std::nullopt;
  }
  if (buffer_.size() < 5 + length) return std::nullopt;
  std::pair<AttachFrame, std::string> frame{static_cast<AttachFrame>(kind), buffer_.substr(5, length)};
  buffer_.erase(0, 5 + length);
  return frame;
}

}  // namespace berth::pods::shim
