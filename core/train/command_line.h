// Flags of one `zett-train` subcommand: `--name=value`, `--name value`, and `--flag` for true.
// Each subcommand reads what it knows and then calls CheckAllUsed(), so a misspelt flag is an
// error instead of being silently ignored.
#ifndef ZETT_CORE_TRAIN_COMMAND_LINE_H_
#define ZETT_CORE_TRAIN_COMMAND_LINE_H_

#include <cstdint>
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

  // INVALID_ARGUMENT naming every flag that no Get* asked for.
  absl::Status CheckAllUsed() const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_COMMAND_LINE_H_
