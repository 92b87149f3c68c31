#include "core/io/json_fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace zett::json_fields {
namespace {

using ::testing::HasSubstr;

constexpr Where kTop = {"config.json", ""};
constexpr Where kNested = {"tokenizer.json", "model"};

TEST(JsonFieldsTest, AbsentAndNullFieldsTakeTheFallback) {
  const Json object = Json::parse(R"({"a": null})");
  EXPECT_EQ(*Int(object, "a", kTop, 7), 7);
  EXPECT_EQ(*Int(object, "b", kTop, 8), 8);
  EXPECT_EQ(*Bool(object, "a", kTop, true), true);
  EXPECT_EQ(*Double(object, "a", kTop, 0.5), 0.5);
  EXPECT_EQ(*String(object, "a", kTop, "x"), "x");
  EXPECT_FALSE(OptionalInt(object, "a", kTop)->has_value());
  EXPECT_FALSE(OptionalString(object, "b", kTop)->has_value());
  EXPECT_TRUE(StringList(object, "a", kTop)->empty());
}

TEST(JsonFieldsTest, ReadsPresentValues) {
  const Json object =
      Json::parse(R"({"i": 3, "d": 2, "b": false, "s": "t", "l": ["x", "y"], "o": 4})");
  EXPECT_EQ(*Int(object, "i", kTop), 3);
  EXPECT_EQ(*Double(object, "d", kTop), 2.0);  // an integer is a number
  EXPECT_EQ(*Bool(object, "b", kTop, true), false);
  EXPECT_EQ(*String(object, "s", kTop), "t");
  EXPECT_EQ(*StringList(object, "l", kTop), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(**OptionalInt(object, "o", kTop), 4);
}

TEST(JsonFieldsTest, MissingRequiredFieldNamesDocumentAndPath) {
  const auto value = Int(Json::object(), "vocab_size", kNested);
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(value.status().message(), "tokenizer.json: model.vocab_size: missing integer field");
}

TEST(JsonFieldsTest, WrongTypeSaysWhatWasExpectedAndGot) {
  const Json object = Json::parse(R"({"n": 1.5, "l": ["x", 2], "s": 3})");
  EXPECT_EQ(Int(object, "n", kTop).status().message(),
            "config.json: n: expected an integer, got 1.5");
  EXPECT_THAT(std::string(StringList(object, "l", kTop).status().message()),
              HasSubstr("expected a list of strings"));
  EXPECT_THAT(std::string(OptionalString(object, "s", kNested).status().message()),
              HasSubstr("tokenizer.json: model.s: expected a string or null, got 3"));
}

TEST(JsonFieldsTest, LongValuesAreCutInMessages) {
  Json object;
  object["v"] = Json::array();
  for (int i = 0; i < 1000; ++i) object["v"].push_back(i);
  const std::string message(String(object, "v", kTop).status().message());
  EXPECT_LT(message.size(), 140u);
  EXPECT_THAT(message, HasSubstr("..."));
}

TEST(JsonFieldsTest, FindIgnoresNonObjects) {
  EXPECT_EQ(Find(Json::array({1, 2}), "a"), nullptr);
  EXPECT_EQ(Find(Json(3), "a"), nullptr);
}

}  // namespace
}  // namespace zett::json_fields
