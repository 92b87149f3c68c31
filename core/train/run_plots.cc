#include "core/train/run_plots.h"

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/train/loss_plot.h"
#include "core/train/run_state.h"

namespace zett {
using json = nlohmann::json;

// The train loss of each log interval and the validation losses (mean and per
// stream) against step, redrawn whole from the history.
absl::Status WritePretrainLossCurve(const std::string& path, const json& history) {
  static constexpr uint8_t kStreamColors[][3] = {{44, 160, 44},  {148, 103, 189}, {255, 127, 14},
                                                 {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                                 {188, 189, 34}, {23, 190, 207}};
  PlotSeries train{"train", 31, 119, 180, {}};
  PlotSeries valid{"valid (mean)", 214, 39, 40, {}};
  std::map<std::string, PlotSeries> streams;
  for (const json& e : HistoryEntries(history, "train")) {
    train.points.emplace_back(e.value("step", 0.0), e.value("loss", 0.0));
  }
  for (const json& e : HistoryEntries(history, "valid")) {
    const double step = e.value("step", 0.0);
    valid.points.emplace_back(step, e.value("mean_loss", std::numeric_limits<double>::quiet_NaN()));
    for (const auto& [name, v] : e.items()) {
      if (v.is_object()) streams[name].points.emplace_back(step, v.value("loss", 0.0));
    }
  }
  std::vector<PlotSeries> series = {train, valid};
  for (auto& [name, s] : streams) {
    const uint8_t* color = kStreamColors[(series.size() - 2) % std::size(kStreamColors)];
    s.name = "valid " + name;
    s.r = color[0], s.g = color[1], s.b = color[2];
    series.push_back(std::move(s));
  }
  PlotOptions options;
  options.title = "Base-LM pretraining";
  return WriteLossCurvesPng(path, series, options);
}

absl::Status WriteHypernetLossCurve(const std::string& path, const json& history) {
  PlotSeries train{"train loss", 31, 119, 180, {}}, lm{"train LM loss", 255, 127, 14, {}};
  PlotSeries aux{"train aux loss", 44, 160, 44, {}}, valid{"valid loss", 214, 39, 40, {}};
  for (const auto& h : HistoryEntries(history, "train")) {
    const double step = h.value("step", 0.0);
    train.points.emplace_back(step, h.value("loss", 0.0));
    if (!h.value("mimick", false)) lm.points.emplace_back(step, h.value("lm_loss", 0.0));
    aux.points.emplace_back(step, h.value("aux_loss", 0.0));
  }
  for (const auto& h : HistoryEntries(history, "valid")) {
    valid.points.emplace_back(h.value("step", 0.0), h.value("loss", 0.0));
  }
  PlotOptions plot;
  plot.title = "ZeTT hypernetwork training";
  plot.y_label = "loss (LM: nats/token; aux: relative squared error)";
  return WriteLossCurvesPng(path, {train, lm, aux, valid}, plot);
}

absl::Status WriteRunLossCurve(const std::string& path, const json& trainer_state) {
  const json& history = trainer_state.contains("history") ? trainer_state["history"] : json();
  const json& options = trainer_state.contains("options") ? trainer_state["options"] : json();
  if (options.contains("hn_n_layers")) return WriteHypernetLossCurve(path, history);
  return WritePretrainLossCurve(path, history);
}

}  // namespace zett
