#include "core/model/xlm_roberta.h"

#include <c10/core/GradMode.h>

#include <cmath>

#include "core/compat/torch_compat.h"

namespace zett {
namespace {

torch::nn::Linear MakeLinear(int64_t in, int64_t out, bool bias = true) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

torch::nn::LayerNorm MakeLayerNorm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

// A parameterless node of the module tree, so that names like `attention.self.query` exist.
std::shared_ptr<torch::nn::Module> Node(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// RoBERTa positions: pad_token_id + cumsum(is_token) on tokens, pad_token_id on padding.
// is_token [B, T] bool → [B, T] int64.
at::Tensor PositionIds(const at::Tensor& is_token, int64_t pad_token_id) {
  auto mask = is_token.to(at::kLong);
  return mask.cumsum(1) * mask + pad_token_id;
}

}  // namespace

RobertaEmbeddingsImpl::RobertaEmbeddingsImpl(const EncoderConfig& c) {
  word_embeddings =
      register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings = register_module(
      "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings",
                                          torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", MakeLayerNorm(c.hidden_size, c.layer_norm_eps));
}

at::Tensor RobertaEmbeddingsImpl::forward(const at::Tensor& word, const at::Tensor& position_ids,
                                          const at::Tensor& token_type_ids) {
  auto h = word + position_embeddings(position_ids) + token_type_embeddings(token_type_ids);
  return LayerNorm(h);
}

RobertaLayerImpl::RobertaLayerImpl(const EncoderConfig& c)
    : num_heads_(c.num_attention_heads), head_dim_(c.hidden_size / c.num_attention_heads) {
  const int64_t d = c.hidden_size;
  auto attention = Node(*this, "attention");
  auto self = Node(*attention, "self");
  query = self->register_module("query", MakeLinear(d, d));
  key = self->register_module("key", MakeLinear(d, d));
  value = self->register_module("value", MakeLinear(d, d));
  auto attention_output = Node(*attention, "output");
  attention_dense = attention_output->register_module("dense", MakeLinear(d, d));
  attention_layer_norm =
      attention_output->register_module("LayerNorm", MakeLayerNorm(d, c.layer_norm_eps));
  intermediate_dense =
      Node(*this, "intermediate")->register_module("dense", MakeLinear(d, c.intermediate_size));
  auto output = Node(*this, "output");
  output_dense = output->register_module("dense", MakeLinear(c.intermediate_size, d));
  output_layer_norm = output->register_module("LayerNorm", MakeLayerNorm(d, c.layer_norm_eps));
}

at::Tensor RobertaLayerImpl::forward(const at::Tensor& hidden, const at::Tensor& key_mask) {
  const int64_t b = hidden.size(0), t = hidden.size(1);
  auto heads = [&](const at::Tensor& x) {  // [B, T, d] → [B, H, T, hd]
    return x.view({b, t, num_heads_, head_dim_}).transpose(1, 2);
  };
  auto context = ScaledDotProductAttention(heads(query(hidden)), heads(key(hidden)),
                                           heads(value(hidden)), key_mask);
  context = context.transpose(1, 2).reshape({b, t, num_heads_ * head_dim_});  // [B, T, d]
  auto h = attention_layer_norm(attention_dense(context) + hidden);
  auto ffn = output_dense(at::gelu(intermediate_dense(h)));  // [B, T, I] inside; exact GELU
  return output_layer_norm(ffn + h);
}

RobertaLMHeadImpl::RobertaLMHeadImpl(const EncoderConfig& c) {
  dense = register_module("dense", MakeLinear(c.hidden_size, c.hidden_size));
  layer_norm = register_module("layer_norm", MakeLayerNorm(c.hidden_size, c.layer_norm_eps));
  if (c.tie_word_embeddings) {
    bias = register_parameter("bias", at::zeros({c.vocab_size}));
  } else {
    // transformers' untied head runs `decoder` with its own bias (lm_head.decoder.bias), which
    // recent versions no longer share with lm_head.bias.
    decoder = register_module("decoder", MakeLinear(c.hidden_size, c.vocab_size, true));
    bias = decoder->bias;
  }
}

at::Tensor RobertaLMHeadImpl::forward(const at::Tensor& hidden, const at::Tensor& decoder_weight,
                                      const at::Tensor& decoder_bias) {
  auto h = layer_norm(at::gelu(dense(hidden)));  // [B, T, d]
  return at::linear(h, decoder_weight, decoder_bias);
}

XLMRobertaForMaskedLMImpl::XLMRobertaForMaskedLMImpl(const EncoderConfig& c) : config_(c) {
  roberta = Node(*this, "roberta");
  embeddings = roberta->register_module("embeddings", RobertaEmbeddings(c));
  layers = Node(*roberta, "encoder")->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(RobertaLayer(c));
  lm_head = register_module("lm_head", RobertaLMHead(c));
}

at::Tensor XLMRobertaForMaskedLMImpl::HiddenStates(const EncoderInputs& in) {
  TORCH_CHECK(in.input_ids.defined() != in.inputs_embeds.defined(),
              "encoder forward: set exactly one of input_ids and inputs_embeds");
  at::Tensor word = in.inputs_embeds;  // [B, T, d]
  at::Tensor is_token;                 // [B, T] bool
  const auto device = embeddings->word_embeddings->weight.device();
  if (in.input_ids.defined()) {
    auto ids = in.input_ids.to(device);
    const at::Tensor& table =
        in.input_embeddings.defined() ? in.input_embeddings : InputEmbeddings();
    word = at::embedding(table, ids);
    is_token = in.attention_mask.defined() ? in.attention_mask.to(device).to(at::kBool)
                                           : ids.ne(config_.pad_token_id);
  } else {
    is_token = in.attention_mask.defined()
                   ? in.attention_mask.to(device).to(at::kBool)
                   : at::ones({word.size(0), word.size(1)},
                              at::TensorOptions().dtype(at::kBool).device(device));
  }
  auto position_ids = PositionIds(is_token, config_.pad_token_id);  // [B, T]
  auto token_types =
      in.token_type_ids.defined() ? in.token_type_ids.to(device) : at::zeros_like(position_ids);
  auto h = embeddings(word, position_ids, token_types);  // [B, T, d]
  // Padding is masked as keys only, as in transformers (padded queries still produce outputs);
  // without an attention_mask transformers attends to every position, pad included.
  at::Tensor key_mask;
  if (in.attention_mask.defined()) {
    key_mask = is_token.view({is_token.size(0), 1, 1, is_token.size(1)});  // [B, 1, 1, T]
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    h = layers[i]->as<RobertaLayer>()->forward(h, key_mask);
  }
  return h;
}

at::Tensor XLMRobertaForMaskedLMImpl::forward(const EncoderInputs& in) {
  at::Tensor hidden = HiddenStates(in);  // [B, T, d]
  if (in.lm_head_weight.defined()) return lm_head(hidden, in.lm_head_weight, in.lm_head_bias);
  return lm_head(hidden, OutputEmbeddings(), OutputBias());  // [B, T, V]
}

at::Tensor XLMRobertaForMaskedLMImpl::InputEmbeddings() const {
  return embeddings->word_embeddings->weight;
}

at::Tensor XLMRobertaForMaskedLMImpl::OutputEmbeddings() const {
  return lm_head->decoder ? lm_head->decoder->weight : InputEmbeddings();
}

at::Tensor XLMRobertaForMaskedLMImpl::OutputBias() const { return lm_head->bias; }

void XLMRobertaForMaskedLMImpl::InitWeights() {
  c10::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& p = item.value();
    const bool is_norm =
        name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos;
    if (is_norm && name.size() > 7 && name.substr(name.size() - 7) == ".weight") {
      p.fill_(1.0);
    } else if (p.dim() == 1) {
      p.zero_();
    } else {
      p.normal_(0.0, config_.initializer_range);
    }
  }
  // transformers zeroes the padding row of every nn.Embedding built with padding_idx.
  embeddings->word_embeddings->weight[config_.pad_token_id].zero_();
  embeddings->position_embeddings->weight[config_.pad_token_id].zero_();
}

}  // namespace zett
