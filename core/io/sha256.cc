#include "core/io/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace zett::io {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size);
}

std::string Sha256::Digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

BackgroundSha256::BackgroundSha256() : thread_([this] { Run(); }) {}

BackgroundSha256::~BackgroundSha256() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();  // Run() drains the queue before it returns
}

void BackgroundSha256::Update(const void* data, size_t size) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace_back(static_cast<const char*>(data), size);
  }
  cv_.notify_all();
}

void BackgroundSha256::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return queue_.empty() && !hashing_; });
}

std::string BackgroundSha256::Digest() {
  Wait();
  return sha_.Digest();
}

void BackgroundSha256::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    const absl::string_view piece = queue_.front();
    queue_.pop_front();
    hashing_ = true;
    lock.unlock();
    sha_.Update(piece);
    lock.lock();
    hashing_ = false;
    cv_.notify_all();
  }
}

std::string Sha256Digest(absl::string_view data) {
  Sha256 sha;
  sha.Update(data);
  return sha.Digest();
}

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

absl::StatusOr<FileDigest> Sha256File(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  Sha256 sha;
  FileDigest result;
  std::vector<char> buffer(1 << 20);
  while (true) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    sha.Update(buffer.data(), n);
    result.size += n;
    if (n < buffer.size()) break;
  }
  if (std::ferror(file.get())) {
    return absl::DataLossError(
        absl::StrCat("read error in ", path, " after ", result.size, " bytes"));
  }
  result.sha256_hex = HexEncode(sha.Digest());
  return result;
}

}  // namespace zett::io
