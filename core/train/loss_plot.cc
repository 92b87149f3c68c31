#include "core/train/loss_plot.h"

#include <cairo/cairo.h>
#include <fontconfig/fontconfig.h>
#include <link.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/io/json_file.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

constexpr char kFamily[] = "DejaVu Sans";

// The path of the libcairo.so this process loaded (full when found through the library path).
int FindCairo(dl_phdr_info* info, size_t /*size*/, void* out) {
  const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (name.find("/libcairo.so") == std::string::npos) return 0;
  *static_cast<std::string*>(out) = name;
  return 1;
}

// DejaVu Sans from the prefix that holds libcairo (<prefix>/lib/<triplet>/libcairo.so.2 next to
// <prefix>/share/fonts), else from /usr. A GPU host has fonts only in its unpacked prefix.
std::string FindFontDir() {
  std::vector<fs::path> dirs;
  std::string cairo;
  dl_iterate_phdr(FindCairo, &cairo);
  if (!cairo.empty()) {
    const fs::path lib = fs::path(cairo).parent_path();
    dirs.push_back(lib / "../../share/fonts/truetype/dejavu");
    dirs.push_back(lib / "../share/fonts/truetype/dejavu");
  }
  dirs.push_back("/usr/share/fonts/truetype/dejavu");
  std::error_code error;
  for (const auto& dir : dirs) {
    if (fs::exists(dir / "DejaVuSans.ttf", error)) return fs::weakly_canonical(dir, error).string();
  }
  return "";
}

// Once per process: when the DejaVu files are found, fontconfig gets a configuration holding
// only them, so that text looks the same everywhere and no system fonts.conf is needed.
const std::string& FontFile() {
  static const std::string* file = [] {
    const std::string dir = FindFontDir();
    if (dir.empty()) return new std::string();
    FcConfig* config = FcConfigCreate();
    const std::string regular = dir + "/DejaVuSans.ttf", bold = dir + "/DejaVuSans-Bold.ttf";
    bool ok = FcConfigAppFontAddFile(config, reinterpret_cast<const FcChar8*>(regular.c_str()));
    std::error_code error;
    if (fs::exists(bold, error)) {
      FcConfigAppFontAddFile(config, reinterpret_cast<const FcChar8*>(bold.c_str()));
    }
    ok = ok && FcConfigSetCurrent(config);
    return new std::string(ok ? regular : "");
  }();
  return *file;
}

struct CairoDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// Enough decimals to tell ticks `step` apart, and no "-0".
std::string TickLabel(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  if (std::fabs(value) < step * 1e-6) value = 0;
  return absl::StrFormat("%.*f", decimals, value);
}

struct Text {
  double width = 0, height = 0;  // ink extents
};

Text Measure(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return {e.width, e.height};
}

// Draws `s` with its logical box placed by the anchors: ax, ay in {0, 0.5, 1} of its width and
// of the font's cap height, measured from (x, y).
void DrawText(cairo_t* cr, const std::string& s, double x, double y, double ax, double ay) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_font_extents_t f;
  cairo_font_extents(cr, &f);
  const double cap = f.ascent * 0.75;
  cairo_move_to(cr, x - ax * e.x_advance, y + (1 - ay) * cap);
  cairo_show_text(cr, s.c_str());
}

