#include "runtime/errors.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(RuntimeErrorsTest, BerthRuntimeKeepsItsCode) {
  Status original = absl::NotFoundError("kill: container does not exist: c1");
  std::string printed = "berth-runtime: " + TagRuntimeError(original) + "\n";
  Status seen = ClassifyRuntimeError("berth", "kill", 1, printed);
  EXPECT_EQ(seen.code(), StatusCode::kNotFound);
  EXPECT_EQ(seen.message(), "berth kill failed (exit 1): kill: container does not exist: c1");
  EXPECT_EQ(ClassifyRuntimeError("berth", "start", 1, TagRuntimeError(absl::FailedPreconditionError("x"))).code(),
            StatusCode::kFailedPrecondition);
  // INTERNAL is not tagged, and stays INTERNAL.
  EXPECT_EQ(TagRuntimeError(absl::InternalError("boom")), "boom");
  EXPECT_EQ(ClassifyRuntimeError("berth", "create", 1, "berth-runtime: boom").code(), StatusCode::kInternal);
}

TEST(RuntimeErrorsTest, RuncAndCrunPhrasesAreMapped) {
  EXPECT_EQ(ClassifyRuntimeError("runc", "kill", 1, "container does not exist").code(), StatusCode::kNotFound);
  EXPECT_EQ(ClassifyRuntimeError("runc", "exec", 255,
                                 "time=\"...\" level=error msg=\"cannot exec in a stopped container\"")
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ClassifyRuntimeError("crun", "create", 1, "warning: x\nwrite: No space left on device").code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(ClassifyRuntimeError("runc", "create", 1, "something else broke").code(), StatusCode::kInternal);
  // Only the last line counts.
  EXPECT_EQ(ClassifyRuntimeError("runc", "delete", 1, "container does not exist\nbut this broke").code(),
            StatusCode::kInternal);
}

}  // namespace
}  // namespace berth::runtime
