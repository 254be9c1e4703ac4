// Printing CRI answers as JSON, YAML or a table (-o json|yaml|table).
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/map.h"
#include "google/protobuf/message.h"

namespace berth::ctl {

enum class OutputFormat { kTable, kJson, kYaml };

// Parses -o's value; false when it is none of the three.
bool ParseOutputFormat(const std::string& name, OutputFormat* format);

// The message as JSON with CRI's lowerCamelCase field names, as crictl prints it.
std::string ToJson(const google::protobuf::Message& message);
// JSON text re-emitted as YAML.
std::string JsonToYaml(const std::string& json);

// A CRI answer whose info map holds JSON documents (verbose status), printed as
// {"status": message, "info": {key: parsed JSON}} the way crictl does.
bool PrintWithInfo(const google::protobuf::Message& status,
                   const google::protobuf::Map<std::string, std::string>& info, OutputFormat format);

// Prints message in format; table is left to the caller (returns false for it).
bool PrintStructured(const google::protobuf::Message& message, OutputFormat format);

// The first 13 characters of an id, as tables show it.
inline std::string ShortId(const std::string& id) { return id.substr(0, 13); }

// A size as crictl prints it: decimal units, three significant digits ("1.46MB").
std::string HumanBytes(uint64_t bytes);

// Prints rows as aligned columns; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Reports a failed RPC on stderr ("berthctl: RPC: CODE: message") and returns exit 1.
int ReportRpcError(const std::string& rpc, const grpc::Status& status);

}  // namespace berth::ctl
