#include "core/hypernet/hypernet.h"

#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/compat/torch_compat.h"
#include "core/hypernet/rescaler_fit.h"
#include "tests/core/hypernet/test_util.h"

namespace zett {
namespace {

using testing::MaxAbsDiff;
using testing::SourceEmbeddings;
using testing::SurfaceForms;
using testing::TinyConfig;

Hypernet MakeHypernet(const ZettHypernetConfig& config, uint64_t seed = 3) {
  auto hypernet = Hypernet::Create(config, seed);
  EXPECT_TRUE(hypernet.ok()) << hypernet.status();
  return std::move(hypernet).value();
}

HypernetOutput Predict(const Hypernet& hypernet, const at::Tensor& surface_forms,
                       const at::Tensor& source, std::optional<int64_t> lang = std::nullopt,
                       const HypernetForwardOptions& options = {}) {
  auto out = hypernet.Forward(surface_forms, source, lang, options);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : HypernetOutput{};
}

at::Tensor PopulationStd(const at::Tensor& x) { return (x - x.mean(0)).pow(2).mean(0).sqrt(); }

at::Tensor Parameter(const Hypernet& hypernet, const std::string& name) {
  for (const auto& [n, t] : hypernet.NamedParameters()) {
    if (n == name) return t;
  }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

TEST(Hypernet, ForwardShapesUntied) {
  const auto config = TinyConfig(/*untied=*/true);
  Hypernet hypernet = MakeHypernet(config);
  HypernetOutput out = Predict(hypernet, SurfaceForms(config, 9, 5), SourceEmbeddings(config));
  EXPECT_EQ(out.embeddings_in.sizes(), at::IntArrayRef({9, 6}));
  ASSERT_TRUE(out.embeddings_out.defined());
  EXPECT_EQ(out.embeddings_out.sizes(), at::IntArrayRef({9, 6}));
  ASSERT_TRUE(out.bias.defined());
  EXPECT_EQ(out.bias.sizes(), at::IntArrayRef({9}));
  EXPECT_TRUE(at::isfinite(out.embeddings_in).all().item<bool>());
}

TEST(Hypernet, TiedPredictsNoOutputMatrix) {
  const auto config = TinyConfig(/*untied=*/false);
  Hypernet hypernet = MakeHypernet(config);
  HypernetOutput out = Predict(hypernet, SurfaceForms(config, 4, 5), SourceEmbeddings(config));
  EXPECT_EQ(out.embeddings_in.sizes(), at::IntArrayRef({4, 6}));
  EXPECT_FALSE(out.embeddings_out.defined());
  // A tied hypernet reads E_in alone: the 2d-wide table of an untied model is refused.
  auto wrong = hypernet.Forward(SurfaceForms(config, 4, 5), SourceEmbeddings(TinyConfig(true)));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Hypernet, SingleHeadSplitsIntoInAndOut) {
  auto config = TinyConfig(/*untied=*/true);
  config.hn_single_head = true;
  Hypernet hypernet = MakeHypernet(config);
  HypernetOutput out = Predict(hypernet, SurfaceForms(config, 4, 5), SourceEmbeddings(config));
  EXPECT_EQ(out.embeddings_in.sizes(), at::IntArrayRef({4, 6}));
  ASSERT_TRUE(out.embeddings_out.defined());
  EXPECT_GT(MaxAbsDiff(out.embeddings_in, out.embeddings_out), 0.0);
  EXPECT_EQ(Parameter(hypernet, "output_projection.1.weight").size(0), 12);  // [E_in | E_out]
}

TEST(Hypernet, EachRowIsIndependentOfItsBatch) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor forms = SurfaceForms(config, 7, 5);
  const at::Tensor source = SourceEmbeddings(config);
  HypernetOutput batch = Predict(hypernet, forms, source);
  for (int64_t r = 0; r < forms.size(0); ++r) {
    HypernetOutput one = Predict(hypernet, forms.slice(0, r, r + 1), source);
    EXPECT_LT(MaxAbsDiff(one.embeddings_in[0], batch.embeddings_in[r]), 1e-5) << "row " << r;
    EXPECT_LT(MaxAbsDiff(one.embeddings_out[0], batch.embeddings_out[r]), 1e-5) << "row " << r;
    EXPECT_LT(MaxAbsDiff(one.bias[0], batch.bias[r]), 1e-5) << "row " << r;
  }
}

TEST(Hypernet, ChunkingAndLengthGroupingDoNotChangeResults) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor forms = SurfaceForms(config, 23, 5);
  const at::Tensor source = SourceEmbeddings(config);
  HypernetForwardOptions dense;
  dense.group_by_length = false;
  dense.chunk_rows = 1 << 20;
  HypernetOutput reference = Predict(hypernet, forms, source, std::nullopt, dense);
  for (int64_t chunk : {1, 3, 8, 100}) {
    for (bool group : {false, true}) {
      for (int64_t min_group : {1, 4, 1000}) {  // one length per chunk .. groups merged
        for (int64_t buckets : {0, 1, 4}) {     // exact rows; chunks padded to buckets
          HypernetForwardOptions options;
          options.chunk_rows = chunk;
          options.group_by_length = group;
          options.min_group_rows = min_group;
          options.row_buckets_per_octave = buckets;
          HypernetOutput out = Predict(hypernet, forms, source, std::nullopt, options);
          const std::string where = absl::StrCat(chunk, " ", group, " ", min_group, " ", buckets);
          EXPECT_LT(MaxAbsDiff(out.embeddings_in, reference.embeddings_in), 1e-5) << where;
          EXPECT_LT(MaxAbsDiff(out.embeddings_out, reference.embeddings_out), 1e-5) << where;
          EXPECT_LT(MaxAbsDiff(out.bias, reference.bias), 1e-5) << where;
        }
      }
    }
  }
}

// Rows with padding inside (a hole, a padded first piece) or nothing but padding run with an
// attention mask; the grouped path must give them what the masked ungrouped path gives.
TEST(Hypernet, RowsWithPaddingInsideMatchTheMaskedPath) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  at::Tensor forms = SurfaceForms(config, 15, 5);
  const int32_t pad = static_cast<int32_t>(config.pad_token_id);
  forms[3][1] = pad;    // a hole: row 3 is 4 long with padding at position 1
  forms[4][0] = pad;    // position 0 padded, positions 1..4 real
  forms[9].fill_(pad);  // nothing but padding
  forms[13].slice(0, 1, 3).fill_(pad);
  const at::Tensor source = SourceEmbeddings(config);
  HypernetForwardOptions masked;
  masked.group_by_length = false;
  masked.chunk_rows = 1 << 20;
  HypernetOutput reference = Predict(hypernet, forms, source, std::nullopt, masked);
  for (int64_t chunk : {2, 100}) {
    for (int64_t min_group : {1, 1000}) {
      for (int64_t buckets : {0, 4}) {
        HypernetForwardOptions grouped;
        grouped.chunk_rows = chunk;
        grouped.min_group_rows = min_group;
        grouped.row_buckets_per_octave = buckets;
        HypernetOutput out = Predict(hypernet, forms, source, std::nullopt, grouped);
        const std::string where = absl::StrCat(chunk, " ", min_group, " ", buckets);
        EXPECT_LT(MaxAbsDiff(out.embeddings_in, reference.embeddings_in), 1e-5) << where;
        EXPECT_LT(MaxAbsDiff(out.embeddings_out, reference.embeddings_out), 1e-5) << where;
        EXPECT_LT(MaxAbsDiff(out.bias, reference.bias), 1e-5) << where;
      }
    }
  }
  // The hole matters: filling it changes row 3 (so the mask is really applied there).
  at::Tensor filled = forms.clone();
  filled[3][1] = forms[3][2];
  HypernetOutput changed = Predict(hypernet, filled, source);
  EXPECT_GT(MaxAbsDiff(changed.embeddings_in[3], reference.embeddings_in[3]), 1e-4);
}

