#include "evnet/vocabulary.hpp"

#include <array>
#include <utility>

namespace evnet {

namespace {

template <class E, std::size_t N>
using table = std::array<std::pair<E, std::string_view>, N>;

constexpr table<cp_state, 5> cp_states{{
    {cp_state::active, "ACTIVE"},
    {cp_state::busy, "BUSY"},
    {cp_state::broken, "BROKEN"},
    {cp_state::out_of_order, "OUT_OF_ORDER"},
    {cp_state::disconnected, "DISCONNECTED"},
}};

constexpr table<cp_order, 2> cp_orders{{
    {cp_order::stop, "stop"},
    {cp_order::resume, "resume"},
}};

constexpr table<end_reason, 8> end_reasons{{
    {end_reason::completed, "completed"},
    {end_reason::unplugged, "unplugged"},
    {end_reason::stopped, "stopped by CENTRAL"},
    {end_reason::engine_fault, "engine fault"},
    {end_reason::monitor_lost, "monitor lost"},
    {end_reason::engine_restarted, "engine restarted"},
    {end_reason::never_plugged, "never plugged in"},
    {end_reason::revoked, "key revoked"},
}};

constexpr table<errc, 40> errcs{{
    {errc::usage, "usage"},
    {errc::bad_command, "bad_command"},
    {errc::file, "file"},
    {errc::config, "config"},
    {errc::json, "json"},
    {errc::malformed, "malformed"},
    {errc::too_large, "too_large"},
    {errc::bad_version, "bad_version"},
    {errc::unknown_type, "unknown_type"},
    {errc::invalid_field, "invalid_field"},
    {errc::unauthenticated, "unauthenticated"},
    {errc::unexpected, "unexpected"},
    {errc::not_allowed, "not_allowed"},
    {errc::forbidden, "forbidden"},
    {errc::revoked, "revoked"},
    {errc::too_many, "too_many"},
    {errc::bind_failed, "bind_failed"},
    {errc::connect_failed, "connect_failed"},
    {errc::socket_failed, "socket_failed"},
    {errc::transport_failed, "transport_failed"},
    {errc::rejected, "rejected"},
    {errc::unreachable, "unreachable"},
    {errc::unknown_cp, "unknown_cp"},
    {errc::unknown_driver, "unknown_driver"},
    {errc::already_connected, "already_connected"},
    {errc::disconnected, "disconnected"},
    {errc::broken, "broken"},
    {errc::out_of_order, "out_of_order"},
    {errc::busy, "busy"},
    {errc::bad_duration, "bad_duration"},
    {errc::not_configured, "not_configured"},
    {errc::wrong_cp, "wrong_cp"},
    {errc::already_plugged, "already_plugged"},
    {errc::no_charge, "no_charge"},
    {errc::no_answer, "no_answer"},
    {errc::refused, "refused"},
    {errc::reservation_expired, "reservation_expired"},
    {errc::invalid_state, "invalid_state"},
    {errc::engine, "engine"},
    {errc::store, "store"},
}};
// A value missing from a table spells "?" and fails the vocabulary test,
// which round-trips every value of every enum.

template <class E, std::size_t N>
std::string_view name_of(const table<E, N>& t, E value) {
  for (const auto& [v, name] : t) {
    if (v == value) {
      return name;
    }
  }
  // Only reachable with a value cast from outside the enum's range.
  return "?";
}

template <class E, std::size_t N>
std::optional<E> parse(const table<E, N>& t, std::string_view text) {
  for (const auto& [v, name] : t) {
    if (name == text) {
      return v;
    }
  }
  return std::nullopt;
}

} // namespace

std::string_view to_string(cp_state s) { return name_of(cp_states, s); }
std::string_view to_string(cp_order o) { return name_of(cp_orders, o); }
std::string_view to_string(end_reason r) { return name_of(end_reasons, r); }
std::string_view to_string(errc e) { return name_of(errcs, e); }

std::optional<cp_state> parse_cp_state(std::string_view s) { return parse(cp_states, s); }
std::optional<cp_order> parse_cp_order(std::string_view s) { return parse(cp_orders, s); }
std::optional<end_reason> parse_end_reason(std::string_view s) { return parse(end_reasons, s); }
std::optional<errc> parse_errc(std::string_view s) { return parse(errcs, s); }

std::ostream& operator<<(std::ostream& os, cp_state s) { return os << to_string(s); }
std::ostream& operator<<(std::ostream& os, cp_order o) { return os << to_string(o); }
std::ostream& operator<<(std::ostream& os, end_reason r) { return os << to_string(r); }
std::ostream& operator<<(std::ostream& os, errc e) { return os << to_string(e); }

} // namespace evnet
