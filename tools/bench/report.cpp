#include "report.hpp"

#include "process.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace evnet::bench {

namespace {

bool has(const json::object& r, const char* key) {
  const auto it = r.find(key);
  return it != r.end() && it->second.is_number();
}

double get(const json::object& r, const char* key) { return has(r, key) ? r.at(key).get<double>() : 0.0; }

std::string fmt(const json::object& r, const char* key, int digits = 1) {
  if (!has(r, key)) {
    return "n/a";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, get(r, key));
  return buf;
}

// "met", "MISSED" or "" when a figure is missing.
std::string verdict(bool measured, bool met) { return !measured ? "" : met ? "met" : "MISSED"; }

void row(const std::string& what, const std::string& value, const std::string& target = "",
         const std::string& status = "") {
  std::printf("  %-44s %-22s %-26s %s\n", what.c_str(), value.c_str(), target.c_str(), status.c_str());
}

} // namespace

void print_table(const json::object& r) {
  std::printf("\nev_bench: %s CPs (Monitor + Engine each), %s drivers, %s requests/s target, %s s of load, "
              "durations %s s, %s\n",
              fmt(r, "cps", 0).c_str(), fmt(r, "drivers", 0).c_str(), fmt(r, "rate", 0).c_str(),
              fmt(r, "seconds", 0).c_str(), r.count("duration_s") != 0 ? r.at("duration_s").get<std::string>().c_str() : "?",
              r.count("curve") != 0 && r.at("curve").get<bool>() ? "CURVE" : "--insecure");
  std::printf("  machine: %s cores, load average %s before, %s after (other work skews every figure)\n",
              fmt(r, "cores", 0).c_str(), fmt(r, "load_before", 1).c_str(), fmt(r, "load_after", 1).c_str());
  row("figure", "measured", "target (issue 9)", "");
  row("every CP in at start (s): Central / bare", fmt(r, "auth_all_s", 2) + " / " + fmt(r, "bare_auth_all_s", 2));
  row("requests per second achieved", fmt(r, "requests_per_s", 1));
  row("authorisation p50 / p99 (ms)", fmt(r, "auth_p50_ms", 2) + " / " + fmt(r, "auth_p99_ms", 2), "p99 < 5",
      verdict(has(r, "auth_p99_ms"), get(r, "auth_p99_ms") < 5.0));
  row("telemetry p50 / p99 (ms)", fmt(r, "telemetry_p50_ms", 2) + " / " + fmt(r, "telemetry_p99_ms", 2), "p99 < 5",
      verdict(has(r, "telemetry_p99_ms"), get(r, "telemetry_p99_ms") < 5.0));
  row("Central CPU (% of one core)", fmt(r, "central_cpu_pct", 1), "< 50",
      verdict(has(r, "central_cpu_pct"), get(r, "central_cpu_pct") < 50.0));
  row("Central RSS / bare RSS (MiB)", fmt(r, "central_rss_mib", 1) + " / " + fmt(r, "bare_rss_mib", 1),
      "Central <= 1.5 x bare", verdict(has(r, "rss_ratio"), get(r, "rss_ratio") <= 1.5));
  row("RSS per connected CP, Central / bare (KiB)",
      fmt(r, "central_rss_per_cp_kib", 1) + " / " + fmt(r, "bare_rss_per_cp_kib", 1));
  row("peak ingest, Central / bare (msg/s)", fmt(r, "ingest_per_s", 0) + " / " + fmt(r, "bare_ingest_per_s", 0),
      "Central >= 0.5 x bare", verdict(has(r, "ingest_ratio"), get(r, "ingest_ratio") >= 0.5));
  row("reconnect storm: every CP back (s)", fmt(r, "reconnect_s", 2) + " (drivers " + fmt(r, "drivers_reconnect_s", 2) + ")",
      "< 5", verdict(has(r, "reconnect_s"), get(r, "reconnect_s") < 5.0));
  row("  of which Central's restart (s)", fmt(r, "central_restart_s", 2));
  row("lost / doubled", fmt(r, "lost", 0) + " / " + fmt(r, "doubled", 0), "0 / 0",
      verdict(has(r, "lost") && has(r, "doubled"), get(r, "lost") == 0 && get(r, "doubled") == 0));
  row("  still in flight at the end (unsettled)", fmt(r, "unsettled", 0), "0 after a complete drain");
  // The target is about steady load: the window's refusals decide; the run's
  // (with the kill and restart) are listed too.
  const bool only_state = [&] {
    if (r.count("window_refused_by_reason") == 0 || !r.at("window_refused_by_reason").is_object()) {
      return true;
    }
    for (const auto& [reason, n] : r.at("window_refused_by_reason").items()) {
      // The CP's real state: busy, broken, out of order, disconnected.
      if (reason.find("busy") == std::string::npos && reason.find("broken") == std::string::npos &&
          reason.find("out of order") == std::string::npos && reason.find("disconnected") == std::string::npos) {
        return false;
      }
    }
    return true;
  }();
  row("under load: requests / refused", fmt(r, "window_requests", 0) + " / " + fmt(r, "window_refused", 0),
      "refused only for CP state", verdict(has(r, "window_refused"), only_state));
  if (r.count("window_refused_by_reason") != 0 && r.at("window_refused_by_reason").is_object()) {
    for (const auto& [reason, n] : r.at("window_refused_by_reason").items()) {
      row("    " + std::to_string(n.get<std::uint64_t>()) + " x", reason);
    }
  }
  row("whole run: requests / authorized / refused", fmt(r, "requests", 0) + " / " + fmt(r, "authorized", 0) + " / " +
                                                        fmt(r, "refused", 0) + " (" + fmt(r, "unanswered", 0) +
                                                        " unanswered)");
  if (r.count("refused_by_reason") != 0 && r.at("refused_by_reason").is_object()) {
    for (const auto& [reason, n] : r.at("refused_by_reason").items()) {
      row("    " + std::to_string(n.get<std::uint64_t>()) + " x", reason);
    }
  }
  row("charges supplied / tickets / stored", fmt(r, "charges", 0) + " / " + fmt(r, "tickets", 0) + " / " +
                                                 fmt(r, "store_charges", 0));
  row("fleet (simulator): workers, CPU %", fmt(r, "fleet_workers", 0) + ", " + fmt(r, "fleet_cpu_pct", 0));
  if (r.count("notes") != 0 && r.at("notes").is_array()) {
    for (const auto& n : r.at("notes")) {
      std::printf("  note: %s\n", n.get<std::string>().c_str());
    }
  }
  std::fflush(stdout);
}

