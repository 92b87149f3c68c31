#include "core/io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/io/json_file.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("zett_safetensors_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes an 8-byte little-endian header length, the header text and the data bytes.
  std::string WriteRaw(const std::string& name, const std::string& header,
                       const std::string& data) {
    std::string bytes(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(bytes.data(), &n, 8);
    bytes += header + data;
    EXPECT_TRUE(WriteStringToFile(Path(name), bytes).ok());
    return Path(name);
  }

  fs::path dir_;
};

TEST_F(SafetensorsTest, ReadsFileBuiltFromTheSpec) {
  // Two float32 values 1.5, -2 and one int64 value 7, laid out by hand.
  std::string data(16, '\0');
  const float f[2] = {1.5f, -2.0f};
  const int64_t i = 7;
  std::memcpy(data.data(), f, 8);
  std::memcpy(data.data() + 8, &i, 8);
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},)"
      R"("n":{"dtype":"I64","shape":[],"data_offsets":[8,16]}})";
  SafetensorsMetadata metadata;
  auto tensors = ReadSafetensors(WriteRaw("spec.safetensors", header, data), &metadata);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ(metadata.at("format"), "pt");
  const at::Tensor& w = tensors->at("w");
  EXPECT_EQ(w.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(w.scalar_type(), at::kFloat);
  EXPECT_FLOAT_EQ(w[0][0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(w[0][1].item<float>(), -2.0f);
  EXPECT_EQ(tensors->at("n").dim(), 0);
  EXPECT_EQ(tensors->at("n").item<int64_t>(), 7);
}

TEST_F(SafetensorsTest, RoundTripsEveryDtypeAndMetadata) {
  at::manual_seed(3);
  TensorMap tensors;
  tensors["a.f32"] = at::randn({3, 4});
  tensors["b.f16"] = at::randn({5}).to(at::kHalf);
  tensors["c.bf16"] = at::randn({2, 2, 2}).to(at::kBFloat16);
  tensors["d.f64"] = at::randn({2}, at::kDouble);
  tensors["e.i32"] = at::arange(6, at::kInt).reshape({2, 3});
  tensors["f.i64"] = at::arange(4, at::kLong);
  tensors["g.u8"] = at::arange(3, at::kByte);
  tensors["h.bool"] = at::arange(4) % 2 == 0;
  tensors["i.empty"] = at::empty({0, 4});
  tensors["j.noncontiguous"] = at::randn({4, 3}).t();
  ASSERT_TRUE(WriteSafetensors(Path("all.safetensors"), tensors, {{"step", "12"}}).ok());
  SafetensorsMetadata metadata;
  auto read = ReadSafetensors(Path("all.safetensors"), &metadata);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(metadata.at("step"), "12");
  ASSERT_EQ(read->size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const at::Tensor& got = read->at(name);
    EXPECT_EQ(got.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(at::equal(got, tensor)) << name;
  }
}

TEST_F(SafetensorsTest, DataSectionIsEightByteAligned) {
  ASSERT_TRUE(WriteSafetensors(Path("x.safetensors"), {{"x", at::ones({3})}}).ok());
  auto bytes = ReadFileToString(Path("x.safetensors"));
  ASSERT_TRUE(bytes.ok());
  uint64_t n = 0;
  std::memcpy(&n, bytes->data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes->size(), 8 + n + 12);
}

TEST_F(SafetensorsTest, RejectsCorruptFilesWithAReason) {
  const std::string ok_header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  struct Case {
    std::string name, header, data, expected;
  };
  const Case cases[] = {
      {"truncated_data", ok_header, std::string(4, '\0'), "outside the data section"},
      {"bad_json", R"({"w":{"dtype":)", "", "not JSON"},
      {"not_object", R"([1,2])", "", "not a JSON object"},
      {"unknown_dtype", R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})",
       std::string(2, '\0'), "unsupported dtype"},
      {"size_mismatch", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
       std::string(8, '\0'), "expected 12"},
      {"negative_dim", R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
       std::string(8, '\0'), "negative"},
      {"missing_field", R"({"w":{"dtype":"F32","shape":[2]}})", std::string(8, '\0'),
       "data_offsets"},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       std::string(12, '\0'), "overlap"},
  };
  for (const Case& c : cases) {
    auto result = ReadSafetensors(WriteRaw(c.name, c.header, c.data));
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_NE(result.status().message().find(c.expected), std::string::npos)
        << c.name << ": " << result.status();
    EXPECT_NE(result.status().message().find(c.name), std::string::npos) << "names the file";
  }
}

TEST_F(SafetensorsTest, RejectsHeaderLengthBeyondFile) {
  std::string bytes(8, '\0');
  const uint64_t n = 1000;
  std::memcpy(bytes.data(), &n, 8);
  bytes += "{}";
  ASSERT_TRUE(WriteStringToFile(Path("short"), bytes).ok());
  auto result = ReadSafetensors(Path("short"));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("exceeds the file"), std::string::npos);
  ASSERT_TRUE(WriteStringToFile(Path("tiny"), "abc").ok());
  EXPECT_EQ(ReadSafetensors(Path("tiny")).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadSafetensors(Path("missing")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SafetensorsTest, ReadsShardedCheckpointThroughIndex) {
  ASSERT_TRUE(WriteSafetensors(Path("model-00001-of-00002.safetensors"),
                               {{"a", at::ones({2})}, {"b", at::zeros({1})}})
                  .ok());
  ASSERT_TRUE(
      WriteSafetensors(Path("model-00002-of-00002.safetensors"), {{"c", at::full({3}, 2.0)}}).ok());
  nlohmann::json index = {{"metadata", {{"total_size", 24}}},
                          {"weight_map",
                           {{"a", "model-00001-of-00002.safetensors"},
                            {"b", "model-00001-of-00002.safetensors"},
                            {"c", "model-00002-of-00002.safetensors"}}}};
  ASSERT_TRUE(WriteJsonFile(Path("model.safetensors.index.json"), index).ok());
  auto tensors = ReadSafetensorsDir(dir_.string());
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ(tensors->size(), 3u);
  EXPECT_TRUE(at::equal(tensors->at("c"), at::full({3}, 2.0)));

  index["weight_map"]["d"] = "model-00002-of-00002.safetensors";
  ASSERT_TRUE(WriteJsonFile(Path("model.safetensors.index.json"), index).ok());
  auto missing = ReadSafetensorsDir(dir_.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("\"d\""), std::string::npos) << missing.status();
}

TEST_F(SafetensorsTest, ReadsSingleFileDirAndReportsEmptyDir) {
  EXPECT_EQ(ReadSafetensorsDir(dir_.string()).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteSafetensors(Path("model.safetensors"), {{"x", at::ones({1})}}).ok());
  auto tensors = ReadSafetensorsDir(dir_.string());
  ASSERT_TRUE(tensors.ok());
  EXPECT_EQ(tensors->count("x"), 1u);
}

TEST(JsonFile, ReportsParseErrorWithPathAndOffset) {
  const std::string path = (fs::temp_directory_path() / "zett_bad.json").string();
  ASSERT_TRUE(WriteStringToFile(path, "{\"a\": [1, 2,, 3]}").ok());
  auto json = ReadJsonFile(path);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(json.status().message().find(path), std::string::npos);
  EXPECT_NE(json.status().message().find("at byte 13"), std::string::npos) << json.status();
  fs::remove(path);
}

}  // namespace
}  // namespace zett
