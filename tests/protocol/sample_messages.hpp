#pragma once

// One realistic message per protocol type, shared by the protocol tests and
// the fuzz seed-corpus generator. Every field differs from its default (the
// tests check this), so a field lost in encode/decode cannot go unnoticed.
// A new message type without a sample() overload here does not compile.

#include "evnet/protocol.hpp"

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace evnet::protocol::samples {

inline cp_config sample_config() {
  return cp_config{"ALC1", "C/ Italia 5, Alicante", 0.54};
}

inline cp_info sample_info(int n) {
  return cp_info{"ALC" + std::to_string(n), "Av. Maisonnave " + std::to_string(n), 0.49 + 0.01 * n, cp_state::busy,
                 "D" + std::to_string(100 + n), 3.75 * n, 1.84 * n};
}

inline charge_record sample_record() {
  return charge_record{"ALC1",
                       "ALC1-1717171717000-3",
                       "D101",
                       12.345,
                       0.54,
                       6.67,
                       1717171717000,
                       1717175317000,
                       end_reason::engine_fault};
}

inline heartbeat sample(std::type_identity<heartbeat>) { return {}; }
inline health_check sample(std::type_identity<health_check>) { return {}; }
inline snapshot_request sample(std::type_identity<snapshot_request>) { return {}; }

inline error_reply sample(std::type_identity<error_reply>) {
  return {errc::unauthenticated, "unknown peer monitor:ALC9, authenticate first"};
}

inline ack sample(std::type_identity<ack>) { return {false, "CP ALC1 is OUT_OF_ORDER"}; }

inline cp_auth sample(std::type_identity<cp_auth>) { return {"ALC1", "alc1-ocpp-password"}; }

inline cp_auth_reply sample(std::type_identity<cp_auth_reply>) {
  return {true, "welcome back", sample_config(), errc::already_connected};
}

inline cp_status sample(std::type_identity<cp_status>) { return {"ALC1", true, "engine answered in 3 ms", true}; }

inline cp_command sample(std::type_identity<cp_command>) { return {"ALC1", cp_order::resume, "maintenance over"}; }

inline engine_configure sample(std::type_identity<engine_configure>) { return {sample_config()}; }

inline health_reply sample(std::type_identity<health_reply>) {
  // A fault in the middle of a charge: the one moment every field matters.
  health_reply r;
  r.ok = false;
  r.configured = true;
  r.state = cp_state::broken;
  r.charging = true;
  r.charge = charge_view{"ALC1-1717171717000-4", "D102", true, 4.2, 2.27, 420, 1800};
  r.has_last = true;
  r.last = sample_record();
  r.out_of_service = true;
  return r;
}

inline authorize_request sample(std::type_identity<authorize_request>) {
  return {"ALC1", "D101", 1800, "D101-req-42"};
}

inline authorize_reply sample(std::type_identity<authorize_reply>) {
  return {true, "authorized", "ALC1-1717171717000-3", "ALC1", "D101-req-42"};
}

inline authorize_decision sample(std::type_identity<authorize_decision>) {
  return {"ALC1", "D101-req-42", "ALC1-1717171717000-3", true};
}

inline decision_ack sample(std::type_identity<decision_ack>) {
  return {"ALC1", "D101-req-42", "ALC1-1717171717000-3", false, "reservation expired"};
}

inline engine_hello sample(std::type_identity<engine_hello>) { return {"ALC1"}; }

inline telemetry sample(std::type_identity<telemetry>) {
  return {"ALC1", "ALC1-1717171717000-3", "D101", 17, 2.45, 1.32, 0.54};
}

inline charge_finished sample(std::type_identity<charge_finished>) { return {sample_record()}; }

inline record_ack sample(std::type_identity<record_ack>) { return {"ALC1", "ALC1-1717171717000-3"}; }

inline driver_hello sample(std::type_identity<driver_hello>) { return {"D101"}; }

inline snapshot sample(std::type_identity<snapshot>) {
  snapshot s;
  s.seq = 1042;
  s.stream_port = 7001;
  for (int i = 1; i <= 3; ++i) {
    s.cps.push_back(sample_info(i));
  }
  return s;
}

inline cp_update sample(std::type_identity<cp_update>) { return {1043, sample_info(2)}; }

inline stream_heartbeat sample(std::type_identity<stream_heartbeat>) { return {1043}; }

inline charge_request sample(std::type_identity<charge_request>) {
  return {"D101", "ALC1", 3600, "D101-req-42"};
}

inline charge_reply sample(std::type_identity<charge_reply>) {
  return {true, "charging started", "ALC1", "ALC1-1717171717000-3", "D101-req-42"};
}

inline progress sample(std::type_identity<progress>) { return {"ALC1", "ALC1-1717171717000-3", 5.5, 2.97}; }

inline charge_interrupted sample(std::type_identity<charge_interrupted>) {
  return {"ALC1", "ALC1-1717171717000-3", 8.1, 4.37, "engine fault"};
}

inline ticket sample(std::type_identity<ticket>) { return {sample_record()}; }

inline ticket_ack sample(std::type_identity<ticket_ack>) { return {"ALC1", "ALC1-1717171717000-3"}; }

// Calls f(std::type_identity<T>{}) for every alternative T of `body`.
template <class F>
void for_each_type(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::type_identity<std::variant_alternative_t<I, body>>{}), ...);
  }(std::make_index_sequence<std::variant_size_v<body>>{});
}

// A full message around a sample body, as a real sender would build it.
template <class T>
message sample_message() {
  return make("monitor:ALC1", sample(std::type_identity<T>{}), 7);
}

} // namespace evnet::protocol::samples