void SetFont(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, kFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

void SetColor(cairo_t* cr, const PlotSeries& s) {
  cairo_set_source_rgb(cr, s.r / 255.0, s.g / 255.0, s.b / 255.0);
}

// Lines through finite points (a non-finite y breaks the line) and, where points are few or a
// point has no finite neighbour, a dot on each.
template <typename Px, typename Py>
void DrawSeries(cairo_t* cr, const PlotSeries& s, double scale, const Px& px, const Py& py) {
  SetColor(cr, s);
  cairo_set_line_width(cr, 2 * scale);
  size_t finite = 0;
  bool open = false;
  for (const auto& [x, y] : s.points) {
    if (!std::isfinite(x) || !std::isfinite(y)) {
      open = false;
      continue;
    }
    ++finite;
    if (open) {
      cairo_line_to(cr, px(x), py(y));
    } else {
      cairo_move_to(cr, px(x), py(y));
    }
    open = true;
  }
  cairo_stroke(cr);
  auto is_finite = [&](size_t i) {
    return i < s.points.size() && std::isfinite(s.points[i].first) &&
           std::isfinite(s.points[i].second);
  };
  for (size_t i = 0; i < s.points.size(); ++i) {
    if (!is_finite(i)) continue;
    const bool alone = !(i > 0 && is_finite(i - 1)) && !is_finite(i + 1);
    if (finite > 50 && !alone) continue;
    cairo_new_sub_path(cr);
    cairo_arc(cr, px(s.points[i].first), py(s.points[i].second), 3 * scale, 0, 2 * M_PI);
    cairo_fill(cr);
  }
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.05;
    lo -= pad, hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target - 1);
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double i = first; i <= last && ticks.size() < 1000; ++i) ticks.push_back(i * step);
  return ticks;
}

std::string PlotFontFile() { return FontFile(); }

