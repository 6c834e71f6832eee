#include "render.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace evnet::ui {

namespace {

constexpr std::string_view help =
    "1-4/TAB:page  arrows:select  c:request charge  f:run file  l:refresh  q:quit";
constexpr std::string_view short_help = "1-4:page c:charge f:file q:quit";

std::string pad_to(std::string s, std::size_t width) {
  std::size_t w = display_width(s);
  if (w < width) {
    s.append(width - w, ' ');
  }
  return s;
}

std::string duration_text(std::int64_t seconds) {
  return seconds > 0 ? std::to_string(seconds) + " s" : "default duration";
}

void draw_tabs(terminal& t, driver_model::page current) {
  static constexpr std::array<std::string_view, 4> names = {" 1 Charging points ", " 2 Charge ", " 3 File ",
                                                            " 4 Tickets "};
  int x = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    bool on = static_cast<std::size_t>(current) == i;
    int w = static_cast<int>(names[i].size());
    t.put(2, x, names[i], w, on ? paint::selected : paint::dim, on ? style::bold : style::plain);
    x += w + 1;
  }
}

void draw_cps(terminal& t, const driver_model& m, int y, int h, int w) {
  t.put(y, 0, " CP       State          Price        Location", w, paint::heading);
  const auto& cps = m.cps();
  if (cps.empty()) {
    t.put(y + 1, 1, "No charging points known yet (l refreshes the list).", w - 1, paint::dim);
    return;
  }
  int room = std::max(h - 1, 1);
  std::size_t sel = m.selected_index();
  // Scroll so that the selected row is always visible.
  std::size_t first = sel >= static_cast<std::size_t>(room) ? sel - static_cast<std::size_t>(room) + 1 : 0;
  auto it = std::next(cps.begin(), static_cast<long>(first));
  for (int row = 0; row < room && it != cps.end(); ++row, ++it) {
    const cp_view& cp = it->second;
    std::string line = " " + pad_to(cp.id, 9) + pad_to(std::string(status_label(cp.state)), 15) +
                       pad_to(format_fixed(cp.price, 2) + " EUR/kWh", 13) + cp.location;
    bool selected = it->first == m.selected_id();
    t.put(y + 1 + row, 0, line, w, text_paint(cp.state), selected ? (style::reverse | style::pad) : style::plain);
  }
}

// "[x] requested   [x] authorised   [ ] plugged in   [ ] finished" from (y, x).
void draw_steps(terminal& t, const driver_model::charge& c, int y, int x, int w) {
  struct step {
    std::string_view name;
    bool done;
  };
  std::array<step, 4> steps = {step{"requested", true}, step{"authorised", c.authorized},
                               step{"plugged in", c.plugged}, step{"finished", c.finished}};
  for (const auto& s : steps) {
    std::string text = std::string(s.done ? "[x] " : "[ ] ") + std::string(s.name);
    int tw = static_cast<int>(display_width(text));
    t.put(y, x, text, w - x, s.done ? paint::good : paint::dim, s.done ? style::bold : style::plain);
    x += tw + 3;
  }
}

void draw_file_summary(terminal& t, const driver_model::file_run& f, int y, int w, std::int64_t now_ms) {
  std::int64_t finished = 0;
  std::string running;
  for (const auto& [index, s] : f.services) {
    if (s.status == "done" || s.status == "failed") {
      ++finished;
    } else if (s.status == "running") {
      running = "service " + std::to_string(index) + "/" + std::to_string(f.total) + " at " + s.cp;
    }
  }
  std::string line = "File " + f.path + ": ";
  if (f.finished) {
    line += "finished, " + std::to_string(f.done) + " done, " + std::to_string(f.failed) + " failed";
  } else {
    line += std::to_string(finished) + "/" + std::to_string(f.total) + " finished";
    if (f.waiting_until > now_ms) {
      line += ", pause: next service in " + std::to_string((f.waiting_until - now_ms + 999) / 1000) + " s";
    } else if (!running.empty()) {
      line += ", running " + running;
    }
  }
  t.put(y, 1, line, w - 1, paint::warn);
}

