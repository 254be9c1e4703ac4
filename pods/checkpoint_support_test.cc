#include "pods/checkpoint_support.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

TEST(CriuCheckVerdictTest, SaysWhyCheckpointsCannotWork) {
  Status absent = CriuCheckVerdict("criu", false, -1, "");
  EXPECT_EQ(absent.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(absent.message().find("not installed"), absl::string_view::npos) << absent;

  // What Debian's CRIU 3.17 prints on kernel 6.18.
  Status broken = CriuCheckVerdict("/usr/sbin/criu", true, 1,
                                   "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n"
                                   "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed\n");
  EXPECT_EQ(broken.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(broken.message().find("cannot work on this host"), absl::string_view::npos) << broken;
  EXPECT_NE(broken.message().find("Failed to fill self vdso symtable"), absl::string_view::npos) << broken;

  EXPECT_EQ(CriuCheckVerdict("criu", true, 3, "no words\n").message().find("exit code 3") != std::string::npos,
            true);
  EXPECT_TRUE(CriuCheckVerdict("criu", true, 0, "Looks good.\n").ok());
}

TEST(CheckpointSupportTest, MissingBinaryIsAVerdictNotACrash) {
  CheckpointSupport support("/nonexistent/criu");
  Status verdict = support.Available();
  EXPECT_EQ(verdict.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(support.Available(), verdict) << "checked once";
}

}  // namespace
}  // namespace berth::pods
