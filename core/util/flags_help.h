// `--help` for binaries with Abseil flags. Abseil's own --help lists only the flags of a source
// file named after the program, which no zett binary has ("No flags matched"); --helpfull adds
// Abseil's internal flags. This lists every flag the binary's own sources define, with defaults.
#ifndef ZETT_CORE_UTIL_FLAGS_HELP_H_
#define ZETT_CORE_UTIL_FLAGS_HELP_H_

#include <ostream>
#include <vector>

#include "absl/strings/string_view.h"

namespace zett {

// Writes `usage`, then one entry per flag not defined by Abseil itself, sorted by name:
// "  --name (default: value)" and its help text.
void PrintFlagsHelp(std::ostream& out, absl::string_view usage);

// absl::ParseCommandLine, except that --help or -h anywhere prints PrintFlagsHelp to stdout and
// exits 0. Returns the positional arguments (argv[0] first), as Abseil does.
std::vector<char*> ParseCommandLineWithHelp(int argc, char** argv, absl::string_view usage);

}  // namespace zett

#endif  // ZETT_CORE_UTIL_FLAGS_HELP_H_
