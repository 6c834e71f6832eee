#pragma once

// ev_fleet's parent process: it checks the machine's limits, forks the
// workers (each with a slice of CPs and drivers: worker.hpp), forwards
// commands to all of them (from stdin with --control, else its own script:
// wait until every CP is in, go, run --seconds, window, drain, books, quit)
// and merges their reports into one line per event on stdout. It opens no
// socket itself. An event that needs every worker (ready, window, blast,
// storm, drained, books) is printed once all of them have answered; a
// worker that dies is reported (and its share is then missing from the books).
//
// Thread-safety: single-threaded; it forks before any thread exists.

#include "options.hpp"

namespace evnet::fleet {

int run_fleet(const fleet_options& o);

} // namespace evnet::fleet
