#include "render.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace evnet::ui {

namespace {

// Narrow tiles fit three across 80 columns; wide screens get roomier ones
// so locations are not cut.
constexpr int min_tile_width = 24;
constexpr int roomy_tile_width = 30;
constexpr int tile_height = 5;
constexpr int tile_gap = 1;

constexpr std::string_view help =
    "arrows:move  s:STOP  r:RESUME  S/R:all  a:add CP  k:revoke  /:find  q:quit";
constexpr std::string_view short_help = "s:STOP r:RESUME S/R:all a:add q:quit";

void draw_tile(terminal& t, const cp_view& cp, bool selected, int y, int x, int w, int h) {
  paint p = tile_paint(cp.state);
  t.fill(y, x, h, w, p);
  const int inner = w - 2;
  std::string label(status_label(cp.state));
  // The selection is a reversed first line plus arrows, readable without colour.
  unsigned head = style::bold | style::pad | (selected ? style::reverse : style::plain);
  std::string id = (selected ? ">" : " ") + cp.id;
  t.put(y, x, id, w, p, head);
  int lw = static_cast<int>(display_width(label));
  if (static_cast<int>(display_width(id)) + lw + 2 <= w) {
    t.put(y, x + w - lw - 1, label, lw, p, head);
  }
  if (h > 1) {
    t.put(y + 1, x + 1, cp.location, inner, p);
  }
  if (h > 2) {
    t.put(y + 2, x + 1, format_fixed(cp.price, 2) + " EUR/kWh", inner, p);
  }
  std::string line3;
  std::string line4;
  switch (cp.state.value_or(cp_state::active)) {
    case cp_state::busy:
      line3 = "driver " + cp.driver;
      line4 = kwh_text(cp.kwh) + "  " + eur_text(cp.amount);
      break;
    case cp_state::out_of_order:
      line3 = "stopped by operator";
      break;
    case cp_state::broken:
      line3 = "engine KO";
      break;
    case cp_state::disconnected:
      line3 = "no monitor";
      break;
    case cp_state::active:  // also a state not heard yet: nothing to add
      break;
  }
  if (h > 3) {
    t.put(y + 3, x + 1, line3, inner, p, cp.state == cp_state::busy ? style::bold : style::plain);
  }
  if (h > 4) {
    t.put(y + 4, x + 1, line4, inner, p, style::bold);
  }
}

void draw_requests(terminal& t, const central_model& m, int y, int x, int h, int w) {
  const auto& rows = m.requests();
  t.put(y, x, "On-going driver requests (" + std::to_string(rows.size()) + ")", w, paint::heading);
  if (h < 2) {
    return;
  }
  t.put(y + 1, x, "Date       Start    Driver CP     Status", w, paint::dim);
  int room = h - 2;
  if (room <= 0) {
    return;
  }
  std::size_t shown = std::min<std::size_t>(rows.size(), static_cast<std::size_t>(room));
  bool overflow = rows.size() > shown;
  if (overflow) {
    // Keep the newest requests; the last line says how many are hidden.
    shown = static_cast<std::size_t>(std::max(room - 1, 0));
  }
  std::size_t first = rows.size() - shown;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& r = rows[first + i];
    std::string driver = r.driver.substr(0, 6);
    std::string cp = r.cp.substr(0, 6);
    std::string line = format_date(r.ts) + " " + format_clock(r.ts) + " " + driver +
                       std::string(7 - driver.size(), ' ') + cp + std::string(7 - cp.size(), ' ') +
                       (r.authorized ? "charging" : "waiting");
    t.put(y + 2 + static_cast<int>(i), x, line, w, r.authorized ? paint::text_busy : paint::normal);
  }
  if (overflow) {
    t.put(y + 2 + static_cast<int>(shown), x, "+" + std::to_string(rows.size() - shown) + " older", w, paint::dim);
  }
}

