#include "core/eval/report.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_format.h"
#include "core/eval/embedding_methods.h"

namespace zett {

nlohmann::json RecordsToJson(const std::vector<EvalRecord>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const EvalRecord& r : records) {
    out.push_back({{"tokenizer", r.tokenizer},
                   {"text", r.text},
                   {"language", r.language},
                   {"method", r.method},
                   {"bits_per_byte", r.bits_per_byte},
                   {"tokens_per_byte", r.tokens_per_byte},
                   {"bytes", r.bytes},
                   {"tokens", r.tokens},
                   {"seconds", r.seconds},
                   {"known_rows", r.known_rows},
                   {"known_error_in", r.known_error_in},
                   {"known_error_out", r.known_error_out}});
  }
  return out;
}

std::string MarkdownTable(const std::vector<EvalRecord>& records) {
  // Method columns in the canonical order, only those present.
  std::vector<std::string> methods;
  for (EvalMethod m : {EvalMethod::kOriginal, EvalMethod::kHypernet, EvalMethod::kFvt,
                       EvalMethod::kLexical, EvalMethod::kRandom}) {
    const std::string name = EvalMethodName(m);
    for (const EvalRecord& r : records) {
      if (r.method == name) {
        methods.push_back(name);
        break;
      }
    }
  }
  // Rows: (text, target tokenizer) in first-seen order; the original's numbers per text.
  std::vector<std::pair<std::string, std::string>> rows;
  std::map<std::pair<std::string, std::string>, std::map<std::string, const EvalRecord*>> cells;
  std::map<std::string, const EvalRecord*> original;
  std::map<std::string, std::string> language;
  for (const EvalRecord& r : records) {
    language[r.text] = r.language;
    if (r.method == "original") {
      original[r.text] = &r;
      continue;
    }
    const auto key = std::make_pair(r.text, r.tokenizer);
    if (!cells.count(key)) rows.push_back(key);
    cells[key][r.method] = &r;
  }
  for (const auto& [text, r] : original) {  // texts evaluated with the original only
    bool has_target = false;
    for (const auto& row : rows) has_target |= row.first == text;
    if (!has_target) rows.emplace_back(text, "");
  }

  std::string out = "| language | tokenizer |";
  for (const std::string& m : methods) out += " " + m + " bits/byte |";
  out += " tokens/byte original | tokens/byte target | length reduction |\n|---|---|";
  for (size_t i = 0; i < methods.size() + 3; ++i) out += "---:|";
  out += "\n";
  std::vector<double> sums(methods.size() + 3, 0);
  std::vector<int> counts(methods.size() + 3, 0);
  auto cell = [&](size_t column, std::optional<double> value, const char* format) {
    if (!value) return std::string(" – |");
    sums[column] += *value;
    ++counts[column];
    return " " + absl::StrFormat(format, *value) + " |";
  };
  for (const auto& [text, tokenizer] : rows) {
    const EvalRecord* orig = original.count(text) ? original[text] : nullptr;
    const auto& by_method = cells[{text, tokenizer}];
    const EvalRecord* any_target = by_method.empty() ? nullptr : by_method.begin()->second;
    out += "| " + language[text] + " | " + (tokenizer.empty() ? "original" : tokenizer) + " |";
    for (size_t c = 0; c < methods.size(); ++c) {
      std::optional<double> value;
      if (methods[c] == "original") {
        if (orig) value = orig->bits_per_byte;
      } else if (auto it = by_method.find(methods[c]); it != by_method.end()) {
        value = it->second->bits_per_byte;
      }
      out += cell(c, value, "%.4f");
    }
    const size_t k = methods.size();
    std::optional<double> tpb_orig, tpb_target, reduction;
    if (orig) tpb_orig = orig->tokens_per_byte;
    if (any_target) tpb_target = any_target->tokens_per_byte;
    if (tpb_orig && tpb_target && *tpb_orig > 0) {
      reduction = 100.0 * (1.0 - *tpb_target / *tpb_orig);
    }
    out += cell(k, tpb_orig, "%.4f") + cell(k + 1, tpb_target, "%.4f") +
           cell(k + 2, reduction, "%.1f %%");
    out += "\n";
  }
  if (rows.size() > 1) {
    out += "| mean | |";
    for (size_t c = 0; c < sums.size(); ++c) {
      if (counts[c] == 0) {
        out += " – |";
      } else {
        out += " " +
               absl::StrFormat(c + 1 == sums.size() ? "%.1f %%" : "%.4f", sums[c] / counts[c]) +
               " |";
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace zett
