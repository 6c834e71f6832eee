#include "evnet/ui/panels.hpp"

#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/clock.hpp"
#include "evnet/ui/central_model.hpp"
#include "evnet/ui/driver_model.hpp"
#include "evnet/ui/engine_model.hpp"
#include "evnet/ui/gateway_model.hpp"
#include "evnet/ui/monitor_model.hpp"
#include "render.hpp"
#include "terminal.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace evnet::ui {

namespace {

using namespace std::chrono_literals;

// Keys are polled rather than read by a blocking thread: a handler must
// never block, and ncurses must stay on the panel's own thread.
constexpr auto poll_interval = 50ms;
// Clocks on screen (elapsed time, the pause countdown) move even without events.
constexpr std::int64_t idle_redraw_ms = 500;

// One model plus its drawing, behind a common face for the actor.
class view {
public:
  virtual ~view() = default;
  virtual void apply(const json::value& ev) = 0;
  virtual std::optional<std::string> on_key(int key, std::int64_t now_ms) = 0;
  virtual void draw(terminal& t, const std::string& title, std::int64_t now_ms) = 0;
};

template <class Model, auto Draw>
class view_of final : public view {
public:
  void apply(const json::value& ev) override { model_.apply(ev); }
  std::optional<std::string> on_key(int key, std::int64_t now_ms) override { return model_.on_key(key, now_ms); }
  void draw(terminal& t, const std::string& title, std::int64_t now_ms) override { Draw(t, model_, title, now_ms); }

private:
  Model model_;
};

std::unique_ptr<view> make_view(panel_kind kind) {
  switch (kind) {
    case panel_kind::central:
      return std::make_unique<view_of<central_model, &draw_central>>();
    case panel_kind::driver:
      return std::make_unique<view_of<driver_model, &draw_driver>>();
    case panel_kind::monitor:
      return std::make_unique<view_of<monitor_model, &draw_monitor>>();
    case panel_kind::engine:
      return std::make_unique<view_of<engine_model, &draw_engine>>();
    case panel_kind::gateway:
      return std::make_unique<view_of<gateway_model, &draw_gateway>>();
  }
  return std::make_unique<view_of<central_model, &draw_central>>();
}

struct panel_state {
  std::unique_ptr<view> model;
  // Destroyed with the state, so the terminal is restored on every exit
  // path, including an exception escaping a handler.
  std::unique_ptr<terminal> term;
  caf::actor core;
  std::string title;
  bool dirty = true;
  std::int64_t drawn_at = 0;

  static inline const char* name = "evnet_panel";
};

using panel_actor = caf::stateful_actor<panel_state>;

void redraw(panel_actor* self, bool force) {
  auto& st = self->state;
  std::int64_t now = runtime::now_ms();
  if (!force && !st.dirty && now - st.drawn_at < idle_redraw_ms) {
    return;
  }
  st.model->draw(*st.term, st.title, now);
  st.dirty = false;
  st.drawn_at = now;
}

void shut_down(panel_actor* self) {
  self->state.term->restore();
  self->quit();
}

void poll_keys(panel_actor* self) {
  auto& st = self->state;
  // Drain everything typed since the last tick (pasted text, held keys).
  for (int key = st.term->read_key(); key != key_none; key = st.term->read_key()) {
    st.dirty = true;
    if (key == key_resize) {
      continue;
    }
    std::optional<std::string> line = st.model->on_key(key, runtime::now_ms());
    if (line && st.core) {
      self->send(st.core, runtime::command_atom::value, std::move(*line));
    }
  }
}

caf::behavior panel(panel_actor* self, panel_kind kind, std::string title) {
  self->state.model = make_view(kind);
  self->state.term = std::make_unique<terminal>();
  self->state.title = std::move(title);
  self->set_down_handler([self](caf::down_msg& down) {
    if (down.source == self->state.core.address()) {
      shut_down(self);
    }
  });
  redraw(self, true);
  self->send(self, runtime::tick_atom::value);
  return {
      [self](runtime::event_atom, const json::value& ev) {
        self->state.model->apply(ev);
        self->state.dirty = true;
      },
      [self](runtime::attach_atom, caf::actor core) {
        if (self->state.core) {
          self->demonitor(self->state.core);
        }
        self->monitor(core);
        self->state.core = std::move(core);
      },
      [self](runtime::quit_atom) { shut_down(self); },
      [self](runtime::tick_atom) {
        if (!self->state.term->active()) {
          return;
        }
        poll_keys(self);
        redraw(self, false);
        self->delayed_send(self, poll_interval, runtime::tick_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_panel(caf::actor_system& sys, panel_kind kind, std::string title) {
  return sys.spawn<caf::detached>(panel, kind, std::move(title));
}

} // namespace evnet::ui
