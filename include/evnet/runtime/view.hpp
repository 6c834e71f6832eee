#pragma once

// Events: what a program tells its view. Every event is a JSON object with
// an "event" name and a "ts" (ms since epoch) plus its own fields (see
// docs/HEADLESS.md). The headless view prints each as one line on stdout;
// the ncurses panels apply them to a view model and redraw.

#include "evnet/json.hpp"

#include <caf/all.hpp>

#include <string>

namespace evnet::runtime {

json::value make_event(std::string name, json::object fields = {});

// The headless view: one JSON object per line on stdout, flushed per line.
caf::actor spawn_headless_view(caf::actor_system& sys);

} // namespace evnet::runtime
