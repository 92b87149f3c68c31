// Manifests: what BuildManifest writes, ReadManifest reads back and VerifyManifest accepts; any
// changed, truncated or missing file, and malformed manifests, are refused with the file named.
#include "server/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/io/sha256.h"
#include "tests/server/deterministic_test_model.h"

namespace zett::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string MakeVersionDir() {
  const std::string dir = MakeTempDir("manifest");
  fs::create_directories(dir + "/hypernet");
  std::ofstream(dir + "/hypernet/model.safetensors", std::ios::binary) << std::string(5000, 'w');
  std::ofstream(dir + "/config.json") << "{}";
  return dir;
}

TEST(ManifestTest, RoundTripsAndVerifies) {
  const std::string dir = MakeVersionDir();
  absl::StatusOr<server::Manifest> built = server::BuildManifest(dir);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(server::WriteManifest(dir, *built).ok());
  absl::StatusOr<server::Manifest> read = server::ReadManifest(dir);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->files.size(), 2u);
  EXPECT_EQ(read->files[0].path, "config.json");
  EXPECT_EQ(read->files[1].path, "hypernet/model.safetensors");
  EXPECT_EQ(read->files[1].size, 5000u);
  EXPECT_EQ(read->files[1].sha256_hex, io::HexEncode(io::Sha256Digest(std::string(5000, 'w'))));
  EXPECT_TRUE(server::VerifyManifest(dir, *read).ok());
  // Rebuilding does not list the manifest itself.
  EXPECT_EQ(server::BuildManifest(dir)->files.size(), 2u);
}

TEST(ManifestTest, ChangedTruncatedOrMissingFilesAreDataLoss) {
  const std::string dir = MakeVersionDir();
  ASSERT_TRUE(server::WriteManifest(dir, *server::BuildManifest(dir)).ok());
  const server::Manifest manifest = *server::ReadManifest(dir);

  std::ofstream(dir + "/config.json") << "[]";  // same size, other bytes
  absl::Status status = server::VerifyManifest(dir, manifest);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("config.json: SHA-256"));

  fs::resize_file(dir + "/hypernet/model.safetensors", 4000);
  status = server::VerifyManifest(dir, manifest);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("size 4000 bytes, manifest says 5000"));

  fs::remove(dir + "/hypernet/model.safetensors");
  status = server::VerifyManifest(dir, manifest);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("hypernet/model.safetensors: listed in the manifest"));
}

TEST(ManifestTest, MalformedManifestsNameTheEntry) {
  const std::string dir = MakeTempDir("manifest_bad");
  EXPECT_EQ(server::ReadManifest(dir).status().code(), absl::StatusCode::kNotFound);
  const std::string hash(64, 'a');
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"{", "manifest.json: "},
      {R"({"format": "other", "files": []})", "\"format\" must be"},
      {R"({"format": "zett-manifest/1", "files": []})", "lists no files"},
      {R"({"format": "zett-manifest/1", "files": [{"path": "../x", "size": 1, "sha256": ")" + hash +
           R"("}]})",
       "files[0]: path '../x'"},
      {R"({"format": "zett-manifest/1", "files": [{"path": "x", "size": 1, "sha256": "zz"}]})",
       "files[0]: sha256 is not 64"},
      {R"({"format": "zett-manifest/1", "files": [{"path": "x", "sha256": ")" + hash + R"("}]})",
       "files[0]: "},
  };
  for (const Case& c : cases) {
    std::ofstream(dir + "/manifest.json", std::ios::trunc) << c.json;
    const absl::Status status = server::ReadManifest(dir).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message)) << c.json;
  }
}

}  // namespace
}  // namespace zett::testing
