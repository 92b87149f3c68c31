#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

// The header is JSON read into memory whole; real headers are a few MB at most.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DTypeName {
  const char* name;
  at::ScalarType type;
};
constexpr DTypeName kDTypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool},
};

absl::StatusOr<at::ScalarType> ParseDType(const std::string& name) {
  for (const auto& d : kDTypes) {
    if (name == d.name) return d.type;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported dtype \"", name, "\""));
}

absl::StatusOr<std::string> DTypeToName(at::ScalarType type) {
  for (const auto& d : kDTypes) {
    if (type == d.type) return std::string(d.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot write dtype ", c10::toString(type), " to safetensors"));
}

// A read-only memory map that unmaps itself.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return absl::InternalError(absl::StrCat("cannot stat ", path));
    }
    MappedFile file;
    file.size_ = static_cast<size_t>(st.st_size);
    if (file.size_ > 0) {
      void* data = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        ::close(fd);
        return absl::InternalError(absl::StrCat("cannot mmap ", path));
      }
      file.data_ = static_cast<const uint8_t*>(data);
    }
    ::close(fd);
    return file;
  }
  MappedFile(MappedFile&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedFile(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

absl::Status Corrupt(const std::string& path, const std::string& what) {
  return absl::DataLossError(absl::StrCat(path, ": not a valid safetensors file: ", what));
}

absl::StatusOr<at::Tensor> ParseTensor(const std::string& path, const std::string& name,
                                       const nlohmann::json& entry, const uint8_t* data,
                                       uint64_t data_size,
                                       std::vector<std::pair<uint64_t, uint64_t>>* ranges) {
  const std::string where = absl::StrCat("tensor \"", name, "\"");
  if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
      !entry.contains("data_offsets")) {
    return Corrupt(path, absl::StrCat(where, " needs dtype, shape and data_offsets"));
  }
  const auto& dtype = entry["dtype"];
  const auto& shape_json = entry["shape"];
  const auto& offsets = entry["data_offsets"];
  if (!dtype.is_string()) return Corrupt(path, absl::StrCat(where, ": dtype is not a string"));
  auto type = ParseDType(dtype.get<std::string>());
  if (!type.ok()) return Corrupt(path, absl::StrCat(where, ": ", type.status().message()));
  if (!shape_json.is_array()) return Corrupt(path, absl::StrCat(where, ": shape is not a list"));
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  for (const auto& dim : shape_json) {
    if (!dim.is_number_unsigned()) {
      return Corrupt(path, absl::StrCat(where, ": shape has a non-integer or negative entry"));
    }
    const uint64_t d = dim.get<uint64_t>();
    if (d != 0 && numel > (1ull << 62) / d)
      return Corrupt(path, absl::StrCat(where, ": shape overflows"));
    numel *= d;
    shape.push_back(static_cast<int64_t>(d));
  }
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    return Corrupt(path, absl::StrCat(where, ": data_offsets must be [begin, end]"));
  }
  const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end || end > data_size) {
    return Corrupt(path, absl::StrCat(where, ": data_offsets [", begin, ", ", end,
                                      ") outside the data section of ", data_size,
                                      " bytes (truncated file?)"));
  }
  const uint64_t expected = numel * c10::elementSize(*type);
  if (end - begin != expected) {
    return Corrupt(path,
                   absl::StrCat(where, ": ", end - begin, " bytes for ", numel, " ",
                                dtype.get<std::string>(), " values (expected ", expected, ")"));
  }
  ranges->emplace_back(begin, end);
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(*type));
  if (expected > 0) std::memcpy(tensor.data_ptr(), data + begin, expected);
  return tensor;
}

}  // namespace

absl::StatusOr<TensorMap> ReadSafetensors(const std::string& path, SafetensorsMetadata* metadata) {
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  if (file.size() < 8) return Corrupt(path, absl::StrCat("only ", file.size(), " bytes"));
  uint64_t header_size = 0;
  std::memcpy(&header_size, file.data(), 8);  // little-endian on every supported host
  if (header_size > kMaxHeaderBytes || header_size > file.size() - 8) {
    return Corrupt(path, absl::StrCat("header length ", header_size, " exceeds the file (",
                                      file.size(), " bytes)"));
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file.data() + 8, file.data() + 8 + header_size);
  } catch (const nlohmann::json::parse_error& e) {
    return Corrupt(path, absl::StrCat("header is not JSON (byte ", e.byte, ")"));
  }
  if (!header.is_object()) return Corrupt(path, "header is not a JSON object");

  const uint8_t* data = file.data() + 8 + header_size;
  const uint64_t data_size = file.size() - 8 - header_size;
  TensorMap tensors;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return Corrupt(path, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) return Corrupt(path, "__metadata__ values must be strings");
        if (metadata != nullptr) (*metadata)[key] = value.get<std::string>();
      }
      continue;
    }
    ASSIGN_OR_RETURN(at::Tensor tensor, ParseTensor(path, name, entry, data, data_size, &ranges));
    tensors.emplace(name, std::move(tensor));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) return Corrupt(path, "tensors overlap");
  }
  return tensors;
}

absl::StatusOr<TensorMap> ReadSafetensorsDir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  const fs::path single_path = fs::path(dir) / "model.safetensors";
  if (!fs::exists(index_path)) {
    if (!fs::exists(single_path)) {
      return absl::NotFoundError(
          absl::StrCat(dir, ": neither model.safetensors nor model.safetensors.index.json"));
    }
    return ReadSafetensors(single_path.string());
  }
  ASSIGN_OR_RETURN(nlohmann::json index, ReadJsonFile(index_path.string()));
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(index_path.string(), ": no weight_map object"));
  }
  std::map<std::string, std::vector<std::string>> names_by_shard;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path.string(), ": shard of \"", name, "\" is not a string"));
    }
    const std::string file = shard.get<std::string>();
    if (file.find('/') != std::string::npos || file == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path.string(), ": shard name \"", file, "\" is not a file name"));
    }
    names_by_shard[file].push_back(name);
  }
  TensorMap tensors;
  for (const auto& [shard, names] : names_by_shard) {
    ASSIGN_OR_RETURN(TensorMap shard_tensors, ReadSafetensors((fs::path(dir) / shard).string()));
    for (const std::string& name : names) {
      auto it = shard_tensors.find(name);
      if (it == shard_tensors.end()) {
        return absl::DataLossError(
            absl::StrCat(dir, ": index lists \"", name, "\" in ", shard, ", which lacks it"));
      }
      tensors.emplace(name, std::move(it->second));
    }
  }
  return tensors;
}

absl::Status WriteSafetensors(const std::string& path, const TensorMap& tensors,
                              const SafetensorsMetadata& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  contiguous.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor \"", name, "\" is undefined"));
    }
    ASSIGN_OR_RETURN(std::string dtype, DTypeToName(tensor.scalar_type()));
    at::Tensor cpu = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = cpu.numel() * cpu.element_size();
    header[name] = {
        {"dtype", dtype}, {"shape", cpu.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(cpu));
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  // Streamed to a temporary file (no second copy of the weights in memory), then renamed.
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot create ", tmp));
    const uint64_t header_size = header_text.size();
    out.write(reinterpret_cast<const char*>(&header_size), 8);
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const at::Tensor& t : contiguous) {
      out.write(static_cast<const char*>(t.data_ptr()),
                static_cast<std::streamsize>(t.numel() * t.element_size()));
    }
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("write error in ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace zett
