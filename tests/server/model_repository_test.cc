// The model repository: <model>/<version>/ discovery, LOADING → AVAILABLE / FAILED with reasons,
// latest-available resolution, and the codes of Resolve's errors.
#include "server/model_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/server/deterministic_test_model.h"

namespace zett::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kConfig[] = R"({"hidden_size": 4, "tied": true})";

TEST(ModelRepositoryTest, ScansLoadsAndResolves) {
  const std::string root = MakeTempDir("repository");
  WriteTestModelVersion(root, "alpha", 1, kConfig);
  WriteTestModelVersion(root, "alpha", 10, kConfig);  // numeric order, not text order
  WriteTestModelVersion(root, "alpha", 2, R"({"hidden_size": "not a number"})");
  fs::create_directories(root + "/alpha/latest");  // not a version: skipped
  fs::create_directories(root + "/empty");         // no versions: skipped
  std::ofstream(root + "/README") << "not a model";

  server::ModelRepository repository(root, std::make_shared<DeterministicTestLoader>());
  ASSERT_TRUE(repository.Scan().ok());
  EXPECT_EQ(repository.CountVersions(v1::VERSION_STATE_LOADING), 3);
  EXPECT_EQ(repository.Resolve("alpha", 0).status().code(), absl::StatusCode::kUnavailable);
  repository.LoadAll(2);
  EXPECT_EQ(repository.CountVersions(v1::VERSION_STATE_AVAILABLE), 2);
  EXPECT_EQ(repository.CountVersions(v1::VERSION_STATE_FAILED), 1);

  const std::vector<v1::ModelInfo> models = repository.List();
  ASSERT_EQ(models.size(), 1u);
  ASSERT_EQ(models[0].versions_size(), 3);
  EXPECT_EQ(models[0].versions(0).version(), 1);
  EXPECT_EQ(models[0].versions(1).version(), 2);
  EXPECT_EQ(models[0].versions(1).state(), v1::VERSION_STATE_FAILED);
  EXPECT_THAT(models[0].versions(1).reason(), HasSubstr("test_model.json"));
  EXPECT_EQ(models[0].versions(2).version(), 10);
  EXPECT_EQ(models[0].hidden_size(), 4u);

  absl::StatusOr<server::ResolvedModel> latest = repository.Resolve("alpha", 0);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 10);
  EXPECT_EQ(repository.Resolve("alpha", 1)->version, 1);
  EXPECT_EQ(repository.Resolve("alpha", 2).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(repository.Resolve("alpha", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repository.Resolve("beta", 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repository.Info("empty").status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelRepositoryTest, MissingRootIsNotFound) {
  server::ModelRepository repository("/nonexistent/zett/repository",
                                     std::make_shared<DeterministicTestLoader>());
  const absl::Status status = repository.Scan();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("/nonexistent/zett/repository"));
}

TEST(ModelRepositoryTest, AllVersionsFailedSaysWhy) {
  const std::string root = MakeTempDir("repository_failed");
  const std::string dir = WriteTestModelVersion(root, "alpha", 1, kConfig);
  fs::remove(dir + "/manifest.json");
  server::ModelRepository repository(root, std::make_shared<DeterministicTestLoader>());
  ASSERT_TRUE(repository.Scan().ok());
  repository.LoadAll(1);
  const absl::Status status = repository.Resolve("alpha", 0).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("no manifest"));
}

// A --model version has no manifest to check: it loads without one, and cannot shadow a model the
// repository scanned.
TEST(ModelRepositoryTest, UnverifiedVersionLoadsWithoutManifest) {
  const std::string root = MakeTempDir("repository_unverified");
  WriteTestModelVersion(root, "scanned", 1, kConfig);
  const std::string dir = WriteTestModelVersion(MakeTempDir("direct"), "direct", 1, kConfig);
  fs::remove(dir + "/manifest.json");

  server::ModelRepository repository(root, std::make_shared<DeterministicTestLoader>());
  ASSERT_TRUE(repository.Scan().ok());
  ASSERT_TRUE(repository.AddUnverified("direct", 1, dir).ok());
  const absl::Status duplicate = repository.AddUnverified("scanned", 1, dir);
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(duplicate.message()), HasSubstr("'scanned'"));
  repository.LoadAll(1);
  EXPECT_EQ(repository.CountVersions(v1::VERSION_STATE_AVAILABLE), 2);
  absl::StatusOr<server::ResolvedModel> direct = repository.Resolve("direct", 0);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(direct->version, 1);
}

// The same folder without a manifest, scanned from a repository, still FAILS: only --model
// versions skip the check.
TEST(ModelRepositoryTest, ScannedVersionStillNeedsManifest) {
  const std::string root = MakeTempDir("repository_scanned");
  const std::string dir = WriteTestModelVersion(root, "alpha", 1, kConfig);
  fs::remove(dir + "/manifest.json");
  server::ModelRepository repository(root, std::make_shared<DeterministicTestLoader>());
  ASSERT_TRUE(repository.Scan().ok());
  repository.LoadAll(1);
  EXPECT_EQ(repository.CountVersions(v1::VERSION_STATE_FAILED), 1);
}

}  // namespace
}  // namespace zett::testing
