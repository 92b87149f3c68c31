// Row counts of the hypernetwork's encoder chunks, rounded up to a few sizes per octave.
// A server meets every chunk shape (rows, length, masked) of every request; each new shape can
// cost tens of milliseconds the first time (cuDNN attention plans, cuBLAS kernels loaded
// lazily). Padding a chunk's rows to a bucket bounds the set of shapes, so warm-up at load can
// run all of them and the first request is as fast as a warm one.
#ifndef ZETT_CORE_HYPERNET_ROW_BUCKETS_H_
#define ZETT_CORE_HYPERNET_ROW_BUCKETS_H_

#include <cstdint>
#include <vector>

namespace zett {

// The smallest bucket >= rows: rows itself below per_octave, then m * 2^e with
// per_octave <= m < 2 * per_octave (per_octave = 4: ..., 16, 20, 24, 28, 32, 40, ...), so a
// chunk is padded by less than 1 / per_octave of its rows. per_octave <= 0: rows unchanged.
int64_t BucketRows(int64_t rows, int64_t per_octave);

// Every bucket up to BucketRows(max_rows), ascending: the chunk row counts a forward with
// at most max_rows rows per chunk can run.
std::vector<int64_t> RowBuckets(int64_t max_rows, int64_t per_octave);

}  // namespace zett

#endif  // ZETT_CORE_HYPERNET_ROW_BUCKETS_H_
