#define BOOST_TEST_MODULE protocol
#include <boost/test/unit_test.hpp>

#include "evnet/protocol.hpp"
#include "sample_messages.hpp"

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <string_view>

namespace p = evnet::protocol;
namespace s = evnet::protocol::samples;

namespace {

// The body alone as MessagePack: MSGPACK_DEFINE_MAP packs every field, so
// equal bytes mean equal values, field by field.
template <class T>
std::string body_bytes(const T& b) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, b);
  return std::string(buffer.data(), buffer.size());
}

// Fails the test for any leaf field (recursing into nested maps) whose value
// equals the default-constructed one.
void require_all_fields_differ(const msgpack::object& sample, const msgpack::object& dflt, const std::string& path) {
  BOOST_REQUIRE(sample.type == msgpack::type::MAP);
  BOOST_REQUIRE(dflt.type == msgpack::type::MAP);
  BOOST_REQUIRE_EQUAL(sample.via.map.size, dflt.via.map.size);
  for (std::uint32_t i = 0; i < sample.via.map.size; ++i) {
    const auto& kv = sample.via.map.ptr[i];
    const auto& dkv = dflt.via.map.ptr[i];
    const std::string key = kv.key.as<std::string>();
    BOOST_REQUIRE_EQUAL(key, dkv.key.as<std::string>());
    if (kv.val.type == msgpack::type::MAP && dkv.val.type == msgpack::type::MAP) {
      require_all_fields_differ(kv.val, dkv.val, path + key + ".");
    } else {
      BOOST_TEST_INFO("field " << path << key);
      BOOST_CHECK(!(kv.val == dkv.val));
    }
  }
}

// Packs an arbitrary envelope, bypassing encode(), to build hostile frames.
struct frame_builder {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk{buffer};

  frame_builder& envelope(std::uint64_t version, std::string_view type, std::string_view sender = "central",
                          std::uint64_t correlation = 0) {
    pk.pack_array(5);
    pk.pack(version);
    pk.pack(type);
    pk.pack(sender);
    pk.pack(correlation);
    return *this;
  }

  std::string str() const { return std::string(buffer.data(), buffer.size()); }
};

evnet::errc error_code(std::string_view frame) {
  const auto r = p::decode(frame);
  BOOST_REQUIRE_MESSAGE(!r.ok(), "frame was accepted but should have been rejected");
  BOOST_TEST_MESSAGE("rejected: " << r.err().code << ": " << r.err().message);
  BOOST_CHECK(!r.err().message.empty());
  return r.err().code;
}

} // namespace

// ---- type table -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(type_names_cover_every_alternative_once) {
  const auto names = p::type_names();
  BOOST_TEST(names.size() == std::variant_size_v<p::body>);
  const std::set<std::string_view> unique(names.begin(), names.end());
  BOOST_TEST(unique.size() == names.size());
  BOOST_TEST(unique.count("heartbeat") == 1U);
  BOOST_TEST(unique.count("error") == 1U);
  BOOST_TEST(unique.count("ticket_ack") == 1U);
  s::for_each_type([&]<class T>(std::type_identity<T>) {
    BOOST_TEST(unique.count(T::name) == 1U, "missing " << T::name);
    BOOST_TEST(s::sample_message<T>().type() == T::name);
  });
}

// ---- round trips ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(samples_set_every_field) {
  s::for_each_type([]<class T>(std::type_identity<T>) {
    BOOST_TEST_CONTEXT("type " << T::name) {
      msgpack::zone zone;
      const msgpack::object sample(s::sample(std::type_identity<T>{}), zone);
      const msgpack::object dflt(T{}, zone);
      require_all_fields_differ(sample, dflt, "");
    }
  });
}

BOOST_AUTO_TEST_CASE(every_type_round_trips) {
  s::for_each_type([]<class T>(std::type_identity<T>) {
    BOOST_TEST_CONTEXT("type " << T::name) {
      const p::message original = s::sample_message<T>();
      const auto decoded = p::decode(p::encode(original));
      BOOST_REQUIRE_MESSAGE(decoded.ok(), (decoded.ok() ? "" : decoded.err().message));
      BOOST_TEST(decoded->version == p::version);
      BOOST_TEST(decoded->sender == "monitor:ALC1");
      BOOST_TEST(decoded->correlation == 7U);
      BOOST_TEST(decoded->type() == T::name);
      BOOST_REQUIRE(decoded->template is<T>());
      BOOST_TEST(body_bytes(decoded->template as<T>()) == body_bytes(original.as<T>()));
    }
  });
}

