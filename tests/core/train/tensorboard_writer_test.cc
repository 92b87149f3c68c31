#include "core/train/tensorboard_writer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/io/json_file.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

std::string TmpDir(const std::string& name) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / name;
  fs::remove_all(dir);
  return dir.string();
}

uint64_t LittleEndian(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[at + i]);
  return v;
}

// The fields of tensorflow.Event this writer fills, read with a minimal protobuf decoder.
struct Event {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> scalars;  // (tag, simple_value)
};

struct Field {
  int number = 0, wire_type = 0;
  uint64_t value = 0;  // varint, fixed64, fixed32
  std::string bytes;   // length-delimited
};

uint64_t Varint(const std::string& s, size_t* at) {
  uint64_t v = 0;
  for (int shift = 0; *at < s.size(); shift += 7) {
    const uint8_t b = s[(*at)++];
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
  }
  return v;
}

std::vector<Field> Fields(const std::string& s) {
  std::vector<Field> out;
  for (size_t at = 0; at < s.size();) {
    Field f;
    const uint64_t key = Varint(s, &at);
    f.number = static_cast<int>(key >> 3), f.wire_type = static_cast<int>(key & 7);
    if (f.wire_type == 0) {
      f.value = Varint(s, &at);
    } else if (f.wire_type == 1) {
      f.value = LittleEndian(s, at, 8), at += 8;
    } else if (f.wire_type == 5) {
      f.value = LittleEndian(s, at, 4), at += 4;
    } else if (f.wire_type == 2) {
      const uint64_t n = Varint(s, &at);
      f.bytes = s.substr(at, n), at += n;
    } else {
      ADD_FAILURE() << "wire type " << f.wire_type;
      break;
    }
    out.push_back(f);
  }
  return out;
}

Event DecodeEvent(const std::string& bytes) {
  Event e;
  for (const Field& f : Fields(bytes)) {
    if (f.number == 1 && f.wire_type == 1) {
      std::memcpy(&e.wall_time, &f.value, 8);
    } else if (f.number == 2 && f.wire_type == 0) {
      e.step = static_cast<int64_t>(f.value);
    } else if (f.number == 3 && f.wire_type == 2) {
      e.file_version = f.bytes;
    } else if (f.number == 5 && f.wire_type == 2) {
      for (const Field& v : Fields(f.bytes)) {
        EXPECT_EQ(v.number, 1);
        std::string tag;
        float value = 0;
        for (const Field& g : Fields(v.bytes)) {
          if (g.number == 1) tag = g.bytes;
          if (g.number == 2 && g.wire_type == 5) {
            const uint32_t bits = static_cast<uint32_t>(g.value);
            std::memcpy(&value, &bits, 4);
          }
        }
        e.scalars.push_back({tag, value});
      }
    } else {
      ADD_FAILURE() << "unexpected field " << f.number;
    }
  }
  return e;
}

// Splits a file into TFRecord payloads, checking both masked CRCs of every record.
std::vector<std::string> Records(const std::string& file) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < file.size()) {
    if (file.size() - at < 16) {
      ADD_FAILURE() << "truncated record at " << at;
      break;
    }
    const uint64_t length = LittleEndian(file, at, 8);
    EXPECT_EQ(LittleEndian(file, at + 8, 4), MaskedCrc32c(file.data() + at, 8)) << at;
    const std::string data = file.substr(at + 12, length);
    EXPECT_EQ(LittleEndian(file, at + 12 + length, 4), MaskedCrc32c(data.data(), data.size()))
        << at;
    out.push_back(data);
    at += 16 + length;
  }
  EXPECT_EQ(at, file.size());
  return out;
}

