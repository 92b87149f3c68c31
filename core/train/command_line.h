// Flags of one `zett-train` subcommand: `--name=value`, `--name value`, and `--flag` for true.
// Each subcommand reads what it knows and then calls CheckAllUsed(), so a misspelt flag is an
// error instead of being silently ignored. With --help (or -h), every Get* returns its fallback
// ("" for a required flag) and CheckAllUsed() prints each flag read, with its default, and exits
// 0: the help lists exactly the flags the subcommand reads. Also the plumbing the training
// subcommands share: running one with the usual exit codes, checking intervals, formatting
// durations.
#ifndef ZETT_CORE_TRAIN_COMMAND_LINE_H_
#define ZETT_CORE_TRAIN_COMMAND_LINE_H_

#include <cstdint>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

class CommandLine {
 public:
  // `args` are the arguments after the subcommand name.
  static absl::StatusOr<CommandLine> Parse(const std::vector<std::string>& args);

  bool Has(const std::string& name) const;
  std::string GetString(const std::string& name, const std::string& fallback);
  absl::StatusOr<std::string> GetRequiredString(const std::string& name);
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback);
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback);
  absl::StatusOr<bool> GetBool(const std::string& name, bool fallback);

  // INVALID_ARGUMENT naming every flag that no Get* asked for. With --help: PrintHelp to stdout,
  // then exit(0).
  absl::Status CheckAllUsed() const;

  bool help_requested() const { return help_; }
  // "  --name (default: value)" per flag read so far, in the order read.
  void PrintHelp(std::ostream& out) const;

 private:
  void Note(const std::string& name, std::string shown_default);

  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
  bool help_ = false;
  std::vector<std::pair<std::string, std::string>> defaults_;  // name, shown default
};

// --log_every, --eval_every and --save_every must all be > 0 (INVALID_ARGUMENT otherwise).
absl::Status CheckPositiveIntervals(int64_t log_every, int64_t eval_every, int64_t save_every);

// "42s", "3m07s", "1h05m": elapsed time and ETA in progress lines.
std::string FormatDuration(double seconds);

// Runs subcommand `name` on parsed options: a parse error is printed and exits 2, an error of
// `run(options)` is printed and exits 1, success exits 0.
template <typename Options, typename Run>
int RunSubcommand(const std::string& name, const absl::StatusOr<Options>& options, Run run) {
  if (!options.ok()) {
    std::cerr << "zett-train " << name << ": " << options.status().message() << "\n";
    return 2;
  }
  const absl::Status status = run(*options);
  if (!status.ok()) {
    std::cerr << "zett-train " << name << ": " << status << "\n";
    return 1;
  }
  return 0;
}

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_COMMAND_LINE_H_
