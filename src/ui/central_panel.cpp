#include "render.hpp"

#include <algorithm>
#include <iterator>

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

} // namespace

void draw_central(terminal& t, central_model& m, const std::string& title, std::int64_t now_ms) {
  (void)now_ms;
  const int rows = t.rows();
  const int cols = t.cols();
  t.begin_frame();

  std::string status = m.central_ok() ? "CENTRAL system status OK" : "CENTRAL starting...";
  if (m.port() != 0) {
    status += "  port " + std::to_string(m.port());
  }
  status += "  " + std::to_string(m.cps().size()) + " CPs";
  draw_title(t, title.empty() ? "EV_Central - operator console" : title, status);

  // Layout, top to bottom: title, legend, tiles, requests|messages, footer.
  const int tiles_top = 2;
  const int tile_min = cols >= 100 ? roomy_tile_width : min_tile_width;
  const int per_row = std::max(1, (cols + tile_gap) / (tile_min + tile_gap));
  const int tile_w = std::max(1, (cols - (per_row - 1) * tile_gap) / per_row);
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

  const auto& cps = m.cps();
  const std::size_t pages = std::max<std::size_t>(1, (cps.size() + page_size - 1) / page_size);
  const std::size_t page = m.selected_index() / page_size;

  t.put(1, 0, "Legend:", cols, paint::dim);
  draw_legend(t, 1, 8);
  if (cps.empty()) {
    t.put(tiles_top + 1, 2, "No charging points registered yet (press a to add one).", cols - 2, paint::dim);
  }
  auto it = cps.begin();
  std::advance(it, static_cast<long>(std::min(cps.size(), page * page_size)));
  for (std::size_t i = 0; i < page_size && it != cps.end(); ++i, ++it) {
    int r = static_cast<int>(i) / per_row;
    int c = static_cast<int>(i) % per_row;
    draw_tile(t, it->second, it->first == m.selected_id(), tiles_top + r * (tile_h + tile_gap),
              c * (tile_w + tile_gap), tile_w, tile_h);
  }

  if (pages > 1) {
    // Under the last row of tiles (drawn after them: on a tiny screen it
    // takes the last tile line rather than vanish under it).
    std::string pager = "page " + std::to_string(page + 1) + "/" + std::to_string(pages) + "  PgUp/PgDn: more CPs";
    int pw = static_cast<int>(display_width(pager));
    int py = tiles_top + tiles_height - 1;
    t.put(py, std::max(cols - pw, 0), pager, pw, paint::warn, style::bold);
  }

  const int panes_top = rows - 1 - bottom;
  // The requests table needs 42 columns; messages get the rest.
  const int left_w = cols >= 100 ? 50 : std::min(43, cols / 2 + 3);
  draw_requests(t, m, panes_top, 0, bottom, left_w - 1);
  t.put(panes_top, left_w, "Application messages", cols - left_w, paint::heading);
  draw_messages(t, m.messages(), panes_top + 1, left_w, bottom - 1, cols - left_w);

  draw_footer(t, rows - 1, m.prompt(), m.question(), help, short_help);
  t.end_frame();
}

} // namespace evnet::ui
