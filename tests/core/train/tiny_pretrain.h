// The 2-layer, 32-wide Llama that the pretraining tests train on a tiny corpus (tiny_corpus.h)
// on the CPU in fp32; each test sets what it checks on top (schedule, validation, caches).
#ifndef ZETT_TESTS_CORE_TRAIN_TINY_PRETRAIN_H_
#define ZETT_TESTS_CORE_TRAIN_TINY_PRETRAIN_H_

#include <filesystem>
#include <string>

#include "core/train/pretrain.h"

namespace zett {

inline PretrainOptions TinyPretrainOptions(const std::string& corpus,
                                           const std::string& output_dir) {
  PretrainOptions o;
  o.train_files = corpus + "/train/*.txt";
  o.tokenizer_dir = corpus + "/tokenizer";
  o.output_dir = output_dir;
  std::filesystem::remove_all(o.output_dir);
  o.hidden_size = 32;
  o.num_hidden_layers = 2;
  o.num_attention_heads = 4;
  o.num_key_value_heads = 2;
  o.intermediate_size = 64;
  o.batch_size = 8;
  o.seq_len = 32;
  o.lr = 1e-2;
  o.log_every = 1;
  o.device = "cpu";
  o.dtype = "float32";
  return o;
}

}  // namespace zett

#endif  // ZETT_TESTS_CORE_TRAIN_TINY_PRETRAIN_H_
