// The evaluation protocol's window split. A document is scored as the sequence
// s = [BOS] + tokens (n + 1 ids); every token s[1..n] is predicted exactly once. Windows of at
// most seq_len inputs follow each other without overlap of predictions: window k reads inputs
// s[a_k, b_k) and predicts s[a_k + 1, b_k], with a_0 = 0, b_k = min(a_k + seq_len, n),
// a_{k+1} = b_k. So a later window starts with the last token the previous one predicted and
// sees no earlier context (documents longer than seq_len are scored in independent chunks,
// the way the base LM was trained on seq_len-token rows).
#ifndef ZETT_CORE_EVAL_WINDOWS_H_
#define ZETT_CORE_EVAL_WINDOWS_H_

#include <cstdint>
#include <vector>

namespace zett {

struct Window {
  int64_t sequence = 0;  // which sequence
  int64_t start = 0;     // a: first input position
  int64_t length = 0;    // b - a inputs, predicting s[a + 1 .. b]
};

// Windows of all `sequence_lengths` (each n + 1 with BOS), in order. Sequences of length < 2
// (nothing to predict) get none. seq_len must be >= 1.
std::vector<Window> SplitIntoWindows(const std::vector<int64_t>& sequence_lengths, int64_t seq_len);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_WINDOWS_H_
