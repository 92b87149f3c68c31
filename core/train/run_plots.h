// The loss curves of zett-train's runs (loss_curve.png), drawn from a run's logged history
// (trainer_state.json's "history"): by the runs at every save, and by `zett-train plot` for a
// finished run.
#ifndef ZETT_CORE_TRAIN_RUN_PLOTS_H_
#define ZETT_CORE_TRAIN_RUN_PLOTS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace zett {

// Pretraining: train loss per log interval, validation loss (mean and per stream).
absl::Status WritePretrainLossCurve(const std::string& path, const nlohmann::json& history);
// Hypernetwork training: loss, LM loss, auxiliary loss, validation loss.
absl::Status WriteHypernetLossCurve(const std::string& path, const nlohmann::json& history);
// Either, by the kind of run a whole trainer_state.json describes.
absl::Status WriteRunLossCurve(const std::string& path, const nlohmann::json& trainer_state);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_RUN_PLOTS_H_
