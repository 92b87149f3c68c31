#include "core/model/llama.h"

#include <c10/core/GradMode.h>

#include <map>
#include <utility>

#include "core/compat/torch_compat.h"

namespace zett {
namespace {

torch::nn::Linear MakeLinear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// RoPE tables, as transformers' LlamaRotaryEmbedding: inv_freq[k] = θ^(-2k/hd) (divided by the
// linear scaling factor), angle = position × inv_freq computed in fp32, then duplicated so that
// element k and k + hd/2 share an angle. position_ids [B|1, T] → cos, sin [B|1, T, hd] in `dtype`.
std::pair<at::Tensor, at::Tensor> RotaryCosSin(const at::Tensor& position_ids,
                                               const DecoderConfig& config, at::ScalarType dtype) {
  const auto f32 = position_ids.options().dtype(at::kFloat);
  auto exponent = at::arange(0, config.head_dim, 2, f32) / static_cast<double>(config.head_dim);
  auto inv_freq = at::pow(config.rope_theta, exponent).reciprocal();  // [hd/2]
  if (config.rope_scaling.type == "linear") inv_freq = inv_freq / config.rope_scaling.factor;
  auto angles = position_ids.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [B|1, T, hd/2]
  auto emb = at::cat({angles, angles}, -1);                            // [B|1, T, hd]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

// x [B, H, T, hd] rotated pairwise (k, k + hd/2): x cos + rotate_half(x) sin.
at::Tensor ApplyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

// Boolean [B|1, 1, T, T]: query i attends key j iff j <= i, i - j < window (window > 0), and key
// j is not padding. Rows left without any key (queries on left padding) attend everything, so
// that their (unused) outputs stay finite — transformers does the same for SDPA.
at::Tensor CausalMask(int64_t t, int64_t window, const at::Tensor& attention_mask,
                      const at::Device& device) {
  auto idx = at::arange(t, at::TensorOptions().dtype(at::kLong).device(device));
  auto diff = idx.unsqueeze(1) - idx.unsqueeze(0);  // [T, T]: i - j
  auto mask = diff.ge(0);
  if (window > 0) mask = mask.logical_and(diff.lt(window));
  mask = mask.view({1, 1, t, t});
  if (attention_mask.defined()) {
    auto keys = attention_mask.to(device).to(at::kBool).view({-1, 1, 1, t});  // [B, 1, 1, T]
    mask = mask.logical_and(keys);                                            // [B, 1, T, T]
    auto empty_row = mask.any(-1, /*keepdim=*/true).logical_not();
    mask = mask.logical_or(empty_row);
  }
  return mask;
}

}  // namespace

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", at::ones({dim}));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x) {
  auto x32 = x.to(at::kFloat);
  auto normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return weight * normed.to(x.scalar_type());
}

LlamaAttentionImpl::LlamaAttentionImpl(const DecoderConfig& c)
    : num_heads_(c.num_attention_heads),
      num_kv_heads_(c.num_key_value_heads),
      head_dim_(c.head_dim) {
  q_proj = register_module("q_proj",
                           MakeLinear(c.hidden_size, num_heads_ * head_dim_, c.attention_bias));
  k_proj = register_module("k_proj",
                           MakeLinear(c.hidden_size, num_kv_heads_ * head_dim_, c.attention_bias));
  v_proj = register_module("v_proj",
                           MakeLinear(c.hidden_size, num_kv_heads_ * head_dim_, c.attention_bias));
  o_proj =
      register_module("o_proj", MakeLinear(num_heads_ * head_dim_, c.hidden_size, c.o_proj_bias));
}

at::Tensor LlamaAttentionImpl::forward(const at::Tensor& hidden, const at::Tensor& cos,
                                       const at::Tensor& sin, const at::Tensor& mask) {
  const int64_t b = hidden.size(0), t = hidden.size(1);
  auto q = q_proj(hidden).view({b, t, num_heads_, head_dim_}).transpose(1, 2);     // [B,H,T,hd]
  auto k = k_proj(hidden).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);  // [B,Hkv,T,hd]
  auto v = v_proj(hidden).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);  // [B,Hkv,T,hd]
  q = ApplyRotary(q, cos, sin);
  k = ApplyRotary(k, cos, sin);
  // GQA: query head h reads key/value head h / (H / Hkv) (transformers' repeat_kv).
  const int64_t groups = num_heads_ / num_kv_heads_;
  if (groups > 1) {
    k = k.repeat_interleave(groups, /*dim=*/1);  // [B, H, T, hd]
    v = v.repeat_interleave(groups, /*dim=*/1);
  }
  auto out = mask.defined() ? ScaledDotProductAttention(q, k, v, mask)
                            : ScaledDotProductAttention(q, k, v, {}, /*is_causal=*/true);
  out = out.transpose(1, 2).reshape({b, t, num_heads_ * head_dim_});  // [B, T, H·hd]
  return o_proj(out);                                                 // [B, T, d]
}

