// SHA-256 over bytes and files (OpenSSL libcrypto), for manifests, stream trailers and cache keys.
#ifndef ZETT_CORE_IO_SHA256_H_
#define ZETT_CORE_IO_SHA256_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zett::io {

// Incremental SHA-256. Digest() may be called once; it returns the 32 raw digest bytes.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(absl::string_view data) { Update(data.data(), data.size()); }
  std::string Digest();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so that callers need no OpenSSL headers.
};

// SHA-256 on a thread of its own, so that hashing a stream does not hold up the thread that
// sends or receives it (one core hashes ~1 GB/s). Update() queues a view: the bytes must stay
// alive and unchanged until Wait() or Digest() returned.
class BackgroundSha256 {
 public:
  BackgroundSha256();
  ~BackgroundSha256();  // waits for the queued bytes
  BackgroundSha256(const BackgroundSha256&) = delete;
  BackgroundSha256& operator=(const BackgroundSha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(absl::string_view data) { Update(data.data(), data.size()); }
  // Returns once every queued byte is hashed.
  void Wait();
  // Wait(), then the 32 raw digest bytes; call once.
  std::string Digest();

 private:
  void Run();

  Sha256 sha_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<absl::string_view> queue_;
  bool hashing_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// 32 raw digest bytes of `data`.
std::string Sha256Digest(absl::string_view data);

// Lower-case hexadecimal.
std::string HexEncode(absl::string_view bytes);

struct FileDigest {
  uint64_t size = 0;
  std::string sha256_hex;
};

// Reads the file in 1 MiB pieces; NOT_FOUND / DATA_LOSS errors name the path.
absl::StatusOr<FileDigest> Sha256File(const std::string& path);

}  // namespace zett::io

#endif  // ZETT_CORE_IO_SHA256_H_
