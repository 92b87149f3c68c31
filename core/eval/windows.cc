#include "core/eval/windows.h"

#include <algorithm>

namespace zett {

std::vector<Window> SplitIntoWindows(const std::vector<int64_t>& sequence_lengths,
                                     int64_t seq_len) {
  std::vector<Window> windows;
  if (seq_len < 1) return windows;
  for (size_t s = 0; s < sequence_lengths.size(); ++s) {
    const int64_t last = sequence_lengths[s] - 1;  // n: index of the last token
    for (int64_t a = 0; a < last;) {
      const int64_t b = std::min(a + seq_len, last);
      windows.push_back({static_cast<int64_t>(s), a, b - a});
      a = b;
    }
  }
  return windows;
}

}  // namespace zett
