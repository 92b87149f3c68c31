// Learning-rate schedule shared by pretraining and hypernetwork training: linear warm-up from 0
// to `peak` over `warmup_steps`, then cosine decay to `peak × min_ratio` at `total_steps`.
#ifndef ZETT_CORE_TRAIN_LR_SCHEDULE_H_
#define ZETT_CORE_TRAIN_LR_SCHEDULE_H_

#include <cstdint>

namespace zett {

struct WarmupCosineSchedule {
  double peak = 3e-4;
  int64_t warmup_steps = 100;
  int64_t total_steps = 1000;
  double min_ratio = 0.1;

  // Learning rate for the update made at `step` (0-based).
  double At(int64_t step) const;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_LR_SCHEDULE_H_
