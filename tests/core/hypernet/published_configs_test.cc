// The config.json of every published ZeTT hypernetwork (tests/fixtures/published_hypernet_configs,
// README.md there says what was read and what derived) parses with the published shape, and a
// hypernetwork of that config at a small size builds, survives a state-dict round trip and runs.
//
// "Small size" divides only the sizes: widths by kWidthDivisor, attention heads by kHeadDivisor,
// and the original vocabulary to kSmallVocab rows with the pad id moved in proportion. Every
// boolean and structural field (layers, maxlen, extra tokens, languages, tied/untied, bias head,
// rescalers) stays as published.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/hypernet/config.h"
#include "core/hypernet/hypernet.h"
#include "core/io/json_file.h"
#include "tests/core/hypernet/test_util.h"

namespace zett {
namespace {

constexpr char kFixtures[] = "tests/fixtures/published_hypernet_configs";
constexpr int64_t kWidthDivisor = 32;
constexpr int64_t kHeadDivisor = 4;
constexpr int64_t kSmallVocab = 256;
constexpr int64_t kRows = 9;

// What each published config must parse to (the fixture README gives the sources).
struct Published {
  const char* name;  // fixture file stem = Hugging Face repository name
  int64_t n_embd, hidden, intermediate, heads, layers, maxlen, extra_tokens;
  bool untied, predict_bias, lang_id;
  int64_t n_langs, pad_token_id, original_vocab_size;
};

// gtest prints the repository name of a failing case instead of the struct's bytes.
void PrintTo(const Published& p, std::ostream* os) { *os << p.name; }

// Readable test names: the repository name with its punctuation dropped.
std::string TestName(const ::testing::TestParamInfo<Published>& info) {
  std::string out;
  for (const char* p = info.param.name; *p != '\0'; ++p) {
    if (std::isalnum(static_cast<unsigned char>(*p))) out.push_back(*p);
  }
  return out;
}

std::string FixturePath(const std::string& name) {
  return (std::filesystem::path(kFixtures) / (name + ".json")).string();
}

nlohmann::json ReadFixture(const std::string& name) {
  auto json = ReadJsonFile(FixturePath(name));
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : nlohmann::json::object();
}

// `value` / `divisor`, failing the test when it does not divide: a republished config whose
// sizes stop dividing should be looked at, not silently rounded.
int64_t Divide(const char* field, int64_t value, int64_t divisor) {
  EXPECT_EQ(value % divisor, 0) << field << " = " << value << " is not a multiple of " << divisor;
  return value / divisor;
}

// The published config at the small size described at the top of the file.
ZettHypernetConfig SmallShape(ZettHypernetConfig c) {
  const int64_t heads = c.num_attention_heads();
  c.n_embd = Divide("n_embd", c.n_embd, kWidthDivisor);
  c.hn_hidden_size = Divide("hn_hidden_size", c.hidden_size(), kWidthDivisor);
  c.hn_intermediate_size = Divide("hn_intermediate_size", c.intermediate_size(), kWidthDivisor);
  c.hn_num_attention_heads = Divide("hn_num_attention_heads", heads, kHeadDivisor);
  // Where the pad id sits (first rows for SentencePiece models, among the last special tokens for
  // Llama 3) is kept.
  c.pad_token_id = c.pad_token_id * kSmallVocab / c.original_vocab_size;
  c.original_vocab_size = kSmallVocab;
  return c;
}

class PublishedConfig : public ::testing::TestWithParam<Published> {};

TEST_P(PublishedConfig, ParsesWithThePublishedShape) {
  const Published& p = GetParam();
  auto c = ReadHypernetConfig(FixturePath(p.name));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->n_embd, p.n_embd);
  EXPECT_EQ(c->hidden_size(), p.hidden);
  EXPECT_EQ(c->intermediate_size(), p.intermediate);
  EXPECT_EQ(c->num_attention_heads(), p.heads);
  EXPECT_EQ(c->hn_n_layers, p.layers);
  EXPECT_EQ(c->hn_surface_maxlen, p.maxlen);
  EXPECT_EQ(c->hn_n_extra_tokens, p.extra_tokens);
  EXPECT_EQ(c->separate_out_embeddings, p.untied);
  EXPECT_EQ(c->source_embedding_dim(), p.untied ? 2 * p.n_embd : p.n_embd);
  EXPECT_EQ(c->hn_predict_bias, p.predict_bias);
  EXPECT_EQ(c->hn_embed_lang_id, p.lang_id);
  EXPECT_EQ(c->n_langs, p.n_langs);
  EXPECT_EQ(c->pad_token_id, p.pad_token_id);
  EXPECT_EQ(c->original_vocab_size, p.original_vocab_size);
  // Every published hypernet rescales with frozen scalers and reads the source embeddings.
  EXPECT_TRUE(c->hn_rescale_embeddings);
  EXPECT_TRUE(c->hn_embed_using_source_embeddings);
  EXPECT_FALSE(c->hn_single_head);
  EXPECT_FALSE(c->hn_residual);
}

TEST_P(PublishedConfig, WritesBackEveryPublishedKey) {
  const nlohmann::json published = ReadFixture(GetParam().name);
  auto c = HypernetConfigFromJson(published);
  ASSERT_TRUE(c.ok()) << c.status();
  const nlohmann::json written = HypernetConfigToJson(*c);
  for (const auto& [key, value] : published.items()) {
    ASSERT_TRUE(written.contains(key)) << key;
    EXPECT_EQ(written[key], value) << key;
  }
}

TEST_P(PublishedConfig, SmallShapeBuildsRoundTripsAndRuns) {
  auto published = ReadHypernetConfig(FixturePath(GetParam().name));
  ASSERT_TRUE(published.ok()) << published.status();
  const ZettHypernetConfig c = SmallShape(*published);
  ASSERT_TRUE(ValidateHypernetConfig(c).ok()) << ValidateHypernetConfig(c);

  auto created = Hypernet::Create(c, /*seed=*/7);
  ASSERT_TRUE(created.ok()) << created.status();
  auto loaded = Hypernet::FromStateDict(c, created->StateDict());
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  const at::Tensor forms = testing::SurfaceForms(c, kRows, c.hn_surface_maxlen);
  const at::Tensor source = testing::SourceEmbeddings(c);
  // A multilingual hypernet is asked for its first and its last language.
  std::vector<std::optional<int64_t>> langs = {std::nullopt};
  if (c.hn_embed_lang_id) langs = {0, c.n_lang_rows() - 1};
  for (const std::optional<int64_t>& lang : langs) {
    SCOPED_TRACE(lang.has_value() ? "lang " + std::to_string(*lang) : "no lang");
    auto want = created->Forward(forms, source, lang);
    auto got = loaded->Forward(forms, source, lang);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->embeddings_in.sizes(), at::IntArrayRef({kRows, c.n_embd}));
    EXPECT_TRUE(at::isfinite(got->embeddings_in).all().item<bool>());
    EXPECT_EQ(got->embeddings_out.defined(), c.separate_out_embeddings);
    if (c.separate_out_embeddings) {
      EXPECT_EQ(got->embeddings_out.sizes(), at::IntArrayRef({kRows, c.n_embd}));
      EXPECT_TRUE(at::isfinite(got->embeddings_out).all().item<bool>());
    }
    ASSERT_TRUE(got->bias.defined());
    EXPECT_EQ(got->bias.sizes(), at::IntArrayRef({kRows}));
    EXPECT_TRUE(at::isfinite(got->bias).all().item<bool>());
    EXPECT_EQ(testing::MaxAbsDiff(got->embeddings_in, want->embeddings_in), 0.0);
    EXPECT_EQ(testing::MaxAbsDiff(got->bias, want->bias), 0.0);
  }
  if (c.hn_embed_lang_id) {
    EXPECT_FALSE(loaded->Forward(forms, source).ok()) << "a multilingual hypernet needs a language";
  }
}