void draw_charge(terminal& t, const driver_model& m, int y, int h, int w, std::int64_t now_ms) {
  const auto& c = m.current();
  if (!c) {
    t.put(y, 1, "No charge yet. Press c to request one at the selected CP.", w - 1, paint::dim);
    return;
  }
  // Short panes (several drivers tiled in one window) get a compact form:
  // no blank lines and the header on the steps' line.
  const bool roomy = h >= 9;
  const int bottom = y + h;
  int row = y;
  std::string head = "Charge at " + c->cp + "  (" + duration_text(c->duration) + ")";
  if (roomy) {
    if (!c->charge_id.empty()) {
      head += "  charge " + c->charge_id;
    }
    t.put(row++, 1, head, w - 1, paint::heading);
    draw_steps(t, *c, row++, 1, w);
    ++row;
  } else {
    head = c->cp + " ";
    t.put(row, 1, head, w - 1, paint::heading);
    draw_steps(t, *c, row++, 1 + static_cast<int>(display_width(head)), w);
  }
  if (c->plugged || c->finished || c->interrupted) {
    std::int64_t end = c->ended_at != 0 ? c->ended_at : now_ms;
    std::int64_t elapsed = c->plugged_at != 0 ? (end - c->plugged_at) / 1000 : 0;
    if (roomy) {
      t.put(row++, 3, "Energy   " + kwh_text(c->kwh), w - 3, paint::text_busy, style::bold);
      t.put(row++, 3, "Amount   " + eur_text(c->amount), w - 3, paint::text_busy, style::bold);
      t.put(row++, 3, "Elapsed  " + format_elapsed(elapsed), w - 3);
    } else {
      t.put(row++, 3,
            "Energy " + kwh_text(c->kwh) + "   Amount " + eur_text(c->amount) + "   " + format_elapsed(elapsed),
            w - 3, paint::text_busy, style::bold);
    }
  } else if (c->authorized) {
    t.put(row++, 3, c->duration > 0 ? "Authorised, starting..." : "Authorised: plug in at " + c->cp + " to start.",
          w - 3, paint::good);
  } else if (!c->denied) {
    t.put(row++, 3, "Waiting for CENTRAL to authorise...", w - 3, paint::dim);
  }
  if (roomy) {
    ++row;
  }
  if (c->denied && row < bottom) {
    t.put(row++, 1, "DENIED: " + c->reason, w - 1, paint::bad, style::bold);
  }
  if (c->interrupted && row < bottom) {
    t.put(row++, 1, "INTERRUPTED: " + c->reason, w - 1, paint::bad, style::bold);
  }
  if (c->finished && row < bottom) {
    std::string line = "Finished: ticket " + kwh_text(c->kwh) + ", " + eur_text(c->amount);
    if (!c->reason.empty() && !c->interrupted) {
      line += " (" + c->reason + ")";
    }
    t.put(row++, 1, line, w - 1, c->interrupted ? paint::normal : paint::good, style::bold);
  }
}

void draw_file(terminal& t, const driver_model& m, int y, int h, int w, std::int64_t now_ms) {
  const auto& f = m.file();
  if (!f) {
    t.put(y, 1, "No file run yet. Press f to run a file of services (config/requests.txt).", w - 1, paint::dim);
    return;
  }
  draw_file_summary(t, *f, y, w, now_ms);
  int row = y + 1;
  for (const auto& e : f->errors) {
    if (row >= y + h) {
      return;
    }
    t.put(row++, 3, "skipped " + e, w - 3, paint::bad);
  }
  int room = y + h - row;
  if (room <= 0) {
    return;
  }
  // The services around the one running, so long files still fit.
  std::vector<const driver_model::service*> list;
  for (const auto& [index, s] : f->services) {
    list.push_back(&s);
  }
  std::size_t start = 0;
  if (list.size() > static_cast<std::size_t>(room)) {
    start = list.size() - static_cast<std::size_t>(room);
  }
  for (std::size_t i = start; i < list.size(); ++i) {
    const auto* s = list[i];
    paint p = s->status == "done" ? paint::good : s->status == "failed" ? paint::bad : paint::text_busy;
    std::string line = "#" + std::to_string(s->index) + "  " + pad_to(s->cp, 9) + s->status;
    if (!s->reason.empty()) {
      line += ": " + s->reason;
    }
    t.put(row++, 3, line, w - 3, p,
          s->status == "running" ? style::bold : style::plain);
  }
}

