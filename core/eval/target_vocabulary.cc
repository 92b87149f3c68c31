#include "core/eval/target_vocabulary.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/surface_form.h"
#include "core/util/status_macros.h"

namespace zett {

namespace {

// Drops the decomposition rows that no target id, the BOS or an original special token holds,
// keeping the order of the others, and renumbers the maps. Extra rows (numbered after the
// decomposition) shift down.
void KeepRowsInUse(TargetVocabulary* v) {
  tokenizer::Decomposition& d = v->decomposition;
  const auto rows = static_cast<int32_t>(d.surface_forms.size());
  std::vector<int32_t> new_row(rows, -1);
  for (int32_t row : v->row_of_target_id) {
    if (row < rows) new_row[row] = 0;
  }
  if (v->bos_row < rows) new_row[v->bos_row] = 0;
  for (int32_t r = 0; r < rows; ++r) {
    if (d.flags[r] & tokenizer::kSpecial) new_row[r] = 0;  // the original's, at their ids
  }
  int32_t kept = 0;
  for (int32_t r = 0; r < rows; ++r) {
    if (new_row[r] < 0) continue;
    new_row[r] = kept;
    if (kept != r) {
      d.surface_forms[kept] = std::move(d.surface_forms[r]);
      d.flags[kept] = d.flags[r];
      std::copy(d.ids.begin() + static_cast<size_t>(r) * d.max_len,
                d.ids.begin() + static_cast<size_t>(r + 1) * d.max_len,
                d.ids.begin() + static_cast<size_t>(kept) * d.max_len);
    }
    ++kept;
  }
  int n_truncated = 0;
  for (int32_t r = 0; r < kept; ++r) n_truncated += (d.flags[r] & tokenizer::kTruncated) != 0;
  d.surface_forms.resize(kept);
  d.flags.resize(kept);
  d.ids.resize(static_cast<size_t>(kept) * d.max_len);
  d.n_truncated = n_truncated;
  auto renumber = [&](int32_t row) { return row < rows ? new_row[row] : row - rows + kept; };
  for (int32_t& row : v->row_of_target_id) row = renumber(row);
  v->bos_row = renumber(v->bos_row);
}

}  // namespace

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
  KeepRowsInUse(&v);
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
