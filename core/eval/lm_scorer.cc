#include "core/eval/lm_scorer.h"

#include <c10/core/GradMode.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace zett {
namespace {

constexpr int64_t kLogitFloats = int64_t{1} << 25;  // per [rows, V'] logit block (128 MiB)

}  // namespace

absl::StatusOr<ScoreResult> ScoreSequences(LlamaForCausalLM& model,
                                           const std::vector<std::vector<int32_t>>& sequences,
                                           const VocabularyTables& tables,
                                           const ScoreOptions& options) {
  if (options.seq_len < 1 || options.batch_size < 1) {
    return absl::InvalidArgumentError("score: seq_len and batch_size must be >= 1");
  }
  c10::NoGradGuard no_grad;
  const at::Tensor own_output = model->OutputEmbeddings();
  const at::Device device = own_output.device();
  const at::ScalarType dtype = own_output.scalar_type();
  const int64_t vocab = tables.input.defined() ? tables.input.size(0) : own_output.size(0);
  std::vector<int64_t> lengths;
  for (size_t s = 0; s < sequences.size(); ++s) {
    for (int32_t id : sequences[s]) {
      if (id < 0 || id >= vocab) {
        return absl::InvalidArgumentError(absl::StrCat("score: sequence ", s, " has id ", id,
                                                       " outside the vocabulary [0, ", vocab, ")"));
      }
    }
    lengths.push_back(static_cast<int64_t>(sequences[s].size()));
  }
  std::vector<Window> windows = SplitIntoWindows(lengths, options.seq_len);
  // Longest first: batches of similar lengths waste little padding. The sum is order-free.
  std::stable_sort(windows.begin(), windows.end(),
                   [](const Window& a, const Window& b) { return a.length > b.length; });

  DecoderInputs in;
  at::Tensor head = own_output.to(at::kFloat);
  at::Tensor bias;
  if (tables.input.defined()) {
    in.input_embeddings = tables.input.to(device, dtype);
    head = (tables.output.defined() ? tables.output : tables.input).to(device, at::kFloat);
    if (tables.bias.defined()) bias = tables.bias.to(device, at::kFloat);
  }
  ScoreResult result;
  try {
    for (size_t first = 0; first < windows.size();
         first += static_cast<size_t>(options.batch_size)) {
      const size_t end = std::min(windows.size(), first + static_cast<size_t>(options.batch_size));
      const int64_t rows = static_cast<int64_t>(end - first);
      const int64_t width = windows[first].length;  // the longest of this batch
      std::vector<int64_t> ids(rows * width, options.pad_id), labels(rows * width, -1);
      for (int64_t r = 0; r < rows; ++r) {
        const Window& w = windows[first + r];
        const std::vector<int32_t>& s = sequences[w.sequence];
        for (int64_t t = 0; t < w.length; ++t) {
          ids[r * width + t] = s[w.start + t];
          labels[r * width + t] = s[w.start + t + 1];
        }
      }
      // Right padding under causal attention never reaches a real position: no mask needed.
      in.input_ids = at::tensor(ids, at::kLong).view({rows, width}).to(device);
      at::Tensor hidden = model->HiddenStates(in);  // [B, T, d]
      at::Tensor label_tensor = at::tensor(labels, at::kLong);
      at::Tensor positions = label_tensor.ge(0).nonzero().squeeze(1);
      at::Tensor targets = label_tensor.index_select(0, positions).to(device);
      at::Tensor states =
          hidden.reshape({rows * width, -1}).index_select(0, positions.to(device)).to(at::kFloat);
      const int64_t block = std::max<int64_t>(1, kLogitFloats / head.size(0));
      for (int64_t r = 0; r < states.size(0); r += block) {
        const int64_t n = std::min(block, states.size(0) - r);
        at::Tensor logits = at::matmul(states.narrow(0, r, n), head.t());
        if (bias.defined()) logits = logits + bias;
        at::Tensor log_probs = at::log_softmax(logits, -1);
        at::Tensor picked = log_probs.gather(1, targets.narrow(0, r, n).unsqueeze(1));
        result.nats -= picked.sum().item<double>();
      }
      result.predicted += states.size(0);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("score: LM forward failed: ", e.what()));
  }
  return result;
}

}  // namespace zett
