#include "render.hpp"

#include <algorithm>
#include <array>

namespace evnet::ui {

paint tile_paint(shown_state s) {
  if (!s) {
    return paint::tile_unknown;
  }
  switch (*s) {
    case cp_state::active:
      return paint::tile_active;
    case cp_state::busy:
      return paint::tile_busy;
    case cp_state::broken:
      return paint::tile_broken;
    case cp_state::out_of_order:
      return paint::tile_out_of_order;
    case cp_state::disconnected:
      return paint::tile_disconnected;
  }
  return paint::tile_unknown;
}

paint text_paint(shown_state s) {
  if (!s) {
    return paint::normal;
  }
  switch (*s) {
    case cp_state::active:
      return paint::text_active;
    case cp_state::busy:
      return paint::text_busy;
    case cp_state::broken:
      return paint::text_broken;
    case cp_state::out_of_order:
      return paint::text_out_of_order;
    case cp_state::disconnected:
      return paint::text_disconnected;
  }
  return paint::normal;
}

paint tone_paint(message_log::tone k) {
  switch (k) {
    case message_log::tone::good:
      return paint::good;
    case message_log::tone::bad:
      return paint::bad;
    case message_log::tone::info:
      break;
  }
  return paint::normal;
}

void draw_messages(terminal& t, const message_log& log, int y, int x, int height, int width) {
  if (height <= 0 || width <= 0) {
    return;
  }
  const auto& lines = log.lines();
  auto shown = std::min<std::size_t>(lines.size(), static_cast<std::size_t>(height));
  std::size_t first = lines.size() - shown;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& line = lines[first + i];
    int row = y + static_cast<int>(i);
    // Narrow panes drop the seconds to leave room for the text.
    std::string stamp = format_clock(line.ts).substr(0, width < 50 ? 5 : 8) + " ";
    t.put(row, x, stamp, width, paint::dim);
    int w = static_cast<int>(display_width(stamp));
    t.put(row, x + w, line.text, width - w, tone_paint(line.kind));
  }
}

void draw_footer(terminal& t, int y, const form& f, const std::string& question, std::string_view help,
                 std::string_view short_help) {
  int w = t.cols();
  if (f.active()) {
    std::string label = f.current().label + ": ";
    std::string hint = "  [ENTER ok, ESC cancel]";
    if (f.size() > 1) {
      hint = "  [" + std::to_string(f.index() + 1) + "/" + std::to_string(f.size()) + ", ENTER next, ESC cancel]";
    }
    t.put(y, 0, label, w, paint::warn, style::bold);
    int x = static_cast<int>(display_width(label));
    const std::string& text = f.current().text;
    t.put(y, x, text, w - x, paint::normal, f.current().pristine ? style::reverse : style::plain);
    int cursor = x + static_cast<int>(display_width(text));
    t.put(y, cursor + 1, hint, w - cursor - 1, paint::dim);
    t.place_cursor(y, std::min(cursor, w - 1));
    return;
  }
  if (!question.empty()) {
    t.put(y, 0, question, w, paint::warn, style::bold);
    t.place_cursor(y, std::min(static_cast<int>(display_width(question)) + 1, w - 1));
    return;
  }
  if (!short_help.empty() && static_cast<int>(display_width(help)) > w) {
    help = short_help;
  }
  t.put(y, 0, help, w, paint::dim);
}

void draw_title(terminal& t, std::string_view left, std::string_view right) {
  int w = t.cols();
  t.fill(0, 0, 1, w, paint::title);
  t.put(0, 1, left, w - 1, paint::title, style::bold);
  int rw = static_cast<int>(display_width(right));
  int lw = static_cast<int>(display_width(left));
  if (rw + lw + 4 <= w) {
    t.put(0, w - rw - 1, right, rw, paint::title);
  }
}

int draw_legend(terminal& t, int y, int x) {
  static constexpr std::array<cp_state, 5> order = {cp_state::active, cp_state::busy, cp_state::broken,
                                                     cp_state::out_of_order, cp_state::disconnected};
  int w = t.cols();
  for (cp_state s : order) {
    std::string label = " " + std::string(status_label(s)) + " ";
    int lw = static_cast<int>(display_width(label));
    if (x + lw > w) {
      break;
    }
    t.put(y, x, label, lw, tile_paint(s));
    x += lw + 1;
  }
  return x;
}

std::string kwh_text(double kwh) {
  return format_fixed(kwh, 3) + " kWh";
}

std::string eur_text(double amount) {
  return format_fixed(amount, 2) + " EUR";
}

} // namespace evnet::ui