TEST(Crc32c, MatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);  // the CRC catalogue's check value
  // RFC 3720 (iSCSI) B.4: 32 zero bytes, 32 0xFF bytes, bytes 0..31.
  std::string zeros(32, '\0'), ones(32, '\xff'), ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(ascending.data(), 32), 0x46DD794Eu);
  // TFRecord's mask: rotate right by 15, add 0xa282ead8.
  const uint32_t crc = 0xE3069283u;
  EXPECT_EQ(MaskedCrc32c("123456789", 9), ((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
}

TEST(TensorBoardEvents, EncodeTheProtoFieldsByteForByte) {
  // wall_time 1.5 = 0x3FF8000000000000; step 300 = varint AC 02; 0.5f = 0x3F000000.
  const std::string expected_scalar =
      std::string("\x09\x00\x00\x00\x00\x00\x00\xf8\x3f\x10\xac\x02", 12) +
      std::string("\x2a\x0b\x0a\x09\x0a\x02\x6c\x72\x15\x00\x00\x00\x3f", 13);
  EXPECT_EQ(ScalarEvent(1.5, 300, "lr", 0.5f), expected_scalar);
  const std::string expected_version =
      std::string("\x09\x00\x00\x00\x00\x00\x00\xf8\x3f\x1a\x0d", 11) + "brain.Event:2";
  EXPECT_EQ(FileVersionEvent(1.5), expected_version);
  const std::string record = TfRecord("abc");
  ASSERT_EQ(record.size(), 19u);
  EXPECT_EQ(LittleEndian(record, 0, 8), 3u);
  EXPECT_EQ(record.substr(12, 3), "abc");
}

TEST(TensorBoardWriter, WritesAVersionEventThenTheScalarsInOrder) {
  const std::string dir = TmpDir("tb");
  absl::StatusOr<TensorBoardWriter> writer = TensorBoardWriter::Open(dir);
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ(fs::path(writer->path()).parent_path(), fs::path(dir));
  EXPECT_EQ(fs::path(writer->path()).filename().string().rfind("events.out.tfevents.", 0), 0u)
      << writer->path();
  ASSERT_TRUE(writer->AddScalar("train/loss", 10, 3.25).ok());
  ASSERT_TRUE(writer->AddScalar("train/lr", 10, 2e-3).ok());
  ASSERT_TRUE(writer->AddScalar("valid/mean_loss", 20, 2.5).ok());
  ASSERT_TRUE(writer->AddScalar("train/loss", -1, -0.75).ok());
  ASSERT_TRUE(writer->Flush().ok());

  absl::StatusOr<std::string> file = ReadFileToString(writer->path());
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<std::string> records = Records(*file);
  ASSERT_EQ(records.size(), 5u);
  const Event version = DecodeEvent(records[0]);
  EXPECT_EQ(version.file_version, "brain.Event:2");
  EXPECT_GT(version.wall_time, 1.6e9);  // seconds since 1970, after 2020
  EXPECT_TRUE(version.scalars.empty());
  const std::vector<std::tuple<int64_t, std::string, float>> expected = {
      {10, "train/loss", 3.25f},
      {10, "train/lr", 2e-3f},
      {20, "valid/mean_loss", 2.5f},
      {-1, "train/loss", -0.75f}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const Event e = DecodeEvent(records[i + 1]);
    EXPECT_EQ(e.step, std::get<0>(expected[i]));
    ASSERT_EQ(e.scalars.size(), 1u);
    EXPECT_EQ(e.scalars[0].first, std::get<1>(expected[i]));
    EXPECT_EQ(e.scalars[0].second, std::get<2>(expected[i]));
    EXPECT_GE(e.wall_time, version.wall_time);
  }
}

TEST(TensorBoardWriter, ASecondWriterInTheSameSecondGetsItsOwnFile) {
  const std::string dir = TmpDir("tb_two");
  absl::StatusOr<TensorBoardWriter> a = TensorBoardWriter::Open(dir);
  absl::StatusOr<TensorBoardWriter> b = TensorBoardWriter::Open(dir);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->path(), b->path());
}

}  // namespace
}  // namespace zett
