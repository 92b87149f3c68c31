// zett byte-level conversion and decomposition on small tokenizers built in code: a GPT-2-style
// byte-level BPE and a Llama-2-style SentencePiece BPE (meta char, byte fallback).
#include "core/tokenizer/decomposition.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/surface_form.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/tokenizer_test_util.h"

namespace zett::tokenizer {
namespace {

using testing::BpeModelJson;
using ::testing::ElementsAre;
using testing::LoadOrDie;

const std::string kG = "\u0120";  // Ġ

// Byte-level BPE with all 256 byte chars, "Ġthe" by merges, special "</s>".
std::unique_ptr<Tokenizer> ByteLevelOriginal() {
  std::vector<std::string> alphabet;
  for (int b = 0; b < 256; ++b) alphabet.push_back(ByteToChar(static_cast<uint8_t>(b)));
  nlohmann::json model = BpeModelJson(alphabet, {{kG, "t"}, {"h", "e"}, {kG + "t", "he"}});
  const int special_id = static_cast<int>(model["vocab"].size());
  model["vocab"]["</s>"] = special_id;
  return LoadOrDie(
      {{"model", model},
       {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
       {"added_tokens", {{{"id", special_id}, {"content", "</s>"}, {"special", true}}}}});
}

// Llama-2-style: Prepend/Replace normalizer, byte_fallback BPE, <s> </s> specials.
std::unique_ptr<Tokenizer> SentencePieceStyle() {
  const std::string m = "\u2581";
  nlohmann::json model = BpeModelJson({"<unk>", "<s>", "</s>", "<0x0A>", "<0x41>", m, "t", "h", "e",
                                       "x", "y", "z", "\u00E9", "A", "a"},
                                      {{m, "t"},
                                       {"h", "e"},
                                       {m + "t", "he"},
                                       {m, m},
                                       {m, "x"},
                                       {m + "x", "y"},
                                       {m + "xy", "z"},
                                       {m, "a"},
                                       {m + "a", m}});
  model["unk_token"] = "<unk>";
  model["byte_fallback"] = true;
  model["fuse_unk"] = true;
  return LoadOrDie({{"model", model},
                    {"normalizer",
                     {{"type", "Sequence"},
                      {"normalizers",
                       {{{"type", "Prepend"}, {"prepend", m}},
                        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", m}}}}}},
                    {"added_tokens",
                     {{{"id", 1}, {"content", "<s>"}, {"special", true}},
                      {{"id", 2}, {"content", "</s>"}, {"special", true}}}}});
}

size_t IndexOf(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) - v.begin();
}

TEST(SurfaceFormTest, SentencePieceTokensBecomeByteChars) {
  auto target = SentencePieceStyle();
  ASSERT_NE(target, nullptr);
  auto converted = ConvertToByteLevel(*target).value();
  const auto& sf = converted.surface_forms;
  EXPECT_EQ(sf[target->TokenToId("\u2581the").value()], kG + "the");
  EXPECT_EQ(sf[target->TokenToId("\u00E9").value()], BytesToByteChars("\u00E9"));
  // <0x0A> becomes Ċ (no other token has it); <0x41> stays because "A" exists.
  EXPECT_EQ(sf[3], ByteToChar('\n'));
  EXPECT_TRUE(converted.flags[3] & kByteFallbackMapped);
  EXPECT_EQ(sf[4], "<0x41>");
  EXPECT_EQ(sf[1], "<s>");
  EXPECT_TRUE(converted.flags[1] & kSpecial);
  // Every byte char is present exactly once after the fill bytes.
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(std::count(sf.begin(), sf.end(), ByteToChar(static_cast<uint8_t>(b))), 1) << b;
  }
  EXPECT_EQ(converted.original_size, target->vocab_size());
}

TEST(SurfaceFormTest, WhitespaceConsistency) {
  auto target = SentencePieceStyle();
  ConversionOptions options;
  options.make_whitespace_consistent = true;
  auto converted = ConvertToByteLevel(*target, options).value();
  // "▁a▁" -> "ĠaĠ": two whitespace chars, not a canonical run: renamed.
  const size_t id = target->TokenToId("\u2581a\u2581").value();
  EXPECT_EQ(converted.surface_forms[id], "<unused_whitespace__" + std::to_string(id) + ">");
  EXPECT_TRUE(converted.flags[id] & kRenamedWhitespace);
  // "▁▁" -> "ĠĠ" is the canonical run Ġ + Ġ×1: kept, and not appended a second time.
  const size_t run = target->TokenToId("\u2581\u2581").value();
  EXPECT_EQ(converted.surface_forms[run], kG + kG);
  EXPECT_EQ(std::count(converted.surface_forms.begin(), converted.surface_forms.end(), kG + kG), 1);
  // Canonical runs c2 + c1*i (i = 1..15) over {Ġ, Ċ, ĉ}: 135, all appended.
  EXPECT_LT(IndexOf(converted.surface_forms, kG + kG + kG), converted.surface_forms.size());
  EXPECT_LT(IndexOf(converted.surface_forms, ByteToChar('\t') + std::string(kG) + kG),
            converted.surface_forms.size());
}

TEST(SurfaceFormTest, TokenListKinds) {
  EXPECT_EQ(TokenToByteLevel("\u2581hi", TokenKind::kSentencePiece), kG + "hi");
  EXPECT_EQ(TokenToByteLevel("<0x0A>", TokenKind::kSentencePiece), ByteToChar('\n'));
  EXPECT_EQ(TokenToByteLevel("##ing", TokenKind::kWordPiece), "ing");
  EXPECT_EQ(TokenToByteLevel("word", TokenKind::kWordPiece), kG + "word");
  EXPECT_EQ(TokenToByteLevel(" a\n", TokenKind::kPlainText), kG + "a" + ByteToChar('\n'));
  EXPECT_EQ(TokenToByteLevel(kG + "x", TokenKind::kByteLevel), kG + "x");
}

TEST(DecompositionTest, RowsAreOriginalModelSplitsOfSurfaceForms) {
  auto original = ByteLevelOriginal();
  auto target = SentencePieceStyle();
  ASSERT_NE(original, nullptr);
  ASSERT_NE(target, nullptr);
  DecomposeOptions options;
  options.max_len = 3;
  auto d = Decompose(*original, *target, options).value();
  ASSERT_EQ(d.ids.size(), d.surface_forms.size() * 3);
  EXPECT_EQ(d.pad_id, original->TokenToId("</s>").value());  // no pad token: eos
  auto row = [&](const std::string& sf) {
    const size_t i = IndexOf(d.surface_forms, sf);
    EXPECT_LT(i, d.surface_forms.size()) << sf;
    return std::vector<int32_t>(d.ids.begin() + i * 3, d.ids.begin() + i * 3 + 3);
  };
  const int32_t pad = d.pad_id;
  const int32_t the = original->TokenToId(kG + "the").value();
  EXPECT_THAT(row(kG + "the"), ElementsAre(the, pad, pad));
  const std::string e_acute = BytesToByteChars("\u00E9");  // "Ã©": no merge in the original
  EXPECT_THAT(row(e_acute), ElementsAre(original->TokenToId("\u00C3").value(),
                                        original->TokenToId("\u00A9").value(), pad));
  // "Ġxyz" needs 4 original ids: truncated to 3 and flagged.
  const size_t xyz = IndexOf(d.surface_forms, kG + "xyz");
  EXPECT_THAT(row(kG + "xyz"),
              ElementsAre(original->TokenToId(kG).value(), original->TokenToId("x").value(),
                          original->TokenToId("y").value()));
  EXPECT_TRUE(d.flags[xyz] & kTruncated);
  EXPECT_GE(d.n_truncated, 1);
  // Target specials <s> </s> are replaced by the original's </s>, kept atomic.
  EXPECT_EQ(IndexOf(d.surface_forms, "<s>"), d.surface_forms.size());
  EXPECT_THAT(row("</s>"), ElementsAre(original->TokenToId("</s>").value(), pad, pad));
}

TEST(DecompositionTest, DeterministicAcrossRuns) {
  auto original = SentencePieceStyle();
  auto target = ByteLevelOriginal();
  auto a = Decompose(*original, *target).value();
  auto b = Decompose(*original, *target).value();
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.surface_forms, b.surface_forms);
  EXPECT_EQ(a.flags, b.flags);
}

TEST(DecompositionTest, InterruptCheckStopsTheWorkWithItsStatus) {
  auto original = ByteLevelOriginal();
  auto decomposer = Decomposer::Create(*original).value();
  const size_t n = 3 * kInterruptCheckEvery + 10;
  std::vector<std::string> forms;
  for (size_t i = 0; i < n; ++i) forms.push_back(kG + "the" + std::to_string(i));
  const int32_t pad = decomposer->default_pad_id();

  // A check that fails on its second poll: the loop stops there, nothing is returned.
  int polls = 0;
  InterruptCheck expiring = [&polls]() {
    return ++polls >= 2 ? absl::DeadlineExceededError("deadline") : absl::OkStatus();
  };
  auto stopped = decomposer->DecomposeSurfaceForms(forms, {}, 7, pad, expiring);
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(polls, 2);

  // A check that never fires: polled every kInterruptCheckEvery forms, same result as none.
  polls = 0;
  InterruptCheck open = [&polls]() {
    ++polls;
    return absl::OkStatus();
  };
  auto checked = decomposer->DecomposeSurfaceForms(forms, {}, 7, pad, open);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(polls, static_cast<int>((n + kInterruptCheckEvery - 1) / kInterruptCheckEvery));
  const Decomposition plain = decomposer->DecomposeSurfaceForms(forms, {}, 7, pad);
  EXPECT_EQ(checked->ids, plain.ids);
  EXPECT_EQ(checked->flags, plain.flags);

  // Decompose of a whole tokenizer polls before the conversion too.
  DecomposeOptions cancelled;
  cancelled.interrupt = []() { return absl::CancelledError("cancelled"); };
  auto target = SentencePieceStyle();
  EXPECT_EQ(decomposer->Decompose(*target, cancelled).status().code(),
            absl::StatusCode::kCancelled);
}

TEST(DecompositionTest, SentencePieceOriginalGetsHelperMergesForMultiByteChars) {
  // Original is SentencePiece-style: its "é" token is a single char, reachable from the two
  // byte chars "Ã" "©" only through the helper merge zett adds.
  auto original = SentencePieceStyle();
  auto decomposer = Decomposer::Create(*original).value();
  auto d = decomposer->DecomposeSurfaceForms({BytesToByteChars("\u00E9"), kG + "the", "Q"}, {}, 4,
                                             decomposer->default_pad_id());
  const int32_t pad = d.pad_id;
  EXPECT_THAT(std::vector<int32_t>(d.ids.begin(), d.ids.begin() + 4),
              ElementsAre(original->TokenToId("\u00E9").value(), pad, pad, pad));
  EXPECT_THAT(std::vector<int32_t>(d.ids.begin() + 4, d.ids.begin() + 8),
              ElementsAre(original->TokenToId("\u2581the").value(), pad, pad, pad));
  // "Q" is not in the original: a fill byte appended by its conversion (id >= vocab size).
  EXPECT_GE(d.ids[8], d.original_vocab_size);
}

}  // namespace
}  // namespace zett::tokenizer