BOOST_AUTO_TEST_CASE(round_trip_keeps_exact_values) {
  const auto t = p::decode(p::encode(p::make("engine:ALC1", s::sample(std::type_identity<p::telemetry>{}))));
  BOOST_REQUIRE(t.ok());
  const auto& tel = t->as<p::telemetry>();
  BOOST_TEST(tel.cp_id == "ALC1");
  BOOST_TEST(tel.charge_id == "ALC1-1717171717000-3");
  BOOST_TEST(tel.driver_id == "D101");
  BOOST_TEST(tel.seq == 17U);
  BOOST_TEST(tel.kwh == 2.45);
  BOOST_TEST(tel.amount == 1.32);
  BOOST_TEST(tel.price == 0.54);
  BOOST_TEST(t->correlation == 0U);

  const auto h = p::decode(p::encode(s::sample_message<p::health_reply>()));
  BOOST_REQUIRE(h.ok());
  const auto& hr = h->as<p::health_reply>();
  BOOST_TEST(!hr.ok);
  BOOST_TEST(hr.charge.duration_s == 1800);
  BOOST_TEST(hr.charge.plugged);
  BOOST_TEST(hr.last.start_ms == 1717171717000);
  BOOST_TEST(hr.last.reason == evnet::end_reason::engine_fault);

  const auto snap = p::decode(p::encode(s::sample_message<p::snapshot>()));
  BOOST_REQUIRE(snap.ok());
  const auto& cps = snap->as<p::snapshot>().cps;
  BOOST_REQUIRE_EQUAL(cps.size(), 3U);
  BOOST_TEST(cps[2].cp_id == "ALC3");
  BOOST_TEST(cps[2].amount == 1.84 * 3);
}

BOOST_AUTO_TEST_CASE(integral_doubles_and_extreme_integers_survive) {
  // msgpack packs 3.0 as the integer 3; it must still decode as a double.
  p::telemetry t;
  t.cp_id = "ALC1";
  t.kwh = 3.0;
  t.amount = 0.5;
  t.price = 1e-9;
  t.seq = std::numeric_limits<std::uint64_t>::max();
  const auto r = p::decode(p::encode(p::make("engine:ALC1", t, std::numeric_limits<std::uint64_t>::max())));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->as<p::telemetry>().kwh == 3.0);
  BOOST_TEST(r->as<p::telemetry>().amount == 0.5);
  BOOST_TEST(r->as<p::telemetry>().price == 1e-9);
  BOOST_TEST(r->as<p::telemetry>().seq == std::numeric_limits<std::uint64_t>::max());
  BOOST_TEST(r->correlation == std::numeric_limits<std::uint64_t>::max());
}

// ---- wire format ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(encode_produces_the_documented_envelope) {
  const std::string frame = p::encode(p::make("monitor:ALC1", p::cp_auth{"ALC1"}, 9));
  const auto handle = msgpack::unpack(frame.data(), frame.size());
  const msgpack::object& o = handle.get();
  BOOST_REQUIRE(o.type == msgpack::type::ARRAY);
  BOOST_REQUIRE_EQUAL(o.via.array.size, 5U);
  BOOST_TEST(o.via.array.ptr[0].as<std::uint32_t>() == 1U);
  BOOST_TEST(o.via.array.ptr[1].as<std::string>() == "cp_auth");
  BOOST_TEST(o.via.array.ptr[2].as<std::string>() == "monitor:ALC1");
  BOOST_TEST(o.via.array.ptr[3].as<std::uint64_t>() == 9U);
  const msgpack::object& body = o.via.array.ptr[4];
  BOOST_REQUIRE(body.type == msgpack::type::MAP);
  BOOST_REQUIRE_EQUAL(body.via.map.size, 2U);
  BOOST_TEST(body.via.map.ptr[0].key.as<std::string>() == "cp_id");
  BOOST_TEST(body.via.map.ptr[0].val.as<std::string>() == "ALC1");
  BOOST_TEST(body.via.map.ptr[1].key.as<std::string>() == "ocpp_password");
  BOOST_TEST(body.via.map.ptr[1].val.as<std::string>() == "");
}

// An OCPP gateway's cp_auth carries the charge point's password; a Monitor
// that sends only cp_id (as before the field existed) still decodes, with
// none.
BOOST_AUTO_TEST_CASE(cp_auth_carries_an_optional_ocpp_password) {
  const auto r = p::decode(p::encode(p::make("monitor:OC1", p::cp_auth{"OC1", "oc1-secret-password"}, 2)));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->as<p::cp_auth>().ocpp_password == "oc1-secret-password");
  frame_builder f;
  f.envelope(1, "cp_auth", "monitor:ALC1", 4);
  f.pk.pack_map(1);
  f.pk.pack("cp_id").pack("ALC1");
  const auto old = p::decode(f.str());
  BOOST_REQUIRE(old.ok());
  BOOST_TEST(old->as<p::cp_auth>().cp_id == "ALC1");
  BOOST_TEST(old->as<p::cp_auth>().ocpp_password.empty());
  BOOST_TEST(!p::decode(p::encode(p::make("m", p::cp_auth{"ALC1", std::string(100000, 'x')}))).ok());
}

