#include "evnet/runtime/view.hpp"

#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/clock.hpp"

#include <cstdio>

namespace evnet::runtime {

json::value make_event(std::string name, json::object fields) {
  json::object obj;
  obj.reserve(fields.size() + 2);
  obj.emplace("event", std::move(name));
  obj.emplace("ts", now_ms());
  for (auto& [key, field] : fields) {
    // emplace keeps the first of a repeated key, so "event" and "ts" stay
    // the view's and a line never carries one key twice.
    obj.emplace(key, std::move(field));
  }
  return json::value(std::move(obj));
}

caf::actor spawn_headless_view(caf::actor_system& sys) {
  // Detached: writing to a pipe may block, and a blocked stdout must not
  // stall the scheduler threads the other actors run on.
  return sys.spawn<caf::detached>([](caf::event_based_actor* self) -> caf::behavior {
    // The view lives exactly as long as its core, however the core ends.
    self->set_down_handler([self](caf::down_msg&) { self->quit(); });
    return {
      [](event_atom, const json::value& ev) {
        std::string line = json::dump(ev);
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
      },
      [self](attach_atom, const caf::actor& core) {
        // Commands come from stdin in headless mode; only watch the core.
        self->monitor(core);
      },
      [self](quit_atom) { self->quit(); },
    };
  });
}

} // namespace evnet::runtime
