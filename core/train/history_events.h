// TensorBoard scalars for a run's logged history (trainer_state.json's {"train": [...],
// "valid": [...]}): every numeric field of an entry becomes train/<key> or valid/<key> at the
// entry's step, a nested object valid/<name>/<key>. Only entries not yet written are written, and
// a resumed run starts after the entries of the state it resumes from. Shared by pretraining and
// hypernetwork training.
#ifndef ZETT_CORE_TRAIN_HISTORY_EVENTS_H_
#define ZETT_CORE_TRAIN_HISTORY_EVENTS_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/train/tensorboard_writer.h"

namespace zett {

class HistoryEvents {
 public:
  static absl::StatusOr<HistoryEvents> Open(const std::string& dir, const nlohmann::json& history);
  // Writes the entries added since the last call, then flushes.
  absl::Status Update(const nlohmann::json& history);

 private:
  HistoryEvents(TensorBoardWriter writer, size_t train, size_t valid)
      : writer_(std::move(writer)), train_(train), valid_(valid) {}

  TensorBoardWriter writer_;
  size_t train_, valid_;  // entries written
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_HISTORY_EVENTS_H_
