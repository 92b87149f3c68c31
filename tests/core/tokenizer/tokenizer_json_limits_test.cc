// tokenizer.json documents built to exhaust the loader: deep nesting and huge added-token ids
// must be refused with INVALID_ARGUMENT, not crash it or size its work.
#include <string>

#include "absl/status/status.h"
#include "core/tokenizer/tokenizer_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/tokenizer_test_util.h"

namespace zett::tokenizer {
namespace {

using testing::BpeModelJson;
using ::testing::HasSubstr;

// A tokenizer.json whose `field` is `depth` Sequences (list key `list`) around `leaf`, built as
// text: building it with nlohmann would itself recurse.
std::string NestedDocument(const std::string& field, const std::string& list,
                           const std::string& leaf, int depth) {
  nlohmann::json base = {{"model", BpeModelJson({"a", "b"}, {{"a", "b"}})}};
  std::string text = base.dump();
  text.pop_back();  // the closing brace
  text += ",\"" + field + "\":";
  for (int i = 0; i < depth; ++i) text += "{\"type\":\"Sequence\",\"" + list + "\":[";
  text += leaf;
  for (int i = 0; i < depth; ++i) text += "]}";
  return text + "}";
}

struct Nesting {
  std::string field, list, leaf;
};

class NestingTest : public ::testing::TestWithParam<Nesting> {};

TEST_P(NestingTest, ShallowSequencesLoad) {
  const Nesting& n = GetParam();
  auto t = LoadTokenizerJson(NestedDocument(n.field, n.list, n.leaf, 3));
  EXPECT_TRUE(t.ok()) << t.status();
}

TEST_P(NestingTest, DeepSequencesAreRefusedWithTheirPath) {
  const Nesting& n = GetParam();
  for (int depth : {65, 20000}) {
    auto t = LoadTokenizerJson(NestedDocument(n.field, n.list, n.leaf, depth));
    if (t.ok()) {
      ADD_FAILURE() << "depth " << depth << " loaded";
      continue;
    }
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(t.status().message()),
                HasSubstr(n.field + "." + n.list + "[0]." + n.list + "[0]."));
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("nested deeper than"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Components, NestingTest,
    ::testing::Values(Nesting{"normalizer", "normalizers", "{\"type\":\"Lowercase\"}"},
                      Nesting{"pre_tokenizer", "pretokenizers", "{\"type\":\"Whitespace\"}"},
                      Nesting{"post_processor", "processors", "{\"type\":\"ByteLevel\"}"}));

// nlohmann's parser and destructor are iterative: depth alone cannot overflow them.
TEST(JsonDepthTest, DeeplyNestedArraysDoNotCrashTheParser) {
  const int depth = 200000;
  std::string text = "{\"model\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
  auto t = LoadTokenizerJson(text);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
}

// A tokenizer.json (3-token model) with one added token "<x>" of id `id`.
std::string WithAddedId(int64_t id) {
  nlohmann::json j = {{"model", BpeModelJson({"a", "b"}, {{"a", "b"}})}};
  j["added_tokens"] = {{{"id", id}, {"content", "<x>"}, {"special", true}}};
  return j.dump();
}

TEST(AddedTokensTest, IdsNearTheVocabularyLoad) {
  for (int64_t id : {3, 4, 100}) {
    auto t = LoadTokenizerJson(WithAddedId(id));
    ASSERT_TRUE(t.ok()) << id << ": " << t.status();
    EXPECT_EQ((*t)->vocab_size(), id + 1);
  }
}

TEST(AddedTokensTest, HugeIdsAreRefusedNamingTokenAndId) {
  for (int64_t id : {5000000LL, 2147483646LL, 2147483647LL}) {
    auto t = LoadTokenizerJson(WithAddedId(id));
    ASSERT_FALSE(t.ok()) << id;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(t.status().message()),
                HasSubstr("added_tokens[0] '<x>': id " + std::to_string(id) + " is out of range"));
  }
}

}  // namespace
}  // namespace zett::tokenizer
