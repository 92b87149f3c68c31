#include "core/eval/target_vocabulary.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/surface_form.h"
#include "core/util/status_macros.h"

namespace zett {

absl::StatusOr<TargetVocabulary> BuildTargetVocabulary(const tokenizer::Decomposer& decomposer,
                                                       const tokenizer::Tokenizer& target,
                                                       const tokenizer::DecomposeOptions& options,
                                                       const std::string& bos_content) {
  TargetVocabulary v;
  ASSIGN_OR_RETURN(v.decomposition, decomposer.Decompose(target, options));
  // The decomposed vocabulary is the target's byte-level conversion with its special tokens
  // swapped for the original's, so ids shift; surface forms identify the rows. The same
  // conversion without the swap gives every target id its surface form.
  tokenizer::ConversionOptions conversion;
  conversion.make_whitespace_consistent = options.make_whitespace_consistent;
  ASSIGN_OR_RETURN(tokenizer::ByteLevelVocabulary own,
                   tokenizer::ConvertToByteLevel(target, conversion));
  absl::flat_hash_map<std::string, int32_t> row_of;
  for (size_t i = 0; i < v.decomposition.surface_forms.size(); ++i) {
    row_of.emplace(v.decomposition.surface_forms[i], static_cast<int32_t>(i));
  }
  std::vector<std::string> extra_forms;
  std::vector<uint8_t> extra_flags;
  auto add_extra = [&](const std::string& form, uint8_t flags) {
    const auto row =
        static_cast<int32_t>(v.decomposition.surface_forms.size() + extra_forms.size());
    extra_forms.push_back(form);
    extra_flags.push_back(flags);
    row_of.emplace(form, row);
    return row;
  };
  const int32_t n = target.vocab_size();
  v.row_of_target_id.resize(n);
  for (int32_t id = 0; id < n; ++id) {
    const std::string& form = own.surface_forms[id];
    auto it = row_of.find(form);
    // A target special token the original lacks: a predicted row of its own text.
    v.row_of_target_id[id] = it != row_of.end() ? it->second : add_extra(form, 0);
  }
  auto bos = row_of.find(bos_content);
  v.bos_row = bos != row_of.end() ? bos->second : add_extra(bos_content, tokenizer::kSpecial);
  v.extra_rows = static_cast<int64_t>(extra_forms.size());
  if (!extra_forms.empty()) {
    tokenizer::Decomposition extra =
        decomposer.DecomposeSurfaceForms(std::move(extra_forms), std::move(extra_flags),
                                         v.decomposition.max_len, v.decomposition.pad_id);
    auto& d = v.decomposition;
    d.surface_forms.insert(d.surface_forms.end(), extra.surface_forms.begin(),
                           extra.surface_forms.end());
    d.ids.insert(d.ids.end(), extra.ids.begin(), extra.ids.end());
    d.flags.insert(d.flags.end(), extra.flags.begin(), extra.flags.end());
    d.n_truncated += extra.n_truncated;
  }
  return v;
}

absl::StatusOr<std::vector<int32_t>> EncodeWithTarget(const tokenizer::Tokenizer& target,
                                                      const TargetVocabulary& vocabulary,
                                                      const std::string& document) {
  ASSIGN_OR_RETURN(std::vector<int32_t> ids, target.Encode(document));
  std::vector<int32_t> rows;
  rows.reserve(ids.size() + 1);
  rows.push_back(vocabulary.bos_row);
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(vocabulary.row_of_target_id.size())) {
      return absl::InternalError(
          absl::StrCat("target tokenizer produced id ", id, " outside its vocabulary"));
    }
    rows.push_back(vocabulary.row_of_target_id[id]);
  }
  return rows;
}

}  // namespace zett
