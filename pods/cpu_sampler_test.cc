#include "pods/cpu_sampler.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/file_util.h"

namespace berth::pods {
namespace {

TEST(CpuSamplerRate, IsCpuNanosPerSecond) {
  // 0.5 s of CPU over 2 s: a quarter of a core.
  auto rate = CpuSampler::Rate({1000000000, 1000}, {3000000000, 1000 + 500000000});
  ASSERT_TRUE(rate.has_value());
  EXPECT_EQ(*rate, 250000000u);
}

TEST(CpuSamplerRate, NoneWhenTimeStandsOrTheCounterWentBack) {
  EXPECT_FALSE(CpuSampler::Rate({5, 100}, {5, 200}).has_value());
  EXPECT_FALSE(CpuSampler::Rate({5, 300}, {10, 200}).has_value());
}

TEST(CpuSampler, RatesNeedTwoSamplesAndForgetWhatIsNoLongerNamed) {
  char tmpl[] = "/tmp/berth-sampler-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  ASSERT_TRUE(MakeDirs(root + "/a").ok());
  ASSERT_TRUE(WriteFileAtomically(root + "/a/cpu.stat", "usage_usec 1000\n").ok());
  cgroups::Layout layout;
  layout.mode = cgroups::Mode::kUnified;
  layout.root = root;
  std::vector<std::string> named = {"/a"};
  std::mutex mu;
  // No thread: the test takes the samples itself.
  CpuSampler sampler(layout, std::chrono::milliseconds(0), [&] {
    std::lock_guard<std::mutex> lock(mu);
    return named;
  });
  sampler.SampleOnce();
  ASSERT_TRUE(WriteFileAtomically(root + "/a/cpu.stat", "usage_usec 2000000\n").ok());
  sampler.SampleOnce();
  auto rate = sampler.NanoCores("/a");
  ASSERT_TRUE(rate.has_value());
  EXPECT_GT(*rate, 0u);
  {
    std::lock_guard<std::mutex> lock(mu);
    named.clear();
  }
  sampler.SampleOnce();
  EXPECT_FALSE(sampler.NanoCores("/a").has_value());
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace berth::pods