BOOST_AUTO_TEST_CASE(decodes_a_hand_built_frame) {
  frame_builder f;
  f.envelope(1, "progress", "central", 3);
  f.pk.pack_map(4);
  f.pk.pack("amount").pack(2.97);
  f.pk.pack("kwh").pack(5.5);
  f.pk.pack("cp_id").pack("ALC1");
  f.pk.pack("charge_id").pack("C-9");
  const auto r = p::decode(f.str());
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->sender == "central");
  BOOST_TEST(r->correlation == 3U);
  BOOST_REQUIRE(r->is<p::progress>());
  BOOST_TEST(r->as<p::progress>().cp_id == "ALC1");
  BOOST_TEST(r->as<p::progress>().charge_id == "C-9");
  BOOST_TEST(r->as<p::progress>().kwh == 5.5);
  BOOST_TEST(r->as<p::progress>().amount == 2.97);
}

BOOST_AUTO_TEST_CASE(missing_keys_default_and_unknown_keys_are_ignored) {
  frame_builder f;
  f.envelope(1, "charge_request");
  f.pk.pack_map(3);
  f.pk.pack("driver_id").pack("D7");
  f.pk.pack("added_in_v2").pack_array(2).pack(1).pack("x");
  f.pk.pack("cp_id").pack("ALC2");
  const auto r = p::decode(f.str());
  BOOST_REQUIRE(r.ok());
  const auto& req = r->as<p::charge_request>();
  BOOST_TEST(req.driver_id == "D7");
  BOOST_TEST(req.cp_id == "ALC2");
  BOOST_TEST(req.duration_s == 0);
  BOOST_TEST(req.request_id.empty());
}

BOOST_AUTO_TEST_CASE(duration_upper_bound_is_left_to_the_domain) {
  p::charge_request req = s::sample(std::type_identity<p::charge_request>{});
  req.duration_s = 10 * p::max_duration_s;
  BOOST_TEST(p::decode(p::encode(p::make("driver:D101", req))).ok());
  req.duration_s = 0;
  BOOST_TEST(p::decode(p::encode(p::make("driver:D101", req))).ok());
}

// ---- rejection ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rejects_empty_frame) {
  BOOST_TEST(error_code("") == evnet::errc::malformed);
  BOOST_TEST(p::decode(nullptr, 0).ok() == false);
}

BOOST_AUTO_TEST_CASE(rejects_random_garbage) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(1, 200);
  for (int i = 0; i < 5000; ++i) {
    std::string junk(length(rng), '\0');
    for (auto& c : junk) {
      c = static_cast<char>(byte(rng));
    }
    const auto r = p::decode(junk);
    BOOST_REQUIRE(!r.ok());
    BOOST_REQUIRE(r.err().code == evnet::errc::malformed || r.err().code == evnet::errc::invalid_field);
  }
}

BOOST_AUTO_TEST_CASE(mutated_frames_never_throw) {
  // Flipping bytes of real frames reaches much deeper than pure garbage; any
  // outcome is fine as long as it is a value, and accepted frames re-encode.
  std::mt19937 rng(777);
  s::for_each_type([&]<class T>(std::type_identity<T>) {
    const std::string good = p::encode(s::sample_message<T>());
    std::uniform_int_distribution<std::size_t> pos(0, good.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 300; ++i) {
      std::string bad = good;
      bad[pos(rng)] = static_cast<char>(byte(rng));
      const auto r = p::decode(bad);
      if (r.ok()) {
        BOOST_REQUIRE(p::decode(p::encode(*r)).ok());
      }
    }
  });
}

BOOST_AUTO_TEST_CASE(rejects_every_truncation) {
  s::for_each_type([]<class T>(std::type_identity<T>) {
    const std::string good = p::encode(s::sample_message<T>());
    BOOST_REQUIRE(p::decode(good).ok());
    for (std::size_t n = 0; n < good.size(); ++n) {
      const auto r = p::decode(good.data(), n);
      BOOST_TEST_CONTEXT(T::name << " cut at " << n << " of " << good.size()) {
        BOOST_REQUIRE(!r.ok());
        BOOST_REQUIRE(r.err().code == evnet::errc::malformed);
      }
    }
  });
}

BOOST_AUTO_TEST_CASE(rejects_trailing_bytes) {
  const std::string good = p::encode(s::sample_message<p::cp_auth>());
  BOOST_TEST(error_code(good + '\0') == evnet::errc::malformed);
  BOOST_TEST(error_code(good + good) == evnet::errc::malformed);
}

