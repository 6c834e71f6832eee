#include "render.hpp"

#include <algorithm>

namespace evnet::ui {

namespace {

constexpr std::string_view help = "c/ENTER:start a charge here  q:quit";
constexpr std::string_view short_help = "c:charge here  q:quit";

void draw_link(terminal& t, const monitor_model& m, int y, int w) {
  if (!m.central_connected()) {
    t.put(y, 1, "CENTRAL  " + m.central_text(), w - 1, paint::bad, style::bold);
    return;
  }
  if (!m.authenticated()) {
    t.put(y, 1, "CENTRAL  connected, authenticating...", w - 1, paint::warn);
  } else if (*m.authenticated()) {
    t.put(y, 1, "CENTRAL  connected, authenticated", w - 1, paint::good);
  } else {
    t.put(y, 1, "CENTRAL  connected, authentication DENIED: " + m.auth_reason(), w - 1, paint::bad, style::bold);
  }
}

void draw_engine_health(terminal& t, const monitor_model& m, int y, int w) {
  if (!m.engine_ok()) {
    t.put(y, 1, "Engine   no health check yet (" + m.engine_endpoint() + ")", w - 1, paint::dim);
    return;
  }
  // OK events come with every answered check; KO ones only when it starts.
  std::string line = std::string("Engine   ") + (*m.engine_ok() ? "OK, last check " : "KO since ") +
                     format_clock(m.engine_checked_at());
  if (!m.engine_detail().empty()) {
    line += "  (" + m.engine_detail() + ")";
  }
  t.put(y, 1, line, w - 1, *m.engine_ok() ? paint::good : paint::bad, *m.engine_ok() ? style::plain : style::bold);
}

int draw_current(terminal& t, const monitor_model& m, int y, int w) {
  t.put(y++, 1, "Current charge", w - 1, paint::heading);
  const auto& c = m.current();
  if (!c) {
    t.put(y++, 3, "none", w - 3, paint::dim);
  } else {
    t.put(y++, 3, "driver " + c->driver + "   charge " + c->charge_id + (c->plugged ? "" : "   waiting for plug"),
          w - 3, paint::text_busy);
    t.put(y++, 3, kwh_text(c->kwh) + "   " + eur_text(c->amount), w - 3, paint::text_busy, style::bold);
    std::string elapsed = "elapsed " + format_elapsed(c->elapsed_s);
    elapsed += c->duration_s > 0 ? " of " + format_elapsed(c->duration_s) : " (until unplugged)";
    t.put(y++, 3, elapsed, w - 3);
  }
  if (!m.refusal().empty()) {
    t.put(y++, 3, "Charge refused: " + m.refusal(), w - 3, paint::bad, style::bold);
  }
  return y;
}

int draw_ticket(terminal& t, const monitor_model& m, int y, int w) {
  t.put(y++, 1, "Last ticket", w - 1, paint::heading);
  const auto& tk = m.last_ticket();
  if (!tk) {
    t.put(y++, 3, "none yet", w - 3, paint::dim);
    return y;
  }
  std::string line = "driver " + tk->driver + "  " + kwh_text(tk->kwh) + "  " + eur_text(tk->amount) + "  " +
                     format_clock(tk->start) + "-" + format_clock(tk->end);
  if (!tk->reason.empty()) {
    line += "  " + tk->reason;
  }
  t.put(y++, 3, line, w - 3);
  return y;
}

} // namespace

void draw_monitor(terminal& t, const monitor_model& m, const std::string& title, std::int64_t now_ms) {
  (void)now_ms;
  const int rows = t.rows();
  const int cols = t.cols();
  t.begin_frame();

  draw_title(t, (title.empty() ? std::string("EV_CP_M") : title) + "  " + m.cp(),
             m.central_connected() ? "CENTRAL connected" : "CENTRAL unreachable");
  std::string where = "CP " + m.cp();
  if (!m.location().empty()) {
    where += "   " + m.location() + "   " + format_fixed(m.price(), 2) + " EUR/kWh";
  }
  t.put(1, 1, where, cols - 1, paint::heading);
  draw_link(t, m, 2, cols);
  draw_engine_health(t, m, 3, cols);
  if (m.stopped()) {
    t.put(4, 1, "Status   OUT OF ORDER (stopped by CENTRAL)", cols - 1, paint::text_out_of_order, style::bold);
  }

  int y = draw_current(t, m, 6, cols);
  y = draw_ticket(t, m, y + 1, cols);

  const int messages_top = std::max(y + 1, rows - 1 - std::clamp(rows / 4, 2, 10));
  t.put(messages_top - 1, 0, std::string(static_cast<std::size_t>(std::max(cols, 0)), '-'), cols, paint::dim);
  draw_messages(t, m.messages(), messages_top, 0, rows - 1 - messages_top, cols);
  draw_footer(t, rows - 1, m.prompt(), m.question(), help, short_help);
  t.end_frame();
}

} // namespace evnet::ui
