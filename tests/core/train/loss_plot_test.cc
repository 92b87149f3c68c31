#include "core/train/loss_plot.h"

#include <cairo/cairo.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/io/json_file.h"

namespace zett {
namespace {

// The PNG read back by cairo's own decoder, as 0xRRGGBB per pixel.
struct Image {
  int width = 0, height = 0;
  std::vector<uint32_t> rgb;
  uint32_t at(int x, int y) const { return rgb[static_cast<size_t>(y) * width + x]; }
};

struct Reader {
  const std::string* png;
  size_t at = 0;
};

cairo_status_t ReadFromString(void* closure, unsigned char* data, unsigned int length) {
  auto* r = static_cast<Reader*>(closure);
  if (r->at + length > r->png->size()) return CAIRO_STATUS_READ_ERROR;
  std::memcpy(data, r->png->data() + r->at, length);
  r->at += length;
  return CAIRO_STATUS_SUCCESS;
}

Image Decode(const std::string& png) {
  Image out;
  Reader reader{&png};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(ReadFromString, &reader);
  EXPECT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    out.width = cairo_image_surface_get_width(s);
    out.height = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    for (int y = 0; y < out.height; ++y) {
      const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<size_t>(y) * stride);
      for (int x = 0; x < out.width; ++x) out.rgb.push_back(row[x] & 0xFFFFFF);
    }
  }
  cairo_surface_destroy(s);
  return out;
}

bool Near(uint32_t pixel, uint8_t r, uint8_t g, uint8_t b, int tolerance = 40) {
  return std::abs(static_cast<int>(pixel >> 16 & 255) - r) <= tolerance &&
         std::abs(static_cast<int>(pixel >> 8 & 255) - g) <= tolerance &&
         std::abs(static_cast<int>(pixel & 255) - b) <= tolerance;
}

// Pixels in [x0, x1) x [y0, y1) (fractions of the image) that pass `test`.
template <typename Test>
int Count(const Image& im, double x0, double x1, double y0, double y1, Test test) {
  int n = 0;
  for (int y = static_cast<int>(y0 * im.height); y < static_cast<int>(y1 * im.height); ++y) {
    for (int x = static_cast<int>(x0 * im.width); x < static_cast<int>(x1 * im.width); ++x) {
      n += test(im.at(x, y));
    }
  }
  return n;
}

bool Dark(uint32_t p) { return Near(p, 0, 0, 0, 110); }

TEST(NiceTicks, StepsAreOneTwoOrFiveTimesAPowerOfTenAndCoverTheRange) {
  EXPECT_EQ(NiceTicks(0, 10, 6), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(NiceTicks(1.3, 3.7, 6), (std::vector<double>{1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0}));
  const std::vector<double> steps = NiceTicks(10, 2000, 8);
  EXPECT_EQ(steps.front(), 0);
  EXPECT_EQ(steps.back(), 2000);
  EXPECT_EQ(steps[1] - steps[0], 200);
  const std::vector<double> small = NiceTicks(0.0123, 0.0161, 5);
  ASSERT_EQ(small.size(), 6u);
  for (size_t i = 0; i < small.size(); ++i) EXPECT_NEAR(small[i], 0.012 + 0.001 * i, 1e-12);
  // A flat series still gets a frame around its value.
  const std::vector<double> flat = NiceTicks(2.5, 2.5, 6);
  EXPECT_LT(flat.front(), 2.5);
  EXPECT_GT(flat.back(), 2.5);
  EXPECT_GE(flat.size(), 3u);
}

TEST(LossPlot, FindsTheDejaVuFont) {
  // fonts-dejavu-core is in scripts/deps/debian-packages.txt; without it text falls back to
  // fontconfig's default face.
  EXPECT_NE(PlotFontFile().find("DejaVuSans.ttf"), std::string::npos) << PlotFontFile();
}

TEST(LossPlot, PngHasCurvesLegendTextAndTheRequestedSize) {
  // Both curves fall, so the top-right corner (the legend's place) has no curve in it.
  PlotSeries train{"train", 200, 0, 0, {}};
  PlotSeries valid{"valid", 0, 0, 200, {{0, 2.5}, {5, 1.8}, {10, 1.2}}};
  for (int i = 0; i <= 100; ++i) train.points.push_back({i / 10.0, 3.0 - 0.2 * i / 10.0});
  PlotOptions options;
  options.width = 800;
  options.height = 500;
  options.title = "Loss";
  absl::StatusOr<std::string> png =
      PlotLossCurvesPng({train, valid, {"empty", 0, 200, 0, {}}}, options);
  ASSERT_TRUE(png.ok()) << png.status();
  const Image im = Decode(*png);
  ASSERT_EQ(im.width, 800);
  ASSERT_EQ(im.height, 500);
  auto red = [](uint32_t p) { return Near(p, 200, 0, 0); };
  auto blue = [](uint32_t p) { return Near(p, 0, 0, 200); };
  auto green = [](uint32_t p) { return Near(p, 0, 200, 0); };
  // Curves in the lower half of the plot area (2 px wide lines across hundreds of pixels).
  EXPECT_GT(Count(im, 0.1, 1, 0.3, 1, red), 400);
  EXPECT_GT(Count(im, 0.1, 1, 0.3, 1, blue), 400);
  // Legend swatches, and the legend's names, in the top-right corner.
  EXPECT_GT(Count(im, 0.6, 1, 0.05, 0.3, red), 20);
  EXPECT_GT(Count(im, 0.6, 1, 0.05, 0.3, blue), 20);
  EXPECT_GT(Count(im, 0.6, 1, 0.05, 0.3, Dark), 30);
  // A series without points is left out.
  EXPECT_EQ(Count(im, 0, 1, 0, 1, green), 0);
  // Title above the frame, tick values left of it and below it.
  EXPECT_GT(Count(im, 0.3, 0.7, 0, 0.05, Dark), 30);
  EXPECT_GT(Count(im, 0.02, 0.09, 0.1, 0.85, Dark), 100);
  EXPECT_GT(Count(im, 0.1, 1, 0.88, 0.94, Dark), 100);
  // The background stays white.
  EXPECT_EQ(im.at(2, 2), 0xFFFFFFu);
}

TEST(LossPlot, GapsEmptyInputAndBadSizes) {
  const double nan = std::nan("");
  PlotSeries gappy{"gappy", 0, 120, 0, {{0, 1}, {1, nan}, {2, 2}, {3, 3}}};
  absl::StatusOr<std::string> png = PlotLossCurvesPng({gappy});
  ASSERT_TRUE(png.ok()) << png.status();
  const Image im = Decode(*png);
  EXPECT_EQ(im.width, PlotOptions().width);
  EXPECT_GT(Count(im, 0, 1, 0, 1, [](uint32_t p) { return Near(p, 0, 120, 0, 20); }), 50);

  absl::StatusOr<std::string> empty = PlotLossCurvesPng({});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(Decode(*empty).height, PlotOptions().height);

  PlotOptions tiny;
  tiny.width = 10;
  EXPECT_FALSE(PlotLossCurvesPng({gappy}, tiny).ok());
}

TEST(LossPlot, WritesTheFile) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/loss_curve.png";
  ASSERT_TRUE(WriteLossCurvesPng(path, {{"a", 0, 0, 0, {{0, 1}, {1, 0.5}}}}).ok());
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(Decode(*bytes).width, PlotOptions().width);
}

}  // namespace
}  // namespace zett
