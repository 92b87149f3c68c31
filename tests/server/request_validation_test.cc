// The default service limits accept what real tokenizers contain: a 2,048-byte token (runs of
// spaces and dashes in byte-level BPE vocabularies) and Gemma 3's 262,228 converted tokens; the
// limits that remain (vocabulary size, total surface-form bytes) still refuse more.
#include "server/request_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace zett::server {
namespace {

using ::testing::HasSubstr;

constexpr int kGemma3Rows = 262228;  // Gemma 3's vocabulary after byte-level conversion
constexpr int kLongTokenBytes = 2048;
constexpr uint32_t kSurfaceMaxlen = 7;

v1::TokenList LongTokenList(int num_tokens) {
  v1::TokenList list;
  list.set_kind(v1::TOKEN_KIND_BYTE_LEVEL);
  list.add_tokens(std::string(kLongTokenBytes, '-'));
  for (int i = 1; i < num_tokens; ++i) list.add_tokens(absl::StrCat("t", i));
  return list;
}

// A Prepare result of the engine's shape: [V, L] decomposition, V copy ids.
PreparedTransfer LongTokenPrepared(int num_tokens) {
  PreparedTransfer prepared;
  prepared.vocabulary.resize(num_tokens);
  prepared.vocabulary[0].token = std::string(kLongTokenBytes, ' ');
  prepared.vocabulary[0].truncated = true;
  for (int i = 1; i < num_tokens; ++i) prepared.vocabulary[i].token = absl::StrCat("t", i);
  prepared.surface_maxlen = kSurfaceMaxlen;
  prepared.decomposition.assign(static_cast<size_t>(num_tokens) * kSurfaceMaxlen, 0);
  prepared.copy_source_id.assign(num_tokens, -1);
  return prepared;
}

TEST(RequestValidationTest, DefaultLimitsAcceptLongTokenAndGemma3Vocabulary) {
  const ServiceLimits limits;
  const absl::StatusOr<TokenizerInput> input =
      TokenizerInputFromList(LongTokenList(kGemma3Rows), "token_list", limits.max_vocab, limits);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->tokens.size(), kGemma3Rows);
  EXPECT_EQ(input->tokens[0].size(), kLongTokenBytes);
  const absl::Status prepared = CheckPrepared(LongTokenPrepared(kGemma3Rows), limits);
  EXPECT_TRUE(prepared.ok()) << prepared;
}

TEST(RequestValidationTest, VocabularyOverLimitIsResourceExhausted) {
  ServiceLimits limits;
  limits.max_vocab = 1000;
  const absl::StatusOr<TokenizerInput> input =
      TokenizerInputFromList(LongTokenList(1001), "token_list", limits.max_vocab, limits);
  EXPECT_EQ(input.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(input.status().message(), HasSubstr("1001 tokens, limit 1000"));
  const absl::Status prepared = CheckPrepared(LongTokenPrepared(1001), limits);
  EXPECT_EQ(prepared.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(prepared.message(), HasSubstr("vocabulary of 1001 tokens, limit 1000"));
}

TEST(RequestValidationTest, SurfaceBytesOverLimitIsResourceExhausted) {
  ServiceLimits limits;
  limits.max_surface_bytes = kLongTokenBytes;  // the long token alone fills it
  const absl::StatusOr<TokenizerInput> input =
      TokenizerInputFromList(LongTokenList(2), "token_list", limits.max_vocab, limits);
  EXPECT_EQ(input.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(input.status().message(), HasSubstr("2050 bytes of tokens, limit 2048"));
  const absl::Status prepared = CheckPrepared(LongTokenPrepared(2), limits);
  EXPECT_EQ(prepared.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(prepared.message(), HasSubstr("2050 bytes of surface forms, limit 2048"));
  limits.max_surface_bytes = kLongTokenBytes + 2;
  EXPECT_TRUE(CheckPrepared(LongTokenPrepared(2), limits).ok());
}

}  // namespace
}  // namespace zett::server
