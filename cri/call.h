// The one wrapper every CRI handler runs inside, at the gRPC boundary.
//
// It logs each call with its RPC name and the ids it names, times it, turns berth's
// Status into a grpc::Status (the codes are the same numbers), and stops any stray
// exception from taking the daemon down with it. Nothing else in berth talks
// grpc::Status.
#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"

#include "absl/functional/function_ref.h"
#include "base/status.h"
#include "google/protobuf/message.h"

namespace berth::cri {

grpc::Status Serve(absl::string_view rpc, grpc::ServerContext* context,
                   const google::protobuf::Message& request, absl::FunctionRef<Status()> handler);

// berth's Status as the wire status.
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace berth::cri