// The compact list: one line per CP. The state column reads shorter than
// on the tiles; its colour is the tile's.
std::string_view short_label(shown_state s) {
  if (!s) {
    return "?";
  }
  switch (*s) {
    case cp_state::active:
      return "Active";
    case cp_state::busy:
      return "Charging";
    case cp_state::broken:
      return "Broken";
    case cp_state::out_of_order:
      return "Stopped";
    case cp_state::disconnected:
      return "Offline";
  }
  return "?";
}

std::string padded(std::string_view text, std::size_t width) {
  std::string out = clip(text, width);
  out.append(width - display_width(out), ' ');
  return out;
}

// id, state, price, then the driver and kWh while charging, then the location.
void draw_list(terminal& t, central_model& m, int y, int x, int h, int w) {
  const std::size_t n = m.size();
  const int rows = std::max(h - 1, 0);
  const std::size_t first = m.list_first(static_cast<std::size_t>(rows));
  // The id column fits the longest id (up to 12 columns), after a column
  // for the selection mark.
  const std::size_t id_w = std::clamp<std::size_t>(m.id_width(), 2, 12);
  constexpr std::size_t state_w = 8;
  const int state_x = static_cast<int>(id_w) + 2;
  const int rest_x = state_x + static_cast<int>(state_w) + 1;
  std::string head = " " + padded("CP", id_w) + " " + padded("State", state_w) + " EUR  Driver kWh / Location";
  std::string where;
  if (n > 0) {
    const std::size_t last = std::min(n, first + static_cast<std::size_t>(rows));
    where = " " + std::to_string(first + 1) + "-" + std::to_string(last) + "/" + std::to_string(n);
  }
  const int ww = std::min(static_cast<int>(display_width(where)), w);
  t.put(y, x, head, w - ww, paint::dim);
  t.put(y, x + w - ww, where, ww, paint::dim);
  const std::size_t selected = m.selected_index();
  for (int row = 0; row < rows; ++row) {
    const std::size_t i = first + static_cast<std::size_t>(row);
    if (i >= n) {
      break;
    }
    const cp_view& cp = m.at(i);
    const bool on = i == selected;
    const int line = y + 1 + row;
    // The selected line reads reversed from end to end, readable without colour.
    const unsigned how = on ? style::reverse : style::plain;
    t.put(line, x, (on ? ">" : " ") + padded(cp.id, id_w), w, paint::normal, how | style::bold | style::pad);
    t.put(line, x + state_x, padded(short_label(cp.state), state_w), w - state_x, text_paint(cp.state),
          how | style::bold);
    std::string rest = format_fixed(cp.price, 2) + " ";
    if (cp.state == cp_state::busy) {
      rest += cp.driver + " " + kwh_text(cp.kwh) + "  ";
    }
    rest += cp.location;
    t.put(line, x + rest_x, rest, w - rest_x, paint::normal, how | (on ? style::pad : style::plain));
  }
}

// "CPs 5000" then each state with its count, on the state's colour.
void draw_summary(terminal& t, const central_model& m, int y) {
  static constexpr std::array<cp_state, 5> order = {cp_state::active, cp_state::busy, cp_state::broken,
                                                     cp_state::out_of_order, cp_state::disconnected};
  const int w = t.cols();
  std::string total = "CPs " + std::to_string(m.size()) + ":";
  t.put(y, 0, total, w, paint::heading);
  int x = static_cast<int>(display_width(total)) + 1;
  for (cp_state s : order) {
    std::string chip = " " + std::string(status_label(s)) + " " + std::to_string(m.count(s)) + " ";
    const int cw = static_cast<int>(display_width(chip));
    if (x + cw > w) {
      break;
    }
    t.put(y, x, chip, cw, tile_paint(s), m.count(s) > 0 ? style::bold : style::plain);
    x += cw + 1;
  }
  if (const std::size_t unknown = m.count(std::nullopt); unknown > 0) {
    t.put(y, x, " not heard " + std::to_string(unknown) + " ", w - x, paint::dim);
  }
}

} // namespace