// zett issue #10: the Llama 3 hypernet's config.json made transformers build a LlamaModel whose
// vocab_size (the size of the last target vocabulary zett evaluated, not the base model's) is at
// most pad_token_id, and it failed with "Padding_idx must be within num_embeddings". The base-model
// keys are carried, not interpreted: the unused word-embedding rows follow pad_token_id, as the
// PyTorch port sizes them (vocab_size = pad_token_id + 1). 32768 is illustrative (the published
// value could not be read); any value at most pad_token_id reproduces the issue.
TEST(PublishedLlama3Config, LoadsWithTheBaseModelKeysOfZettIssue10) {
  nlohmann::json json = ReadFixture("zett-hypernetwork-Meta-Llama-3-8B-experimental");
  json["model_type"] = "llama";
  json["architectures"] = {"LlamaForCausalLM"};
  json["vocab_size"] = 32768;
  json["tie_word_embeddings"] = false;
  auto published = HypernetConfigFromJson(json);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->pad_token_id, 128001);
  EXPECT_EQ(published->original_vocab_size, 128256);
  EXPECT_EQ(published->extra.value("vocab_size", 0), 32768);

  // At the small shape the same holds: vocab_size stays below the pad id.
  ZettHypernetConfig c = SmallShape(*published);
  ASSERT_LT(json["vocab_size"].get<int64_t>() * kSmallVocab / published->original_vocab_size,
            c.pad_token_id);
  auto hypernet = Hypernet::Create(c, /*seed=*/7);
  ASSERT_TRUE(hypernet.ok()) << hypernet.status();
  const std::map<std::string, at::Tensor> state = hypernet->StateDict();
  ASSERT_EQ(state.count("model.embeddings.word_embeddings.weight"), 1u);
  EXPECT_EQ(state.at("model.embeddings.word_embeddings.weight").size(0), c.pad_token_id + 1);
  auto loaded = Hypernet::FromStateDict(c, state);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto out = loaded->Forward(testing::SurfaceForms(c, kRows, c.hn_surface_maxlen),
                             testing::SourceEmbeddings(c));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(at::isfinite(out->embeddings_in).all().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(
    HuggingFace, PublishedConfig,
    ::testing::Values(Published{"zett-hypernetwork-Mistral-7B-v0.1", 4096, 4096, 8192, 32, 3, 7,
                                522, true, true, false, 7, 2, 32000},
                      Published{"zett-hypernetwork-TinyLlama-1.1B-intermediate-step-1431k-3T", 2048,
                                2048, 4096, 32, 3, 7, 362, true, true, false, 7, 2, 32000},
                      Published{"zett-hypernetwork-Meta-Llama-3-8B-experimental", 4096, 4096, 8192,
                                32, 3, 7, 0, true, true, false, 7, 128001, 128256},
                      Published{"zett-hypernetwork-xlm-roberta-base", 768, 768, 1536, 12, 3, 7, 161,
                                false, true, true, 26, 1, 250002},
                      Published{"zett-hypernetwork-multilingual-Mistral-7B-v0.1", 4096, 4096, 8192,
                                32, 3, 7, 522, true, true, true, 26, 2, 32000}),
    TestName);

}  // namespace
}  // namespace zett
