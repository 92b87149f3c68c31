// zett's decomposition ("surface form matrix", `get_surface_form_matrix` in
// bminixhofer/zett zett/utils.py): each target token, in byte-level form, split by the ORIGINAL
// tokenizer's converted model (no normalizer, no pre-tokenizer) into at most L ids and padded.
// The [V, L] int32 matrix is what the hypernetwork consumes.
//
// Determinism: for a given (original, target, options) the result is a pure function of the
// files; the only place zett depends on Python set order (the rank order of the helper BPE
// merges for multi-byte atoms) is fixed here to ascending byte order. Ids never depend on it
// (helper tokens are appended sorted); a few decompositions do (docs/tokenizers.md).
#ifndef ZETT_CORE_TOKENIZER_DECOMPOSITION_H_
#define ZETT_CORE_TOKENIZER_DECOMPOSITION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/surface_form.h"
#include "core/tokenizer/tokenizer.h"

namespace zett::tokenizer {

// Polled during long decompositions (a server request's cancellation and deadline): a non-OK
// status stops the work and is returned as it is (CANCELLED, DEADLINE_EXCEEDED).
using InterruptCheck = std::function<absl::Status()>;

// Surface forms decomposed between two polls of an InterruptCheck (~1 ms of work).
inline constexpr size_t kInterruptCheckEvery = 1024;

struct DecomposeOptions {
  int max_len = 7;                // hn_surface_maxlen of all published hypernetworks
  std::optional<int32_t> pad_id;  // default: DefaultPadId(original)
  bool make_whitespace_consistent = true;
  bool match_special_tokens = true;  // target specials replaced by the original's, at its ids
  InterruptCheck interrupt;          // empty: never interrupted
};

struct Decomposition {
  std::vector<std::string> surface_forms;  // final target vocabulary, id -> surface form
  std::vector<int32_t> ids;                // [V, max_len] row-major, padded with pad_id
  std::vector<uint8_t> flags;              // SurfaceFormFlag bits per target id
  int max_len = 0;
  int32_t pad_id = 0;
  int32_t original_vocab_size = 0;  // ids >= this are the original's conversion additions
  int n_truncated = 0;
};

// The original tokenizer prepared once (converted vocabulary + byte-level model); decomposes
// many targets. Thread-safe.
class Decomposer {
 public:
  // `helper_order_seed`: ConversionOptions::helper_order_seed for the original's conversion
  // (0, the default, is the fixed order; others only to find order-dependent rows).
  static absl::StatusOr<std::unique_ptr<Decomposer>> Create(const Tokenizer& original,
                                                            uint64_t helper_order_seed = 0);

  absl::StatusOr<Decomposition> Decompose(const Tokenizer& target,
                                          const DecomposeOptions& options = {}) const;
  // Decomposes surface forms given directly (a token list already in byte-level form, e.g.
  // from TokenToByteLevel). Surface forms equal to an original special token get its id.
  Decomposition DecomposeSurfaceForms(std::vector<std::string> surface_forms,
                                      std::vector<uint8_t> flags, int max_len,
                                      int32_t pad_id) const;
  // The same, polling `interrupt` every kInterruptCheckEvery surface forms; its first non-OK
  // status is returned and nothing else.
  absl::StatusOr<Decomposition> DecomposeSurfaceForms(std::vector<std::string> surface_forms,
                                                      std::vector<uint8_t> flags, int max_len,
                                                      int32_t pad_id,
                                                      const InterruptCheck& interrupt) const;

  const ByteLevelVocabulary& original_vocabulary() const { return converted_; }
  int32_t default_pad_id() const { return default_pad_id_; }

 private:
  Decomposer() = default;
  ByteLevelVocabulary converted_;
  std::unique_ptr<Model> model_;
  absl::flat_hash_map<std::string, int32_t> special_ids_;
  int32_t default_pad_id_ = 0;
};

// One-shot helper: Decomposer::Create(original)->Decompose(target, options).
absl::StatusOr<Decomposition> Decompose(const Tokenizer& original, const Tokenizer& target,
                                        const DecomposeOptions& options = {});

// The pad id: the original's pad_token, else its eos_token (zett sets pad = eos when the
// hypernetwork tokenizer has none); without a special tokens map, the first of the usual pad
// and end-of-sequence spellings it has, else 0.
int32_t DefaultPadId(const Tokenizer& original);

// (flag bit, name) pairs for printing.
const std::vector<std::pair<uint8_t, const char*>>& DecompositionFlagNames();

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_DECOMPOSITION_H_
