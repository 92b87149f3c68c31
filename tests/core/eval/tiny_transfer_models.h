// A tiny random Llama base LM and a tiny hypernetwork for it, written as Hugging Face / zett
// folders, with the bundled original tokenizer (models/base-tokenizer), and a byte-level BPE
// target tokenizer: the fixture of the evaluation and continued-training tests.
#ifndef ZETT_TESTS_CORE_EVAL_TINY_TRANSFER_MODELS_H_
#define ZETT_TESTS_CORE_EVAL_TINY_TRANSFER_MODELS_H_

#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/hypernet/checkpoint.h"
#include "core/hypernet/hypernet.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/hf_config.h"
#include "core/model/llama.h"
#include "core/model/state_dict.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer_file.h"

namespace zett::testing {

inline constexpr char kOriginalTokenizer[] = "models/base-tokenizer/tokenizer.json";
inline constexpr int64_t kTinyHidden = 16;

// Byte-level BPE: all 256 byte chars and a few merges; with `special`, also a special token
// the original lacks (<|endoftext|>).
inline nlohmann::json ByteLevelBpeTarget(bool special) {
  nlohmann::json vocab = nlohmann::json::object();
  int id = 0;
  for (int b = 0; b < 256; ++b) vocab[tokenizer::ByteToChar(static_cast<uint8_t>(b))] = id++;
  const std::string g = tokenizer::ByteToChar(' ');
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {g, "t"}, {"h", "e"}, {g + "t", "he"}, {"a", "t"}, {g, "c"}, {g + "c", "at"}}) {
    if (!vocab.contains(a + b)) vocab[a + b] = id++;
    merges.push_back({a, b});
  }
  nlohmann::json target = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
                           {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}}};
  if (special) {
    target["model"]["vocab"]["<|endoftext|>"] = id;
    target["added_tokens"] = {{{"id", id}, {"content", "<|endoftext|>"}, {"special", true}}};
  }
  return target;
}

// dir/base (config.json, model.safetensors, tokenizer.json: d 16, 1 layer, untied, rows
// ~N(0, 1)), dir/hypernet (H 32, 1 layer, L 7, seed 5) and dir/target/tokenizer.json.
inline void WriteTinyTransferModels(const std::filesystem::path& dir, bool target_special) {
  namespace fs = std::filesystem;
  fs::create_directories(dir / "base");
  auto original = tokenizer::LoadTokenizerFile(kOriginalTokenizer).value();
  auto decomposer = tokenizer::Decomposer::Create(*original).value();
  const int64_t vocab = original->vocab_size();
  const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}},
                                 {"model_type", "llama"},
                                 {"hidden_size", kTinyHidden},
                                 {"intermediate_size", 32},
                                 {"num_hidden_layers", 1},
                                 {"num_attention_heads", 2},
                                 {"num_key_value_heads", 1},
                                 {"head_dim", 8},
                                 {"max_position_embeddings", 64},
                                 {"rms_norm_eps", 1e-5},
                                 {"bos_token_id", 1},
                                 {"eos_token_id", 2},
                                 {"vocab_size", vocab},
                                 {"tie_word_embeddings", false},
                                 {"torch_dtype", "float32"}};
  ASSERT_TRUE(WriteJsonFile((dir / "base/config.json").string(), config).ok());
  at::manual_seed(3);
  LlamaForCausalLM model(ParseDecoderConfig(config).value());
  model->InitWeights();
  {
    c10::NoGradGuard no_grad;
    model->model->embed_tokens->weight.normal_(0, 1);
    model->lm_head->weight.normal_(0, 1);
  }
  ASSERT_TRUE(
      WriteSafetensors((dir / "base/model.safetensors").string(), StateDict(*model, at::kFloat))
          .ok());
  fs::copy_file(kOriginalTokenizer, dir / "base/tokenizer.json");

  ZettHypernetConfig hc;
  hc.n_embd = kTinyHidden;
  hc.hn_hidden_size = 32;
  hc.hn_num_attention_heads = 2;
  hc.hn_n_layers = 1;
  hc.hn_surface_maxlen = 7;
  hc.hn_embed_using_source_embeddings = true;
  hc.hn_rescale_embeddings = true;
  hc.separate_out_embeddings = true;
  hc.original_vocab_size = vocab;
  hc.pad_token_id = decomposer->default_pad_id();
  hc.hn_n_extra_tokens =
      static_cast<int64_t>(decomposer->original_vocabulary().surface_forms.size()) - vocab + 1;
  auto hypernet = Hypernet::Create(hc, /*seed=*/5);
  ASSERT_TRUE(hypernet.ok()) << hypernet.status();
  ASSERT_TRUE(SaveHypernet((dir / "hypernet").string(), *hypernet, kOriginalTokenizer).ok());

  fs::create_directories(dir / "target");
  ASSERT_TRUE(
      WriteJsonFile((dir / "target/tokenizer.json").string(), ByteLevelBpeTarget(target_special))
          .ok());
}

}  // namespace zett::testing

#endif  // ZETT_TESTS_CORE_EVAL_TINY_TRANSFER_MODELS_H_
