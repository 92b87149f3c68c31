#include "core/hypernet/row_buckets.h"

namespace zett {

int64_t BucketRows(int64_t rows, int64_t per_octave) {
  if (per_octave <= 0 || rows <= per_octave) return rows;
  // step = 2^e with per_octave * step <= rows < 2 * per_octave * step.
  int64_t step = 1;
  while (rows >= 2 * per_octave * step) step *= 2;
  return (rows + step - 1) / step * step;
}

std::vector<int64_t> RowBuckets(int64_t max_rows, int64_t per_octave) {
  std::vector<int64_t> buckets;
  const int64_t last = BucketRows(max_rows, per_octave);
  for (int64_t rows = 1; rows <= last; rows = BucketRows(rows + 1, per_octave)) {
    buckets.push_back(rows);
  }
  return buckets;
}

}  // namespace zett
