#pragma once

// What a fleet worker counts, and how workers' counts add up. The sims
// (cp_sim, driver_sim) write into one `books` per worker; the worker sends
// them to its parent as JSON; the parent merges them (counters add,
// histograms merge, refusals add by reason) and ev_bench reads the result.
//
// Two scopes: `total` since the worker started, `window` since the last
// "window" command (latencies and request counts of a measured interval).
//
// Thread-safety: plain values.

#include "histogram.hpp"

#include "evnet/json.hpp"
#include "evnet/protocol.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace evnet::fleet {

struct counters {
  // drivers
  std::uint64_t requests = 0;          // distinct charge requests made
  std::uint64_t request_resends = 0;
  std::uint64_t authorized = 0;        // first answer ok
  std::uint64_t refused = 0;           // first answer no
  std::uint64_t unanswered = 0;        // given up without an answer
  std::uint64_t plan_full = 0;         // plan found no free CP: not sent
  std::uint64_t tickets = 0;           // distinct tickets received
  std::uint64_t ticket_repeats = 0;    // the same ticket again (resent before our ack arrived)
  std::uint64_t progress = 0;          // progress messages received
  std::uint64_t interrupted = 0;       // charge_interrupted received
  std::uint64_t snapshots = 0;
  std::uint64_t stream_updates = 0;
  std::uint64_t stream_heartbeats = 0;
  std::uint64_t stream_gaps = 0;       // a gap or a heartbeat ahead of us: snapshot asked again
  std::uint64_t resubscribes = 0;      // silent stream: SUB socket made anew
  // CPs
  std::uint64_t reservations = 0;
  std::uint64_t cp_refusals = 0;       // authorize_request answered no (busy, broken, ...)
  std::uint64_t charges_started = 0;   // confirmed: supply started
  std::uint64_t charges_cancelled = 0; // reservation cancelled by Central
  std::uint64_t late_confirms = 0;     // decision for an expired reservation
  std::uint64_t telemetry = 0;
  std::uint64_t records = 0;           // finished charges
  std::uint64_t records_acked = 0;
  std::uint64_t record_resends = 0;
  std::uint64_t faults = 0;
  std::uint64_t commands = 0;          // cp_command acknowledged
  // links
  std::uint64_t sessions = 0;          // a link came up
  std::uint64_t closes = 0;            // a link was closed (silence or TCP close)
  std::uint64_t connect_timeouts = 0;  //   of which: no answer within 1 s of opening
  std::uint64_t silences = 0;          //   of which: an up link heard nothing for 3 s
  std::uint64_t disconnects = 0;       //   of which: its TCP connection closed
  std::uint64_t dropped = 0;           // frames not sent: link down
  std::uint64_t send_refused = 0;      // the socket refused a frame (EAGAIN)
  std::uint64_t errors = 0;            // error_reply received
  std::uint64_t undecodable = 0;

  std::map<std::string, std::uint64_t> refusals;  // reason (ids masked) -> count
  std::map<std::string, std::uint64_t> error_codes;
  histogram auth_us;       // charge request -> charge_reply ok at the driver
  histogram telemetry_us;  // telemetry sent by the Engine -> progress at the driver

  json::value to_json() const;
  static counters from_json(const json::value& v);
  void merge(const counters& other);
  // What happened since `earlier` (a copy of these counters taken before).
  counters minus(const counters& earlier) const;
};

// A reason with the ids taken out ("CP FC00012 is busy" -> "CP <cp> is
// busy"), so that refusals group by cause.
std::string reason_class(const std::string& reason, const std::string& cp_prefix, const std::string& driver_prefix);

} // namespace evnet::fleet
