#include "core/train/command_line.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace zett {

absl::StatusOr<CommandLine> CommandLine::Parse(const std::vector<std::string>& args) {
  CommandLine out;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      out.help_ = true;
      return out;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string body = arg.substr(2);
    std::string name = body, value = "true";
    const size_t eq = body.find('=');
    if (eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
    } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
      value = args[++i];
    }
    if (out.values_.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " given twice"));
    }
    out.values_[name] = value;
  }
  return out;
}

bool CommandLine::Has(const std::string& name) const { return values_.count(name) > 0; }

void CommandLine::Note(const std::string& name, std::string shown_default) {
  if (!used_.insert(name).second) return;
  defaults_.emplace_back(name, std::move(shown_default));
}

void CommandLine::PrintHelp(std::ostream& out) const {
  out << "flags:\n";
  for (const auto& [name, shown] : defaults_)
    out << "  --" << name << " (default: " << shown << ")\n";
}

std::string CommandLine::GetString(const std::string& name, const std::string& fallback) {
  Note(name, "\"" + fallback + "\"");
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<std::string> CommandLine::GetRequiredString(const std::string& name) {
  Note(name, "none, required");
  if (help_) return std::string();
  auto it = values_.find(name);
  if (it == values_.end()) return absl::InvalidArgumentError("missing flag --" + name);
  return it->second;
}

absl::StatusOr<int64_t> CommandLine::GetInt(const std::string& name, int64_t fallback) {
  Note(name, absl::StrCat(fallback));
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t value;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", it->second, " is not an integer"));
  }
  return value;
}

absl::StatusOr<double> CommandLine::GetDouble(const std::string& name, double fallback) {
  Note(name, absl::StrCat(fallback));
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  double value;
  if (!absl::SimpleAtod(it->second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", it->second, " is not a number"));
  }
  return value;
}

absl::StatusOr<bool> CommandLine::GetBool(const std::string& name, bool fallback) {
  Note(name, fallback ? "true" : "false");
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  bool value;
  if (!absl::SimpleAtob(it->second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", it->second, " is not true/false"));
  }
  return value;
}

absl::Status CommandLine::CheckAllUsed() const {
  if (help_) {
    PrintHelp(std::cout);
    std::exit(0);
  }
  std::vector<std::string> unknown;
  for (const auto& [name, value] : values_) {
    if (!used_.count(name)) unknown.push_back("--" + name);
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown flag(s): ", absl::StrJoin(unknown, ", ")));
}

absl::Status CheckPositiveIntervals(int64_t log_every, int64_t eval_every, int64_t save_every) {
  if (log_every <= 0 || eval_every <= 0 || save_every <= 0) {
    return absl::InvalidArgumentError("--log_every, --eval_every and --save_every must be > 0");
  }
  return absl::OkStatus();
}

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace zett
