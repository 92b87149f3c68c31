// The real engine behind the server's LoadedModel seam: a version directory holding `base/`
// (Hugging Face model: config.json + safetensors) and `hypernet/` (zett hypernetwork checkpoint
// with the original tokenizer.json). Prepare parses and decomposes on CPU; Predict runs the
// hypernetwork on the device the model was loaded to.
#ifndef ZETT_SERVER_HYPERNET_MODEL_H_
#define ZETT_SERVER_HYPERNET_MODEL_H_

#include <memory>
#include <string>

#include "server/transfer_engine.h"

namespace zett::server {

struct HypernetLoaderOptions {
  // "auto": CUDA when available, else CPU. Or "cpu" / "cuda".
  std::string device = "auto";
  // Compute dtype of the hypernetwork: "auto" = bf16 on CUDA, fp32 on CPU; or "fp32" / "bf16".
  std::string compute_dtype = "auto";
  int64_t chunk_rows = 16384;  // rows per encoder call (bounds activation memory)
  // Rows of the warm-up batches run before a version turns AVAILABLE (the server's
  // max_batch_rows); 0: no warm-up.
  int64_t warmup_rows = 0;
  // Encoder chunks padded to this many row counts per octave (HypernetForwardOptions), so
  // warm-up can run every shape a request meets; 0: exact row counts, warm-up of two batch
  // shapes only.
  int64_t row_buckets_per_octave = 4;
  // Attention kernels (SetAttentionBackend, process-wide): "fused" leaves out cuDNN, which
  // builds a plan for every new shape.
  std::string attention = "fused";
};

std::shared_ptr<const ModelLoader> MakeHypernetModelLoader(const HypernetLoaderOptions& options);

}  // namespace zett::server

#endif  // ZETT_SERVER_HYPERNET_MODEL_H_
