// SHA-256 over bytes and files (OpenSSL libcrypto), for manifests, stream trailers and cache keys.
#ifndef ZETT_SERVER_SHA256_H_
#define ZETT_SERVER_SHA256_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zett::server {

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

}  // namespace zett::server

#endif  // ZETT_SERVER_SHA256_H_
