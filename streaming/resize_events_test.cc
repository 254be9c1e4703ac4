#include "streaming/resize_events.h"

#include <gtest/gtest.h>

namespace berth::streaming {
namespace {

using Sizes = std::vector<TerminalSize>;

TEST(ResizeEventsTest, ReadsEventsCutAnywhere) {
  ResizeEvents events;
  EXPECT_EQ(events.Feed(R"({"Width":80,"Hei)"), Sizes{});
  EXPECT_EQ(events.Feed(R"(ght":24}{"Width":120,"Height":40})"), (Sizes{{80, 24}, {120, 40}}));
}

TEST(ResizeEventsTest, SkipsWhatIsNotAResize) {
  ResizeEvents events;
  // Fields of another type, out of a terminal's range, negative, zero, not JSON:
  // none ends the session, none resizes.
  EXPECT_EQ(events.Feed(R"({"Width":"80","Height":24})"
                        R"({"Width":80.5,"Height":24})"
                        R"({"Width":65536,"Height":24})"
                        R"({"Width":-1,"Height":24})"
                        R"({"Width":0,"Height":24})"
                        R"({"Width":{"x":1},"Height":24})"
                        R"(not json})"
                        R"([80,24]})"
                        R"({"Width":100,"Height":30})"),
            (Sizes{{100, 30}}));
}

TEST(ResizeEventsTest, DropsARunThatNeverClosesAnObject) {
  ResizeEvents events;
  EXPECT_EQ(events.Feed(std::string(5000, '{')), Sizes{});
  EXPECT_EQ(events.Feed(R"({"Width":1,"Height":2})"), (Sizes{{1, 2}}));
}

}  // namespace
}  // namespace berth::streaming
