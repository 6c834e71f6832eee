// ev_fleet: a city of simulated CPs and drivers against one EV_Central.
// See options.hpp (command line), supervisor.hpp (processes), worker.hpp
// (one process's loop and commands), cp_sim.hpp / driver_sim.hpp (what each
// simulated party does) and plan.hpp (the seeded scenario).

#include "options.hpp"
#include "setup.hpp"
#include "supervisor.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  using namespace evnet::fleet;
  auto o = parse_fleet_options(argc, argv);
  if (!o) {
    std::fprintf(stderr, "ev_fleet: %s\n\n%s", o.err().message.c_str(), fleet_usage);
    return 2;
  }
  if (o->help) {
    std::printf("%s", fleet_usage);
    return 0;
  }
  if (!o->setup_dir.empty()) {
    setup_settings s;
    s.dir = o->setup_dir;
    s.cps = o->cps;
    s.drivers = o->drivers;
    s.names = naming::for_counts(o->cps, o->drivers, o->cp_prefix, o->driver_prefix);
    s.curve = !o->insecure;
    if (auto st = write_setup(s); !st) {
      std::fprintf(stderr, "ev_fleet: %s\n", st.err().message.c_str());
      return 1;
    }
    std::printf("ev_fleet: %d CPs and %d drivers in %s/db.json and %s/central.db%s\n", s.cps, s.drivers,
                s.dir.c_str(), s.dir.c_str(), s.curve ? (", keys in " + s.dir + "/keys").c_str() : "");
    return 0;
  }
  return run_fleet(*o);
}
