#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/hypernet/checkpoint.h"
#include "core/io/safetensors.h"
#include "tests/core/hypernet/test_util.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
using testing::MaxAbsDiff;
using testing::SourceEmbeddings;
using testing::SurfaceForms;
using testing::TinyConfig;

// The state dict zett's PyTorch port (hf_hypernet/modeling_hypernet.py, ZettHypernet.__init__)
// builds for TinyConfig() with hn_embed_lang_id and n_langs = 2, read off the module tree by hand:
//   lang_embeddings = nn.Embedding(n_langs, H)
//   model = RobertaModel(roberta-base overridden to H, I, heads, layers; vocab_size = pad + 1,
//           add_pooling_layer=False); position_ids/token_type_ids are non-persistent buffers
//           in transformers 4.45, so they are not listed
//   fallback_embeddings = nn.Embedding(max(n_extra, 1), n_in)        n_in = 2d (untied)
//   input_projection = Sequential(Linear(n_in, H), ProjectorBlock(H, H, I))
//   output_projection = Sequential(ProjectorBlock, Linear(H, d)); output_projection_out alike
//   in_scaler = Rescaler(n_in), scaler = Rescaler(d), out_scaler = Rescaler(d)   (w, b: [1, dim])
//   bias_projection = Linear(H, 1)
// d = 6, n_in = 12, H = 16, I = 32, 2 layers, 3 extra tokens, pad 1.
std::map<std::string, std::vector<int64_t>> PyTorchPortStateDict() {
  std::map<std::string, std::vector<int64_t>> keys = {
      {"lang_embeddings.weight", {2, 16}},
      {"model.embeddings.word_embeddings.weight", {2, 16}},
      {"model.embeddings.position_embeddings.weight", {514, 16}},
      {"model.embeddings.token_type_embeddings.weight", {1, 16}},
      {"model.embeddings.LayerNorm.weight", {16}},
      {"model.embeddings.LayerNorm.bias", {16}},
      {"fallback_embeddings.weight", {3, 12}},
      {"input_projection.0.weight", {16, 12}},
      {"input_projection.0.bias", {16}},
      {"output_projection.1.weight", {6, 16}},
      {"output_projection.1.bias", {6}},
      {"output_projection_out.1.weight", {6, 16}},
      {"output_projection_out.1.bias", {6}},
      {"in_scaler.w", {1, 12}},
      {"in_scaler.b", {1, 12}},
      {"scaler.w", {1, 6}},
      {"scaler.b", {1, 6}},
      {"out_scaler.w", {1, 6}},
      {"out_scaler.b", {1, 6}},
      {"bias_projection.weight", {1, 16}},
      {"bias_projection.bias", {1}},
  };
  for (const char* block :
       {"input_projection.1", "output_projection.0", "output_projection_out.0"}) {
    const std::string p = block;
    keys[p + ".dense1.weight"] = {32, 16};
    keys[p + ".dense1.bias"] = {32};
    keys[p + ".dense2.weight"] = {16, 32};
    keys[p + ".dense2.bias"] = {16};
    keys[p + ".ln.weight"] = {16};
    keys[p + ".ln.bias"] = {16};
  }
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "model.encoder.layer." + std::to_string(layer);
    for (const char* name : {".attention.self.query", ".attention.self.key",
                             ".attention.self.value", ".attention.output.dense"}) {
      keys[p + name + ".weight"] = {16, 16};
      keys[p + name + ".bias"] = {16};
    }
    keys[p + ".attention.output.LayerNorm.weight"] = {16};
    keys[p + ".attention.output.LayerNorm.bias"] = {16};
    keys[p + ".intermediate.dense.weight"] = {32, 16};
    keys[p + ".intermediate.dense.bias"] = {32};
    keys[p + ".output.dense.weight"] = {16, 32};
    keys[p + ".output.dense.bias"] = {16};
    keys[p + ".output.LayerNorm.weight"] = {16};
    keys[p + ".output.LayerNorm.bias"] = {16};
  }
  return keys;
}

ZettHypernetConfig MultilingualTinyConfig() {
  auto config = TinyConfig();
  config.hn_embed_lang_id = true;
  config.n_langs = 2;
  return config;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string FreshDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  return dir.string();
}