std::string draw_chart(const std::string& svg_path, const std::vector<json::object>& runs) {
  static const char* const columns[] = {"cps",          "central_rss_mib",   "bare_rss_mib",
                                        "central_cpu_pct", "fleet_cpu_pct",  "auth_p99_ms",
                                        "telemetry_p99_ms", "ingest_per_s",  "bare_ingest_per_s",
                                        "reconnect_s",  "central_rss_per_cp_kib", "bare_rss_per_cp_kib"};
  std::string base = svg_path;
  if (const auto dot = base.rfind('.'); dot != std::string::npos && base.find('/', dot) == std::string::npos) {
    base.erase(dot);
  }
  const std::string data = base + ".dat";
  const std::string script = base + ".gp";
  // The script names its files relative to its own directory (gnuplot runs
  // there), so that the three files can be kept together anywhere (docs/).
  const auto slash = base.rfind('/');
  const std::string where = slash == std::string::npos ? std::string(".") : base.substr(0, slash);
  const std::string data_name = data.substr(slash == std::string::npos ? 0 : slash + 1);
  const std::string svg_name = svg_path.substr(svg_path.rfind('/') == std::string::npos ? 0 : svg_path.rfind('/') + 1);
  const std::string script_name = script.substr(slash == std::string::npos ? 0 : slash + 1);
  std::map<int, std::string> rows;  // N -> line
  {
    std::ifstream in{data};
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') {
        continue;
      }
      rows[std::atoi(line.c_str())] = line;
    }
  }
  for (const auto& r : runs) {
    std::ostringstream line;
    for (const char* c : columns) {
      const auto it = r.find(c);
      if (it != r.end() && it->second.is_number()) {
        line << it->second.get<double>() << ' ';
      } else {
        line << "NaN ";
      }
    }
    rows[static_cast<int>(get(r, "cps"))] = line.str();
  }
  {
    std::ofstream out{data};
    out << "#";
    for (const char* c : columns) {
      out << ' ' << c;
    }
    out << "\n";
    for (const auto& [n, line] : rows) {
      out << line << "\n";
    }
  }
  {
    std::ofstream gp{script};
    gp << "# Drawn by ev_bench --chart from " << data_name << " (one row per N); run: gnuplot " << script_name
       << " in this directory.\n"
       << "set terminal svg size 1100,800 dynamic noenhanced font 'sans,11'\n"
       << "set output '" << svg_name << "'\n"
       << "set datafile missing 'NaN'\n"
       << "set logscale x\n"
       << "set xlabel 'CPs (N)'\n"
       << "set grid\n"
       << "set key left top\n"
       << "set yrange [0:*]\n"
       << "set multiplot layout 2,2 title 'EV_Central on the 2-core machine: cost against the number of CPs'\n"
       << "set title 'Resident memory (MiB)'\n"
       << "plot '" << data_name << "' using 1:2 with linespoints title 'EV_Central', '' using 1:3 with linespoints "
          "title 'bare ROUTER + MessagePack loop'\n"
       << "set title 'Resident memory per connected CP (KiB)'\n"
       << "plot '" << data_name << "' using 1:11 with linespoints title 'EV_Central', '' using 1:12 with linespoints "
          "title 'bare loop'\n"
       << "set title 'CPU under load (% of one core)'\n"
       << "plot '" << data_name << "' using 1:4 with linespoints title 'EV_Central', '' using 1:5 with linespoints "
          "title 'ev_fleet (the simulator)'\n"
       << "set title 'p99 latency (ms, log scale)'\n"
       << "set logscale y\n"
       << "set yrange [*:*]\n"
       << "plot '" << data_name << "' using 1:6 with linespoints title 'request -> authorisation', '' using 1:7 with "
          "linespoints title 'telemetry -> progress'\n"
       << "unset multiplot\n";
  }
  spawn_options o;
  o.stderr_file = base + ".gnuplot.err";
  std::remove(svg_path.c_str());
  std::remove(o.stderr_file.c_str());
  o.cwd = where;
  auto g = spawn({"gnuplot", script_name}, o);
  if (!g) {
    return "gnuplot could not be started: chart skipped (data in " + data + ", script in " + script + ")";
  }
  const auto deadline = std::chrono::seconds{60};
  if (!wait_exit(*g, deadline)) {
    (void)stop(*g, 9, std::chrono::seconds{1});
    return "gnuplot did not finish: chart skipped";
  }
  std::ifstream check{svg_path};
  if (!check) {
    return "gnuplot is missing (Debian package gnuplot-nox) or failed (see " + o.stderr_file +
           "): chart skipped; data in " + data + ", script in " + script;
  }
  if (std::ifstream err{o.stderr_file}; err && err.peek() == std::ifstream::traits_type::eof()) {
    std::remove(o.stderr_file.c_str());
  }
  return "chart written to " + svg_path + " (data " + data + ", script " + script + ")";
}

} // namespace evnet::bench
