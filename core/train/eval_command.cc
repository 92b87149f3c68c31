// zett-train eval: bits per byte and tokens per byte of the base LM with its own tokenizer and
// with target tokenizers (hypernetwork / FVT / lexical / random embeddings). core/eval/ holds
// the protocol; docs/evaluation.md the command and results.
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/eval/evaluation.h"
#include "core/eval/report.h"
#include "core/io/json_file.h"
#include "core/train/command_line.h"
#include "core/train/commands.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

// Flags that take lists: repeated flags and comma lists both work.
constexpr const char* kListFlags[] = {"target_tokenizer", "text", "method"};

// The issue spells flags with dashes (--target-tokenizer), the other subcommands with
// underscores: accept both, and merge repeats of list flags into one comma list for
// CommandLine (which rejects a flag given twice).
absl::StatusOr<std::vector<std::string>> NormalizeArgs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  std::map<std::string, size_t> list_at;  // list flag → index in `out`
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      out.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    for (char& c : name) c = c == '-' ? '_' : c;
    bool is_list = false;
    for (const char* l : kListFlags) is_list |= name == l;
    if (!is_list) {
      out.push_back("--" + name + (eq == std::string::npos ? "" : arg.substr(eq)));
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    if (auto it = list_at.find(name); it != list_at.end()) {
      out[it->second] += "," + value;
    } else {
      list_at[name] = out.size();
      out.push_back("--" + name + "=" + value);
    }
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    items.emplace_back(item);
  }
  return items;
}

absl::Status Run(const std::vector<std::string>& raw_args) {
  ASSIGN_OR_RETURN(std::vector<std::string> args, NormalizeArgs(raw_args));
  ASSIGN_OR_RETURN(CommandLine flags, CommandLine::Parse(args));
  EvalOptions options;
  ASSIGN_OR_RETURN(options.base_dir, flags.GetRequiredString("base"));
  options.hypernet_dir = flags.GetString("hypernet", "");
  options.target_tokenizers = SplitList(flags.GetString("target_tokenizer", ""));
  ASSIGN_OR_RETURN(std::string texts, flags.GetRequiredString("text"));
  options.texts = SplitList(texts);
  for (const std::string& name :
       SplitList(flags.GetString("method", "original,hypernet,fvt,lexical,random"))) {
    ASSIGN_OR_RETURN(EvalMethod method, ParseEvalMethod(name));
    options.methods.push_back(method);
  }
  ASSIGN_OR_RETURN(std::string out_path, flags.GetRequiredString("out"));
  const std::string markdown_path = flags.GetString("markdown", "");
  ASSIGN_OR_RETURN(options.max_bytes, flags.GetInt("max_bytes", 0));
  ASSIGN_OR_RETURN(options.seq_len, flags.GetInt("seq_len", 0));
  ASSIGN_OR_RETURN(options.batch_size, flags.GetInt("batch_size", 8));
  options.device = flags.GetString("device", "auto");
  options.dtype = flags.GetString("dtype", "auto");
  ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed", 0));
  options.seed = static_cast<uint64_t>(seed);
  RETURN_IF_ERROR(flags.CheckAllUsed());
  if (options.max_bytes < 0 || options.seq_len < 0) {
    return absl::InvalidArgumentError("--max_bytes and --seq_len must be >= 0");
  }

  ASSIGN_OR_RETURN(std::vector<EvalRecord> records, RunEvaluation(options, &std::cerr));
  RETURN_IF_ERROR(WriteStringToFile(out_path, RecordsToJson(records).dump(2) + "\n"));
  const std::string table = MarkdownTable(records);
  if (!markdown_path.empty()) RETURN_IF_ERROR(WriteStringToFile(markdown_path, table));
  std::cout << table;
  std::cerr << "eval: wrote " << records.size() << " records to " << out_path
            << (markdown_path.empty() ? "" : " and " + markdown_path) << "\n";
  return absl::OkStatus();
}

}  // namespace

int EvalCommand(const std::vector<std::string>& args) {
  // Run() parses and runs in one: every error exits 1.
  return RunSubcommand("eval", absl::StatusOr<std::vector<std::string>>(args), Run);
}

}  // namespace zett
