#include "runtime/cli_args.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

const FlagSpec kExec = {{{"-p", "process"}, {"-d", "detach"}, {"-e", "env"}},
                        {"process", "pid-file", "env"},
                        {"detach"}};

TEST(CliArgsTest, FlagsInEveryFormRuncTakes) {
  auto args = ParseArgs({"--process=/p.json", "-d", "--pid-file", "/pid", "-e", "A=1", "--env", "B=2", "ctr"}, kExec);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("process"), "/p.json");
  EXPECT_TRUE(args->Has("detach"));
  EXPECT_EQ(args->Get("pid-file"), "/pid");
  EXPECT_EQ(args->repeated.count("env"), 2u);
  EXPECT_EQ(args->positional, std::vector<std::string>{"ctr"});
}

TEST(CliArgsTest, FlagsEndAtTheId) {
  auto args = ParseArgs({"ctr", "sh", "-c", "--detach"}, kExec);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_FALSE(args->Has("detach")) << "the command's own flags are the command's";
  EXPECT_EQ(args->positional, (std::vector<std::string>{"ctr", "sh", "-c", "--detach"}));
  args = ParseArgs({"--", "-ctr"}, kExec);
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->positional, std::vector<std::string>{"-ctr"});
}

TEST(CliArgsTest, MistakesAreNamed) {
  EXPECT_EQ(ParseArgs({"--bogus", "ctr"}, kExec).status().message(), "unknown flag --bogus");
  EXPECT_EQ(ParseArgs({"--pid-file"}, kExec).status().message(), "flag --pid-file needs a value");
}

}  // namespace
}  // namespace berth::runtime
