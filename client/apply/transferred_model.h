// Writes a complete Hugging Face model folder from a base model and the embeddings a transfer
// produced for a target tokenizer, loadable by `transformers` (AutoModelForCausalLM +
// AutoTokenizer) as it is:
//   model.safetensors (or the base's shards + model.safetensors.index.json): every base tensor
//       byte for byte, except the input embeddings (and the untied LM head), which become the
//       transferred matrices in the base tensor's dtype;
//   config.json / generation_config.json: the base's, with vocab_size and bos/eos/pad token ids
//       of the TARGET vocabulary (null where the target has no such token);
//   tokenizer.json (the target's, copied; a SentencePiece .model target is converted,
//       core/tokenizer/sentencepiece_to_json.h), tokenizer_config.json (PreTrainedTokenizerFast)
//       and special_tokens_map.json.
#ifndef ZETT_CLIENT_APPLY_TRANSFERRED_MODEL_H_
#define ZETT_CLIENT_APPLY_TRANSFERRED_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/safetensors.h"

namespace zett::apply {

// Tensor names of a `zett transfer` output (embeddings.safetensors), the input of Apply.
inline constexpr char kInputEmbeddings[] = "input_embeddings";    // [V, d]
inline constexpr char kOutputEmbeddings[] = "output_embeddings";  // [V, d], untied bases only

// What a transfer produced: matrices with one row per entry of the transfer's vocabulary table
// (zett's converted vocabulary: byte-level surface forms, the base's special tokens in place of
// the target's). Rows are mapped to the target tokenizer's ids by surface form; a target special
// token the table lacks takes the row of the base special token with the same role (eos, bos,
// pad, unk); anything else gets the mean row. With no table, row i is target id i.
struct TransferredEmbeddings {
  TensorMap tensors;                // kInputEmbeddings [, kOutputEmbeddings]: [rows, d]
  std::vector<std::string> tokens;  // row -> surface form; empty: identity mapping
  std::vector<bool> special;        // row -> special flag (same size as tokens)
};

// The target tokenizer as apply uses it: a tokenizer.json's text, or the tokenizer.json a
// SentencePiece .model converts to.
struct TargetTokenizer {
  std::string path;  // as given
  std::string json;  // tokenizer.json text
  bool converted = false;
  // For a converted .model: the model's unk/bos/eos/pad pieces ({"bos_token": "<s>", ...}, ids
  // -1 left out), the special-token strings when no tokenizer_config.json is given or beside it.
  std::vector<std::pair<std::string, std::string>> sentencepiece_special;
};

// Reads `path`: a file ending in ".json" is a tokenizer.json, one ending in ".model" a
// SentencePiece model (converted). Errors: NotFound for a missing file, InvalidArgument naming
// the file for a corrupt .model or another extension, Unimplemented for a .model the converter
// refuses (WORD/CHAR models, treat_whitespace_as_suffix).
absl::StatusOr<TargetTokenizer> ReadTargetTokenizer(const std::string& path);

struct ApplyOptions {
  // Replace `out_dir` when it exists and is not empty (refused otherwise).
  bool force = false;
  // The target's tokenizer_config.json, where bos/eos/pad/unk token strings come from. Empty:
  // the tokenizer_config.json beside the target tokenizer.json (or .model) if there is one, else
  // for a .model its own unk/bos/eos/pad pieces, else the base model's special-token strings
  // that exist in the target vocabulary.
  std::string tokenizer_config;
};

// One special-token role in the target vocabulary.
struct SpecialToken {
  std::optional<std::string> content;
  std::optional<int64_t> id;
};

struct ApplySummary {
  std::string architecture;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  bool tied = false;
  SpecialToken bos, eos, pad, unk;
  std::string special_tokens_source;  // which file the special-token strings came from
  bool tokenizer_converted = false;   // the target was a SentencePiece .model
  std::vector<std::string> replaced_tensors;
  int64_t rows_by_surface_form = 0;  // target ids whose row was found by surface form
  int64_t rows_by_role = 0;          // target specials given the base special of their role
  int64_t rows_mean = 0;             // target ids without a row (mean row)
};

// Builds `out_dir` from `base_dir` (config.json + safetensors, single file or sharded), the
// target `tokenizer_json` (a tokenizer.json or a SentencePiece .model, ReadTargetTokenizer) and
// `embeddings` (kInputEmbeddings, kOutputEmbeddings). Everything is written to "<out_dir>.partial"
// first and renamed at the end, so a failure leaves no half model. Errors: missing files,
// unsupported (non-decoder) architectures, a hidden size or row count that differs from the
// transfer, tied/untied mismatches, an existing non-empty `out_dir` without `force`, `out_dir`
// equal to `base_dir`, a corrupt .model.
absl::StatusOr<ApplySummary> WriteTransferredModel(const std::string& base_dir,
                                                   const std::string& tokenizer_json,
                                                   const TransferredEmbeddings& embeddings,
                                                   const std::string& out_dir,
                                                   const ApplyOptions& options = {});

}  // namespace zett::apply

#endif  // ZETT_CLIENT_APPLY_TRANSFERRED_MODEL_H_
