#include "core/train/run_state.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/util/status_macros.h"

namespace zett {

namespace fs = std::filesystem;

const nlohmann::json& HistoryEntries(const nlohmann::json& history, const char* key) {
  static const nlohmann::json kNone = nlohmann::json::array();
  return history.contains(key) ? history[key] : kNone;
}

absl::StatusOr<std::optional<RunState>> ReadRunState(const std::string& dir, bool resume) {
  const std::string path = dir + "/trainer_state.json";
  if (!resume || !fs::exists(path)) return std::optional<RunState>();
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path));
  RunState state;
  try {
    state.step = json.at("step").get<int64_t>();
    state.tokens_seen = json.value("tokens_seen", int64_t{0});
    state.elapsed_seconds = json.value("elapsed_seconds", 0.0);
    state.history = json.value("history", state.history);
    state.extra = json.value("extra", nlohmann::json::object());
    // Runs written before "extra" existed kept these at the top level.
    for (const char* key : {"shards", "data_workers"}) {
      if (json.contains(key) && !state.extra.contains(key)) state.extra[key] = json[key];
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return std::optional<RunState>(std::move(state));
}

absl::Status WriteRunState(const std::string& dir, const RunState& state,
                           const nlohmann::json& options, uint64_t seed) {
  nlohmann::json json = {{"step", state.step},
                         {"seed", seed},
                         {"tokens_seen", state.tokens_seen},
                         {"elapsed_seconds", state.elapsed_seconds},
                         {"options", options},
                         {"extra", state.extra},
                         {"history", state.history}};
  return WriteJsonFile(dir + "/trainer_state.json", json);
}

absl::Status CreateOutputDir(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("creating ", dir, ": ", error.message()));
  return absl::OkStatus();
}

RunClock::RunClock(double elapsed_before)
    : before_(elapsed_before), start_(Clock::now()), lap_(start_) {}

double RunClock::Elapsed() const {
  return before_ + std::chrono::duration<double>(Clock::now() - start_).count();
}

double RunClock::Lap() {
  const Clock::time_point now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - lap_).count();
  lap_ = now;
  return seconds;
}

}  // namespace zett
