#include "core/util/flags_help.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"

namespace zett {
namespace {

// Abseil's own flags (--flagfile, --fromenv, …) are defined under absl/.
bool DefinedByAbseil(const absl::CommandLineFlag& flag) {
  return absl::StrContains(flag.Filename(), "absl/");
}

std::string ShownDefault(const absl::CommandLineFlag& flag) {
  const std::string value = flag.DefaultValue();
  return flag.IsOfType<std::string>() ? "\"" + value + "\"" : value;
}

bool AsksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) return false;
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  }
  return false;
}

}  // namespace

void PrintFlagsHelp(std::ostream& out, absl::string_view usage) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!DefinedByAbseil(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  out << usage << "\n\nflags:\n";
  for (const absl::CommandLineFlag* flag : flags) {
    out << "  --" << flag->Name() << " (default: " << ShownDefault(*flag) << ")\n      "
        << flag->Help() << "\n";
  }
}

std::vector<char*> ParseCommandLineWithHelp(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  if (AsksForHelp(argc, argv)) {
    PrintFlagsHelp(std::cout, usage);
    std::exit(0);
  }
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace zett
