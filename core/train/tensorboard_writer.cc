#include "core/train/tensorboard_writer.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

void AppendLittleEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 255));
}

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Protobuf wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
void AppendTag(std::string* out, int field, int wire_type) {
  AppendVarint(out, static_cast<uint64_t>(field) << 3 | wire_type);
}

void AppendBytes(std::string* out, int field, absl::string_view bytes) {
  AppendTag(out, field, 2);
  AppendVarint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

std::string EventHeader(double wall_time, int64_t step) {
  std::string event;
  uint64_t bits;
  std::memcpy(&bits, &wall_time, sizeof bits);
  AppendTag(&event, 1, 1);
  AppendLittleEndian(&event, bits, 8);
  if (step != 0) {  // proto3 leaves default values out
    AppendTag(&event, 2, 0);
    AppendVarint(&event, static_cast<uint64_t>(step));
  }
  return event;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

uint32_t Crc32c(const char* data, size_t size) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;  // Castagnoli
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = ~0u;
  for (size_t i = 0; i < size; ++i) {
    crc = kTable[(crc ^ static_cast<uint8_t>(data[i])) & 255] ^ (crc >> 8);
  }
  return ~crc;
}

uint32_t MaskedCrc32c(const char* data, size_t size) {
  const uint32_t crc = Crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

std::string TfRecord(absl::string_view data) {
  std::string record;
  AppendLittleEndian(&record, data.size(), 8);
  AppendLittleEndian(&record, MaskedCrc32c(record.data(), 8), 4);
  record.append(data.data(), data.size());
  AppendLittleEndian(&record, MaskedCrc32c(data.data(), data.size()), 4);
  return record;
}

std::string FileVersionEvent(double wall_time) {
  std::string event = EventHeader(wall_time, 0);
  AppendBytes(&event, 3, "brain.Event:2");
  return event;
}

std::string ScalarEvent(double wall_time, int64_t step, absl::string_view tag, float value) {
  std::string summary_value;
  AppendBytes(&summary_value, 1, tag);
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  AppendTag(&summary_value, 2, 5);
  AppendLittleEndian(&summary_value, bits, 4);
  std::string summary;
  AppendBytes(&summary, 1, summary_value);
  std::string event = EventHeader(wall_time, step);
  AppendBytes(&event, 5, summary);
  return event;
}

absl::StatusOr<TensorBoardWriter> TensorBoardWriter::Open(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("creating ", dir, ": ", error.message()));
  const double now = Now();
  const std::string base =
      absl::StrCat(dir, "/events.out.tfevents.", static_cast<int64_t>(now), ".", HostName());
  std::string path = base;
  for (int n = 1; fs::exists(path, error); ++n) path = absl::StrCat(base, ".", n);
  auto file = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!*file) return absl::InternalError(absl::StrCat("opening ", path, " for writing"));
  TensorBoardWriter writer(path, std::move(file));
  absl::Status status = writer.Write(FileVersionEvent(now));
  if (status.ok()) status = writer.Flush();
  if (!status.ok()) return status;
  return writer;
}

absl::Status TensorBoardWriter::AddScalar(absl::string_view tag, int64_t step, double value) {
  return Write(ScalarEvent(Now(), step, tag, static_cast<float>(value)));
}

absl::Status TensorBoardWriter::Write(const std::string& event) {
  const std::string record = TfRecord(event);
  file_->write(record.data(), static_cast<std::streamsize>(record.size()));
  if (!*file_) return absl::InternalError(absl::StrCat("writing ", path_));
  return absl::OkStatus();
}

absl::Status TensorBoardWriter::Flush() {
  file_->flush();
  if (!*file_) return absl::InternalError(absl::StrCat("writing ", path_));
  return absl::OkStatus();
}

}  // namespace zett