TEST(HypernetCheckpoint, StateDictMatchesThePyTorchPort) {
  auto hypernet = Hypernet::Create(MultilingualTinyConfig());
  ASSERT_TRUE(hypernet.ok()) << hypernet.status();
  const auto expected = PyTorchPortStateDict();
  const auto state = hypernet->StateDict();
  for (const auto& [name, shape] : expected) {
    auto it = state.find(name);
    ASSERT_NE(it, state.end()) << "missing " << name;
    EXPECT_EQ(it->second.sizes(), at::IntArrayRef(shape)) << name;
  }
  for (const auto& [name, tensor] : state) {
    EXPECT_EQ(expected.count(name), 1u) << "unexpected " << name;
  }
}

TEST(HypernetCheckpoint, SaveThenLoadGivesIdenticalOutputs) {
  const auto config = MultilingualTinyConfig();
  auto hypernet = Hypernet::Create(config, /*seed=*/17);
  ASSERT_TRUE(hypernet.ok());
  const std::string dir = FreshDir("hypernet_checkpoint_roundtrip");
  const std::string tokenizer =
      (fs::path(::testing::TempDir()) / "original_tokenizer.json").string();
  std::ofstream(tokenizer) << R"({"version": "1.0", "model": {"type": "BPE", "vocab": {}}})";
  ASSERT_TRUE(SaveHypernet(dir, *hypernet, tokenizer).ok());
  EXPECT_TRUE(fs::exists(fs::path(dir) / "config.json"));
  EXPECT_EQ(ReadAll(HypernetTokenizerPath(dir)), ReadAll(tokenizer));

  auto loaded = LoadHypernet(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const at::Tensor forms = SurfaceForms(config, 10, 5);
  const at::Tensor source = SourceEmbeddings(config);
  auto a = hypernet->Forward(forms, source, 1);
  auto b = loaded->Forward(forms, source, 1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::equal(a->embeddings_in, b->embeddings_in));
  EXPECT_TRUE(at::equal(a->embeddings_out, b->embeddings_out));
  EXPECT_TRUE(at::equal(a->bias, b->bias));
}

TEST(HypernetCheckpoint, Bfloat16CheckpointLoads) {
  const auto config = TinyConfig();
  auto hypernet = Hypernet::Create(config, 23);
  ASSERT_TRUE(hypernet.ok());
  ASSERT_TRUE(hypernet->To(at::kCPU, at::kBFloat16).ok());
  const std::string dir = FreshDir("hypernet_checkpoint_bf16");
  ASSERT_TRUE(SaveHypernet(dir, *hypernet).ok());
  auto tensors = ReadSafetensorsDir(dir);
  ASSERT_TRUE(tensors.ok());
  EXPECT_EQ(tensors->at("input_projection.0.weight").scalar_type(), at::kBFloat16);
  auto loaded = LoadHypernet(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->To(at::kCPU, at::kBFloat16).ok());
  auto a = hypernet->Forward(SurfaceForms(config, 6, 5), SourceEmbeddings(config));
  auto b = loaded->Forward(SurfaceForms(config, 6, 5), SourceEmbeddings(config));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::equal(a->embeddings_in, b->embeddings_in));
}

TEST(HypernetCheckpoint, StateDictErrorsNameTheParameter) {
  const auto config = TinyConfig();
  auto hypernet = Hypernet::Create(config);
  ASSERT_TRUE(hypernet.ok());
  auto state = hypernet->StateDict();

  auto with_buffer = state;  // older transformers saved position_ids; it is accepted
  with_buffer["model.embeddings.position_ids"] = at::arange(514).view({1, 514});
  EXPECT_TRUE(Hypernet::FromStateDict(config, with_buffer).ok());

  auto missing = state;
  missing.erase("output_projection_out.0.ln.bias");
  auto status = Hypernet::FromStateDict(config, missing).status();
  EXPECT_NE(status.message().find("output_projection_out.0.ln.bias"), std::string::npos) << status;

  auto unexpected = state;
  unexpected["lang_embeddings.weight"] = at::zeros({2, 16});
  status = Hypernet::FromStateDict(config, unexpected).status();
  EXPECT_NE(status.message().find("lang_embeddings.weight"), std::string::npos) << status;

  auto reshaped = state;
  reshaped["input_projection.0.weight"] = at::zeros({12, 16});  // transposed
  status = Hypernet::FromStateDict(config, reshaped).status();
  EXPECT_NE(status.message().find("input_projection.0.weight"), std::string::npos) << status;
}

TEST(HypernetCheckpoint, MissingFolderIsAnError) {
  auto loaded = LoadHypernet("/nonexistent/hypernet");
  EXPECT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("/nonexistent/hypernet"), std::string::npos);
}

}  // namespace
}  // namespace zett
