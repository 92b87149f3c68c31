// XLMRobertaForMaskedLM / RobertaForMaskedLM in LibTorch (the ZeTT paper's main encoder).
// Parameters carry their Hugging Face names (roberta.embeddings.word_embeddings.weight,
// roberta.encoder.layer.N.attention.self.query.weight, …, lm_head.dense.weight,
// lm_head.layer_norm.weight, lm_head.bias), so safetensors keys map one to one. With tied
// embeddings (the default) the MLM decoder reuses word_embeddings and only `lm_head.bias` is
// stored; untied checkpoints also have lm_head.decoder.weight.
//
// Shapes: B batch, T sequence, d hidden_size, H heads, hd = d / H, V vocabulary.
#ifndef ZETT_CORE_MODEL_XLM_ROBERTA_H_
#define ZETT_CORE_MODEL_XLM_ROBERTA_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "core/model/hf_config.h"

namespace zett {

// What an encoder forward reads. Exactly one of `input_ids` and `inputs_embeds` is set.
// `input_embeddings` / `lm_head_weight` (+ `lm_head_bias`) replace the model's own tables
// (transferred or hypernetwork-predicted embeddings; gradients flow into them).
//
// Positions follow RoBERTa: pad_token_id + 1 + (index among non-padding tokens), and
// pad_token_id on padding. Padding is taken from `attention_mask` when set, else from
// `input_ids == pad_token_id`; with `inputs_embeds` and no mask all tokens are real
// (transformers' create_position_ids_from_inputs_embeds).
struct EncoderInputs {
  at::Tensor input_ids;         // [B, T] int64
  at::Tensor inputs_embeds;     // [B, T, d]: word embeddings only (positions/types are added)
  at::Tensor input_embeddings;  // [V', d]: table that `input_ids` index instead of word_embeddings
  at::Tensor attention_mask;    // [B, T], 1 = token, 0 = padding; undefined = from input_ids
  at::Tensor token_type_ids;    // [B, T]; undefined = 0
  at::Tensor lm_head_weight;    // [V', d] MLM decoder weight
  at::Tensor lm_head_bias;      // [V'] MLM decoder bias (needed with lm_head_weight)
};

class RobertaEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit RobertaEmbeddingsImpl(const EncoderConfig& config);
  // word [B, T, d] + position(position_ids) + token_type(type_ids), then LayerNorm → [B, T, d].
  at::Tensor forward(const at::Tensor& word, const at::Tensor& position_ids,
                     const at::Tensor& token_type_ids);

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr},
      token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // HF's capitalised name
};
TORCH_MODULE(RobertaEmbeddings);

// Post-LN BERT layer: h = LN(h + attn(h)); h = LN(h + W_out gelu(W_in h)).
class RobertaLayerImpl : public torch::nn::Module {
 public:
  explicit RobertaLayerImpl(const EncoderConfig& config);
  // hidden [B, T, d]; key_mask bool [B, 1, 1, T] (true = real token) → [B, T, d].
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& key_mask);

  // attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
  // intermediate.dense, output.{dense,LayerNorm}: registered under those dotted names.
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr},
      intermediate_dense{nullptr}, output_dense{nullptr};
  torch::nn::LayerNorm attention_layer_norm{nullptr}, output_layer_norm{nullptr};

 private:
  int64_t num_heads_, head_dim_;
};
TORCH_MODULE(RobertaLayer);

class RobertaLMHeadImpl : public torch::nn::Module {
 public:
  RobertaLMHeadImpl(const EncoderConfig& config);
  // hidden [B, T, d] → decoder(LN(gelu(dense(hidden)))) + bias: [B, T, V].
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& decoder_weight,
                     const at::Tensor& decoder_bias);

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm layer_norm{nullptr};
  torch::nn::Linear decoder{nullptr};  // only when untied
  at::Tensor bias;  // [V]: `lm_head.bias` when tied, `lm_head.decoder.bias` when untied
};
TORCH_MODULE(RobertaLMHead);

class XLMRobertaForMaskedLMImpl : public torch::nn::Module {
 public:
  explicit XLMRobertaForMaskedLMImpl(const EncoderConfig& config);

  // → MLM logits [B, T, V] (V' with an external lm_head_weight).
  at::Tensor forward(const EncoderInputs& inputs);
  // → last encoder layer output [B, T, d].
  at::Tensor HiddenStates(const EncoderInputs& inputs);

  at::Tensor InputEmbeddings() const;   // [V, d]
  at::Tensor OutputEmbeddings() const;  // [V, d]; the same tensor when tied
  at::Tensor OutputBias() const;        // [V]

  void InitWeights();  // transformers' RobertaPreTrainedModel._init_weights
  const EncoderConfig& config() const { return config_; }

  // `roberta.` subtree.
  std::shared_ptr<torch::nn::Module> roberta;
  RobertaEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};  // roberta.encoder.layer
  RobertaLMHead lm_head{nullptr};

 private:
  EncoderConfig config_;
};
TORCH_MODULE(XLMRobertaForMaskedLM);

}  // namespace zett

#endif  // ZETT_CORE_MODEL_XLM_ROBERTA_H_
