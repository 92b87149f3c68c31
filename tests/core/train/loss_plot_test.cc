#include "core/train/loss_plot.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace zett {
namespace {

uint32_t BigEndian(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

struct Decoded {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
  std::string comment;
};

// A reader for exactly what EncodePng writes: checks every chunk CRC, the zlib header, the
// stored blocks (LEN/NLEN) and the Adler-32, and undoes the per-row filter byte (0 = none).
Decoded Decode(const std::string& png) {
  Decoded out;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::string zlib;
  for (size_t at = 8; at < png.size();) {
    const uint32_t length = BigEndian(png, at);
    const std::string type = png.substr(at + 4, 4);
    const std::string data = png.substr(at + 8, length);
    const uint32_t crc = BigEndian(png, at + 8 + length);
    EXPECT_EQ(crc, Crc32(reinterpret_cast<const uint8_t*>(png.data() + at + 4), length + 4))
        << type;
    if (type == "IHDR") {
      out.width = BigEndian(data, 0);
      out.height = BigEndian(data, 4);
      EXPECT_EQ(data[8], 8);  // bit depth
      EXPECT_EQ(data[9], 2);  // RGB
    } else if (type == "IDAT") {
      zlib += data;
    } else if (type == "tEXt") {
      out.comment = data.substr(data.find('\0') + 1);
    }
    at += 12 + length;
  }
  EXPECT_EQ((static_cast<uint8_t>(zlib[0]) * 256 + static_cast<uint8_t>(zlib[1])) % 31, 0);
  std::vector<uint8_t> raw;
  size_t at = 2;
  bool last = false;
  while (!last) {
    last = zlib[at] & 1;
    EXPECT_EQ((zlib[at] >> 1) & 3, 0);  // stored
    const uint16_t len =
        static_cast<uint8_t>(zlib[at + 1]) | (static_cast<uint8_t>(zlib[at + 2]) << 8);
    const uint16_t nlen =
        static_cast<uint8_t>(zlib[at + 3]) | (static_cast<uint8_t>(zlib[at + 4]) << 8);
    EXPECT_EQ(static_cast<uint16_t>(~len), nlen);
    raw.insert(raw.end(), zlib.begin() + at + 5, zlib.begin() + at + 5 + len);
    at += 5 + len;
  }
  EXPECT_EQ(BigEndian(zlib, at), Adler32(raw.data(), raw.size()));
  for (uint32_t y = 0; y < out.height; ++y) {
    const size_t row = y * (1 + 3 * out.width);
    EXPECT_EQ(raw[row], 0);
    out.rgb.insert(out.rgb.end(), raw.begin() + row + 1, raw.begin() + row + 1 + 3 * out.width);
  }
  return out;
}

TEST(LossPlot, ChecksumsMatchTheirPublishedCheckValues) {
  // CRC-32/ISO-HDLC check value (RFC 1952 / the "123456789" catalogue entry).
  const char* digits = "123456789";
  EXPECT_EQ(Crc32(reinterpret_cast<const uint8_t*>(digits), 9), 0xCBF43926u);
  // Adler-32 of "Wikipedia", the worked example of RFC 1950's algorithm.
  const char* word = "Wikipedia";
  EXPECT_EQ(Adler32(reinterpret_cast<const uint8_t*>(word), 9), 0x11E60398u);
}

TEST(LossPlot, PngRoundTripsARasterLargerThanOneStoredBlock) {
  const int width = 200, height = 150;  // 90,150 raw bytes: two stored blocks
  std::vector<uint8_t> rgb(width * height * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 37) % 251);
  const Decoded d = Decode(EncodePng(rgb, width, height, "hello"));
  EXPECT_EQ(d.width, 200u);
  EXPECT_EQ(d.height, 150u);
  EXPECT_EQ(d.rgb, rgb);
  EXPECT_EQ(d.comment, "hello");
}

TEST(LossPlot, CurvesAreDrawnInTheirColoursWithRangesInTheComment) {
  PlotSeries up{"up", 200, 0, 0, {{0, 1.0}, {10, 3.0}}};
  PlotSeries down{"down", 0, 0, 200, {{0, 3.0}, {10, 1.0}}};
  const Decoded d = Decode(PlotLossCurvesPng({up, down}, 100, 80));
  int red = 0, blue = 0;
  for (size_t i = 0; i + 2 < d.rgb.size(); i += 3) {
    red += d.rgb[i] == 200 && d.rgb[i + 1] == 0 && d.rgb[i + 2] == 0;
    blue += d.rgb[i] == 0 && d.rgb[i + 1] == 0 && d.rgb[i + 2] == 200;
  }
  // Each diagonal spans the plot area (50 px wide here), so at least that many pixels.
  EXPECT_GT(red, 40);
  EXPECT_GT(blue, 40);
  EXPECT_NE(d.comment.find("from 0 to 10"), std::string::npos) << d.comment;
  EXPECT_NE(d.comment.find("from 1 to 3"), std::string::npos) << d.comment;
  EXPECT_NE(d.comment.find("up = rgb(200,0,0)"), std::string::npos) << d.comment;
}

}  // namespace
}  // namespace zett
