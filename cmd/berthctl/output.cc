#include "cmd/berthctl/output.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"

namespace berth::ctl {
namespace {

void EmitYaml(const nlohmann::json& value, YAML::Emitter& out) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (auto it = value.begin(); it != value.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      EmitYaml(*it, out);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : value) EmitYaml(item, out);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    out << value.get<std::string>();
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();
  }
}

const char* GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "Canceled";
    case grpc::StatusCode::INVALID_ARGUMENT: return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND: return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS: return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED: return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FailedPrecondition";
    case grpc::StatusCode::ABORTED: return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE: return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED: return "Unimplemented";
    case grpc::StatusCode::INTERNAL: return "Internal";
    case grpc::StatusCode::UNAVAILABLE: return "Unavailable";
    case grpc::StatusCode::DATA_LOSS: return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED: return "Unauthenticated";
    default: return "Unknown";
  }
}

}  // namespace

bool ParseOutputFormat(const std::string& name, OutputFormat* format) {
  if (name == "table") *format = OutputFormat::kTable;
  else if (name == "json") *format = OutputFormat::kJson;
  else if (name == "yaml") *format = OutputFormat::kYaml;
  else return false;
  return true;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string JsonToYaml(const std::string& json) {
  YAML::Emitter out;
  EmitYaml(nlohmann::json::parse(json, nullptr, false), out);
  return std::string(out.c_str()) + "\n";
}

bool PrintStructured(const google::protobuf::Message& message, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson: std::cout << ToJson(message); return true;
    case OutputFormat::kYaml: std::cout << JsonToYaml(ToJson(message)); return true;
    case OutputFormat::kTable: return false;
  }
  return false;
}

bool PrintWithInfo(const google::protobuf::Message& status,
                   const google::protobuf::Map<std::string, std::string>& info, OutputFormat format) {
  if (format == OutputFormat::kTable) return false;
  nlohmann::ordered_json out;
  out["status"] = nlohmann::ordered_json::parse(ToJson(status), nullptr, false);
  nlohmann::ordered_json parsed_info = nlohmann::ordered_json::object();
  for (const auto& [key, value] : info) {
    auto parsed = nlohmann::ordered_json::parse(value, nullptr, false);
    parsed_info[key] = parsed.is_discarded() ? nlohmann::ordered_json(value) : parsed;
  }
  out["info"] = parsed_info;
  std::string json = out.dump(2);
  std::cout << (format == OutputFormat::kJson ? json + "\n" : JsonToYaml(json));
  return true;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    std::cout << line << "\n";
  }
}

int ReportRpcError(const std::string& rpc, const grpc::Status& status) {
  std::cerr << "berthctl: " << rpc << ": " << GrpcCodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
  return 1;
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%dB", bytes) : absl::StrFormat("%.3g%s", value, units[unit]);
}

}  // namespace berth::ctl
