// A loss-curve plot written as a PNG with no image library: an RGB raster, lines drawn with
// Bresenham, encoded with stored (uncompressed) deflate blocks, CRC-32 and Adler-32 computed
// here. The axis ranges and the legend go into a tEXt chunk ("Comment"), since there is no font.
#ifndef ZETT_CORE_TRAIN_LOSS_PLOT_H_
#define ZETT_CORE_TRAIN_LOSS_PLOT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace zett {

struct PlotSeries {
  std::string name;
  uint8_t r = 0, g = 0, b = 0;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

// PNG bytes (8-bit RGB) of `width` x `height`; comment text added as a tEXt chunk.
std::string EncodePng(const std::vector<uint8_t>& rgb, int width, int height,
                      const std::string& comment = "");

// Plots the series into a shared frame (x and y ranges over all points, with a margin) and
// returns the PNG bytes. Series without points are skipped.
std::string PlotLossCurvesPng(const std::vector<PlotSeries>& series, int width = 640,
                              int height = 400);

absl::Status WriteLossCurvesPng(const std::string& path, const std::vector<PlotSeries>& series);

// CRC-32 (ISO-HDLC, as PNG) and Adler-32 (as zlib), exposed for tests.
uint32_t Crc32(const uint8_t* data, size_t size, uint32_t crc = 0);
uint32_t Adler32(const uint8_t* data, size_t size);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_LOSS_PLOT_H_
