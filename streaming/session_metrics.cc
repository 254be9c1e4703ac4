#include "streaming/session_metrics.h"

#include "base/metrics.h"

namespace berth::streaming {
namespace {

prometheus::Family<prometheus::Gauge>& Active() {
  static auto& family = prometheus::BuildGauge()
                            .Name("berth_streaming_sessions_active")
                            .Help("Streaming sessions open now, by kind (exec, attach, port_forward).")
                            .Register(metrics::Registry());
  return family;
}

prometheus::Family<prometheus::Counter>& Started() {
  static auto& family = prometheus::BuildCounter()
                            .Name("berth_streaming_sessions_total")
                            .Help("Streaming sessions started, by kind (exec, attach, port_forward).")
                            .Register(metrics::Registry());
  return family;
}

}  // namespace

SessionCount::SessionCount(std::string kind) : kind_(std::move(kind)) {
  Started().Add({{"kind", kind_}}).Increment();
  Active().Add({{"kind", kind_}}).Increment();
}

SessionCount::~SessionCount() { Active().Add({{"kind", kind_}}).Decrement(); }

}  // namespace berth::streaming
