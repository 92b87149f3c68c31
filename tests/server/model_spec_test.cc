// zett-server --model NAME=BASE_DIR,HYPERNET_DIR: parsing, and the version folder of links that
// the loader reads as <version>/base and <version>/hypernet.
#include "server/model_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/server/deterministic_test_model.h"

namespace zett::server {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(ModelSpecTest, ParsesNameAndBothFolders) {
  absl::StatusOr<ModelSpec> spec = ParseModelSpec("default=models/base-lm,models/hypernet");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "default");
  EXPECT_EQ(spec->base_dir, "models/base-lm");
  EXPECT_EQ(spec->hypernet_dir, "models/hypernet");
}

TEST(ModelSpecTest, MalformedSpecsSayWhatIsMissing) {
  const struct {
    const char* flag;
    const char* why;
  } cases[] = {
      {"models/base-lm,models/hypernet", "no '='"},
      {"default=models/base-lm", "no ','"},
      {"=models/base-lm,models/hypernet", "got name ''"},
      {"a/b=models/base-lm,models/hypernet", "got name 'a/b'"},
      {".hidden=models/base-lm,models/hypernet", "got name '.hidden'"},
      {"default=,models/hypernet", "empty folder"},
      {"default=models/base-lm,", "empty folder"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flag);
    absl::StatusOr<ModelSpec> spec = ParseModelSpec(c.flag);
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr("NAME=BASE_DIR,HYPERNET_DIR"));
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr(c.why));
  }
}

TEST(ModelSpecTest, StagesVersionFolderLinkingBaseAndHypernet) {
  const std::string folders = zett::testing::MakeTempDir("model_spec_folders");
  fs::create_directories(folders + "/base-lm");
  fs::create_directories(folders + "/hypernet");
  std::ofstream(folders + "/base-lm/config.json") << "{\"base\": 1}";
  std::ofstream(folders + "/hypernet/config.json") << "{\"hypernet\": 1}";
  const ModelSpec spec{"default", folders + "/base-lm", folders + "/hypernet"};
  const std::string staging = zett::testing::MakeTempDir("model_spec_staging");

  for (int run = 0; run < 2; ++run) {  // a restart re-stages over the old links
    absl::StatusOr<std::string> dir = StageModelVersion(spec, staging);
    ASSERT_TRUE(dir.ok()) << dir.status();
    EXPECT_EQ(fs::path(*dir), fs::path(staging) / "default" / "1");
    std::ifstream base(*dir + "/base/config.json");
    std::ifstream hypernet(*dir + "/hypernet/config.json");
    std::string base_text, hypernet_text;
    std::getline(base, base_text);
    std::getline(hypernet, hypernet_text);
    EXPECT_EQ(base_text, "{\"base\": 1}");
    EXPECT_EQ(hypernet_text, "{\"hypernet\": 1}");
  }
}

TEST(ModelSpecTest, MissingFolderIsNotFound) {
  const std::string folders = zett::testing::MakeTempDir("model_spec_missing");
  fs::create_directories(folders + "/base-lm");
  const ModelSpec spec{"default", folders + "/base-lm", folders + "/no-hypernet"};
  absl::StatusOr<std::string> dir =
      StageModelVersion(spec, zett::testing::MakeTempDir("model_spec_staging_missing"));
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("hypernet folder"));
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("no-hypernet"));
}

}  // namespace
}  // namespace zett::server
