#pragma once

// The ncurses panels: one view actor per program. A panel owns the terminal
// from spawn until it quits; nothing else may write to stdout meanwhile.
//
// A panel receives (runtime::event_atom, json::value) events — the same
// events --headless prints, see docs/HEADLESS.md — applies them to its view
// model and redraws. Keys become command lines, sent as
// (runtime::command_atom, std::string) to the core actor given by
// (runtime::attach_atom, caf::actor). On (runtime::quit_atom) or when the core
// terminates, it restores the terminal and quits.

#include <caf/all.hpp>

#include <string>

namespace evnet::ui {

enum class panel_kind { central, monitor, driver, engine, gateway };

caf::actor spawn_panel(caf::actor_system& sys, panel_kind kind, std::string title);

} // namespace evnet::ui
