#include "core/train/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace zett {
namespace {

using ::testing::HasSubstr;

TEST(CommandLineTest, ReadsEqualsSpaceAndBareForms) {
  auto flags = CommandLine::Parse({"--steps=12", "--lr", "0.5", "--resume", "--name", "x y"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(*flags->GetInt("steps", 0), 12);
  EXPECT_DOUBLE_EQ(*flags->GetDouble("lr", 0), 0.5);
  EXPECT_TRUE(*flags->GetBool("resume", false));
  EXPECT_EQ(flags->GetString("name", ""), "x y");
  EXPECT_EQ(*flags->GetInt("absent", 7), 7);
  EXPECT_TRUE(flags->CheckAllUsed().ok());
}

TEST(CommandLineTest, UnknownMistypedAndMissingFlagsAreErrors) {
  auto flags = CommandLine::Parse({"--stpes=12", "--batch_size=x"});
  ASSERT_TRUE(flags.ok());
  EXPECT_FALSE(flags->GetInt("batch_size", 1).ok());
  auto unused = flags->CheckAllUsed();
  ASSERT_FALSE(unused.ok());
  EXPECT_THAT(std::string(unused.message()), HasSubstr("--stpes"));
  EXPECT_FALSE(flags->GetRequiredString("model").ok());
  EXPECT_FALSE(CommandLine::Parse({"positional"}).ok());
  EXPECT_FALSE(CommandLine::Parse({"--a=1", "--a=2"}).ok());
}

// --help lists exactly the flags the subcommand reads, with their defaults, and exits 0.
TEST(CommandLineTest, HelpListsEveryFlagReadWithItsDefault) {
  auto flags = CommandLine::Parse({"--steps=12", "--help"});
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(flags->help_requested());
  EXPECT_EQ(flags->GetRequiredString("output_dir").value(), "");
  EXPECT_EQ(flags->GetInt("steps", 100).value(), 100);  // the fallback, not 12
  EXPECT_EQ(flags->GetDouble("lr", 0.5).value(), 0.5);
  EXPECT_TRUE(flags->GetBool("resume", true).value());
  EXPECT_EQ(flags->GetString("name", "run"), "run");
  std::ostringstream out;
  flags->PrintHelp(out);
  EXPECT_EQ(out.str(),
            "flags:\n"
            "  --output_dir (default: none, required)\n"
            "  --steps (default: 100)\n"
            "  --lr (default: 0.5)\n"
            "  --resume (default: true)\n"
            "  --name (default: \"run\")\n");
  EXPECT_EXIT(static_cast<void>(flags->CheckAllUsed()), ::testing::ExitedWithCode(0), "");
  EXPECT_FALSE(CommandLine::Parse({"--steps=12"})->help_requested());
}

}  // namespace
}  // namespace zett
