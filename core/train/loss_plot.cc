#include "core/train/loss_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_format.h"
#include "core/io/json_file.h"

namespace zett {
namespace {

void AppendBigEndian(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 255));
}

void AppendChunk(std::string* out, const char type[4], const std::string& data) {
  AppendBigEndian(out, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out->append(body);
  AppendBigEndian(out, Crc32(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
}

// zlib stream of stored deflate blocks (RFC 1950/1951), at most 65535 bytes each.
std::string StoredZlib(const std::vector<uint8_t>& raw) {
  std::string out = {0x78, 0x01};
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    out.push_back(last ? 1 : 0);
    out.push_back(static_cast<char>(n & 255));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(~n & 255));
    out.push_back(static_cast<char>((~n >> 8) & 255));
    out.append(reinterpret_cast<const char*>(raw.data()) + pos, n);
    pos += n;
  } while (pos < raw.size());
  AppendBigEndian(&out, Adler32(raw.data(), raw.size()));
  return out;
}

struct Canvas {
  int width, height;
  std::vector<uint8_t> rgb;
  void Set(int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    p[0] = r;
    p[1] = g;
    p[2] = b;
  }
  void Line(int x0, int y0, int x1, int y1, uint8_t r, uint8_t g, uint8_t b) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    while (true) {
      Set(x0, y0, r, g, b);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
};

}  // namespace

uint32_t Crc32(const uint8_t* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kTable[(crc ^ data[i]) & 255] ^ (crc >> 8);
  return ~crc;
}

uint32_t Adler32(const uint8_t* data, size_t size) {
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < size; ++i) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

std::string EncodePng(const std::vector<uint8_t>& rgb, int width, int height,
                      const std::string& comment) {
  std::string out = "\x89PNG\r\n\x1a\n";
  std::string header;
  AppendBigEndian(&header, static_cast<uint32_t>(width));
  AppendBigEndian(&header, static_cast<uint32_t>(height));
  header += std::string{8, 2, 0, 0, 0};  // 8-bit, RGB, deflate, adaptive filter, no interlace
  AppendChunk(&out, "IHDR", header);
  if (!comment.empty()) AppendChunk(&out, "tEXt", std::string("Comment") + '\0' + comment);
  std::vector<uint8_t> raw;
  raw.reserve(static_cast<size_t>(height) * (1 + 3 * width));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    const auto* row = &rgb[static_cast<size_t>(y) * width * 3];
    raw.insert(raw.end(), row, row + 3 * width);
  }
  AppendChunk(&out, "IDAT", StoredZlib(raw));
  AppendChunk(&out, "IEND", "");
  return out;
}

std::string PlotLossCurvesPng(const std::vector<PlotSeries>& series, int width, int height) {
  Canvas c{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3, 255)};
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(y)) continue;
      x_min = std::min(x_min, x), x_max = std::max(x_max, x);
      y_min = std::min(y_min, y), y_max = std::max(y_max, y);
    }
  }
  if (!std::isfinite(x_min)) x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  if (x_max <= x_min) x_max = x_min + 1;
  if (y_max <= y_min) y_max = y_min + 1;
  const int left = 40, right = width - 10, top = 10, bottom = height - 30;
  // Axes and a light grid of quarter lines.
  for (int q = 0; q <= 4; ++q) {
    const int y = top + (bottom - top) * q / 4, x = left + (right - left) * q / 4;
    c.Line(left, y, right, y, 225, 225, 225);
    c.Line(x, top, x, bottom, 225, 225, 225);
  }
  c.Line(left, bottom, right, bottom, 0, 0, 0);
  c.Line(left, top, left, bottom, 0, 0, 0);
  auto px = [&](double x) {
    return left + static_cast<int>(std::lround((x - x_min) / (x_max - x_min) * (right - left)));
  };
  auto py = [&](double y) {
    return bottom - static_cast<int>(std::lround((y - y_min) / (y_max - y_min) * (bottom - top)));
  };
  std::string legend;
  for (const auto& s : series) {
    if (s.points.empty()) continue;
    absl::StrAppendFormat(&legend, "%s%s = rgb(%d,%d,%d)", legend.empty() ? "" : "; ", s.name, s.r,
                          s.g, s.b);
    for (size_t i = 0; i < s.points.size(); ++i) {
      const auto& [x, y] = s.points[i];
      if (!std::isfinite(y)) continue;
      const auto& [x0, y0] = i > 0 ? s.points[i - 1] : s.points[i];
      c.Line(px(std::isfinite(y0) ? x0 : x), py(std::isfinite(y0) ? y0 : y), px(x), py(y), s.r, s.g,
             s.b);
      // A 3x3 dot per point so single points show.
      for (int dx = -1; dx <= 1; ++dx) {
        for (int dy = -1; dy <= 1; ++dy) c.Set(px(x) + dx, py(y) + dy, s.r, s.g, s.b);
      }
    }
  }
  const std::string comment =
      absl::StrFormat("x (step) from %g to %g; y (loss) from %g to %g; gridlines at quarters; %s",
                      x_min, x_max, y_min, y_max, legend);
  return EncodePng(c.rgb, width, height, comment);
}

absl::Status WriteLossCurvesPng(const std::string& path, const std::vector<PlotSeries>& series) {
  return WriteStringToFile(path, PlotLossCurvesPng(series));
}

}  // namespace zett
