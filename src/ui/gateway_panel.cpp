#include "render.hpp"

#include <algorithm>

namespace evnet::ui {

namespace {

constexpr std::string_view help = "q:quit (the charge points are driven by their hardware and CENTRAL)";
constexpr std::string_view short_help = "q:quit";

} // namespace

void draw_gateway(terminal& t, const gateway_model& m, const std::string& title, std::int64_t now_ms) {
  const int rows = t.rows();
  const int cols = t.cols();
  t.begin_frame();
  draw_title(t, title.empty() ? std::string("EV_OCPP") : title,
             m.listen().empty() ? std::string{} : "OCPP 1.6-J on :" + m.listen() + "  CENTRAL " + m.central());
  int y = 2;
  if (m.charge_points().empty()) {
    t.put(y++, 1, "no charge point has connected yet", cols - 1, paint::dim);
  }
  const int list_bottom = std::max(y + 1, rows - 1 - std::clamp(rows / 3, 3, 12));
  for (const auto& [id, c] : m.charge_points()) {
    if (y >= list_bottom - 1) {
      break;
    }
    std::string line = " " + id + "  " + (!c.connected ? "offline  " : c.rejected ? "rejected " : "connected") + "  " +
                       std::string(c.state ? status_label(c.state) : "-");
    if (!c.driver.empty()) {
      line += "  driver " + c.driver + "  " + kwh_text(c.kwh) + "  " + eur_text(c.amount);
    }
    if (!c.last_message.empty()) {
      line += "  | last: " + c.last_message + " (" + format_elapsed(std::max<std::int64_t>(0, now_ms - c.last_ts) / 1000) +
              " ago)";
    }
    t.put(y++, 0, line, cols, c.connected && !c.rejected ? tile_paint(c.state) : paint::dim, style::pad);
  }
  t.put(list_bottom - 1, 0, std::string(static_cast<std::size_t>(std::max(cols, 0)), '-'), cols, paint::dim);
  draw_messages(t, m.messages(), list_bottom, 0, rows - 1 - list_bottom, cols);
  draw_footer(t, rows - 1, form{}, m.question(), help, short_help);
  t.end_frame();
}

} // namespace evnet::ui