BOOST_AUTO_TEST_CASE(rejects_frames_over_the_size_limit) {
  const std::string huge(p::max_frame_size + 1, '\x90');
  BOOST_TEST(error_code(huge) == evnet::errc::too_large);
}

BOOST_AUTO_TEST_CASE(rejects_non_array_envelope) {
  msgpack::sbuffer map_frame;
  msgpack::packer<msgpack::sbuffer>(map_frame).pack_map(1).pack("type").pack("cp_auth");
  BOOST_TEST(error_code(std::string_view(map_frame.data(), map_frame.size())) == evnet::errc::malformed);
  BOOST_TEST(error_code("\x01") == evnet::errc::malformed);  // the integer 1
  BOOST_TEST(error_code("\xa3" "abc") == evnet::errc::malformed);  // the string "abc"
}

BOOST_AUTO_TEST_CASE(rejects_wrong_arity) {
  for (std::uint32_t arity : {0U, 1U, 4U, 6U}) {
    frame_builder f;
    f.pk.pack_array(arity);
    const std::uint32_t fields[] = {1, 0, 0, 0, 0, 0};
    for (std::uint32_t i = 0; i < arity; ++i) {
      f.pk.pack(fields[i]);
    }
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed, "arity " << arity);
  }
}

BOOST_AUTO_TEST_CASE(rejects_wrong_envelope_field_types) {
  {
    frame_builder f;  // version as a string
    f.pk.pack_array(5).pack("1").pack("heartbeat").pack("central").pack(0).pack_map(0);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // negative correlation
    f.pk.pack_array(5).pack(1).pack("heartbeat").pack("central").pack(-1).pack_map(0);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // body as an array
    f.envelope(1, "heartbeat").pk.pack_array(0);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // body map with a non-string key
    f.envelope(1, "cp_auth").pk.pack_map(1).pack(1).pack("ALC1");
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
}

BOOST_AUTO_TEST_CASE(rejects_wrong_version) {
  for (std::uint32_t v : {0U, 2U, 1000U}) {
    p::message m = s::sample_message<p::cp_auth>();
    m.version = v;
    BOOST_TEST(error_code(p::encode(m)) == evnet::errc::bad_version, "version " << v);
  }
  frame_builder f;  // larger than uint32: must not wrap around to 1
  f.envelope((std::uint64_t{1} << 32) + 1, "heartbeat").pk.pack_map(0);
  BOOST_TEST(error_code(f.str()) == evnet::errc::bad_version);
}

BOOST_AUTO_TEST_CASE(rejects_unknown_type) {
  for (std::string_view type : {"teleport", "", "Heartbeat", "heartbeat "}) {
    frame_builder f;
    f.envelope(1, type).pk.pack_map(0);
    BOOST_TEST(error_code(f.str()) == evnet::errc::unknown_type, "type '" << type << "'");
  }
}

BOOST_AUTO_TEST_CASE(rejects_wrong_body_field_types) {
  {
    frame_builder f;  // a string where a double is expected
    f.envelope(1, "telemetry").pk.pack_map(1).pack("kwh").pack("2.45");
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // a double where a string is expected
    f.envelope(1, "cp_auth").pk.pack_map(1).pack("cp_id").pack(1.5);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // an integer where a bool is expected
    f.envelope(1, "ack").pk.pack_map(1).pack("ok").pack(1);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // a negative number where an unsigned is expected
    f.envelope(1, "telemetry").pk.pack_map(1).pack("seq").pack(-3);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // a nested struct that is not a map
    f.envelope(1, "ticket").pk.pack_map(1).pack("record").pack("ALC1");
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // a snapshot whose cps is not an array
    f.envelope(1, "snapshot").pk.pack_map(1).pack("cps").pack_map(0);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
}

// Vocabulary enums travel as their spelling: readable on the wire, and an
// unknown word (or an integer standing for one) is refused, never guessed.
BOOST_AUTO_TEST_CASE(enums_travel_as_their_spelling) {
  {
    frame_builder f;
    f.envelope(1, "cp_command").pk.pack_map(2).pack("cp_id").pack("ALC1").pack("command").pack("resume");
    const auto r = p::decode(f.str());
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->as<p::cp_command>().command == evnet::cp_order::resume);
  }
  {
    frame_builder f;
    f.envelope(1, "error").pk.pack_map(1).pack("code").pack("unauthenticated");
    const auto r = p::decode(f.str());
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->as<p::error_reply>().code == evnet::errc::unauthenticated);
  }
  {
    frame_builder f;  // a state nobody defined
    f.envelope(1, "cp_update").pk.pack_map(1).pack("cp").pack_map(1).pack("state").pack("PURPLE");
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // an order nobody defined
    f.envelope(1, "cp_command").pk.pack_map(1).pack("command").pack("explode");
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
  {
    frame_builder f;  // an enum's index instead of its word
    f.envelope(1, "ticket").pk.pack_map(1).pack("record").pack_map(1).pack("reason").pack(2);
    BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
  }
}

BOOST_AUTO_TEST_CASE(enforces_string_bounds) {
  const std::string id_max(p::max_id_size, 'x');
  const std::string id_over(p::max_id_size + 1, 'x');
  const std::string text_max(p::max_text_size, 'y');
  const std::string text_over(p::max_text_size + 1, 'y');

  BOOST_TEST(p::decode(p::encode(p::make("central", p::cp_auth{id_max}))).ok());
  BOOST_TEST(error_code(p::encode(p::make("central", p::cp_auth{id_over}))) == evnet::errc::invalid_field);

  BOOST_TEST(p::decode(p::encode(p::make(id_max, p::heartbeat{}))).ok());
  BOOST_TEST(error_code(p::encode(p::make(id_over, p::heartbeat{}))) == evnet::errc::invalid_field);

  BOOST_TEST(p::decode(p::encode(p::make("central", p::ack{false, text_max}))).ok());
  BOOST_TEST(error_code(p::encode(p::make("central", p::ack{false, text_over}))) == evnet::errc::invalid_field);

  auto command = s::sample(std::type_identity<p::cp_command>{});
  command.reason = text_over;
  BOOST_TEST(error_code(p::encode(p::make("central", command))) == evnet::errc::invalid_field);

  auto err = s::sample(std::type_identity<p::error_reply>{});
  err.detail = text_over;
  BOOST_TEST(error_code(p::encode(p::make("central", err))) == evnet::errc::invalid_field);

  // Nested fields are checked too, and the message says which one.
  auto fin = s::sample(std::type_identity<p::charge_finished>{});
  fin.record.charge_id = id_over;
  const auto r = p::decode(p::encode(p::make("engine:ALC1", fin)));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.err().code == evnet::errc::invalid_field);
  BOOST_TEST(r.err().message.find("record.charge_id") != std::string::npos, r.err().message);

  auto snap = s::sample(std::type_identity<p::snapshot>{});
  snap.cps[1].location = text_over;
  const auto rs = p::decode(p::encode(p::make("central", snap)));
  BOOST_REQUIRE(!rs.ok());
  BOOST_TEST(rs.err().code == evnet::errc::invalid_field);
  BOOST_TEST(rs.err().message.find("cps[1].location") != std::string::npos, rs.err().message);
}

