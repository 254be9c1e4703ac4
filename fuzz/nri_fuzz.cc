// What an NRI plugin sends berthd, fed in arbitrary pieces: mux frames carrying
// ttrpc messages, whose Requests and Responses are parsed, and the adjustments a
// CreateContainer reply may carry, merged as berthd merges them.
#include <cstddef>
#include <cstdint>
#include <map>

#include <google/protobuf/stubs/logging.h>

#include "nri/adjustment.h"
#include "nri/mux.h"
#include "nri/proto/ttrpc.pb.h"
#include "nri/ttrpc_message.h"

// Invalid UTF-8 in the NRI messages' strings is refused by protobuf with a log line
// per message; the fuzzer makes plenty, and the lines say nothing.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  berth::nri::MuxReader mux;
  std::map<uint32_t, berth::nri::TtrpcMessageReader> streams;
  berth::nri::api::Container container;
  berth::nri::AdjustmentMerger merger(&container);
  int plugin = 0;
  size_t at = 0;
  while (at < size) {
    // The first byte of each piece is its length.
    size_t length = std::min<size_t>(data[at], size - at - 1);
    mux.Feed(std::string_view(reinterpret_cast<const char*>(data) + at + 1, length));
    at += 1 + length;
    for (;;) {
      auto frame = mux.Next();
      if (!frame.ok()) return 0;  // the connection would end here
      if (!frame->has_value()) break;
      if ((*frame)->connection != 1 && (*frame)->connection != 2) continue;
      auto& stream = streams[(*frame)->connection];
      stream.Feed((*frame)->data);
      while (auto message = stream.Next()) {
        berth::ttrpc::Request request;
        berth::ttrpc::Response response;
        (void)request.ParseFromString(message->payload);
        if (response.ParseFromString(message->payload)) {
          berth::nri::api::CreateContainerResponse reply;
          if (reply.ParseFromString(response.payload())) {
            (void)merger.Add("plugin-" + std::to_string(plugin++ % 3), reply.adjust());
          }
        }
      }
    }
  }
  return 0;
}
