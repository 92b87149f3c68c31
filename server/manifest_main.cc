// zett-manifest DIR...: writes DIR/manifest.json (sizes + SHA-256 of every file below DIR) for
// each model version directory, or with --check verifies it as the server will.
#include <cstdio>
#include <cstring>

#include "server/manifest.h"

namespace {

constexpr char kUsage[] =
    "usage: zett-manifest [--check] VERSION_DIR...\n\n"
    "flags:\n"
    "  --check (default: false)\n"
    "      Verify each DIR/manifest.json (sizes, SHA-256) as zett-server does, instead of "
    "writing it.\n";

}  // namespace

int main(int argc, char** argv) {
  bool check = false;
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") == 0) {
      check = true;
      continue;
    }
    const std::string dir = argv[i];
    absl::Status status;
    if (check) {
      absl::StatusOr<zett::server::Manifest> manifest = zett::server::ReadManifest(dir);
      status = manifest.ok() ? zett::server::VerifyManifest(dir, *manifest) : manifest.status();
    } else {
      absl::StatusOr<zett::server::Manifest> manifest = zett::server::BuildManifest(dir);
      status = manifest.ok() ? zett::server::WriteManifest(dir, *manifest) : manifest.status();
    }
    std::printf("%s: %s\n", dir.c_str(), status.ok() ? "ok" : status.ToString().c_str());
    failures += !status.ok();
  }
  if (argc < 2) std::fputs(kUsage, stderr);
  return argc < 2 ? 2 : (failures > 0);
}