BOOST_AUTO_TEST_CASE(rejects_non_finite_money_and_energy) {
  const double bad_values[] = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                               -std::numeric_limits<double>::infinity()};
  for (const double bad : bad_values) {
    auto t = s::sample(std::type_identity<p::telemetry>{});
    t.amount = bad;
    BOOST_TEST(error_code(p::encode(p::make("engine:ALC1", t))) == evnet::errc::invalid_field);

    auto pr = s::sample(std::type_identity<p::progress>{});
    pr.kwh = bad;
    BOOST_TEST(error_code(p::encode(p::make("central", pr))) == evnet::errc::invalid_field);

    auto reply = s::sample(std::type_identity<p::cp_auth_reply>{});
    reply.config.price = bad;
    BOOST_TEST(error_code(p::encode(p::make("central", reply))) == evnet::errc::invalid_field);

    auto update = s::sample(std::type_identity<p::cp_update>{});
    update.cp.amount = bad;
    BOOST_TEST(error_code(p::encode(p::make("central", update))) == evnet::errc::invalid_field);

    auto tk = s::sample(std::type_identity<p::ticket>{});
    tk.record.amount = bad;
    BOOST_TEST(error_code(p::encode(p::make("central", tk))) == evnet::errc::invalid_field);
  }
}

namespace {

// A snapshot of `count` empty cp_info maps: the smallest frame with that many CPs.
std::string snapshot_with_empty_cps(std::size_t count) {
  frame_builder f;
  f.envelope(1, "snapshot").pk.pack_map(2);
  f.pk.pack("seq").pack(5);
  f.pk.pack("cps").pack_array(static_cast<std::uint32_t>(count));
  for (std::size_t i = 0; i < count; ++i) {
    f.pk.pack_map(0);
  }
  return f.str();
}

} // namespace

