// The manifest of one model version directory: every file with its size and SHA-256, checked
// before the version is loaded so that a truncated or corrupted checkpoint is refused, not served.
//
// <root>/<model>/<version>/manifest.json:
//   {"format": "zett-manifest/1",
//    "files": [{"path": "hypernet/model.safetensors", "size": 123, "sha256": "<64 hex>"}, ...]}
// Paths are relative to the version directory, '/'-separated, without "." or ".." parts.
#ifndef ZETT_SERVER_MANIFEST_H_
#define ZETT_SERVER_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett::server {

inline constexpr char kManifestFileName[] = "manifest.json";
inline constexpr char kManifestFormat[] = "zett-manifest/1";

struct ManifestEntry {
  std::string path;
  uint64_t size = 0;
  std::string sha256_hex;
};

struct Manifest {
  std::vector<ManifestEntry> files;  // sorted by path
};

// Parses <version_dir>/manifest.json. Errors say which entry of which file is malformed.
absl::StatusOr<Manifest> ReadManifest(const std::string& version_dir);

// Checks every listed file: present, same size (cheap, first), same SHA-256. DATA_LOSS names the
// file and both values on mismatch.
absl::Status VerifyManifest(const std::string& version_dir, const Manifest& manifest);

// Lists and hashes every regular file below `version_dir` except the manifest itself.
absl::StatusOr<Manifest> BuildManifest(const std::string& version_dir);

// Writes <version_dir>/manifest.json (via a temporary file and a rename).
absl::Status WriteManifest(const std::string& version_dir, const Manifest& manifest);

}  // namespace zett::server

#endif  // ZETT_SERVER_MANIFEST_H_
