#include "streaming/request_cache.h"

#include <gtest/gtest.h>

namespace berth::streaming {
namespace {

using std::chrono::seconds;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  RequestCache::Clock AsClock() {
    return [this] { return now; };
  }
};

TEST(RequestCacheTest, ATokenIsGoodOnce) {
  FakeClock clock;
  RequestCache cache(clock.AsClock());
  auto token = cache.Insert(ExecRequest{.container_id = "c1", .cmd = {"ls"}, .stdout = true});
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_GE(token->size(), 22u);
  auto request = cache.Consume(*token);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(std::get<ExecRequest>(*request).cmd, std::vector<std::string>{"ls"});
  EXPECT_FALSE(cache.Consume(*token).has_value()) << "used";
  EXPECT_FALSE(cache.Consume("made-up").has_value());
}

TEST(RequestCacheTest, ATokenExpiresAfterAMinute) {
  FakeClock clock;
  RequestCache cache(clock.AsClock());
  auto token = cache.Insert(PortForwardRequest{.pod_id = "p1", .ports = {80}});
  ASSERT_TRUE(token.ok());
  clock.now += seconds(60);
  EXPECT_FALSE(cache.Consume(*token).has_value());
  EXPECT_EQ(cache.waiting(), 0u);
}

TEST(RequestCacheTest, AtMostSoManyWait) {
  FakeClock clock;
  RequestCache cache(clock.AsClock(), /*capacity=*/2);
  ASSERT_TRUE(cache.Insert(AttachRequest{.container_id = "a"}).ok());
  ASSERT_TRUE(cache.Insert(AttachRequest{.container_id = "b"}).ok());
  auto third = cache.Insert(AttachRequest{.container_id = "c"});
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  clock.now += seconds(61);
  EXPECT_TRUE(cache.Insert(AttachRequest{.container_id = "c"}).ok()) << "the expired ones make room";
}

}  // namespace
}  // namespace berth::streaming