void draw_central(terminal& t, central_model& m, const std::string& title, std::int64_t now_ms) {
  const int rows = t.rows();
  const int cols = t.cols();
  // Paced by the model: a key draws at once, events at most 5 times a
  // second, nothing new no frame (the screen keeps the last one).
  if (!m.frame_due(now_ms, rows, cols)) {
    return;
  }
  t.begin_frame();

  std::string status = m.central_ok() ? "CENTRAL system status OK" : "CENTRAL starting...";
  if (m.port() != 0) {
    status += "  port " + std::to_string(m.port());
  }
  status += "  " + std::to_string(m.size()) + " CPs";
  draw_title(t, title.empty() ? "EV_Central - operator console" : title, status);

  // Layout, top to bottom: title, summary, tiles|list, requests|messages,
  // footer. The list takes the right of the tiles when the screen is wide
  // enough to keep two tiles a row beside it.
  const int tiles_top = 2;
  const int list_w = cols >= 140 ? 64 : cols >= 100 ? 44 : cols >= 74 ? 30 : 0;
  const int tiles_w = list_w > 0 ? cols - list_w - tile_gap : cols;
  const int tile_min = tiles_w >= 100 ? roomy_tile_width : min_tile_width;
  const int per_row = std::max(1, (tiles_w + tile_gap) / (tile_min + tile_gap));
  const int tile_w = std::max(1, (tiles_w - (per_row - 1) * tile_gap) / per_row);
  // A third of the screen at least for requests and messages; whatever the
  // rows of tiles leave over goes to them too.
  const int bottom_min = std::clamp((rows - 3) / 3, 4, 14);
  const int tiles_room = std::max(rows - 3 - bottom_min, 1);
  const int tile_h = std::min(tile_height, tiles_room);
  // Every row of tiles owns the gap below it, which leaves the pager a line.
  const int tile_rows = std::max(1, tiles_room / (tile_h + tile_gap));
  const int tiles_height = std::min(tile_rows * (tile_h + tile_gap), tiles_room);
  const int bottom = std::max(rows - 3 - tiles_height, 1);
  const auto page_size = static_cast<std::size_t>(per_row * tile_rows);
  m.set_layout(static_cast<std::size_t>(per_row), page_size);

  const std::size_t n = m.size();
  const std::size_t pages = std::max<std::size_t>(1, (n + page_size - 1) / page_size);
  const std::size_t first = m.page_first();

  draw_summary(t, m, 1);
  if (n == 0) {
    t.put(tiles_top + 1, 2, "No charging points registered yet (press a to add one).", tiles_w - 2, paint::dim);
  }
  const std::string& selected = m.selected_id();
  for (std::size_t i = 0; i < page_size && first + i < n; ++i) {
    const cp_view& cp = m.at(first + i);
    int r = static_cast<int>(i) / per_row;
    int c = static_cast<int>(i) % per_row;
    draw_tile(t, cp, cp.id == selected, tiles_top + r * (tile_h + tile_gap), c * (tile_w + tile_gap), tile_w,
              tile_h);
  }

  if (pages > 1) {
    // Under the last row of tiles (drawn after them: on a tiny screen it
    // takes the last tile line rather than vanish under it).
    std::string pager = "page " + std::to_string(first / page_size + 1) + "/" + std::to_string(pages) +
                        "  PgUp/PgDn: more CPs";
    int pw = static_cast<int>(display_width(pager));
    int py = tiles_top + tiles_height - 1;
    t.put(py, std::max(tiles_w - pw, 0), pager, std::min(pw, tiles_w), paint::warn, style::bold);
  }
  if (list_w > 0) {
    draw_list(t, m, tiles_top, cols - list_w, tiles_height, list_w);
  }

  const int panes_top = rows - 1 - bottom;
  // The requests table needs 42 columns; messages get the rest.
  const int left_w = cols >= 100 ? 50 : std::min(43, cols / 2 + 3);
  draw_requests(t, m, panes_top, 0, bottom, left_w - 1);
  t.put(panes_top, left_w, "Application messages", cols - left_w, paint::heading);
  draw_messages(t, m.messages(), panes_top + 1, left_w, bottom - 1, cols - left_w);

  draw_footer(t, rows - 1, m.prompt(), m.question(), help, short_help);
  t.end_frame();
  m.frame_drawn(now_ms, rows, cols);
}

} // namespace evnet::ui