BOOST_AUTO_TEST_CASE(snapshot_size_is_bounded) {
  const auto at_limit = p::decode(snapshot_with_empty_cps(p::max_cps_in_snapshot));
  BOOST_REQUIRE_MESSAGE(at_limit.ok(), (at_limit.ok() ? "" : at_limit.err().message));
  BOOST_TEST(at_limit->as<p::snapshot>().cps.size() == p::max_cps_in_snapshot);

  BOOST_TEST(error_code(snapshot_with_empty_cps(p::max_cps_in_snapshot + 1)) == evnet::errc::invalid_field);
}

BOOST_AUTO_TEST_CASE(hostile_sizes_are_refused_before_allocation) {
  // Headers claiming 4 G entries/bytes in a few bytes of input.
  frame_builder arr;
  arr.envelope(1, "snapshot").pk.pack_map(1).pack("cps").pack_array(0xFFFFFFFFU);
  BOOST_TEST(error_code(arr.str()) == evnet::errc::invalid_field);

  frame_builder map;
  map.envelope(1, "heartbeat").pk.pack_map(0xFFFFFFFFU);
  BOOST_TEST(error_code(map.str()) == evnet::errc::invalid_field);

  // msgpack copies a string only once its bytes are there: a huge claim is
  // just a truncated frame.
  frame_builder str;
  str.envelope(1, "cp_auth").pk.pack_map(1).pack("cp_id").pack_str(0xFFFFFFFFU);
  BOOST_TEST(error_code(str.str()) == evnet::errc::malformed);

  frame_builder bin;
  bin.envelope(1, "cp_auth").pk.pack_map(1).pack("future").pack_bin(0xFFFFFFFFU);
  BOOST_TEST(error_code(bin.str()) == evnet::errc::malformed);

  frame_builder nested;
  nested.envelope(1, "heartbeat").pk.pack_map(1).pack("future");
  for (int i = 0; i < 7; ++i) {
    nested.pk.pack_array(0xFFFFFFFFU);
  }
  BOOST_TEST(error_code(nested.str()) == evnet::errc::invalid_field);
}

BOOST_AUTO_TEST_CASE(rejects_deep_nesting) {
  frame_builder f;
  f.envelope(1, "heartbeat").pk.pack_map(1).pack("future");
  for (int i = 0; i < 50; ++i) {
    f.pk.pack_array(1);
  }
  f.pk.pack(0);
  BOOST_TEST(error_code(f.str()) == evnet::errc::malformed);
}

// ---- trust: what decode refuses before any machine sees it -------------------------

namespace {

// The error message of a rejected frame; fails the test when it was accepted.
std::string refusal(const p::message& m) {
  const auto r = p::decode(p::encode(m));
  BOOST_REQUIRE_MESSAGE(!r.ok(), "frame was accepted but should have been rejected");
  BOOST_TEST(r.err().code == evnet::errc::invalid_field);
  return r.err().message;
}

bool accepted(const p::message& m) {
  const auto r = p::decode(p::encode(m));
  if (!r.ok()) {
    BOOST_TEST_MESSAGE("rejected: " << r.err().message);
  }
  return r.ok();
}

} // namespace

BOOST_AUTO_TEST_CASE(request_frames_are_capped_at_64_kib) {
  BOOST_TEST(p::max_request_frame_size == 64U * 1024U);
  BOOST_TEST(p::max_request_frame_size < p::max_frame_size);
}

BOOST_AUTO_TEST_CASE(ids_outside_the_safe_alphabet_are_refused_naming_the_field) {
  const std::string hostile[] = {"AL C1", "ALC1\n", "ALC1\"", "D1;DROP", "a/b", "x:y", "caf\xc3\xa9", std::string("A\0B", 3),
                                 "@"};
  for (const auto& bad : hostile) {
    BOOST_TEST_INFO("id '" << bad << "'");
    BOOST_TEST(refusal(p::make("monitor:ALC1", p::cp_auth{bad})).find("'cp_id'") != std::string::npos);
    BOOST_TEST(refusal(p::make("engine:ALC1", p::engine_hello{bad})).find("'cp_id'") != std::string::npos);
    BOOST_TEST(refusal(p::make("driver:D1", p::driver_hello{bad})).find("'driver_id'") != std::string::npos);

    auto req = s::sample(std::type_identity<p::charge_request>{});
    req.request_id = bad;
    BOOST_TEST(refusal(p::make("driver:D101", req)).find("'request_id'") != std::string::npos);

    auto fin = s::sample(std::type_identity<p::charge_finished>{});
    fin.record.charge_id = bad;
    BOOST_TEST(refusal(p::make("engine:ALC1", fin)).find("'record.charge_id'") != std::string::npos);

    auto conf = s::sample(std::type_identity<p::engine_configure>{});
    conf.config.cp_id = bad;
    BOOST_TEST(refusal(p::make("monitor:ALC1", conf)).find("'config.cp_id'") != std::string::npos);

    auto snap = s::sample(std::type_identity<p::snapshot>{});
    snap.cps[2].cp_id = bad;
    BOOST_TEST(refusal(p::make("central", snap)).find("'cps[2].cp_id'") != std::string::npos);

    auto ack = s::sample(std::type_identity<p::ticket_ack>{});
    ack.charge_id = bad;
    BOOST_TEST(refusal(p::make("driver:D1", ack)).find("'charge_id'") != std::string::npos);
  }
  // Empty ids stay allowed (a refused reply names no charge; defaults).
  BOOST_TEST(accepted(p::make("central", p::charge_reply{false, "no", "ALC1", "", "D1-1"})));
  BOOST_TEST(accepted(p::make("central", p::cp_auth_reply{false, "unknown CP", {}})));
}

