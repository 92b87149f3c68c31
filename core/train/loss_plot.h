// A loss-curve plot rendered with cairo into a PNG: title, axes with tick values, axis labels,
// grid, one line per series and a legend. Text is set in DejaVu Sans (fonts-dejavu-core),
// looked up beside the libcairo that is loaded, so a GPU host's unpacked Debian prefix works too.
#ifndef ZETT_CORE_TRAIN_LOSS_PLOT_H_
#define ZETT_CORE_TRAIN_LOSS_PLOT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

struct PlotSeries {
  std::string name;
  uint8_t r = 0, g = 0, b = 0;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending; non-finite y: a gap
};

struct PlotOptions {
  std::string title = "Training loss";
  std::string x_label = "step";
  std::string y_label = "loss (nats/token)";
  int width = 960, height = 600;  // pixels
};

// PNG bytes (8-bit RGB) of the series in one frame. The axes span all finite points, widened to
// tick steps of 1, 2 or 5 × 10^k. Series without points are left out of the legend.
absl::StatusOr<std::string> PlotLossCurvesPng(const std::vector<PlotSeries>& series,
                                              const PlotOptions& options = {});

absl::Status WriteLossCurvesPng(const std::string& path, const std::vector<PlotSeries>& series,
                                const PlotOptions& options = {});

// Tick values from `lo` to `hi` (about `target` of them) at a step of 1, 2 or 5 × 10^k; the
// first tick is <= lo and the last >= hi. Exposed for tests.
std::vector<double> NiceTicks(double lo, double hi, int target);

// The DejaVu Sans file the plot uses, or "" when none was found and fontconfig's default
// sans-serif face is used. Exposed for tests.
std::string PlotFontFile();

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_LOSS_PLOT_H_
