#include "core/hypernet/hypernet.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/compat/torch_compat.h"
#include "core/hypernet/row_buckets.h"
#include "core/hypernet/surface_attention.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

// ProjectorBlock's LayerNorm (zett: nn.LayerNorm(eps=1e-6); Flax's default).
constexpr double kProjectorLayerNormEps = 1e-6;
// Source rows projected per call in ProjectRows: bounds the [rows, I] FFN activation.
constexpr int64_t kProjectRowsChunk = 16384;

enum class Init { kNormal, kZeros, kOnes };

// One parameter: its PyTorch-port name, where it lives, its shape and how to initialise it.
struct ParamRef {
  std::string name;
  at::Tensor* tensor;
  std::vector<int64_t> shape;
  Init init;
  bool trainable;
};

struct Linear {
  at::Tensor weight;  // [out, in]
  at::Tensor bias;    // [out]
  at::Tensor operator()(const at::Tensor& x) const { return at::linear(x, weight, bias); }
};

struct LayerNorm {
  at::Tensor weight, bias;  // [dim]
  at::Tensor operator()(const at::Tensor& x, double eps) const {
    return at::layer_norm(x, {weight.size(0)}, weight, bias, eps);
  }
};

// LN(gelu_tanh(dense2(gelu_tanh(dense1(x)))) + x); dense1: H -> I, dense2: I -> H.
struct ProjectorBlock {
  Linear dense1, dense2;
  LayerNorm ln;
  at::Tensor operator()(const at::Tensor& x) const {
    at::Tensor h = at::gelu(dense2(at::gelu(dense1(x), "tanh")), "tanh");
    return ln(h + x, kProjectorLayerNormEps);
  }
};

// Frozen per-dimension affine w * x + b; w, b: [1, dim].
struct Rescaler {
  at::Tensor w, b;
  at::Tensor operator()(const at::Tensor& x) const { return at::addcmul(b, w, x); }
};

// One post-LN RoBERTa layer (transformers' RobertaLayer without dropout).
struct RobertaLayer {
  Linear query, key, value, attention_output;
  LayerNorm attention_ln;
  Linear intermediate, output;
  LayerNorm output_ln;
};

struct Weights {
  // model.embeddings.*
  at::Tensor position_embeddings;    // [514, H]
  at::Tensor token_type_embeddings;  // [1, H]
  LayerNorm embeddings_ln;
  std::vector<RobertaLayer> layers;
  at::Tensor fallback_embeddings;  // [max(n_extra, 1), n_in]
  Linear input_linear;             // input_projection.0: n_in -> H
  ProjectorBlock input_block;      // input_projection.1
  ProjectorBlock output_block;     // output_projection.0
  Linear output_linear;            // output_projection.1: H -> d (n_in with hn_single_head)
  ProjectorBlock output_out_block;
  Linear output_out_linear;
  Rescaler in_scaler, scaler, out_scaler;
  Linear bias_projection;      // H -> 1
  at::Tensor lang_embeddings;  // [n_langs, H]
};

bool HasOutHead(const ZettHypernetConfig& c) {
  return c.separate_out_embeddings && !c.hn_single_head;
}
bool HasInScaler(const ZettHypernetConfig& c) { return c.hn_rescale_embeddings; }
bool HasScaler(const ZettHypernetConfig& c) { return c.hn_rescale_embeddings && !c.hn_residual; }
bool HasOutScaler(const ZettHypernetConfig& c) { return HasScaler(c) && c.separate_out_embeddings; }

