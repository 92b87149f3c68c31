// Tiny hypernetwork configs and inputs shared by the hypernet tests. Everything is generated
// from fixed seeds; nothing is read from disk.
#ifndef ZETT_TESTS_CORE_HYPERNET_TEST_UTIL_H_
#define ZETT_TESTS_CORE_HYPERNET_TEST_UTIL_H_

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/hypernet/config.h"

namespace zett::testing {

// d = 6, H = 16 (2 heads), I = 32, 2 layers, L = 5, 20 original ids, 3 fallback rows, pad 1.
// d != H and n_in != H so that a transposed weight cannot go unnoticed.
inline ZettHypernetConfig TinyConfig(bool untied = true) {
  ZettHypernetConfig c;
  c.hn_surface_maxlen = 5;
  c.hn_n_layers = 2;
  c.n_embd = 6;
  c.hn_hidden_size = 16;
  c.hn_intermediate_size = 32;
  c.hn_num_attention_heads = 2;
  c.hn_rescale_embeddings = true;
  c.hn_embed_using_source_embeddings = true;
  c.hn_predict_bias = true;
  c.original_vocab_size = 20;
  c.pad_token_id = 1;
  c.separate_out_embeddings = untied;
  c.hn_n_extra_tokens = 3;
  return c;
}

inline at::Generator Seeded(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

// [V_orig, source_embedding_dim] with a per-dimension offset and scale, like real embeddings.
inline at::Tensor SourceEmbeddings(const ZettHypernetConfig& c, uint64_t seed = 11) {
  auto g = Seeded(seed);
  at::Tensor e = at::empty({c.original_vocab_size, c.source_embedding_dim()}).normal_(0, 1, g);
  at::Tensor scale = at::empty({c.source_embedding_dim()}).uniform_(0.5, 2.0, g);
  at::Tensor offset = at::empty({c.source_embedding_dim()}).uniform_(-1, 1, g);
  return e * scale + offset;
}

// [rows, width] decompositions: row r has 1 + (r % width) real ids, drawn from every id except
// the pad id (fallback ids included), then pad_token_id.
inline at::Tensor SurfaceForms(const ZettHypernetConfig& c, int64_t rows, int64_t width,
                               uint64_t seed = 5) {
  auto g = Seeded(seed);
  const int64_t limit = c.original_vocab_size + c.fallback_rows();
  at::Tensor ids = at::empty({rows, width}, at::kLong).random_(0, limit - 1, g);
  ids = at::where(ids >= c.pad_token_id, ids + 1, ids);  // skip the pad id
  for (int64_t r = 0; r < rows; ++r) {
    ids[r].slice(0, 1 + (r % width)).fill_(c.pad_token_id);
  }
  return ids.to(at::kInt);
}

inline double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace zett::testing

#endif  // ZETT_TESTS_CORE_HYPERNET_TEST_UTIL_H_