void draw_tickets(terminal& t, const driver_model& m, int y, int h, int w) {
  t.put(y, 0, " Date       End      CP       kWh       EUR      Reason", w, paint::heading);
  const auto& list = m.tickets();
  if (list.empty()) {
    t.put(y + 1, 1, "No tickets yet.", w - 1, paint::dim);
    return;
  }
  int row = y + 1;
  for (const auto& tk : list) {
    if (row >= y + h) {
      break;
    }
    std::string line = " " + format_date(tk.end) + " " + format_clock(tk.end) + " " + pad_to(tk.cp, 9) +
                       pad_to(format_fixed(tk.kwh, 3), 10) + pad_to(format_fixed(tk.amount, 2), 9) + tk.reason;
    t.put(row++, 0, line, w);
  }
}

} // namespace

void draw_driver(terminal& t, const driver_model& m, const std::string& title, std::int64_t now_ms) {
  const int rows = t.rows();
  const int cols = t.cols();
  t.begin_frame();

  std::string left = title.empty() ? "EV_Driver" : title;
  if (!m.driver_id().empty()) {
    left += "  driver " + m.driver_id();
  }
  draw_title(t, left, m.central_reachable() ? "CENTRAL connected" : "CENTRAL unreachable");
  t.put(1, 1, m.central_text(), cols - 1, m.central_reachable() ? paint::good : paint::bad,
        m.central_reachable() ? style::plain : style::bold);
  draw_tabs(t, m.current_page());

  const int messages = std::clamp(rows / 5, 2, 8);
  const int body_top = 4;
  const int body_h = std::max(rows - body_top - messages - 2, 1);
  switch (m.current_page()) {
    case driver_model::page::cps:
      draw_cps(t, m, body_top, body_h, cols);
      break;
    case driver_model::page::charge:
      draw_charge(t, m, body_top, body_h, cols, now_ms);
      break;
    case driver_model::page::file:
      draw_file(t, m, body_top, body_h, cols, now_ms);
      break;
    case driver_model::page::tickets:
      draw_tickets(t, m, body_top, body_h, cols);
      break;
  }

  // One line stays visible whatever the page: the charge, or on the charge
  // page the file run it belongs to.
  const int summary_y = rows - messages - 2;
  const auto& c = m.current();
  if (m.current_page() == driver_model::page::charge || !c) {
    if (m.file()) {
      draw_file_summary(t, *m.file(), summary_y, cols, now_ms);
    } else {
      t.put(summary_y, 0, std::string(static_cast<std::size_t>(std::max(cols, 0)), '-'), cols, paint::dim);
    }
  } else {
    std::string line = "Charge at " + c->cp + ": ";
    if (c->denied) {
      line += "denied, " + c->reason;
    } else if (c->interrupted) {
      line += "INTERRUPTED, " + c->reason;
    } else if (c->finished) {
      line += "finished, " + kwh_text(c->kwh) + " " + eur_text(c->amount);
    } else if (c->plugged) {
      line += kwh_text(c->kwh) + "  " + eur_text(c->amount);
    } else {
      line += c->authorized ? (c->duration > 0 ? "authorised" : "authorised, plug in") : "requested";
    }
    t.put(summary_y, 0, line, cols, paint::text_busy, style::bold);
  }
  draw_messages(t, m.messages(), rows - 1 - messages, 0, messages, cols);
  draw_footer(t, rows - 1, m.prompt(), std::string{}, help, short_help);
  t.end_frame();
}

} // namespace evnet::ui
