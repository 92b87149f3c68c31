// Output of `zett-train eval`: the JSON list of records and a Markdown table with one row per
// language × target tokenizer: bits/byte per method, tokens/byte of the original and the target
// tokenizer, and the length reduction (1 − target/original tokens per byte).
#ifndef ZETT_CORE_EVAL_REPORT_H_
#define ZETT_CORE_EVAL_REPORT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/eval/evaluation.h"

namespace zett {

nlohmann::json RecordsToJson(const std::vector<EvalRecord>& records);
std::string MarkdownTable(const std::vector<EvalRecord>& records);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_REPORT_H_
