#pragma once

// ev_bench's outputs: the table (with the targets beside each
// figure) and the chart (a gnuplot script and its data, drawn to SVG) of
// how the costs grow with N.
//
// Thread-safety: none.

#include "evnet/json.hpp"

#include <string>
#include <vector>

namespace evnet::bench {

void print_table(const json::object& r);

// Adds `runs` to the chart's data (FILE.dat next to FILE.svg; a row per N,
// an earlier row for the same N replaced), writes FILE.gp and runs gnuplot.
// Returns what happened, for the user ("chart written to ...", or why not).
std::string draw_chart(const std::string& svg_path, const std::vector<json::object>& runs);

} // namespace evnet::bench
