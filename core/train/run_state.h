// The bookkeeping every zett-train run shares (pretraining, hypernetwork training, continued
// training): trainer_state.json — steps done, tokens seen, time spent, the run's options and its
// logged history — written last at each save, so a run killed mid-save resumes from the previous
// complete state; and the run's clock (elapsed time across resumes, throughput, ETA).
#ifndef ZETT_CORE_TRAIN_RUN_STATE_H_
#define ZETT_CORE_TRAIN_RUN_STATE_H_

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace zett {

struct RunState {
  int64_t step = 0;  // steps done
  int64_t tokens_seen = 0;
  double elapsed_seconds = 0;
  nlohmann::json history = {{"train", nlohmann::json::array()}, {"valid", nlohmann::json::array()}};
  nlohmann::json extra = nlohmann::json::object();  // run-specific fields, kept on resume
};

// history["train"] or history["valid"]: the logged entries, an empty list when there are none.
const nlohmann::json& HistoryEntries(const nlohmann::json& history, const char* key);

// dir/trainer_state.json, or nullopt when `resume` is off or there is none.
absl::StatusOr<std::optional<RunState>> ReadRunState(const std::string& dir, bool resume);
// Writes dir/trainer_state.json with `options` (every option of the run) and `seed`.
absl::Status WriteRunState(const std::string& dir, const RunState& state,
                           const nlohmann::json& options, uint64_t seed);
// Creates `dir` (and parents); INTERNAL naming it when that fails.
absl::Status CreateOutputDir(const std::string& dir);

// Wall time of a run across resumes, and of the current logging interval.
class RunClock {
 public:
  explicit RunClock(double elapsed_before = 0);
  double Elapsed() const;  // seconds, all sessions of the run
  // Seconds since the last call (or construction): one logging interval.
  double Lap();

 private:
  using Clock = std::chrono::steady_clock;
  double before_;
  Clock::time_point start_, lap_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_RUN_STATE_H_
