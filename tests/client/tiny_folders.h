// Tiny Hugging Face pieces that the `zett apply` tests write into their folders: a 2-layer
// Llama config and a BPE tokenizer.json with no merges.
#ifndef ZETT_TESTS_CLIENT_TINY_FOLDERS_H_
#define ZETT_TESTS_CLIENT_TINY_FOLDERS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace zett::testing {

// LlamaForCausalLM, 2 layers, 2 heads (1 KV head), intermediate 12, bos 1, eos 2, no pad.
inline nlohmann::json TinyLlamaConfig(int64_t vocab_size, int64_t hidden_size, bool tied,
                                      const std::string& torch_dtype) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"intermediate_size", 12},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 2},
          {"num_key_value_heads", 1},
          {"max_position_embeddings", 64},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"pad_token_id", nullptr},
          {"tie_word_embeddings", tied},
          {"torch_dtype", torch_dtype}};
}

// A BPE tokenizer.json whose ids are the positions of `tokens`: tokens[0] a special added
// token, the rest plain vocabulary entries; no normalizer, pre-tokenizer or merges.
inline nlohmann::json BpeTokenizerJson(const std::vector<std::string>& tokens) {
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens",
           {{{"id", 0},
             {"content", tokens[0]},
             {"single_word", false},
             {"lstrip", false},
             {"rstrip", false},
             {"normalized", false},
             {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder", nullptr},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"vocab", vocab},
            {"merges", nlohmann::json::array()}}}};
}

}  // namespace zett::testing

#endif  // ZETT_TESTS_CLIENT_TINY_FOLDERS_H_
