// SHA-256 helpers: the known digest of "abc", and the background hasher giving the same digest
// as hashing the whole at once, however the bytes are cut.
#include "core/io/sha256.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace zett::io {
namespace {

TEST(Sha256Test, KnownDigest) {
  EXPECT_EQ(HexEncode(Sha256Digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, BackgroundHashOfPiecesEqualsTheWholeDigest) {
  std::string bytes((1 << 20) + 3, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) % 251);
  const std::string whole = Sha256Digest(bytes);
  for (size_t piece : {7u, 4097u, 1u << 20, 2u << 20}) {
    BackgroundSha256 hasher;
    for (size_t offset = 0; offset < bytes.size(); offset += piece) {
      hasher.Update(bytes.data() + offset, std::min(piece, bytes.size() - offset));
      if (offset % (piece * 7) == 0) hasher.Wait();  // waiting in between changes nothing
    }
    EXPECT_EQ(hasher.Digest(), whole) << "pieces of " << piece;
  }
}

TEST(Sha256Test, DestroyingWithQueuedBytesWaitsForThem) {
  std::string bytes(8 << 20, 'x');
  {
    BackgroundSha256 hasher;
    for (int i = 0; i < 8; ++i) hasher.Update(bytes.data() + (i << 20), 1 << 20);
  }  // no Digest(): the destructor must finish with the bytes before they go
  bytes.assign(1, 'y');
  BackgroundSha256 empty;
  EXPECT_EQ(HexEncode(empty.Digest()), HexEncode(Sha256Digest("")));
}

}  // namespace
}  // namespace zett::io