// Every parameter of `w` that `c` calls for, named as in zett's PyTorch port (nn.Sequential
// children are "0", "1"; RoBERTa keys as in transformers' RobertaModel under "model.").
std::vector<ParamRef> ListParameters(const ZettHypernetConfig& c, Weights& w) {
  const int64_t d = c.n_embd, h = c.hidden_size(), i = c.intermediate_size();
  const int64_t n_in = c.source_embedding_dim();
  std::vector<ParamRef> refs;
  auto add = [&refs](std::string name, at::Tensor* t, std::vector<int64_t> shape, Init init,
                     bool trainable = true) {
    refs.push_back({std::move(name), t, std::move(shape), init, trainable});
  };
  auto linear = [&add](const std::string& prefix, Linear* l, int64_t in, int64_t out,
                       Init weight_init = Init::kNormal) {
    add(prefix + ".weight", &l->weight, {out, in}, weight_init);
    add(prefix + ".bias", &l->bias, {out}, Init::kZeros);
  };
  auto layer_norm = [&add](const std::string& prefix, LayerNorm* l, int64_t dim) {
    add(prefix + ".weight", &l->weight, {dim}, Init::kOnes);
    add(prefix + ".bias", &l->bias, {dim}, Init::kZeros);
  };
  auto block = [&](const std::string& prefix, ProjectorBlock* b) {
    linear(prefix + ".dense1", &b->dense1, h, i);
    linear(prefix + ".dense2", &b->dense2, i, h);
    layer_norm(prefix + ".ln", &b->ln, h);
  };
  auto rescaler = [&add](const std::string& prefix, Rescaler* r, int64_t dim) {
    add(prefix + ".w", &r->w, {1, dim}, Init::kOnes, /*trainable=*/false);
    add(prefix + ".b", &r->b, {1, dim}, Init::kZeros, /*trainable=*/false);
  };
  // The residual form starts at E_src[id_0]: its last head layers start at zero.
  const Init head_init = c.hn_residual ? Init::kZeros : Init::kNormal;

  if (c.hn_embed_lang_id) {
    add("lang_embeddings.weight", &w.lang_embeddings, {c.n_lang_rows(), h}, Init::kNormal);
  }
  add("model.embeddings.position_embeddings.weight", &w.position_embeddings,
      {RobertaBaseConstants::kMaxPositionEmbeddings, h}, Init::kNormal);
  add("model.embeddings.token_type_embeddings.weight", &w.token_type_embeddings,
      {RobertaBaseConstants::kTypeVocabSize, h}, Init::kNormal);
  layer_norm("model.embeddings.LayerNorm", &w.embeddings_ln, h);
  for (int64_t l = 0; l < c.hn_n_layers; ++l) {
    const std::string p = absl::StrCat("model.encoder.layer.", l);
    RobertaLayer& layer = w.layers[l];
    linear(p + ".attention.self.query", &layer.query, h, h);
    linear(p + ".attention.self.key", &layer.key, h, h);
    linear(p + ".attention.self.value", &layer.value, h, h);
    linear(p + ".attention.output.dense", &layer.attention_output, h, h);
    layer_norm(p + ".attention.output.LayerNorm", &layer.attention_ln, h);
    linear(p + ".intermediate.dense", &layer.intermediate, h, i);
    linear(p + ".output.dense", &layer.output, i, h);
    layer_norm(p + ".output.LayerNorm", &layer.output_ln, h);
  }
  add("fallback_embeddings.weight", &w.fallback_embeddings, {c.fallback_rows(), n_in},
      Init::kNormal);
  linear("input_projection.0", &w.input_linear, n_in, h);
  block("input_projection.1", &w.input_block);
  block("output_projection.0", &w.output_block);
  linear("output_projection.1", &w.output_linear, h, c.hn_single_head ? n_in : d, head_init);
  if (HasOutHead(c)) {
    block("output_projection_out.0", &w.output_out_block);
    linear("output_projection_out.1", &w.output_out_linear, h, d, head_init);
  }
  if (HasInScaler(c)) rescaler("in_scaler", &w.in_scaler, n_in);
  if (HasScaler(c)) rescaler("scaler", &w.scaler, d);
  if (HasOutScaler(c)) rescaler("out_scaler", &w.out_scaler, d);
  if (c.hn_predict_bias) linear("bias_projection", &w.bias_projection, h, 1);
  return refs;
}

// Additive attention mask value: large enough to zero a softmax weight, finite so a row whose
// keys are all padding attends uniformly (as transformers' finfo.min mask does), not to NaN.
double MaskValue(at::ScalarType dtype) { return dtype == at::kHalf ? -65504.0 : -1e30; }

absl::Status InvalidArgument(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("hypernet: ", message));
}

}  // namespace

bool IsUnusedHypernetKey(const std::string& name) {
  return name == "model.embeddings.word_embeddings.weight" ||
         name == "model.embeddings.position_ids" || name == "model.embeddings.token_type_ids";
}

struct Hypernet::Impl {
  ZettHypernetConfig config;
  Weights w;
  std::vector<ParamRef> refs;
  // ExplicitAttention whatever the dtype (else SurfaceFormAttention picks): set on the training
  // step's mixed-precision copy, where the fused bf16 kernels cost more than the whole step's
  // gain (docs/training.md, session 11's trace) and their backward is not deterministic.
  bool explicit_attention = false;

  explicit Impl(const ZettHypernetConfig& c) : config(c) {
    w.layers.resize(c.hn_n_layers);
    refs = ListParameters(config, w);
  }

  at::TensorOptions options() const { return w.position_embeddings.options(); }

  absl::Status CheckSurfaceForms(const at::Tensor& surface_forms) const;
  absl::Status CheckSourceEmbeddings(const at::Tensor& source_embeddings) const;
  absl::StatusOr<at::Tensor> LangRow(std::optional<int64_t> lang_index) const;

  // input_projection(in_scaler(E_src[id])) / input_projection(fallback[id - V_orig]) for ids
  // [U] (long, on the module's device) -> [U, H].
  at::Tensor ProjectRows(const at::Tensor& ids, const at::Tensor& source_embeddings) const;

