#include "core/train/text_corpus.h"

#include <glob.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/io/document_reader.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

absl::Status TokenizeFile(const std::string& path, const SentencePieceEncoder& encoder, int bos_id,
                          int eos_id, TokenStream* out) {
  out->name = std::filesystem::path(path).stem().string();
  return ForEachDocument(path, [&](std::string document, int64_t lines) -> absl::StatusOr<bool> {
    auto ids = encoder.Encode(document);
    if (!ids.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": document ending before line ", lines,
                                                     ": ", ids.status().message()));
    }
    if (bos_id >= 0) out->tokens.push_back(bos_id);
    out->tokens.insert(out->tokens.end(), ids->begin(), ids->end());
    if (eos_id >= 0) out->tokens.push_back(eos_id);
    out->bytes += static_cast<int64_t>(document.size());
    ++out->documents;
    return true;
  });
}

// Cache file: "ZTOK1\0\0\0", int64 bytes, int64 documents, int64 n, n × int32 tokens.
std::string CachePath(const std::string& cache_dir, const std::string& path,
                      const std::string& tokenizer_key, const std::string& name) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  const auto mtime = std::filesystem::last_write_time(path, error).time_since_epoch().count();
  const size_t key = std::hash<std::string>()(absl::StrCat(
      std::filesystem::absolute(path).string(), "|", size, "|", mtime, "|", tokenizer_key));
  return absl::StrCat(cache_dir, "/", name, "-", absl::Hex(key, absl::kZeroPad16), ".tokens");
}

constexpr char kCacheMagic[8] = {'Z', 'T', 'O', 'K', '1', 0, 0, 0};

bool ReadCache(const std::string& file, TokenStream* out) {
  std::ifstream in(file, std::ios::binary);
  char magic[8];
  int64_t n = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, kCacheMagic, 8) != 0) return false;
  if (!in.read(reinterpret_cast<char*>(&out->bytes), 8) ||
      !in.read(reinterpret_cast<char*>(&out->documents), 8) ||
      !in.read(reinterpret_cast<char*>(&n), 8) || n < 0) {
    return false;
  }
  out->tokens.resize(n);
  return static_cast<bool>(in.read(reinterpret_cast<char*>(out->tokens.data()), n * 4));
}

void WriteCache(const std::string& file, const TokenStream& stream) {
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    const int64_t n = static_cast<int64_t>(stream.tokens.size());
    out.write(kCacheMagic, 8);
    out.write(reinterpret_cast<const char*>(&stream.bytes), 8);
    out.write(reinterpret_cast<const char*>(&stream.documents), 8);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(reinterpret_cast<const char*>(stream.tokens.data()), n * 4);
    if (!out) return;  // a cache is an optimisation: ignore write failures
  }
  std::error_code error;
  std::filesystem::rename(tmp, file, error);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandFileList(const std::string& spec) {
  std::set<std::string> paths;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    const std::string pattern(part);
    glob_t matches;
    const int rc = glob(pattern.c_str(), 0, nullptr, &matches);
    if (rc == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) paths.insert(matches.gl_pathv[i]);
    }
    globfree(&matches);
    if (rc != 0) return absl::NotFoundError(absl::StrCat("no file matches '", pattern, "'"));
  }
  if (paths.empty()) return absl::InvalidArgumentError("empty file list");
  return std::vector<std::string>(paths.begin(), paths.end());
}

absl::StatusOr<std::vector<TokenStream>> TokenizeFiles(const std::vector<std::string>& paths,
                                                       const SentencePieceEncoder& encoder,
                                                       int bos_id, int eos_id, int threads,
                                                       const std::string& cache_dir,
                                                       const std::string& tokenizer_key) {
  std::vector<TokenStream> streams(paths.size());
  std::vector<absl::Status> statuses(paths.size());
  if (!cache_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(cache_dir, error);
  }
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next++; i < paths.size(); i = next++) {
      const std::string name = std::filesystem::path(paths[i]).stem().string();
      const std::string cache =
          cache_dir.empty() ? "" : CachePath(cache_dir, paths[i], tokenizer_key, name);
      if (!cache.empty() && ReadCache(cache, &streams[i])) {
        streams[i].name = name;
        continue;
      }
      streams[i] = TokenStream();
      statuses[i] = TokenizeFile(paths[i], encoder, bos_id, eos_id, &streams[i]);
      if (statuses[i].ok() && !cache.empty()) WriteCache(cache, streams[i]);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
  for (const auto& status : statuses) {
    if (!status.ok()) return status;
  }
  return streams;
}

WindowSampler::WindowSampler(const std::vector<TokenStream>* streams, int64_t window, double alpha)
    : streams_(streams), window_(window) {
  double total = 0;
  for (const auto& s : *streams_) {
    const double usable = static_cast<double>(s.tokens.size()) >= static_cast<double>(window)
                              ? std::pow(static_cast<double>(s.tokens.size()), alpha)
                              : 0.0;
    probabilities_.push_back(usable);
    total += usable;
  }
  for (double& p : probabilities_) p = total > 0 ? p / total : 0;
}

at::Tensor WindowSampler::Batch(int64_t batch, uint64_t seed, int64_t step) const {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step));
  std::discrete_distribution<size_t> pick(probabilities_.begin(), probabilities_.end());
  auto out = at::empty({batch, window_}, at::kLong);
  auto acc = out.accessor<int64_t, 2>();
  for (int64_t b = 0; b < batch; ++b) {
    const auto& tokens = (*streams_)[pick(rng)].tokens;
    std::uniform_int_distribution<size_t> start(0, tokens.size() - window_);
    const size_t s = start(rng);
    for (int64_t t = 0; t < window_; ++t) acc[b][t] = tokens[s + t];
  }
  return out;
}

at::Tensor EvaluationWindows(const TokenStream& stream, int64_t window, int64_t max_windows) {
  const int64_t n = std::min<int64_t>(max_windows, stream.tokens.size() / window);
  auto out = at::empty({std::max<int64_t>(n, 0), window}, at::kLong);
  auto acc = out.accessor<int64_t, 2>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t t = 0; t < window; ++t) acc[i][t] = stream.tokens[i * window + t];
  }
  return out;
}

}  // namespace zett