absl::StatusOr<std::string> PlotLossCurvesPng(const std::vector<PlotSeries>& series,
                                              const PlotOptions& o) {
  if (o.width < 64 || o.height < 64 || o.width > 16384 || o.height > 16384) {
    return absl::InvalidArgumentError(
        absl::StrFormat("loss plot: %dx%d pixels is outside 64..16384", o.width, o.height));
  }
  FontFile();
  std::unique_ptr<cairo_surface_t, CairoDeleter> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, o.width, o.height));
  std::unique_ptr<cairo_t, CairoDeleter> context(cairo_create(surface.get()));
  cairo_t* cr = context.get();
  const double scale = std::clamp(std::min(o.width / 960.0, o.height / 600.0), 0.5, 3.0);
  const double pad = 12 * scale, tick = 5 * scale;
  const double title_size = 18 * scale, label_size = 14 * scale, tick_size = 12 * scale;

  // Data ranges over finite points; the frame is widened to whole tick steps.
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  std::vector<const PlotSeries*> shown;
  for (const auto& s : series) {
    bool any = false;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x_min = std::min(x_min, x), x_max = std::max(x_max, x);
      y_min = std::min(y_min, y), y_max = std::max(y_max, y);
      any = true;
    }
    if (any) shown.push_back(&s);
  }
  if (shown.empty()) x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  const std::vector<double> x_ticks = NiceTicks(x_min, x_max, 8);
  const std::vector<double> y_ticks = NiceTicks(y_min, y_max, 6);
  const double x_step = x_ticks[1] - x_ticks[0], y_step = y_ticks[1] - y_ticks[0];
  const double x0 = x_ticks.front(), x1 = x_ticks.back();
  const double y0 = y_ticks.front(), y1 = y_ticks.back();

  // Margins from the text they hold.
  SetFont(cr, tick_size, false);
  double y_tick_width = 0;
  for (double v : y_ticks)
    y_tick_width = std::max(y_tick_width, Measure(cr, TickLabel(v, y_step)).width);
  const double tick_height = Measure(cr, "0123456789").height;
  SetFont(cr, label_size, false);
  const double label_height = Measure(cr, "Ag").height;
  SetFont(cr, title_size, true);
  const double title_height = Measure(cr, "Ag").height;
  const double left = pad + label_height + pad + y_tick_width + pad / 2 + tick;
  const double right = o.width - 2 * pad;
  const double top = pad + (o.title.empty() ? 0 : title_height + pad);
  const double bottom = o.height - (pad + label_height + pad + tick_height + pad / 2 + tick);
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
  auto py = [&](double y) { return bottom - (y - y0) / (y1 - y0) * (bottom - top); };

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);

  // Grid and frame, on half pixels so that 1-pixel lines stay sharp.
  auto crisp = [](double v) { return std::floor(v) + 0.5; };
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
  for (double v : x_ticks) {
    cairo_move_to(cr, crisp(px(v)), top);
    cairo_line_to(cr, crisp(px(v)), bottom);
  }
  for (double v : y_ticks) {
    cairo_move_to(cr, left, crisp(py(v)));
    cairo_line_to(cr, right, crisp(py(v)));
  }
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, crisp(left), crisp(top), std::round(right - left), std::round(bottom - top));
  for (double v : x_ticks) {
    cairo_move_to(cr, crisp(px(v)), crisp(bottom));
    cairo_line_to(cr, crisp(px(v)), crisp(bottom) + tick);
  }
  for (double v : y_ticks) {
    cairo_move_to(cr, crisp(left), crisp(py(v)));
    cairo_line_to(cr, crisp(left) - tick, crisp(py(v)));
  }
  cairo_stroke(cr);

  // Tick values, axis labels, title.
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  SetFont(cr, tick_size, false);
  for (double v : x_ticks)
    DrawText(cr, TickLabel(v, x_step), px(v), bottom + tick + pad / 2, 0.5, 0);
  for (double v : y_ticks) DrawText(cr, TickLabel(v, y_step), left - tick - pad / 2, py(v), 1, 0.5);
  SetFont(cr, label_size, false);
  DrawText(cr, o.x_label, (left + right) / 2, o.height - pad - label_height, 0.5, 0);
  cairo_save(cr);
  cairo_translate(cr, pad, (top + bottom) / 2);
  cairo_rotate(cr, -M_PI / 2);
  DrawText(cr, o.y_label, 0, 0, 0.5, 0);
  cairo_restore(cr);
  if (!o.title.empty()) {
    SetFont(cr, title_size, true);
    DrawText(cr, o.title, o.width / 2.0, pad, 0.5, 0);
  }

  // Curves, clipped to the frame.
  cairo_save(cr);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (const PlotSeries* s : shown) DrawSeries(cr, *s, scale, px, py);
  cairo_restore(cr);

  // Legend in the top-right corner, where falling loss curves rarely are.
  SetFont(cr, label_size, false);
  if (shown.empty()) {
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    DrawText(cr, "no data", (left + right) / 2, (top + bottom) / 2, 0.5, 0.5);
  } else {
    double name_width = 0;
    for (const PlotSeries* s : shown) name_width = std::max(name_width, Measure(cr, s->name).width);
    const double row = label_height * 1.6, swatch = 28 * scale;
    const double box_w = pad + swatch + pad / 2 + name_width + pad;
    const double box_h = pad / 2 + row * shown.size() + pad / 2;
    const double bx = right - pad - box_w, by = top + pad;
    cairo_rectangle(cr, crisp(bx), crisp(by), std::round(box_w), std::round(box_h));
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (size_t i = 0; i < shown.size(); ++i) {
      const double cy = by + pad / 2 + row * (i + 0.5);
      SetColor(cr, *shown[i]);
      cairo_set_line_width(cr, 2 * scale);
      cairo_move_to(cr, bx + pad, cy);
      cairo_line_to(cr, bx + pad + swatch, cy);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      DrawText(cr, shown[i]->name, bx + pad + swatch + pad / 2, cy, 0, 0.5);
    }
  }

  cairo_surface_flush(surface.get());
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("loss plot: cairo: ", cairo_status_to_string(cairo_status(cr))));
  }
  std::string png;
  const cairo_status_t written =
      cairo_surface_write_to_png_stream(surface.get(), AppendToString, &png);
  if (written != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("loss plot: writing PNG: ", cairo_status_to_string(written)));
  }
  return png;
}

absl::Status WriteLossCurvesPng(const std::string& path, const std::vector<PlotSeries>& series,
                                const PlotOptions& options) {
  absl::StatusOr<std::string> png = PlotLossCurvesPng(series, options);
  if (!png.ok()) return png.status();
  return WriteStringToFile(path, *png);
}

}  // namespace zett