TEST(Hypernet, PaddingIsInvisible) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor forms = SurfaceForms(config, 6, 3);  // at most 3 real ids per row
  const at::Tensor source = SourceEmbeddings(config);
  HypernetOutput reference = Predict(hypernet, forms, source);

  // More padding columns.
  at::Tensor wider = at::cat({forms, at::full({6, 2}, config.pad_token_id, forms.options())}, 1);
  HypernetOutput widened = Predict(hypernet, wider, source);
  EXPECT_LT(MaxAbsDiff(widened.embeddings_in, reference.embeddings_in), 1e-5);
  EXPECT_LT(MaxAbsDiff(widened.embeddings_out, reference.embeddings_out), 1e-5);

  // What the pad id's source row holds never reaches a row: padded positions are masked.
  at::Tensor perturbed = source.clone();
  perturbed[config.pad_token_id].add_(100.0);
  HypernetOutput moved = Predict(hypernet, forms, perturbed);
  EXPECT_LT(MaxAbsDiff(moved.embeddings_in, reference.embeddings_in), 1e-5);
  EXPECT_LT(MaxAbsDiff(moved.bias, reference.bias), 1e-5);

  // ... while a real id's row does.
  at::Tensor real = source.clone();
  real[forms[0][0].item<int64_t>()].add_(1.0);
  EXPECT_GT(MaxAbsDiff(Predict(hypernet, forms, real).embeddings_in[0], reference.embeddings_in[0]),
            1e-4);
}

