// The Stream* forms of the list RPCs send their answer in batches, so each message
// stays far below gRPC's 16 MiB limit however many items there are.
#pragma once

#include <algorithm>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace berth::cri {

inline constexpr size_t kStreamBatch = 500;

// fill(item, batch) adds one item to a response message.
template <typename Response, typename Item, typename Fill>
Status WriteInBatches(const std::vector<Item>& items, grpc::ServerWriter<Response>* writer, const char* rpc,
                      Fill fill) {
  for (size_t i = 0; i < items.size(); i += kStreamBatch) {
    Response batch;
    for (size_t j = i; j < std::min(items.size(), i + kStreamBatch); ++j) fill(items[j], batch);
    if (!writer->Write(batch)) return absl::CancelledError(absl::StrCat(rpc, ": client went away"));
  }
  return absl::OkStatus();
}

}  // namespace berth::cri