LlamaMLPImpl::LlamaMLPImpl(const DecoderConfig& c) {
  gate_proj =
      register_module("gate_proj", MakeLinear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  up_proj = register_module("up_proj", MakeLinear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  down_proj =
      register_module("down_proj", MakeLinear(c.intermediate_size, c.hidden_size, c.mlp_bias));
}

at::Tensor LlamaMLPImpl::forward(const at::Tensor& x) {
  return down_proj(at::silu(gate_proj(x)) * up_proj(x));  // [B, T, I] inside
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const DecoderConfig& c) {
  self_attn = register_module("self_attn", LlamaAttention(c));
  mlp = register_module("mlp", LlamaMLP(c));
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

at::Tensor LlamaDecoderLayerImpl::forward(const at::Tensor& hidden, const at::Tensor& cos,
                                          const at::Tensor& sin, const at::Tensor& mask) {
  auto h = hidden + self_attn(input_layernorm(hidden), cos, sin, mask);
  return h + mlp(post_attention_layernorm(h));
}

LlamaModelImpl::LlamaModelImpl(const DecoderConfig& c) : config_(c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(LlamaDecoderLayer(c));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

at::Tensor LlamaModelImpl::forward(const at::Tensor& inputs_embeds,
                                   const at::Tensor& attention_mask,
                                   const at::Tensor& position_ids) {
  const int64_t t = inputs_embeds.size(1);
  const auto device = inputs_embeds.device();
  at::Tensor positions = position_ids.defined()
                             ? position_ids.to(device)
                             : at::arange(t, at::TensorOptions().dtype(at::kLong).device(device));
  if (positions.dim() == 1) positions = positions.unsqueeze(0);  // [B|1, T]
  auto [cos, sin] = RotaryCosSin(positions, config_, inputs_embeds.scalar_type());

  // One mask per distinct window; none at all for plain causal attention without padding, so
  // the fused causal kernels can run.
  std::map<int64_t, at::Tensor> masks;
  for (int64_t window : config_.sliding_window_per_layer) {
    const bool needs_mask = attention_mask.defined() || (window > 0 && window < t);
    if (needs_mask && !masks.count(window)) {
      masks[window] = CausalMask(t, window, attention_mask, device);
    }
  }
  at::Tensor h = inputs_embeds;  // [B, T, d]
  for (size_t i = 0; i < layers->size(); ++i) {
    auto it = masks.find(config_.sliding_window_per_layer[i]);
    at::Tensor mask = it == masks.end() ? at::Tensor() : it->second;
    h = layers[i]->as<LlamaDecoderLayer>()->forward(h, cos, sin, mask);
  }
  return norm(h);
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const DecoderConfig& c) : config_(c) {
  model = register_module("model", LlamaModel(c));
  if (!c.tie_word_embeddings) {
    lm_head = register_module("lm_head", MakeLinear(c.hidden_size, c.vocab_size, false));
  }
}

at::Tensor LlamaForCausalLMImpl::HiddenStates(const DecoderInputs& in) {
  TORCH_CHECK(in.input_ids.defined() != in.inputs_embeds.defined(),
              "decoder forward: set exactly one of input_ids and inputs_embeds");
  at::Tensor embeds = in.inputs_embeds;  // [B, T, d]
  if (in.input_ids.defined()) {
    const at::Tensor& table =
        in.input_embeddings.defined() ? in.input_embeddings : model->embed_tokens->weight;
    embeds = at::embedding(table, in.input_ids.to(table.device()));
  }
  return model(embeds, in.attention_mask, in.position_ids);
}

at::Tensor LlamaForCausalLMImpl::forward(const DecoderInputs& in) {
  at::Tensor hidden = HiddenStates(in);  // [B, T, d]
  if (in.lm_head_weight.defined()) return at::linear(hidden, in.lm_head_weight, in.lm_head_bias);
  return at::linear(hidden, OutputEmbeddings());  // [B, T, V]
}

at::Tensor LlamaForCausalLMImpl::InputEmbeddings() const { return model->embed_tokens->weight; }

at::Tensor LlamaForCausalLMImpl::OutputEmbeddings() const {
  return lm_head ? lm_head->weight : model->embed_tokens->weight;
}

void LlamaForCausalLMImpl::InitWeights() {
  c10::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& p = item.value();
    if (name.find("norm") != std::string::npos) {
      p.fill_(1.0);
    } else if (p.dim() == 1) {
      p.zero_();
    } else {
      p.normal_(0.0, config_.initializer_range);
    }
  }
}

}  // namespace zett
