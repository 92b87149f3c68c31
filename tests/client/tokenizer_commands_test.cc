// `zett tokenize` / `zett decompose` end to end on files written by the test.
#include "client/cli/tokenizer_commands.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace zett::cli {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/zett_cli_" + name;
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string Read(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

// Byte-level BPE: vocab a b Ġ ab Ġab, merges (a,b) then (Ġ,ab); special </s>.
const char* kTokenizer = R"({
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "Ġ": 2, "ab": 3, "Ġab": 4, "</s>": 5},
            "merges": ["a b", "Ġ ab"]},
  "added_tokens": [{"id": 5, "content": "</s>", "special": true}],
  "post_processor": {"type": "BertProcessing", "cls": ["</s>", 5], "sep": ["</s>", 5]}
})";

TEST(TokenizeCommandTest, OneJsonArrayPerLine) {
  const std::string tok = TempPath("tok.json"), in = TempPath("in.txt"), out = TempPath("out.txt");
  Write(tok, kTokenizer);
  Write(in, "ab ab\nba\n");
  ASSERT_EQ(RunTokenize({"--tokenizer", tok, "--input", in, "--output", out}), 0);
  EXPECT_EQ(Read(out), "[3,4]\n[1,0]\n");
  ASSERT_EQ(
      RunTokenize({"--tokenizer", tok, "--input", in, "--output", out, "--add-special-tokens"}), 0);
  EXPECT_EQ(Read(out), "[5,3,4,5]\n[5,1,0,5]\n");
}

TEST(TokenizeCommandTest, BadArgumentsAndFilesFail) {
  EXPECT_NE(RunTokenize({"--tokenizer"}), 0);
  EXPECT_NE(RunTokenize({"--bogus", "x"}), 0);
  const std::string bad = TempPath("bad.json"), in = TempPath("in2.txt");
  Write(bad, "{\"model\": {\"type\": \"Nope\"}}");
  Write(in, "x\n");
  EXPECT_NE(RunTokenize({"--tokenizer", bad, "--input", in}), 0);
}

TEST(DecomposeCommandTest, WritesVocabularyMatrixAndFlags) {
  const std::string tok = TempPath("tok2.json"), out = TempPath("dec.json");
  Write(tok, kTokenizer);
  ASSERT_EQ(RunDecompose({"--original", tok, "--target", tok, "--max-len", "3", "--output", out}),
            0);
  const nlohmann::json d = nlohmann::json::parse(Read(out));
  const auto& sf = d["surface_forms"];
  ASSERT_EQ(d["ids"].size(), sf.size());
  EXPECT_EQ(d["max_len"], 3);
  EXPECT_EQ(d["pad_id"], 5);  // </s>: no pad token
  // Every byte char is appended, plus whitespace runs: the vocabulary grows past 6.
  EXPECT_GT(sf.size(), 256u);
  for (size_t i = 0; i < sf.size(); ++i) {
    if (sf[i] == "Ġab") EXPECT_EQ(d["ids"][i], nlohmann::json({4, 5, 5}));
    if (sf[i] == "</s>") EXPECT_EQ(d["flags"][i], nlohmann::json({"special"}));
  }
}

}  // namespace
}  // namespace zett::cli
