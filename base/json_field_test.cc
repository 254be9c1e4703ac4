#include "base/json_field.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

using nlohmann::json;

TEST(JsonFieldTest, AFieldOfAnotherTypeReadsAsMissing) {
  json doc = json::parse(R"({"s":"text","n":7,"f":1.5,"b":true,"o":{},"a":["x","y"],"mixed":["x",1]})");
  EXPECT_EQ(JsonString(doc, "s"), "text");
  EXPECT_EQ(JsonString(doc, "n"), "");
  EXPECT_EQ(JsonString(doc, "absent", "fallback"), "fallback");
  EXPECT_EQ(JsonString(json::array({1}), "s"), "");
  EXPECT_EQ(JsonInteger<int>(doc, "n"), 7);
  EXPECT_EQ(JsonInteger<int>(doc, "f"), std::nullopt);
  EXPECT_EQ(JsonInteger<int>(doc, "s"), std::nullopt);
  EXPECT_EQ(JsonInteger<int>(doc, "b"), std::nullopt);
  EXPECT_EQ(JsonStrings(doc, "a"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(JsonStrings(doc, "mixed"), std::nullopt);
  EXPECT_EQ(JsonStrings(doc, "o"), std::nullopt);
  EXPECT_EQ(JsonMember(json("scalar"), "s"), nullptr);
}

TEST(JsonFieldTest, AnIntegerOutOfTheTypesRangeReadsAsMissing) {
  json doc = json::parse(R"({"big":18446744073709551615,"neg":-1,"u16":65535,"over":65536,"min":-9223372036854775808})");
  EXPECT_EQ(JsonInteger<uint16_t>(doc, "u16"), 65535);
  EXPECT_EQ(JsonInteger<uint16_t>(doc, "over"), std::nullopt);
  EXPECT_EQ(JsonInteger<uint16_t>(doc, "neg"), std::nullopt);
  EXPECT_EQ(JsonInteger<int64_t>(doc, "big"), std::nullopt);
  EXPECT_EQ(JsonInteger<uint64_t>(doc, "big"), UINT64_MAX);
  EXPECT_EQ(JsonInteger<int64_t>(doc, "min"), INT64_MIN);
  EXPECT_EQ(JsonInteger<int32_t>(doc, "min"), std::nullopt);
  EXPECT_EQ(JsonInteger<int8_t>(doc, "neg"), -1);
}

}  // namespace
}  // namespace berth
