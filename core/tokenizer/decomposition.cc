#include "core/tokenizer/decomposition.h"

#include <algorithm>

#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {

int32_t DefaultPadId(const Tokenizer& original) {
  // zett: the hypernetwork tokenizer's pad_token_id, its eos when it has no pad.
  if (auto pad = original.NamedSpecialTokenId("pad_token")) return *pad;
  if (auto eos = original.NamedSpecialTokenId("eos_token")) return *eos;
  static const char* const kPad[] = {"<pad>", "[PAD]", "<|pad|>", "<|finetune_right_pad_id|>"};
  static const char* const kEos[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "[SEP]"};
  for (const char* name : kPad) {
    if (auto id = original.TokenToId(name)) return *id;
  }
  for (const char* name : kEos) {
    if (auto id = original.TokenToId(name)) return *id;
  }
  return 0;
}

absl::StatusOr<std::unique_ptr<Decomposer>> Decomposer::Create(const Tokenizer& original,
                                                               uint64_t helper_order_seed) {
  auto d = std::unique_ptr<Decomposer>(new Decomposer());
  ConversionOptions conversion;
  conversion.helper_order_seed = helper_order_seed;
  ASSIGN_OR_RETURN(d->converted_, ConvertToByteLevel(original, conversion));
  ASSIGN_OR_RETURN(d->model_, BuildByteLevelModel(original, d->converted_));
  d->model_->DisableCache();  // surface forms are decomposed once each
  for (const auto& [id, content] : d->converted_.special_tokens) d->special_ids_[content] = id;
  d->default_pad_id_ = DefaultPadId(original);
  return d;
}

Decomposition Decomposer::DecomposeSurfaceForms(std::vector<std::string> surface_forms,
                                                std::vector<uint8_t> flags, int max_len,
                                                int32_t pad_id) const {
  // Without a check nothing can interrupt, so the result is always there.
  return *DecomposeSurfaceForms(std::move(surface_forms), std::move(flags), max_len, pad_id,
                                InterruptCheck());
}

absl::StatusOr<Decomposition> Decomposer::DecomposeSurfaceForms(
    std::vector<std::string> surface_forms, std::vector<uint8_t> flags, int max_len, int32_t pad_id,
    const InterruptCheck& interrupt) const {
  Decomposition out;
  out.max_len = max_len;
  out.pad_id = pad_id;
  out.original_vocab_size = converted_.original_size;
  flags.resize(surface_forms.size(), 0);
  out.ids.assign(surface_forms.size() * static_cast<size_t>(max_len), pad_id);
  std::vector<int32_t> ids;
  for (size_t i = 0; i < surface_forms.size(); ++i) {
    if (interrupt && i % kInterruptCheckEvery == 0) RETURN_IF_ERROR(interrupt());
    int32_t* row = out.ids.data() + i * max_len;
    if (auto it = special_ids_.find(AsAbsl(surface_forms[i])); it != special_ids_.end()) {
      row[0] = it->second;
      flags[i] |= kSpecial;
      continue;
    }
    ids.clear();
    // The converted model represents every byte char, so Tokenize cannot fail for lack of
    // an unknown token on surface forms; a failure leaves the row padded.
    if (!model_->Tokenize(surface_forms[i], &ids).ok()) continue;
    if (static_cast<int>(ids.size()) > max_len) {
      ids.resize(max_len);
      flags[i] |= kTruncated;
      ++out.n_truncated;
    }
    std::copy(ids.begin(), ids.end(), row);
  }
  out.surface_forms = std::move(surface_forms);
  out.flags = std::move(flags);
  return out;
}

absl::StatusOr<Decomposition> Decomposer::Decompose(const Tokenizer& target,
                                                    const DecomposeOptions& options) const {
  if (options.max_len < 1) {
    return absl::InvalidArgumentError(
        Cat("decompose: max_len must be >= 1, got ", options.max_len));
  }
  ConversionOptions conversion;
  conversion.make_whitespace_consistent = options.make_whitespace_consistent;
  if (options.match_special_tokens) conversion.match_special_tokens_to = &converted_;
  if (options.interrupt) RETURN_IF_ERROR(options.interrupt());
  ASSIGN_OR_RETURN(ByteLevelVocabulary vocabulary, ConvertToByteLevel(target, conversion));
  return DecomposeSurfaceForms(std::move(vocabulary.surface_forms), std::move(vocabulary.flags),
                               options.max_len, options.pad_id.value_or(default_pad_id_),
                               options.interrupt);
}

absl::StatusOr<Decomposition> Decompose(const Tokenizer& original, const Tokenizer& target,
                                        const DecomposeOptions& options) {
  ASSIGN_OR_RETURN(auto decomposer, Decomposer::Create(original));
  return decomposer->Decompose(target, options);
}

const std::vector<std::pair<uint8_t, const char*>>& DecompositionFlagNames() {
  static const auto* names = new std::vector<std::pair<uint8_t, const char*>>{
      {kSpecial, "special"},
      {kAddedByConversion, "added_by_conversion"},
      {kRenamedWhitespace, "renamed_whitespace"},
      {kByteFallbackMapped, "byte_fallback_mapped"},
      {kTruncated, "truncated"},
  };
  return *names;
}

}  // namespace zett::tokenizer