  // ids: [V, L] long; table: [*, H]; gather_ids: [V, L] rows of table. Returns h_0: [V, H].
  at::Tensor Encode(const at::Tensor& table, const at::Tensor& gather_ids, const at::Tensor& ids,
                    const at::Tensor& lang_row, const HypernetForwardOptions& options) const;
  // One chunk, already cut to its longest row: gather_ids, keep: [B, Lc] -> [B, H]. An
  // undefined `keep` means every position is real: no attention mask.
  at::Tensor EncodeChunk(const at::Tensor& table, const at::Tensor& gather_ids, at::Tensor keep,
                         const at::Tensor& lang_row) const;
  // query_states: [B, Tq, H] (Tq = 1 for the last layer: only position 0 is read out);
  // states: [B, T, H]; additive_mask: [B, 1, 1, T]. Returns [B, Tq, H].
  at::Tensor Layer(const RobertaLayer& layer, const at::Tensor& query_states,
                   const at::Tensor& states, const at::Tensor& additive_mask) const;
  // pooled: [V, H]; first_ids: [V] long (residual base). Applies heads, residual or scalers;
  // the heads' outputs are cast to `out_dtype` first (undefined: the parameters' dtype).
  HypernetOutput Heads(const at::Tensor& pooled, const at::Tensor& first_ids,
                       const at::Tensor& source_embeddings,
                       std::optional<at::ScalarType> out_dtype = std::nullopt) const;
  // The static training forward (ForwardStatic), outputs in `out_dtype`.
  HypernetOutput RunStatic(const at::Tensor& surface_forms, const at::Tensor& source_embeddings,
                           std::optional<at::ScalarType> out_dtype) const;
  // A copy whose parameters are this one's cast to `dtype` (differentiable: gradients reach
  // this one's tensors), taken from `cast` where it names them; one cast kernel per other one.
  std::unique_ptr<Impl> CastTo(at::ScalarType dtype,
                               const std::map<std::string, at::Tensor>& cast = {}) const;

  absl::StatusOr<HypernetOutput> Run(const at::Tensor& surface_forms, const at::Tensor& table,
                                     const at::Tensor& gather_ids,
                                     const at::Tensor& source_embeddings,
                                     std::optional<int64_t> lang_index,
                                     const HypernetForwardOptions& options) const;
};

