#define BOOST_TEST_MODULE tools_bench_short
#include <boost/test/unit_test.hpp>

// A short ev_bench run (200 CPs, 20 drivers, 3 s): the fleet, the bare loop
// and the benchmark keep working. It checks what a run must get right, never
// a time: every field of the issue is in the JSON, every CP got in, nothing
// was lost or doubled.

#include "evnet/json.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

std::string build_root() {
  const char* root = std::getenv("EVNET_BUILD_ROOT");
  return root != nullptr ? root : ".";
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) {
    out.append(buf, n);
  }
  ::pclose(p);
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_short_run_reports_every_field_and_loses_nothing) {
  const std::string root = build_root();
  const std::string out = run(root + "/tools/ev_bench --cps 200 --drivers 20 --rate 20 --seconds 3 --json --quiet --central " +
                              root + "/src/central/EV_Central");
  const auto line = out.substr(0, out.find('\n'));
  auto parsed = evnet::json::parse(line);
  BOOST_REQUIRE_MESSAGE(parsed.ok(), "ev_bench printed no JSON object: " + out);
  const auto& r = *parsed;
  BOOST_TEST_MESSAGE(line);
  for (const char* field :
       {"cps", "drivers", "requests_per_s", "auth_p50_ms", "auth_p99_ms", "telemetry_p99_ms", "ingest_per_s",
        "bare_ingest_per_s", "central_cpu_pct", "central_rss_mib", "bare_rss_mib", "reconnect_s", "lost",
        "doubled"}) {
    const auto* f = evnet::json::find(r, field);
    BOOST_TEST_INFO("field " << field);
    BOOST_REQUIRE(f != nullptr);
    BOOST_TEST(f->is_number());  // measured, not null
  }
  BOOST_TEST(r["cps"].get<int>() == 200);
  BOOST_TEST(r["cps_authenticated"].get<int>() == 200);
  BOOST_TEST(r["lost"].get<int>() == 0);
  BOOST_TEST(r["unsettled"].is_number());
  BOOST_TEST(r["doubled"].get<int>() == 0);
  BOOST_TEST(r["authorized"].get<int>() > 0);
  BOOST_TEST(r["tickets"].get<int>() == r["charges"].get<int>());
  BOOST_TEST(r["store_charges"].get<int>() == r["charges"].get<int>());
}
