#include "core/train/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace zett