absl::Status Hypernet::Impl::CheckSurfaceForms(const at::Tensor& surface_forms) const {
  if (!surface_forms.defined() || surface_forms.dim() != 2) {
    return InvalidArgument("surface_forms must be a [V, L] matrix");
  }
  if (at::isFloatingType(surface_forms.scalar_type()) || surface_forms.scalar_type() == at::kBool) {
    return InvalidArgument(absl::StrCat("surface_forms must hold integer ids, got ",
                                        c10::toString(surface_forms.scalar_type())));
  }
  const int64_t length = surface_forms.size(1);
  if (length < 1 || length > config.hn_surface_maxlen) {
    return InvalidArgument(absl::StrCat("surface_forms has ", length,
                                        " columns; expected 1..hn_surface_maxlen (",
                                        config.hn_surface_maxlen, ")"));
  }
  if (surface_forms.numel() > 0) {
    const int64_t lo = surface_forms.min().item<int64_t>();
    const int64_t hi = surface_forms.max().item<int64_t>();
    const int64_t limit = config.original_vocab_size + config.fallback_rows();
    if (lo < 0 || hi >= limit) {
      return InvalidArgument(absl::StrCat(
          "surface_forms ids must be in [0, original_vocab_size + fallback rows) = [0, ", limit,
          "), got [", lo, ", ", hi, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status Hypernet::Impl::CheckSourceEmbeddings(const at::Tensor& e) const {
  if (!e.defined() || e.dim() != 2 || !at::isFloatingType(e.scalar_type())) {
    return InvalidArgument("source_embeddings must be a floating [V_orig, dim] matrix");
  }
  if (e.size(1) != config.source_embedding_dim() || e.size(0) < config.original_vocab_size) {
    return InvalidArgument(absl::StrCat(
        "source_embeddings is [", e.size(0), ", ", e.size(1), "]; expected at least ",
        config.original_vocab_size, " rows (original_vocab_size) of width ",
        config.source_embedding_dim(),
        config.separate_out_embeddings ? " ([E_in | E_out], untied)" : " (E_in, tied)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> Hypernet::Impl::LangRow(std::optional<int64_t> lang_index) const {
  if (!config.hn_embed_lang_id) {
    if (lang_index.has_value()) {
      return InvalidArgument("lang_index given, but this hypernet has no language embedding");
    }
    return at::Tensor();
  }
  if (!lang_index.has_value() || *lang_index < 0 || *lang_index >= config.n_lang_rows()) {
    return InvalidArgument(absl::StrCat("this hypernet is multilingual: lang_index in [0, ",
                                        config.n_lang_rows(), ") is required"));
  }
  return w.lang_embeddings[*lang_index];
}

at::Tensor Hypernet::Impl::ProjectRows(const at::Tensor& ids,
                                       const at::Tensor& source_embeddings) const {
  const int64_t v_orig = config.original_vocab_size;
  std::vector<at::Tensor> out;
  for (int64_t start = 0; start < ids.size(0); start += kProjectRowsChunk) {
    at::Tensor chunk = ids.slice(0, start, start + kProjectRowsChunk);
    at::Tensor is_fallback = (chunk >= v_orig).unsqueeze(1);
    at::Tensor main_ids = chunk.clamp_max(v_orig - 1);
    at::Tensor fallback_ids = (chunk - v_orig).clamp_min(0);
    // Gather where the table lives (it may be a large CPU matrix), then move only the rows.
    at::Tensor rows =
        source_embeddings.index_select(0, main_ids.to(source_embeddings.device())).to(options());
    if (HasInScaler(config)) rows = w.in_scaler(rows);
    at::Tensor x =
        at::where(is_fallback, w.fallback_embeddings.index_select(0, fallback_ids), rows);
    out.push_back(w.input_block(w.input_linear(x)));
  }
  if (out.empty()) return at::empty({0, config.hidden_size()}, options());
  return out.size() == 1 ? out[0] : at::cat(out, 0);
}

at::Tensor Hypernet::Impl::Layer(const RobertaLayer& layer, const at::Tensor& query_states,
                                 const at::Tensor& states, const at::Tensor& additive_mask) const {
  const int64_t batch = states.size(0), hidden = states.size(2);
  const int64_t heads = config.num_attention_heads(), head_dim = hidden / heads;
  auto split = [&](const at::Tensor& t) {  // [B, T, H] -> [B, heads, T, head_dim]
    return t.view({batch, -1, heads, head_dim}).transpose(1, 2);
  };
  at::Tensor q = split(layer.query(query_states));
  at::Tensor k = split(layer.key(states));
  at::Tensor v = split(layer.value(states));
  at::Tensor context = explicit_attention ? ExplicitAttention(q, k, v, additive_mask)
                                          : SurfaceFormAttention(q, k, v, additive_mask);
  context = context.transpose(1, 2).reshape({batch, -1, hidden});
  const double eps = RobertaBaseConstants::kLayerNormEps;
  at::Tensor attended = layer.attention_ln(layer.attention_output(context) + query_states, eps);
  at::Tensor ffn = layer.output(at::gelu(layer.intermediate(attended)));  // exact GELU
  return layer.output_ln(ffn + attended, eps);
}

at::Tensor Hypernet::Impl::EncodeChunk(const at::Tensor& table, const at::Tensor& gather_ids,
                                       at::Tensor keep, const at::Tensor& lang_row) const {
  const int64_t batch = gather_ids.size(0), length = gather_ids.size(1);
  const int64_t hidden = config.hidden_size();
  // [B, Lc, H]: projected decomposition + learned positions 0..Lc-1 + token type 0.
  // index_select rather than embedding: its backward (index_add) needs no host synchronisation.
  // Cast after the gather: a table kept in fp32 (RunStatic, mixed precision) takes its gradient
  // by index_add in fp32, not by bf16 atomics over a row's many occurrences.
  at::Tensor x =
      table.index_select(0, gather_ids.reshape({-1})).view({batch, length, hidden}).to(options()) +
      w.position_embeddings.slice(0, 0, length) + w.token_type_embeddings[0];
  if (lang_row.defined()) {
    // The language element goes last with neither position nor type embedding (Flax; the
    // PyTorch port subtracts the ones its RobertaModel then adds). Its index does not matter:
    // attention is order-free apart from the position embeddings.
    x = at::cat({x, lang_row.view({1, 1, hidden}).expand({batch, 1, hidden})}, 1);
    if (keep.defined()) keep = at::cat({keep, at::ones({batch, 1}, keep.options())}, 1);
  }
  x = w.embeddings_ln(x, RobertaBaseConstants::kLayerNormEps);
  // Without a mask attention can take the fused (flash) kernels.
  at::Tensor additive_mask;
  if (keep.defined()) {
    additive_mask = at::zeros(keep.sizes(), x.options())
                        .masked_fill(keep.logical_not(), MaskValue(x.scalar_type()))
                        .view({batch, 1, 1, -1});
  }
  const int64_t n_layers = static_cast<int64_t>(w.layers.size());
  for (int64_t l = 0; l + 1 < n_layers; ++l) x = Layer(w.layers[l], x, x, additive_mask);
  // Only h_0 is pooled: the last layer attends from position 0 alone and runs its FFN there.
  // Contiguous: on a strided [B, 1, H] view at::linear runs B one-row products (bmm).
  at::Tensor first = Layer(w.layers[n_layers - 1], x.slice(1, 0, 1).contiguous(), x, additive_mask);
  return first.select(1, 0);  // [B, H]
}

at::Tensor Hypernet::Impl::Encode(const at::Tensor& table, const at::Tensor& gather_ids,
                                  const at::Tensor& ids, const at::Tensor& lang_row,
                                  const HypernetForwardOptions& options) const {
  const int64_t rows = ids.size(0), width = ids.size(1);
  if (rows == 0) return at::empty({0, config.hidden_size()}, this->options());
  at::Tensor keep = ids != config.pad_token_id;  // [V, L]
  // Length = last kept position + 1. A row with nothing kept keeps its full width: with every
  // key masked it attends uniformly over all positions, as the PyTorch port does.
  at::Tensor positions = at::arange(1, width + 1, ids.options());
  at::Tensor lengths = (keep.to(at::kLong) * positions).amax(1);
  lengths = at::where(lengths == 0, at::full_like(lengths, width), lengths);
  // A row needs an attention mask only if a position before its end is padding (a hole, or
  // the all-padding row); every other row is dense up to its length.
  at::Tensor needs_mask =
      (keep.logical_not() & (positions.unsqueeze(0) <= lengths.unsqueeze(1))).any(1);
  // Grouped, a chunk holds one (length, needs_mask) key unless that group is small: then it
  // takes the next groups too (padded and masked), since a few rows are cheaper padded than run
  // as chunks of their own. Ungrouped, chunks run in row order.
  at::Tensor keys = lengths * 2 + needs_mask.to(at::kLong);
  at::Tensor order;  // row permutation (undefined: identity)
  if (options.group_by_length) {
    order = std::get<1>(at::sort(keys));
    keys = keys.index_select(0, order);
  }
  const at::Tensor keys_cpu = keys.to(at::kCPU).contiguous();
  const int64_t* key = keys_cpu.data_ptr<int64_t>();
  const int64_t chunk_rows = std::max<int64_t>(options.chunk_rows, 1);
  std::vector<at::Tensor> pooled;
  for (int64_t start = 0; start < rows;) {
    int64_t end = start + 1;
    int64_t length = key[start] / 2;
    bool uniform = true;               // every row as long as the chunk
    bool holes = key[start] % 2 == 1;  // some row has padding inside
    while (end < rows && end - start < chunk_rows) {
      if (options.group_by_length && key[end] != key[end - 1] &&
          end - start >= options.min_group_rows) {
        break;
      }
      uniform = uniform && key[end] / 2 == length;
      length = std::max(length, key[end] / 2);
      holes = holes || key[end] % 2 == 1;
      ++end;
    }
    const bool masked = !uniform || holes;
    const int64_t padding = BucketRows(end - start, options.row_buckets_per_octave) - (end - start);
    at::Tensor chunk_ids, chunk_keep;
    if (order.defined() || padding > 0) {
      at::Tensor chunk_rows_index =
          order.defined() ? order.slice(0, start, end) : at::arange(start, end, ids.options());
      if (padding > 0) {  // copies of the first row; their outputs are dropped below
        chunk_rows_index =
            at::cat({chunk_rows_index, chunk_rows_index.slice(0, 0, 1).expand({padding})});
      }
      chunk_ids = gather_ids.index_select(0, chunk_rows_index);
      if (masked) chunk_keep = keep.index_select(0, chunk_rows_index);
    } else {
      chunk_ids = gather_ids.slice(0, start, end);
      if (masked) chunk_keep = keep.slice(0, start, end);
    }
    if (chunk_keep.defined()) chunk_keep = chunk_keep.slice(1, 0, length);
    at::Tensor chunk_out = EncodeChunk(table, chunk_ids.slice(1, 0, length), chunk_keep, lang_row);
    pooled.push_back(padding > 0 ? chunk_out.slice(0, 0, end - start) : chunk_out);
    start = end;
  }
  at::Tensor out = pooled.size() == 1 ? pooled[0] : at::cat(pooled, 0);
  if (order.defined()) {
    at::Tensor inverse = at::empty_like(order);
    inverse.index_put_({order}, at::arange(rows, order.options()));
    out = out.index_select(0, inverse);
  }
  return out;
}

HypernetOutput Hypernet::Impl::Heads(const at::Tensor& pooled, const at::Tensor& first_ids,
                                     const at::Tensor& source_embeddings,
                                     std::optional<at::ScalarType> out_dtype) const {
  const int64_t d = config.n_embd;
  const at::TensorOptions out_options =
      options().dtype(out_dtype.value_or(w.position_embeddings.scalar_type()));
  auto out_cast = [&](const at::Tensor& t) { return t.to(out_options.dtype()); };
  HypernetOutput out;
  if (config.hn_single_head) {
    at::Tensor both = out_cast(w.output_linear(w.output_block(pooled)));  // [V, n_in]
    out.embeddings_in = both.slice(1, 0, d);
    if (config.separate_out_embeddings) out.embeddings_out = both.slice(1, d, 2 * d);
  } else {
    out.embeddings_in = out_cast(w.output_linear(w.output_block(pooled)));
    if (config.separate_out_embeddings) {
      out.embeddings_out = out_cast(w.output_out_linear(w.output_out_block(pooled)));
    }
  }
  if (config.hn_residual) {
    // E_src[id_0]: [E_in | E_out] of the first piece; zero for fallback (extra) ids, which have
    // no original row.
    const int64_t v_orig = config.original_vocab_size;
    at::Tensor base =
        source_embeddings
            .index_select(0, first_ids.clamp_max(v_orig - 1).to(source_embeddings.device()))
            .to(out_options);
    base = base.masked_fill((first_ids >= v_orig).unsqueeze(1), 0.0);
    const double scale = config.hn_residual_alpha / std::sqrt(static_cast<double>(d));
    out.embeddings_in = base.slice(1, 0, d) + scale * out.embeddings_in;
    if (out.embeddings_out.defined()) {
      out.embeddings_out = base.slice(1, d, 2 * d) + scale * out.embeddings_out;
    }
  } else if (config.hn_rescale_embeddings) {
    // The frozen scalers in the output dtype too (a copy when computing in another dtype).
    const Rescaler scaler{out_cast(w.scaler.w), out_cast(w.scaler.b)};
    out.embeddings_in = scaler(out.embeddings_in);
    if (out.embeddings_out.defined()) {
      const Rescaler out_scaler{out_cast(w.out_scaler.w), out_cast(w.out_scaler.b)};
      out.embeddings_out = out_scaler(out.embeddings_out);
    }
  }
  if (config.hn_predict_bias) out.bias = out_cast(w.bias_projection(pooled).select(1, 0));
  return out;
}

HypernetOutput Hypernet::Impl::RunStatic(const at::Tensor& surface_forms,
                                         const at::Tensor& source_embeddings,
                                         std::optional<at::ScalarType> out_dtype) const {
  const at::Tensor all_ids =
      at::arange(config.original_vocab_size + config.fallback_rows(), options().dtype(at::kLong));
  // [V_orig + F, H], kept in the output dtype: EncodeChunk casts after its gather.
  const at::Tensor table = ProjectRows(all_ids, source_embeddings)
                               .to(out_dtype.value_or(w.position_embeddings.scalar_type()));
  const at::Tensor keep = surface_forms != config.pad_token_id;  // [V, L]
  const at::Tensor pooled = EncodeChunk(table, surface_forms, keep, at::Tensor());
  return Heads(pooled, surface_forms.select(1, 0), source_embeddings, out_dtype);
}

std::unique_ptr<Hypernet::Impl> Hypernet::Impl::CastTo(
    at::ScalarType dtype, const std::map<std::string, at::Tensor>& given) const {
  auto cast = std::make_unique<Impl>(config);  // the same parameter list, in the same order
  for (size_t i = 0; i < refs.size(); ++i) {
    const auto it = given.find(refs[i].name);
    *cast->refs[i].tensor = it != given.end() ? it->second : refs[i].tensor->to(dtype);
  }
  cast->explicit_attention = true;  // only the training step computes through a cast copy
  return cast;
}

absl::StatusOr<HypernetOutput> Hypernet::Impl::Run(const at::Tensor& surface_forms,
                                                   const at::Tensor& table,
                                                   const at::Tensor& gather_ids,
                                                   const at::Tensor& source_embeddings,
                                                   std::optional<int64_t> lang_index,
                                                   const HypernetForwardOptions& options) const {
  ASSIGN_OR_RETURN(at::Tensor lang_row, LangRow(lang_index));
  at::Tensor ids = surface_forms.to(w.position_embeddings.device(), at::kLong);
  at::Tensor pooled = Encode(table, gather_ids, ids, lang_row, options);
  return Heads(pooled, ids.select(1, 0), source_embeddings);
}

Hypernet::Hypernet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Hypernet::Hypernet(Hypernet&&) noexcept = default;
Hypernet& Hypernet::operator=(Hypernet&&) noexcept = default;
Hypernet::~Hypernet() = default;

absl::StatusOr<Hypernet> Hypernet::Create(const ZettHypernetConfig& config, uint64_t seed) {
  RETURN_IF_ERROR(ValidateHypernetConfig(config));
  try {
    auto impl = std::make_unique<Impl>(config);
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    for (ParamRef& ref : impl->refs) {
      switch (ref.init) {
        case Init::kNormal:
          *ref.tensor = at::empty(ref.shape, at::kFloat)
                            .normal_(0.0, RobertaBaseConstants::kInitializerRange, generator);
          break;
        case Init::kZeros:
          *ref.tensor = at::zeros(ref.shape, at::kFloat);
          break;
        case Init::kOnes:
          *ref.tensor = at::ones(ref.shape, at::kFloat);
          break;
      }
    }
    return Hypernet(std::move(impl));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hypernet: initialisation failed: ", e.what()));
  }
}

absl::StatusOr<Hypernet> Hypernet::FromStateDict(const ZettHypernetConfig& config,
                                                 const std::map<std::string, at::Tensor>& tensors) {
  RETURN_IF_ERROR(ValidateHypernetConfig(config));
  auto impl = std::make_unique<Impl>(config);
  std::set<std::string> expected;
  std::vector<std::string> missing;
  for (ParamRef& ref : impl->refs) {
    expected.insert(ref.name);
    auto it = tensors.find(ref.name);
    if (it == tensors.end()) {
      missing.push_back(ref.name);
      continue;
    }
    const at::Tensor& source = it->second;
    if (source.sizes() != at::IntArrayRef(ref.shape)) {
      return InvalidArgument(absl::StrCat("parameter ", ref.name, " has shape [",
                                          absl::StrJoin(source.sizes(), ", "), "], expected [",
                                          absl::StrJoin(ref.shape, ", "), "] for this config"));
    }
    if (!at::isFloatingType(source.scalar_type())) {
      return InvalidArgument(absl::StrCat("parameter ", ref.name, " has non-float dtype ",
                                          c10::toString(source.scalar_type())));
    }
    *ref.tensor = source.detach().to(at::kCPU, at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  }
  if (!missing.empty()) {
    return InvalidArgument(absl::StrCat("state dict lacks ", missing.size(),
                                        " parameter(s): ", absl::StrJoin(missing, ", ")));
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : tensors) {
    if (expected.count(name) == 0 && !IsUnusedHypernetKey(name)) unexpected.push_back(name);
  }
  if (!unexpected.empty()) {
    return InvalidArgument(
        absl::StrCat("state dict has ", unexpected.size(),
                     " parameter(s) this config does not use: ", absl::StrJoin(unexpected, ", ")));
  }
  return Hypernet(std::move(impl));
}

const ZettHypernetConfig& Hypernet::config() const { return impl_->config; }
at::Device Hypernet::device() const { return impl_->w.position_embeddings.device(); }
at::ScalarType Hypernet::dtype() const { return impl_->w.position_embeddings.scalar_type(); }

absl::Status Hypernet::To(at::Device device, at::ScalarType dtype) {
  if (!at::isFloatingType(dtype)) {
    return InvalidArgument(absl::StrCat("cannot hold parameters in ", c10::toString(dtype)));
  }
  try {
    for (ParamRef& ref : impl_->refs) {
      at::Tensor& t = *ref.tensor;
      if (t.device() == device && t.scalar_type() == dtype) continue;
      const bool requires_grad = t.requires_grad();
      t = t.detach().to(device, dtype).requires_grad_(requires_grad);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hypernet: moving to ", device.str(), " ",
                                            c10::toString(dtype), " failed: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<HypernetOutput> Hypernet::Forward(const at::Tensor& surface_forms,
                                                 const at::Tensor& source_embeddings,
                                                 std::optional<int64_t> lang_index,
                                                 const HypernetForwardOptions& options) const {
  RETURN_IF_ERROR(impl_->CheckSurfaceForms(surface_forms));
  RETURN_IF_ERROR(impl_->CheckSourceEmbeddings(source_embeddings));
  try {
    at::Tensor ids = surface_forms.to(device(), at::kLong);
    // Project each distinct source id once; the encoder gathers from that table.
    auto [unique_ids, inverse] =
        at::_unique(ids.reshape({-1}), /*sorted=*/true, /*return_inverse=*/true);
    at::Tensor table = impl_->ProjectRows(unique_ids, source_embeddings);
    return impl_->Run(ids, table, inverse.view_as(ids), source_embeddings, lang_index, options);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hypernet forward failed: ", e.what()));
  }
}

HypernetOutput Hypernet::ForwardStatic(const at::Tensor& surface_forms,
                                       const at::Tensor& source_embeddings) const {
  return impl_->RunStatic(surface_forms, source_embeddings, std::nullopt);
}

HypernetOutput Hypernet::ForwardStatic(const at::Tensor& surface_forms,
                                       const at::Tensor& source_embeddings,
                                       at::ScalarType compute_dtype) const {
  if (compute_dtype == dtype()) return ForwardStatic(surface_forms, source_embeddings);
  return impl_->CastTo(compute_dtype)->RunStatic(surface_forms, source_embeddings, dtype());
}

HypernetOutput Hypernet::ForwardStatic(
    const at::Tensor& surface_forms, const at::Tensor& source_embeddings,
    at::ScalarType compute_dtype, const std::map<std::string, at::Tensor>& cast_parameters) const {
  if (compute_dtype == dtype()) return ForwardStatic(surface_forms, source_embeddings);
  return impl_->CastTo(compute_dtype, cast_parameters)
      ->RunStatic(surface_forms, source_embeddings, dtype());
}

absl::StatusOr<at::Tensor> Hypernet::ProjectSourceEmbeddings(
    const at::Tensor& source_embeddings) const {
  RETURN_IF_ERROR(impl_->CheckSourceEmbeddings(source_embeddings));
  try {
    const ZettHypernetConfig& c = impl_->config;
    at::Tensor ids = at::arange(c.original_vocab_size + c.fallback_rows(),
                                at::TensorOptions().dtype(at::kLong).device(device()));
    return impl_->ProjectRows(ids, source_embeddings);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("hypernet: projecting source embeddings failed: ", e.what()));
  }
}

absl::StatusOr<HypernetOutput> Hypernet::ForwardProjected(
    const at::Tensor& surface_forms, const at::Tensor& projected_source_embeddings,
    const at::Tensor& source_embeddings, std::optional<int64_t> lang_index,
    const HypernetForwardOptions& options) const {
  RETURN_IF_ERROR(impl_->CheckSurfaceForms(surface_forms));
  const ZettHypernetConfig& c = impl_->config;
  const at::Tensor& table = projected_source_embeddings;
  if (!table.defined() || table.dim() != 2 ||
      table.size(0) != c.original_vocab_size + c.fallback_rows() ||
      table.size(1) != c.hidden_size()) {
    return InvalidArgument(absl::StrCat(
        "projected_source_embeddings must be [original_vocab_size + fallback rows, H] = [",
        c.original_vocab_size + c.fallback_rows(), ", ", c.hidden_size(),
        "] (from ProjectSourceEmbeddings)"));
  }
  if (c.hn_residual) RETURN_IF_ERROR(impl_->CheckSourceEmbeddings(source_embeddings));
  try {
    // Table row = id: original rows first, then the fallback rows at original_vocab_size + j.
    at::Tensor ids = surface_forms.to(device(), at::kLong);
    return impl_->Run(ids, table.to(impl_->options()), ids, source_embeddings, lang_index, options);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hypernet forward failed: ", e.what()));
  }
}

absl::Status Hypernet::WarmUp(const at::Tensor& projected_source_embeddings, int64_t max_rows,
                              std::optional<int64_t> lang_index,
                              const HypernetForwardOptions& options) const {
  if (options.row_buckets_per_octave <= 0) {
    return absl::FailedPreconditionError(
        "hypernet warm-up needs row_buckets_per_octave > 0 (without buckets any row count is a "
        "shape of its own)");
  }
  c10::NoGradGuard no_grad;
  ASSIGN_OR_RETURN(at::Tensor lang_row, impl_->LangRow(lang_index));
  const int64_t largest = std::max<int64_t>(1, std::min(max_rows, options.chunk_rows));
  const std::vector<int64_t> buckets = RowBuckets(largest, options.row_buckets_per_octave);
  try {
    const at::Tensor table = projected_source_embeddings.to(impl_->options());
    const auto long_options = at::TensorOptions().dtype(at::kLong).device(device());
    for (int64_t length = 1; length <= impl_->config.hn_surface_maxlen; ++length) {
      for (int64_t rows : buckets) {
        at::Tensor ids = at::zeros({rows, length}, long_options);  // any valid table row
        impl_->EncodeChunk(table, ids, at::Tensor(), lang_row);
        impl_->EncodeChunk(table, ids, at::ones({rows, length}, long_options.dtype(at::kBool)),
                           lang_row);
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hypernet warm-up failed: ", e.what()));
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, at::Tensor>> Hypernet::NamedParameters() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const ParamRef& ref : impl_->refs) out.emplace_back(ref.name, *ref.tensor);
  return out;
}

std::vector<at::Tensor> Hypernet::TrainableParameters() const {
  std::vector<at::Tensor> out;
  for (const ParamRef& ref : impl_->refs) {
    if (ref.trainable) out.push_back(*ref.tensor);
  }
  return out;
}

void Hypernet::SetRequiresGrad(bool requires_grad) {
  for (ParamRef& ref : impl_->refs) {
    if (ref.trainable) ref.tensor->requires_grad_(requires_grad);
  }
}

std::map<std::string, at::Tensor> Hypernet::StateDict() const {
  std::map<std::string, at::Tensor> out;
  for (const ParamRef& ref : impl_->refs) out[ref.name] = ref.tensor->detach().to(at::kCPU);
  // transformers allocates word embeddings of pad_token_id + 1 rows (zett sets vocab_size so);
  // an expanded zero costs no memory until written.
  const ZettHypernetConfig& c = impl_->config;
  out["model.embeddings.word_embeddings.weight"] =
      at::zeros({1, 1}, at::TensorOptions().dtype(dtype()))
          .expand({c.pad_token_id + 1, c.hidden_size()});
  return out;
}

bool Hypernet::HasRescaler(const std::string& name) const {
  const ZettHypernetConfig& c = impl_->config;
  if (name == "in_scaler") return HasInScaler(c);
  if (name == "scaler") return HasScaler(c);
  if (name == "out_scaler") return HasOutScaler(c);
  return false;
}

absl::Status Hypernet::SetRescaler(const std::string& name, const at::Tensor& w,
                                   const at::Tensor& b) {
  if (!HasRescaler(name)) {
    return InvalidArgument(absl::StrCat("no rescaler \"", name, "\" in this config"));
  }
  Rescaler& r = name == "in_scaler" ? impl_->w.in_scaler
                : name == "scaler"  ? impl_->w.scaler
                                    : impl_->w.out_scaler;
  const int64_t dim = r.w.size(1);
  if (!w.defined() || !b.defined() || w.numel() != dim || b.numel() != dim) {
    return InvalidArgument(absl::StrCat(name, ": w and b must have ", dim, " elements"));
  }
  c10::NoGradGuard no_grad;
  r.w.copy_(w.reshape({1, dim}));
  r.b.copy_(b.reshape({1, dim}));
  return absl::OkStatus();
}

}  // namespace zett
