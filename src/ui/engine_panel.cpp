#include "render.hpp"

#include <algorithm>

namespace evnet::ui {

namespace {

constexpr std::string_view help = "ENTER:toggle fault  p:plug in  u:unplug  q:quit";
constexpr std::string_view short_help = "ENTER:fault p:plug u:unplug q:quit";

std::string state_line(const engine_model& m) {
  std::string line = (m.cp().empty() ? std::string("(no CP yet)") : m.cp()) + "  " +
                     std::string(m.state() ? status_label(m.state()) : "waiting");
  const auto& c = m.current();
  if (!c) {
    return line + "  |  no charge";
  }
  // Live figures first: the charge id is long and the pane may be narrow.
  line += "  |  driver " + c->driver;
  if (c->plugged) {
    line += "  " + kwh_text(c->kwh) + "  " + eur_text(c->amount);
  } else {
    line += "  authorised, press p to plug in";
  }
  return line + "  (" + c->charge_id + ")";
}

} // namespace

void draw_engine(terminal& t, const engine_model& m, const std::string& title, std::int64_t now_ms) {
  const int rows = t.rows();
  const int cols = t.cols();
  t.begin_frame();

  draw_title(t, (title.empty() ? std::string("EV_CP_E") : title) + "  " + m.cp(),
             m.listen().empty() ? std::string{} : "listening " + m.listen());
  // The status line carries the state's colour, as Central's tile does.
  t.put(1, 0, " " + state_line(m), cols, tile_paint(m.state()), style::bold | style::pad);
  t.put(2, 1, m.central_text(), cols - 1, m.central_connected() ? paint::good : paint::bad);
  if (!m.location().empty()) {
    t.put(3, 1, m.location() + "   " + format_fixed(m.price(), 2) + " EUR/kWh", cols - 1);
  }
  int y = 5;
  if (m.faulted()) {
    t.put(y++, 1, "FAULT (ENTER repairs)", cols - 1, paint::bad, style::bold);
  }
  if (m.stopped()) {
    t.put(y++, 1, "OUT OF ORDER (stopped by CENTRAL)", cols - 1, paint::text_out_of_order, style::bold);
  }
  if (const auto& c = m.current(); c && c->plugged) {
    std::string line = "supplying for " + format_elapsed((now_ms - c->plugged_at) / 1000);
    line += c->duration > 0 ? " of " + format_elapsed(c->duration) : " (until unplugged)";
    t.put(y++, 1, line, cols - 1, paint::text_busy);
  }
  if (const auto& tk = m.last_ticket(); tk) {
    t.put(y++, 1,
          "last charge: driver " + tk->driver + "  " + kwh_text(tk->kwh) + "  " + eur_text(tk->amount) +
              (tk->reason.empty() ? "" : "  " + tk->reason),
          cols - 1, paint::dim);
  }

  const int messages_top = std::max(y + 1, rows - 1 - std::clamp(rows / 3, 2, 12));
  t.put(messages_top - 1, 0, std::string(static_cast<std::size_t>(std::max(cols, 0)), '-'), cols, paint::dim);
  draw_messages(t, m.messages(), messages_top, 0, rows - 1 - messages_top, cols);
  draw_footer(t, rows - 1, form{}, m.question(), help, short_help);
  t.end_frame();
}

} // namespace evnet::ui