TEST(Hypernet, RowOfOnlyPaddingStaysFinite) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  at::Tensor forms = at::full({2, 5}, config.pad_token_id, at::kInt);
  forms[1][0] = 4;
  HypernetOutput out = Predict(hypernet, forms, SourceEmbeddings(config));
  EXPECT_TRUE(at::isfinite(out.embeddings_in).all().item<bool>());
  EXPECT_TRUE(at::isfinite(out.embeddings_out).all().item<bool>());
}

TEST(Hypernet, ExtraIdsReadFallbackEmbeddings) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  at::Tensor forms = at::full({3, 5}, config.pad_token_id, at::kInt);
  forms[0][0] = 4;  // original id only
  forms[1][0] = 4;
  forms[1][1] = config.original_vocab_size + 2;  // third fallback row
  forms[2][0] = config.original_vocab_size;      // first fallback row
  const at::Tensor source = SourceEmbeddings(config);
  HypernetOutput before = Predict(hypernet, forms, source);
  {
    c10::NoGradGuard no_grad;
    Parameter(hypernet, "fallback_embeddings.weight")[2].add_(1.0);
  }
  HypernetOutput after = Predict(hypernet, forms, source);
  EXPECT_LT(MaxAbsDiff(after.embeddings_in[0], before.embeddings_in[0]), 1e-6);
  EXPECT_GT(MaxAbsDiff(after.embeddings_in[1], before.embeddings_in[1]), 1e-4);
  EXPECT_LT(MaxAbsDiff(after.embeddings_in[2], before.embeddings_in[2]), 1e-6);
}

TEST(Hypernet, ProjectedTableGivesTheSameResult) {
  for (bool residual : {false, true}) {
    auto config = TinyConfig();
    config.hn_residual = residual;
    Hypernet hypernet = MakeHypernet(config);
    if (residual) {  // leave the zero init so the heads contribute
      c10::NoGradGuard no_grad;
      Parameter(hypernet, "output_projection.1.weight").normal_(0, 0.5);
    }
    const at::Tensor forms = SurfaceForms(config, 11, 5);
    const at::Tensor source = SourceEmbeddings(config);
    HypernetOutput direct = Predict(hypernet, forms, source);
    auto table = hypernet.ProjectSourceEmbeddings(source);
    ASSERT_TRUE(table.ok()) << table.status();
    EXPECT_EQ(table->sizes(), at::IntArrayRef({config.original_vocab_size + 3, 16}));
    auto projected = hypernet.ForwardProjected(forms, *table, source);
    ASSERT_TRUE(projected.ok()) << projected.status();
    EXPECT_LT(MaxAbsDiff(projected->embeddings_in, direct.embeddings_in), 1e-5);
    EXPECT_LT(MaxAbsDiff(projected->embeddings_out, direct.embeddings_out), 1e-5);
    EXPECT_LT(MaxAbsDiff(projected->bias, direct.bias), 1e-5);
  }
}

