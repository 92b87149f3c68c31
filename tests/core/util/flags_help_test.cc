// PrintFlagsHelp lists the binary's own flags with their defaults, and not Abseil's.
#include "core/util/flags_help.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(int, sample_rows, 42, "Rows of the sample.");
ABSL_FLAG(std::string, sample_name, "", "Name of the sample.");
ABSL_FLAG(bool, sample_warmup, true, "Warm up first.");

namespace zett {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(FlagsHelpTest, ListsEveryOwnFlagWithItsDefault) {
  std::ostringstream out;
  PrintFlagsHelp(out, "sample --sample_rows N");
  const std::string help = out.str();
  EXPECT_THAT(help, StartsWith("sample --sample_rows N\n"));
  EXPECT_THAT(help, HasSubstr("  --sample_rows (default: 42)\n      Rows of the sample.\n"));
  EXPECT_THAT(help, HasSubstr("  --sample_name (default: \"\")\n"));
  EXPECT_THAT(help, HasSubstr("  --sample_warmup (default: true)\n"));
  const size_t flags = help.find("\nflags:\n");
  ASSERT_NE(flags, std::string::npos);
  EXPECT_LT(help.find("--sample_name", flags), help.find("--sample_rows", flags));  // by name
  EXPECT_THAT(help, Not(HasSubstr("--flagfile")));                                  // Abseil's own
}

}  // namespace
}  // namespace zett
