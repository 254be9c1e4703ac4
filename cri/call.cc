#include "cri/call.h"

#include <chrono>
#include <exception>

#include "base/log.h"
#include "base/metrics.h"

namespace berth::cri {
namespace {

// The ids a request names, for the log line: the fields kubelet's requests use to
// point at a pod, a container or an image.
void AppendRequestIds(const google::protobuf::Message& request, LogLine& line) {
  const auto* descriptor = request.GetDescriptor();
  const auto* reflection = request.GetReflection();
  for (const char* field_name : {"pod_sandbox_id", "container_id"}) {
    const auto* field = descriptor->FindFieldByName(field_name);
    if (field != nullptr && field->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
        !field->is_repeated()) {
      std::string value = reflection->GetString(request, field);
      if (!value.empty()) line << Kv(field_name, value);
    }
  }
  const auto* image = descriptor->FindFieldByName("image");
  if (image != nullptr && image->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
      !image->is_repeated() && reflection->HasField(request, image)) {
    const auto& spec = reflection->GetMessage(request, image);
    const auto* name = spec.GetDescriptor()->FindFieldByName("image");
    if (name != nullptr && name->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
      line << Kv("image", spec.GetReflection()->GetString(spec, name));
    }
  }
}

// gRPC's name of a code, as grpc-go's and kubelet's metrics spell it.
const char* CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "Canceled";
    case StatusCode::kUnknown: return "Unknown";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kDeadlineExceeded: return "DeadlineExceeded";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kPermissionDenied: return "PermissionDenied";
    case StatusCode::kResourceExhausted: return "ResourceExhausted";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kAborted: return "Aborted";
    case StatusCode::kOutOfRange: return "OutOfRange";
    case StatusCode::kUnimplemented: return "Unimplemented";
    case StatusCode::kInternal: return "Internal";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kDataLoss: return "DataLoss";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
    default: return "Unknown";
  }
}

// Every call, counted by RPC and answer, and timed by RPC.
void RecordCall(absl::string_view rpc, StatusCode code, double seconds) {
  static auto& requests = prometheus::BuildCounter()
                              .Name("berth_cri_requests_total")
                              .Help("CRI requests served, by RPC and gRPC status code.")
                              .Register(metrics::Registry());
  static auto& durations = prometheus::BuildHistogram()
                               .Name("berth_cri_request_duration_seconds")
                               .Help("Time to serve a CRI request, by RPC.")
                               .Register(metrics::Registry());
  const std::string method(rpc);
  requests.Add({{"method", method}, {"code", CodeName(code)}}).Increment();
  // An event subscription lasts as long as its client (hours): not a latency.
  if (rpc != "GetContainerEvents") {
    durations.Add({{"method", method}}, metrics::LatencyBuckets()).Observe(seconds);
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status Serve(absl::string_view rpc, grpc::ServerContext* /*context*/,
                   const google::protobuf::Message& request, absl::FunctionRef<Status()> handler) {
  auto start = std::chrono::steady_clock::now();
  Status status;
  try {
    status = handler();
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat(rpc, " failed unexpectedly: ", e.what()));
  } catch (...) {
    status = absl::InternalError(absl::StrCat(rpc, " failed unexpectedly"));
  }
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start).count();
  RecordCall(rpc, status.code(), static_cast<double>(micros) / 1e6);
  // Lookups that miss and not-yet-implemented calls are routine for a CRI client;
  // only server-side faults are errors.
  LogLevel level = LogLevel::kDebug;
  if (!status.ok()) {
    switch (status.code()) {
      case StatusCode::kInternal:
      case StatusCode::kUnknown:
      case StatusCode::kDataLoss: level = LogLevel::kError; break;
      case StatusCode::kNotFound:
      case StatusCode::kUnimplemented: level = LogLevel::kDebug; break;
      default: level = LogLevel::kInfo; break;
    }
  }
  if (LogEnabled(level)) {
    LogLine line(level);
    line << (status.ok() ? "rpc done" : "rpc failed") << Kv("rpc", rpc);
    AppendRequestIds(request, line);
    line << Kv("us", micros);
    if (!status.ok()) line << status;
  }
  return ToGrpcStatus(status);
}

}  // namespace berth::cri
