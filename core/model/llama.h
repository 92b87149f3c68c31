// The Llama decoder family in LibTorch: LlamaForCausalLM, MistralForCausalLM and
// Qwen2ForCausalLM differ only in config (q/k/v biases, sliding window, defaults), so one module
// runs all three. Parameters carry their Hugging Face names (model.embed_tokens.weight,
// model.layers.N.self_attn.q_proj.weight, …, model.norm.weight, lm_head.weight), so a
// transformers safetensors checkpoint maps onto named_parameters() one to one.
//
// Shapes: B batch, T sequence, d hidden_size, H heads, Hkv key/value heads, hd head_dim,
// V vocabulary, I intermediate_size.
#ifndef ZETT_CORE_MODEL_LLAMA_H_
#define ZETT_CORE_MODEL_LLAMA_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "core/model/hf_config.h"

namespace zett {

// What a decoder forward reads. Exactly one of `input_ids` and `inputs_embeds` is set.
// `input_embeddings` / `lm_head_weight` (+ `lm_head_bias`) replace the model's own tables:
// that is how transferred or hypernetwork-predicted embeddings are run, with gradients flowing
// into them while the backbone stays frozen.
struct DecoderInputs {
  at::Tensor input_ids;         // [B, T] int64
  at::Tensor inputs_embeds;     // [B, T, d], used as is
  at::Tensor input_embeddings;  // [V', d]: table that `input_ids` index instead of embed_tokens
  at::Tensor attention_mask;    // [B, T], 1 = token, 0 = padding (keys only); undefined = all 1
  at::Tensor position_ids;      // [B, T] or [T] int64; undefined = 0..T-1
  at::Tensor lm_head_weight;    // [V', d]: output embeddings instead of lm_head / tied table
  at::Tensor lm_head_bias;      // [V'], optional, only with lm_head_weight
};

// y = w ⊙ x / sqrt(mean(x²) + eps), computed in fp32 and cast back (as transformers does).
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  at::Tensor forward(const at::Tensor& x);  // [..., d] → [..., d]

  at::Tensor weight;  // [d]

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const DecoderConfig& config);
  // hidden [B, T, d]; cos/sin [B|1, T, hd]; mask bool [B|1, 1, T, T] (true = attend) or
  // undefined for plain causal attention → [B, T, d].
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& cos, const at::Tensor& sin,
                     const at::Tensor& mask);

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t num_heads_, num_kv_heads_, head_dim_;
};
TORCH_MODULE(LlamaAttention);

// down(silu(gate(x)) ⊙ up(x)): [B, T, d] → [B, T, d].
class LlamaMLPImpl : public torch::nn::Module {
 public:
  explicit LlamaMLPImpl(const DecoderConfig& config);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMLP);

// Pre-norm block: h += attn(norm(h)); h += mlp(norm(h)).
class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const DecoderConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& cos, const at::Tensor& sin,
                     const at::Tensor& mask);

  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

// The `model.` subtree: embeddings, layers, final norm.
class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const DecoderConfig& config);
  // inputs_embeds [B, T, d] → final normed hidden states [B, T, d].
  at::Tensor forward(const at::Tensor& inputs_embeds, const at::Tensor& attention_mask,
                     const at::Tensor& position_ids);

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};

 private:
  DecoderConfig config_;
};
TORCH_MODULE(LlamaModel);

class LlamaForCausalLMImpl : public torch::nn::Module {
 public:
  explicit LlamaForCausalLMImpl(const DecoderConfig& config);

  // → logits [B, T, V] (V' with an external lm_head_weight), in the model dtype.
  at::Tensor forward(const DecoderInputs& inputs);
  // → final normed hidden states [B, T, d].
  at::Tensor HiddenStates(const DecoderInputs& inputs);

  // [V, d] tables the model owns (the same tensor when tied).
  at::Tensor InputEmbeddings() const;
  at::Tensor OutputEmbeddings() const;

  // Normal(0, initializer_range) for linear and embedding weights, zero biases, unit norms:
  // transformers' LlamaPreTrainedModel._init_weights.
  void InitWeights();

  const DecoderConfig& config() const { return config_; }

  LlamaModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when tie_word_embeddings

 private:
  DecoderConfig config_;
};
TORCH_MODULE(LlamaForCausalLM);

}  // namespace zett

#endif  // ZETT_CORE_MODEL_LLAMA_H_