BOOST_AUTO_TEST_CASE(a_driver_id_may_name_a_local_charge_at_a_cp) {
  auto req = s::sample(std::type_identity<p::charge_request>{});
  req.driver_id = "@ALC1";
  BOOST_TEST(accepted(p::make("monitor:ALC1", req)));
  auto t = s::sample(std::type_identity<p::telemetry>{});
  t.driver_id = "@ALC1";
  BOOST_TEST(accepted(p::make("engine:ALC1", t)));
  auto fin = s::sample(std::type_identity<p::charge_finished>{});
  fin.record.driver_id = "@ALC1";
  BOOST_TEST(accepted(p::make("engine:ALC1", fin)));

  for (const std::string bad : {"@", "@@ALC1", "@AL C1", "@ALC1:x", "D@1"}) {
    BOOST_TEST_INFO("driver id '" << bad << "'");
    req.driver_id = bad;
    BOOST_TEST(refusal(p::make("monitor:ALC1", req)).find("'driver_id'") != std::string::npos);
    fin.record.driver_id = bad;
    BOOST_TEST(refusal(p::make("engine:ALC1", fin)).find("'record.driver_id'") != std::string::npos);
  }
  // Only a charge's driver may be local: a driver introduces itself by its own id.
  BOOST_TEST(refusal(p::make("driver:D1", p::driver_hello{"@ALC1"})).find("'driver_id'") != std::string::npos);
  // And a CP id never starts with '@'.
  BOOST_TEST(refusal(p::make("monitor:ALC1", p::cp_auth{"@ALC1"})).find("'cp_id'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_sender_uses_safe_characters_plus_colon_and_at) {
  for (const std::string good : {"central", "monitor:ALC1", "driver:D1", "engine:ALC1", "monitor:@ALC1", "a.b_c-d", ""}) {
    BOOST_TEST(accepted(p::make(good, p::heartbeat{})), good);
  }
  for (const std::string bad : {"driver D1", "driver:D1\n", "\x1b[2J", "driver:\"D1\"", "caf\xc3\xa9"}) {
    BOOST_TEST_INFO("sender '" << bad << "'");
    BOOST_TEST(refusal(p::make(bad, p::heartbeat{})).find("'sender'") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(negative_energy_money_and_prices_are_refused) {
  auto t = s::sample(std::type_identity<p::telemetry>{});
  t.kwh = -1.0;
  BOOST_TEST(refusal(p::make("engine:ALC1", t)).find("'kwh' is negative") != std::string::npos);
  t = s::sample(std::type_identity<p::telemetry>{});
  t.price = -0.01;
  BOOST_TEST(refusal(p::make("engine:ALC1", t)).find("'price'") != std::string::npos);

  auto fin = s::sample(std::type_identity<p::charge_finished>{});
  fin.record.amount = -34.65;
  BOOST_TEST(refusal(p::make("engine:ALC1", fin)).find("'record.amount'") != std::string::npos);
  fin = s::sample(std::type_identity<p::charge_finished>{});
  fin.record.kwh = -99;
  BOOST_TEST(refusal(p::make("engine:ALC1", fin)).find("'record.kwh'") != std::string::npos);

  auto conf = s::sample(std::type_identity<p::engine_configure>{});
  conf.config.price = -0.35;
  BOOST_TEST(refusal(p::make("monitor:ALC1", conf)).find("'config.price'") != std::string::npos);

  auto update = s::sample(std::type_identity<p::cp_update>{});
  update.cp.price = -1;
  BOOST_TEST(refusal(p::make("central", update)).find("'cp.price'") != std::string::npos);

  auto pr = s::sample(std::type_identity<p::progress>{});
  pr.amount = -2;
  BOOST_TEST(refusal(p::make("central", pr)).find("'amount'") != std::string::npos);

  // Zero is a real value (a charge never plugged in bills nothing).
  t = s::sample(std::type_identity<p::telemetry>{});
  t.kwh = 0.0;
  t.amount = 0.0;
  BOOST_TEST(accepted(p::make("engine:ALC1", t)));
  t.kwh = -0.0;
  BOOST_TEST(accepted(p::make("engine:ALC1", t)));
}

BOOST_AUTO_TEST_CASE(negative_durations_are_refused_except_a_drivers_request) {
  // A driver's request is denied by Central with a reason naming it.
  auto req = s::sample(std::type_identity<p::charge_request>{});
  req.duration_s = -5;
  BOOST_TEST(accepted(p::make("driver:D101", req)));

  auto ask = s::sample(std::type_identity<p::authorize_request>{});
  ask.duration_s = -1;
  BOOST_TEST(refusal(p::make("central", ask)).find("'duration_s'") != std::string::npos);

  auto health = s::sample(std::type_identity<p::health_reply>{});
  health.charge.elapsed_s = -3;
  BOOST_TEST(refusal(p::make("engine", health)).find("'charge.elapsed_s'") != std::string::npos);
  health = s::sample(std::type_identity<p::health_reply>{});
  health.charge.duration_s = -3;
  BOOST_TEST(refusal(p::make("engine", health)).find("'charge.duration_s'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_sample_still_decodes) {
  // The fuzz corpus is built from the samples: each must pass the new rules.
  s::for_each_type([&]<class T>(std::type_identity<T>) {
    BOOST_TEST(accepted(s::sample_message<T>()), T::name);
  });
}

// ---- the stream's port and heartbeat; the transport's heartbeat check -----------------

BOOST_AUTO_TEST_CASE(a_snapshot_names_its_stream_port_and_an_old_one_means_unknown) {
  const auto snap = p::decode(p::encode(s::sample_message<p::snapshot>()));
  BOOST_REQUIRE(snap.ok());
  BOOST_TEST(snap->as<p::snapshot>().stream_port == 7001U);
  // A snapshot from an older Central has no such key: 0, unknown.
  const auto old = p::decode(snapshot_with_empty_cps(2));
  BOOST_REQUIRE(old.ok());
  BOOST_TEST(old->as<p::snapshot>().stream_port == 0U);
  // Not a TCP port: refused, naming the field.
  auto bad = s::sample(std::type_identity<p::snapshot>{});
  bad.stream_port = 65536;
  const auto refused = p::decode(p::encode(p::make("central", bad)));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.err().code == evnet::errc::invalid_field);
  BOOST_TEST(refused.err().message.find("stream_port") != std::string::npos);
  bad.stream_port = 65535;
  BOOST_TEST(p::decode(p::encode(p::make("central", bad))).ok());
}

BOOST_AUTO_TEST_CASE(a_stream_heartbeat_carries_the_last_sequence) {
  const auto hb = p::decode(p::encode(p::make("central", p::stream_heartbeat{18446744073709551615ULL})));
  BOOST_REQUIRE(hb.ok());
  BOOST_TEST(hb->type() == "stream_heartbeat");
  BOOST_TEST(hb->as<p::stream_heartbeat>().seq == 18446744073709551615ULL);
}

BOOST_AUTO_TEST_CASE(the_heartbeat_byte_check_knows_heartbeats_and_nothing_else) {
  s::for_each_type([]<class T>(std::type_identity<T>) {
    BOOST_TEST_CONTEXT("type " << T::name) {
      const auto frame = p::encode(s::sample_message<T>());
      constexpr bool is_heartbeat = std::is_same_v<T, p::heartbeat>;
      BOOST_TEST(p::is_heartbeat_frame(frame.data(), frame.size()) == is_heartbeat);
    }
  });
  for (const std::size_t sender_size : {std::size_t{1}, std::size_t{31}, std::size_t{32}, p::max_id_size}) {
    for (const std::uint64_t corr : {std::uint64_t{0}, std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
      const auto frame = p::encode(p::make(std::string(sender_size, 's'), p::heartbeat{}, corr));
      BOOST_TEST(p::is_heartbeat_frame(frame.data(), frame.size()), "sender " << sender_size << " corr " << corr);
    }
  }
  const auto frame = p::encode(p::make("central", p::heartbeat{}));
  BOOST_TEST(!p::is_heartbeat_frame(frame.data(), 12));          // the prefix alone
  BOOST_TEST(!p::is_heartbeat_frame(frame.data(), 0));
  std::string other_version = frame;
  other_version[1] = 2;
  BOOST_TEST(!p::is_heartbeat_frame(other_version.data(), other_version.size()));  // decode() says bad_version
  std::string huge = frame + std::string(1000, '\0');
  BOOST_TEST(!p::is_heartbeat_frame(huge.data(), huge.size()));  // decode() says what it is
}