TEST(Hypernet, WarmUpRunsEveryBucketShapeAndNeedsBuckets) {
  for (bool multilingual : {false, true}) {
    auto config = TinyConfig();
    if (multilingual) {
      config.hn_embed_lang_id = true;
      config.n_langs = 2;
    }
    Hypernet hypernet = MakeHypernet(config);
    const at::Tensor source = SourceEmbeddings(config);
    auto table = hypernet.ProjectSourceEmbeddings(source);
    ASSERT_TRUE(table.ok()) << table.status();
    std::optional<int64_t> lang;
    if (multilingual) lang = 1;
    const at::Tensor forms = SurfaceForms(config, 9, 5);
    HypernetOutput before = Predict(hypernet, forms, source, lang);
    HypernetForwardOptions options;
    options.row_buckets_per_octave = 2;
    EXPECT_TRUE(hypernet.WarmUp(*table, 40, lang, options).ok());
    // Warm-up leaves the model as it was.
    EXPECT_EQ(
        MaxAbsDiff(Predict(hypernet, forms, source, lang).embeddings_in, before.embeddings_in),
        0.0);
    options.row_buckets_per_octave = 0;
    EXPECT_EQ(hypernet.WarmUp(*table, 40, lang, options).code(),
              absl::StatusCode::kFailedPrecondition);
    options.row_buckets_per_octave = 2;
    if (multilingual) {  // a multilingual hypernet needs its language, as Forward does
      EXPECT_EQ(hypernet.WarmUp(*table, 40, std::nullopt, options).code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(Hypernet, ResidualFormStartsAtTheFirstPiecesEmbedding) {
  for (bool untied : {true, false}) {
    auto config = TinyConfig(untied);
    config.hn_residual = true;
    config.hn_residual_alpha = 2.0;
    Hypernet hypernet = MakeHypernet(config);
    EXPECT_FALSE(hypernet.HasRescaler("scaler"));  // the residual replaces output rescaling
    EXPECT_TRUE(hypernet.HasRescaler("in_scaler"));
    const at::Tensor forms = SurfaceForms(config, 8, 5);
    const at::Tensor source = SourceEmbeddings(config);
    HypernetOutput out = Predict(hypernet, forms, source);
    for (int64_t r = 0; r < forms.size(0); ++r) {
      const int64_t first = forms[r][0].item<int64_t>();
      const at::Tensor expected = first < config.original_vocab_size
                                      ? source[first]
                                      : at::zeros({source.size(1)});  // no original row
      EXPECT_TRUE(at::equal(out.embeddings_in[r], expected.slice(0, 0, 6))) << "row " << r;
      if (untied) {
        EXPECT_TRUE(at::equal(out.embeddings_out[r], expected.slice(0, 6, 12))) << "row " << r;
      }
    }
    // Once the head moves, the prediction departs by alpha / sqrt(d) * head(h_0).
    {
      c10::NoGradGuard no_grad;
      Parameter(hypernet, "output_projection.1.bias").fill_(1.0);
    }
    HypernetOutput moved = Predict(hypernet, forms, source);
    EXPECT_NEAR((moved.embeddings_in - out.embeddings_in).mean().item<double>(),
                2.0 / std::sqrt(6.0), 1e-5);
  }
}

TEST(Hypernet, BiasHeadReadsPooledState) {
  auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  {
    c10::NoGradGuard no_grad;
    Parameter(hypernet, "bias_projection.weight").zero_();
    Parameter(hypernet, "bias_projection.bias").fill_(-2.5);
  }
  HypernetOutput out = Predict(hypernet, SurfaceForms(config, 5, 5), SourceEmbeddings(config));
  EXPECT_TRUE(at::allclose(out.bias, at::full({5}, -2.5)));

  config.hn_predict_bias = false;
  Hypernet no_bias = MakeHypernet(config);
  EXPECT_FALSE(
      Predict(no_bias, SurfaceForms(config, 5, 5), SourceEmbeddings(config)).bias.defined());
}

TEST(Hypernet, OutputScalersAreApplied) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor forms = SurfaceForms(config, 5, 5);
  const at::Tensor source = SourceEmbeddings(config);
  HypernetOutput identity = Predict(hypernet, forms, source);
  ASSERT_TRUE(hypernet.SetRescaler("scaler", at::full({6}, 2.0), at::full({6}, 1.0)).ok());
  ASSERT_TRUE(hypernet.SetRescaler("out_scaler", at::full({6}, -1.0), at::zeros({6})).ok());
  HypernetOutput scaled = Predict(hypernet, forms, source);
  EXPECT_TRUE(at::allclose(scaled.embeddings_in, identity.embeddings_in * 2 + 1));
  EXPECT_TRUE(at::allclose(scaled.embeddings_out, -identity.embeddings_out));
  EXPECT_FALSE(hypernet.SetRescaler("scaler", at::ones({5}), at::zeros({5})).ok());
}

TEST(Hypernet, LanguageEmbeddingSelectsTheLanguage) {
  auto config = TinyConfig();
  config.hn_embed_lang_id = true;
  config.n_langs = 3;
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor forms = SurfaceForms(config, 6, 5);
  const at::Tensor source = SourceEmbeddings(config);
  HypernetOutput lang0 = Predict(hypernet, forms, source, 0);
  HypernetOutput lang2 = Predict(hypernet, forms, source, 2);
  EXPECT_GT(MaxAbsDiff(lang0.embeddings_in, lang2.embeddings_in), 1e-4);
  {
    c10::NoGradGuard no_grad;
    // Not a constant shift: the embedding LayerNorm would remove it.
    Parameter(hypernet, "lang_embeddings.weight")[2].add_(at::arange(16, at::kFloat) / 8);
  }
  EXPECT_LT(MaxAbsDiff(Predict(hypernet, forms, source, 0).embeddings_in, lang0.embeddings_in),
            1e-6);
  EXPECT_GT(MaxAbsDiff(Predict(hypernet, forms, source, 2).embeddings_in, lang2.embeddings_in),
            1e-4);

  EXPECT_EQ(hypernet.Forward(forms, source).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hypernet.Forward(forms, source, 3).status().code(), absl::StatusCode::kInvalidArgument);
  Hypernet monolingual = MakeHypernet(TinyConfig());
  EXPECT_EQ(monolingual.Forward(forms, source, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Hypernet, RejectsMalformedSurfaceForms) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor source = SourceEmbeddings(config);
  EXPECT_FALSE(hypernet.Forward(at::zeros({4}, at::kInt), source).ok());        // not [V, L]
  EXPECT_FALSE(hypernet.Forward(at::zeros({4, 6}, at::kInt), source).ok());     // L > maxlen
  EXPECT_FALSE(hypernet.Forward(at::zeros({4, 5}, at::kFloat), source).ok());   // not ids
  EXPECT_FALSE(hypernet.Forward(at::full({4, 5}, 23, at::kInt), source).ok());  // id >= 20 + 3
  EXPECT_FALSE(hypernet.Forward(at::full({4, 5}, -1, at::kInt), source).ok());  // negative
  EXPECT_FALSE(hypernet.Forward(SurfaceForms(config, 4, 5), source.slice(0, 0, 10)).ok());
}

// The training path (full width, whole table projected, no host synchronisation) computes what
// Forward does, padding rows and residual form included, and its gradients reach the weights.
TEST(Hypernet, ForwardStaticMatchesForward) {
  for (bool residual : {false, true}) {
    auto config = TinyConfig();
    config.hn_residual = residual;
    Hypernet hypernet = MakeHypernet(config);
    if (residual) {
      c10::NoGradGuard no_grad;
      Parameter(hypernet, "output_projection.1.weight").normal_(0, 0.5);
    }
    const at::Tensor forms = SurfaceForms(config, 13, 5).to(at::kLong);
    const at::Tensor source = SourceEmbeddings(config);
    HypernetOutput direct = Predict(hypernet, forms, source);
    HypernetOutput dense = hypernet.ForwardStatic(forms, source);
    EXPECT_LT(MaxAbsDiff(dense.embeddings_in, direct.embeddings_in), 1e-5) << residual;
    EXPECT_LT(MaxAbsDiff(dense.embeddings_out, direct.embeddings_out), 1e-5) << residual;
    EXPECT_LT(MaxAbsDiff(dense.bias, direct.bias), 1e-5) << residual;
  }
}

// Mixed precision (the training step's bf16 compute over fp32 masters): outputs in fp32, close to
// the fp32 forward; a residual head that predicts zero leaves E_src[id_0] exact (not rounded to
// bf16); gradients reach the fp32 parameters.
TEST(Hypernet, ForwardStaticInBfloat16KeepsFloat32Outputs) {
  for (bool residual : {false, true}) {
    auto config = TinyConfig();
    config.hn_residual = residual;
    Hypernet hypernet = MakeHypernet(config);
    const at::Tensor forms = SurfaceForms(config, 13, 5).to(at::kLong);
    const at::Tensor source = SourceEmbeddings(config);
    HypernetOutput fp32 = hypernet.ForwardStatic(forms, source);
    HypernetOutput mixed = hypernet.ForwardStatic(forms, source, at::kBFloat16);
    EXPECT_EQ(mixed.embeddings_in.scalar_type(), at::kFloat);
    EXPECT_EQ(mixed.embeddings_out.scalar_type(), at::kFloat);
    const double scale = fp32.embeddings_in.abs().max().item<double>();
    EXPECT_LT(MaxAbsDiff(mixed.embeddings_in, fp32.embeddings_in) / scale, 0.05) << residual;
    EXPECT_LT(MaxAbsDiff(mixed.embeddings_out, fp32.embeddings_out) / scale, 0.05) << residual;
    if (residual) {  // zero-initialised last layers: the prediction is E_src[id_0] exactly
      const int64_t d = config.n_embd;
      const at::Tensor first = forms.select(1, 0);
      const at::Tensor known = first < config.original_vocab_size;
      const at::Tensor base =
          source.index_select(0, first.clamp_max(config.original_vocab_size - 1));
      EXPECT_TRUE(mixed.embeddings_in.index({known}).equal(base.narrow(1, 0, d).index({known})));
    }
  }
  auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  hypernet.SetRequiresGrad(true);
  const at::Tensor forms = SurfaceForms(config, 13, 5).to(at::kLong);
  HypernetOutput mixed = hypernet.ForwardStatic(forms, SourceEmbeddings(config), at::kBFloat16);
  mixed.embeddings_in.pow(2).sum().backward();
  const at::Tensor grad = Parameter(hypernet, "input_projection.0.weight").grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_EQ(grad.scalar_type(), at::kFloat);
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
}

TEST(Hypernet, Bfloat16CloseToFloat32) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor forms = SurfaceForms(config, 12, 5);
  const at::Tensor source = SourceEmbeddings(config);
  HypernetOutput fp32 = Predict(hypernet, forms, source);
  ASSERT_TRUE(hypernet.To(at::kCPU, at::kBFloat16).ok());
  EXPECT_EQ(hypernet.dtype(), at::kBFloat16);
  HypernetOutput bf16 = Predict(hypernet, forms, source);
  EXPECT_EQ(bf16.embeddings_in.scalar_type(), at::kBFloat16);
  auto relative = [](const at::Tensor& a, const at::Tensor& b) {
    return MaxAbsDiff(a, b) / b.abs().max().item<double>();
  };
  EXPECT_LT(relative(bf16.embeddings_in, fp32.embeddings_in), 0.05);
  EXPECT_LT(relative(bf16.embeddings_out, fp32.embeddings_out), 0.05);
  EXPECT_LT(relative(bf16.bias, fp32.bias), 0.05);
}

TEST(Hypernet, GradientsReachTrainableParametersButNotScalers) {
  auto config = TinyConfig();
  config.hn_embed_lang_id = true;
  config.n_langs = 2;
  Hypernet hypernet = MakeHypernet(config);
  hypernet.SetRequiresGrad(true);
  at::Tensor forms = SurfaceForms(config, 10, 5);
  forms[3][1] = config.original_vocab_size;  // use a fallback row too
  HypernetOutput out = Predict(hypernet, forms, SourceEmbeddings(config), 1);
  (out.embeddings_in.pow(2).sum() + out.embeddings_out.pow(2).sum() + out.bias.sum()).backward();
  const std::set<std::string> frozen = {"in_scaler.w", "in_scaler.b",  "scaler.w",
                                        "scaler.b",    "out_scaler.w", "out_scaler.b"};
  int64_t frozen_seen = 0;
  for (const auto& [name, tensor] : hypernet.NamedParameters()) {
    if (frozen.count(name)) {
      ++frozen_seen;
      EXPECT_FALSE(tensor.requires_grad()) << name;
      EXPECT_FALSE(tensor.grad().defined()) << name;
      continue;
    }
    ASSERT_TRUE(tensor.grad().defined()) << name;
    EXPECT_TRUE(at::isfinite(tensor.grad()).all().item<bool>()) << name;
  }
  EXPECT_EQ(frozen_seen, 6);
  EXPECT_EQ(hypernet.TrainableParameters().size(), hypernet.NamedParameters().size() - 6);
  for (const char* name :
       {"input_projection.0.weight", "model.encoder.layer.0.attention.self.key.weight",
        "output_projection_out.1.weight", "fallback_embeddings.weight", "lang_embeddings.weight"}) {
    EXPECT_GT(Parameter(hypernet, name).grad().abs().sum().item<double>(), 0.0) << name;
  }
}

TEST(Hypernet, FitRescalersMatchesTargetStatistics) {
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor source = SourceEmbeddings(config);
  // As zett: decompositions of original tokens (length 1) against their own embeddings.
  at::Tensor forms = at::full({config.original_vocab_size, 5}, config.pad_token_id, at::kInt);
  forms.select(1, 0).copy_(at::arange(config.original_vocab_size, at::kInt));
  const at::Tensor target_in = source.slice(1, 0, 6), target_out = source.slice(1, 6, 12);
  ASSERT_TRUE(FitRescalers(hypernet, source, forms, target_in, target_out).ok());

  at::Tensor w = Parameter(hypernet, "in_scaler.w"), b = Parameter(hypernet, "in_scaler.b");
  at::Tensor scaled = source * w + b;
  EXPECT_LT(scaled.mean(0).abs().max().item<double>(), 1e-5);
  EXPECT_LT((PopulationStd(scaled) - 0.02).abs().max().item<double>(), 1e-5);

  HypernetOutput out = Predict(hypernet, forms, source);
  EXPECT_LT(MaxAbsDiff(out.embeddings_in.mean(0), target_in.mean(0)), 1e-4);
  EXPECT_LT(MaxAbsDiff(PopulationStd(out.embeddings_in), PopulationStd(target_in)), 1e-4);
  EXPECT_LT(MaxAbsDiff(out.embeddings_out.mean(0), target_out.mean(0)), 1e-4);
  EXPECT_LT(MaxAbsDiff(PopulationStd(out.embeddings_out), PopulationStd(target_out)), 1e-4);
}

TEST(Hypernet, CudaMatchesCpu) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device (LibTorch " << TorchVersion() << ")";
  const auto config = TinyConfig();
  Hypernet hypernet = MakeHypernet(config);
  const at::Tensor forms = SurfaceForms(config, 9, 5);
  const at::Tensor source = SourceEmbeddings(config);
  HypernetOutput cpu = Predict(hypernet, forms, source);
  ASSERT_TRUE(hypernet.To(at::Device("cuda"), at::kFloat).ok());
  HypernetOutput cuda = Predict(hypernet, forms, source);
  EXPECT_TRUE(cuda.embeddings_in.is_cuda());
  EXPECT_LT(MaxAbsDiff(cuda.embeddings_in.cpu(), cpu.embeddings_in), 1e-4);
  EXPECT_LT(MaxAbsDiff(cuda.embeddings_out.cpu(), cpu.embeddings_out), 1e-4);
}

}  // namespace
}  // namespace zett
