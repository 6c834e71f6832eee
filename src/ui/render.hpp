#pragma once

// Drawing: one function per panel, plus the pieces they share. Each draws
// a whole frame from its model; none keeps state between frames, so a
// resize is just the next frame at the new size.

#include "evnet/ui/central_model.hpp"
#include "evnet/ui/driver_model.hpp"
#include "evnet/ui/engine_model.hpp"
#include "evnet/ui/gateway_model.hpp"
#include "evnet/ui/monitor_model.hpp"
#include "evnet/ui/view_model.hpp"
#include "terminal.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace evnet::ui {

// Central also feeds the tile layout back to the model (arrows, paging).
void draw_central(terminal& t, central_model& m, const std::string& title, std::int64_t now_ms);
void draw_driver(terminal& t, const driver_model& m, const std::string& title, std::int64_t now_ms);
void draw_monitor(terminal& t, const monitor_model& m, const std::string& title, std::int64_t now_ms);
void draw_engine(terminal& t, const engine_model& m, const std::string& title, std::int64_t now_ms);
void draw_gateway(terminal& t, const gateway_model& m, const std::string& title, std::int64_t now_ms);

// Shared pieces.
paint tile_paint(shown_state s);
paint text_paint(shown_state s);
paint tone_paint(message_log::tone k);

// The latest messages that fit in the box, oldest at the top.
void draw_messages(terminal& t, const message_log& log, int y, int x, int height, int width);

// The last line: an open form or question takes it over, else the key help
// (`short_help` when `help` does not fit).
void draw_footer(terminal& t, int y, const form& f, const std::string& question, std::string_view help,
                 std::string_view short_help = {});

// A bar across the screen: title on the left, status on the right.
void draw_title(terminal& t, std::string_view left, std::string_view right);

// "Out of Order" etc. on each state's colour, from (y, x); returns the column after it.
int draw_legend(terminal& t, int y, int x);

// "1.234 kWh" and "0.49 EUR".
std::string kwh_text(double kwh);
std::string eur_text(double amount);

} // namespace evnet::ui
