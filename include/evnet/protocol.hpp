#pragma once

// The evnet wire protocol: every message any process sends, in one place.
//
// A ZeroMQ frame carries one MessagePack array, the envelope:
//   [ version:uint, type:str, sender:str, correlation:uint, body:map ]
// Bodies use MessagePack's MAP form (MSGPACK_DEFINE_MAP), so a newer peer may
// add fields: missing keys keep their defaults and unknown keys are ignored.
// `correlation` pairs a reply with its request (0 for unsolicited messages).
//
// decode() is the only way bytes from the network become a message. It
// enforces unpack limits, rejects trailing bytes, unknown types, other
// versions and out-of-range fields, and returns an error instead of throwing.
// Out of range: ids outside [A-Za-z0-9._-] (a driver id may also be "@" +
// CP id, a local charge), a sender outside [A-Za-z0-9._:@-], kWh, amounts
// and prices that are negative or not finite, negative durations.
//
// Thread-safety: all functions are reentrant; messages are plain values.

#include "evnet/result.hpp"
#include "evnet/vocabulary.hpp"

#include <msgpack.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// ---- vocabulary enums on the wire ---------------------------------------------
// An enum travels as its vocabulary spelling (a string), so the wire stays
// readable and stable if the enum is reordered; an unknown word is a decode
// error (msgpack::type_error), never a silently wrong value.
namespace evnet::protocol::detail {
inline std::optional<cp_state> parse_enum(std::string_view s, cp_state*) { return parse_cp_state(s); }
inline std::optional<cp_order> parse_enum(std::string_view s, cp_order*) { return parse_cp_order(s); }
inline std::optional<end_reason> parse_enum(std::string_view s, end_reason*) { return parse_end_reason(s); }
inline std::optional<errc> parse_enum(std::string_view s, errc*) { return parse_errc(s); }

template <class E>
struct enum_as_string {
  static void convert(const msgpack::object& o, E& v) {
    if (o.type != msgpack::type::STR) {
      throw msgpack::type_error();
    }
    auto parsed = parse_enum(std::string_view(o.via.str.ptr, o.via.str.size), static_cast<E*>(nullptr));
    if (!parsed) {
      throw msgpack::type_error();
    }
    v = *parsed;
  }
  template <class Stream>
  static void pack(msgpack::packer<Stream>& pk, E v) {
    const std::string_view s = to_string(v);
    pk.pack_str(static_cast<std::uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  }
  static void object(msgpack::object& o, E v) {
    // The spelling is a static string, so the object may point at it.
    const std::string_view s = to_string(v);
    o.type = msgpack::type::STR;
    o.via.str.ptr = s.data();
    o.via.str.size = static_cast<std::uint32_t>(s.size());
  }
};
} // namespace evnet::protocol::detail

#define EVNET_MSGPACK_ENUM_AS_STRING(E)                                                              \
  namespace msgpack {                                                                                \
  MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {                                            \
    namespace adaptor {                                                                              \
    template <>                                                                                      \
    struct convert<E> {                                                                              \
      const msgpack::object& operator()(const msgpack::object& o, E& v) const {                      \
        evnet::protocol::detail::enum_as_string<E>::convert(o, v);                                   \
        return o;                                                                                    \
      }                                                                                              \
    };                                                                                               \
    template <>                                                                                      \
    struct pack<E> {                                                                                 \
      template <class Stream>                                                                        \
      msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& pk, const E& v) const {           \
        evnet::protocol::detail::enum_as_string<E>::pack(pk, v);                                     \
        return pk;                                                                                   \
      }                                                                                              \
    };                                                                                               \
    template <>                                                                                      \
    struct object<E> {                                                                               \
      void operator()(msgpack::object& o, const E& v) const {                                        \
        evnet::protocol::detail::enum_as_string<E>::object(o, v);                                    \
      }                                                                                              \
    };                                                                                               \
    template <>                                                                                      \
    struct object_with_zone<E> {                                                                     \
      void operator()(msgpack::object::with_zone& o, const E& v) const {                             \
        evnet::protocol::detail::enum_as_string<E>::object(o, v);                                    \
      }                                                                                              \
    };                                                                                               \
    }                                                                                                \
  }                                                                                                  \
  }

EVNET_MSGPACK_ENUM_AS_STRING(evnet::cp_state)
EVNET_MSGPACK_ENUM_AS_STRING(evnet::cp_order)
EVNET_MSGPACK_ENUM_AS_STRING(evnet::end_reason)
EVNET_MSGPACK_ENUM_AS_STRING(evnet::errc)

namespace evnet::protocol {

inline constexpr std::uint32_t version = 1;

// Bounds applied by decode(). Ids are short printable names; free text is
// bounded so that a hostile peer cannot make us allocate without limit.
inline constexpr std::size_t max_id_size = 64;
inline constexpr std::size_t max_text_size = 512;
// A cp_info packs to ~110 bytes with its field names, so a full snapshot
// stays well inside one frame.
inline constexpr std::size_t max_cps_in_snapshot = 50000;
inline constexpr std::size_t max_frame_size = 8 * 1024 * 1024;  // also ZMQ_MAXMSGSIZE
// What Central and the Engine accept on their sockets (ZMQ_MAXMSGSIZE
// there): their inbound messages are requests and reports of a few hundred
// bytes; only a snapshot (Central -> driver) needs max_frame_size.
inline constexpr std::size_t max_request_frame_size = 64 * 1024;
using evnet::max_duration_s;

// ---- shared value types ---------------------------------------------------

// What Central tells a CP about itself once authenticated.
struct cp_config {
  std::string cp_id;
  std::string location;
  double price = 0.0;  // EUR per kWh
  MSGPACK_DEFINE_MAP(cp_id, location, price)
};

// One row of the network table, as drivers and the PUB stream see it.
struct cp_info {
  std::string cp_id;
  std::string location;
  double price = 0.0;
  cp_state state = cp_state::disconnected;
  std::string driver_id;  // while BUSY
  double kwh = 0.0;       // while BUSY
  double amount = 0.0;    // while BUSY, EUR
  MSGPACK_DEFINE_MAP(cp_id, location, price, state, driver_id, kwh, amount)
};

// A finished charge. The business key is (cp_id, charge_id): the CP's
// Engine generates charge_id, and every store deduplicates on that pair.
struct charge_record {
  std::string cp_id;
  std::string charge_id;
  std::string driver_id;
  double kwh = 0.0;
  double price = 0.0;
  double amount = 0.0;
  std::int64_t start_ms = 0;  // Unix epoch, milliseconds
  std::int64_t end_ms = 0;
  end_reason reason = end_reason::completed;  // why it ended
  MSGPACK_DEFINE_MAP(cp_id, charge_id, driver_id, kwh, price, amount, start_ms, end_ms, reason)
};

// ---- message bodies ---------------------------------------------------------
// Each body names itself; the name is the envelope's `type`.

// Base of the bodies without fields, sent as an empty map (any map is
// accepted, for newer peers). It exists because MSGPACK_DEFINE_MAP() with no
// arguments does not compile in msgpack-cxx 4.1.3.
struct empty_body {
  template <class Packer>
  void msgpack_pack(Packer& pk) const { pk.pack_map(0); }
  void msgpack_unpack(const msgpack::object& o) {
    if (o.type != msgpack::type::MAP) {
      throw msgpack::type_error();
    }
  }
  template <class Object>
  void msgpack_object(Object* o, msgpack::zone&) const {
    o->type = msgpack::type::MAP;
    o->via.map.ptr = nullptr;
    o->via.map.size = 0;
  }
};

// Liveness (Paranoid Pirate). Handled inside the transport; never reaches actors.
struct heartbeat : empty_body {
  static constexpr std::string_view name = "heartbeat";
};

// The reply to anything that could not be served: malformed input, unknown
// type, wrong version, unauthenticated peer ("unauthenticated" asks the peer
// to authenticate again, e.g. after Central restarted).
struct error_reply {
  static constexpr std::string_view name = "error";
  errc code = errc::malformed;
  std::string detail;
  MSGPACK_DEFINE_MAP(code, detail)
};

// Generic acknowledgement of a command, correlated with it.
struct ack {
  static constexpr std::string_view name = "ack";
  bool ok = true;
  std::string reason;
  MSGPACK_DEFINE_MAP(ok, reason)
};

// Monitor -> Central: authenticate this CP id. The OCPP gateway, speaking
// as an OCPP charge point's Monitor, also passes the HTTP Basic password
// the charge point presented: Central checks it against the salted hash
// its registry holds (a wrong one is refused and audited). Empty for
// evnet's own Monitors, whose CURVE key is their whole credential.
struct cp_auth {
  static constexpr std::string_view name = "cp_auth";
  std::string cp_id;
  std::string ocpp_password = {};
  MSGPACK_DEFINE_MAP(cp_id, ocpp_password)
};

// Central -> Monitor: accepted with the CP's configuration, or denied.
struct cp_auth_reply {
  static constexpr std::string_view name = "cp_auth_reply";
  bool ok = false;
  std::string reason;
  cp_config config;
  // Why not, for programs (`reason` is for people): already_connected (the
  // CP's Monitor is still connected: a gateway waits and asks again),
  // forbidden (a wrong OCPP password), unknown_cp, ... Meaningless when ok.
  errc code = errc::invalid_state;
  MSGPACK_DEFINE_MAP(ok, reason, config, code)
};

// Monitor -> Central, every second once authenticated: the Engine's health.
// Periodic and idempotent, so a lost one is healed by the next.
struct cp_status {
  static constexpr std::string_view name = "cp_status";
  std::string cp_id;
  bool engine_ok = false;
  std::string detail;  // why not ok: "no answer from engine", "fault", ...
  // The CP says it is out of service of its own accord (an OCPP charge
  // point's Unavailable), not stopped by Central: shown OUT_OF_ORDER.
  // Absent from an older Monitor's map: false.
  bool out_of_service = false;
  MSGPACK_DEFINE_MAP(cp_id, engine_ok, detail, out_of_service)
};

// Central -> Monitor -> Engine: operator STOP / RESUME. Answered with ack.
struct cp_command {
  static constexpr std::string_view name = "cp_command";
  std::string cp_id;
  cp_order command = cp_order::stop;
  std::string reason;
  MSGPACK_DEFINE_MAP(cp_id, command, reason)
};

// Monitor -> Engine: the configuration Central gave the CP. Answered with ack.
struct engine_configure {
  static constexpr std::string_view name = "engine_configure";
  cp_config config;
  MSGPACK_DEFINE_MAP(config)
};

// Monitor -> Engine, every second.
struct health_check : empty_body {
  static constexpr std::string_view name = "health_check";
};

// The charge an Engine is running, as its Monitor shows it.
struct charge_view {
  std::string charge_id;
  std::string driver_id;
  bool plugged = false;
  double kwh = 0.0;
  double amount = 0.0;
  std::int64_t elapsed_s = 0;
  std::int64_t duration_s = 0;  // 0: until unplugged
  MSGPACK_DEFINE_MAP(charge_id, driver_id, plugged, kwh, amount, elapsed_s, duration_s)
};

// Engine -> Monitor.
struct health_reply {
  static constexpr std::string_view name = "health_reply";
  bool ok = true;            // false while the Engine has a fault
  bool configured = false;   // false until its Monitor passed on the CP's configuration
  cp_state state = cp_state::active;  // the Engine's own view: ACTIVE, BUSY, BROKEN, OUT_OF_ORDER
  bool charging = false;
  charge_view charge;        // valid when charging
  bool has_last = false;
  charge_record last;        // the last finished charge, when has_last
  bool out_of_service = false;  // the CP itself is out of service (OCPP Unavailable); see cp_status
  MSGPACK_DEFINE_MAP(ok, configured, state, charging, charge, has_last, last, out_of_service)
};

// The authorisation is a fenced, two-sided decision (no energy without a yes):
//  1. Central -> Monitor -> Engine: authorize_request. The Engine reserves the
//     CP and answers authorize_reply with the charge id it will use; it
//     supplies nothing yet.
//  2. Central decides once, on the reply: `confirmed` while the driver is
//     still waiting, cancelled when the driver was already told no (timeout)
//     or the CP refused. The decision is sent as authorize_decision and
//     resent until decision_ack; a repeated reply gets the same decision.
//  3. The Engine supplies only a confirmed charge. A reservation that no
//     decision reaches expires (no energy, no record); a confirmation that
//     arrives after that is answered decision_ack{ok=false}, and Central
//     ends the charge it had announced.
// The Monitor relays each step and repeats the authorize_reply until the
// decision passes back, so that a lost reply is not a lost yes.

// Central -> Monitor -> Engine: may this driver charge here now?
struct authorize_request {
  static constexpr std::string_view name = "authorize_request";
  std::string cp_id;
  std::string driver_id;
  std::int64_t duration_s = 0;  // 0: until unplugged
  std::string request_id;
  MSGPACK_DEFINE_MAP(cp_id, driver_id, duration_s, request_id)
};

// Engine -> Monitor -> Central.
struct authorize_reply {
  static constexpr std::string_view name = "authorize_reply";
  bool ok = false;
  std::string reason;
  std::string charge_id;
  std::string cp_id;
  std::string request_id;  // the request this answers (retries repeat it)
  MSGPACK_DEFINE_MAP(ok, reason, charge_id, cp_id, request_id)
};

// Central -> Monitor -> Engine: the fence's verdict on a reservation.
// Resent until decision_ack; applying it twice changes nothing.
struct authorize_decision {
  static constexpr std::string_view name = "authorize_decision";
  std::string cp_id;
  std::string request_id;
  std::string charge_id;
  bool confirmed = false;  // true: supply; false: drop the reservation
  MSGPACK_DEFINE_MAP(cp_id, request_id, charge_id, confirmed)
};

// Engine -> Monitor -> Central: the decision arrived. ok=false with
// `reservation_expired` means a confirmation came too late: nothing was
// supplied and nothing will be.
struct decision_ack {
  static constexpr std::string_view name = "decision_ack";
  std::string cp_id;
  std::string request_id;
  std::string charge_id;
  bool ok = true;
  std::string reason;
  MSGPACK_DEFINE_MAP(cp_id, request_id, charge_id, ok, reason)
};

// Engine -> Central: announces which CP this Engine serves (after configure
// and after every reconnect). Answered with ack.
struct engine_hello {
  static constexpr std::string_view name = "engine_hello";
  std::string cp_id;
  MSGPACK_DEFINE_MAP(cp_id)
};

// Engine -> Central, every second while charging. Not acknowledged: the
// next one supersedes it.
struct telemetry {
  static constexpr std::string_view name = "telemetry";
  std::string cp_id;
  std::string charge_id;
  std::string driver_id;
  std::uint64_t seq = 0;
  double kwh = 0.0;
  double amount = 0.0;
  double price = 0.0;
  MSGPACK_DEFINE_MAP(cp_id, charge_id, driver_id, seq, kwh, amount, price)
};

// Engine -> Central: a finished charge. The Engine keeps it in its local
// store and resends it until Central answers record_ack (offline
// transactions, as in OCPP).
struct charge_finished {
  static constexpr std::string_view name = "charge_finished";
  charge_record record;
  MSGPACK_DEFINE_MAP(record)
};

struct record_ack {
  static constexpr std::string_view name = "record_ack";
  std::string cp_id;
  std::string charge_id;
  MSGPACK_DEFINE_MAP(cp_id, charge_id)
};

// Driver -> Central: who I am. Central answers with ack, then delivers any
// ticket the driver has not acknowledged yet.
struct driver_hello {
  static constexpr std::string_view name = "driver_hello";
  std::string driver_id;
  MSGPACK_DEFINE_MAP(driver_id)
};

// Driver -> Central: the Clone pattern's state request.
struct snapshot_request : empty_body {
  static constexpr std::string_view name = "snapshot_request";
};

// Central -> Driver: the whole table as of stream sequence `seq`.
// `stream_port` is the TCP port of Central's PUB stream (on the host the
// client reached Central at); 0 means unknown (an older Central). Clients
// learn the port here instead of assuming one.
struct snapshot {
  static constexpr std::string_view name = "snapshot";
  std::uint64_t seq = 0;
  std::vector<cp_info> cps;
  std::uint32_t stream_port = 0;
  MSGPACK_DEFINE_MAP(seq, cps, stream_port)
};

// Central PUB stream (topic "cp"): one CP changed. Sequence numbers are
// consecutive; a gap means the subscriber must ask for a new snapshot.
struct cp_update {
  static constexpr std::string_view name = "cp_update";
  std::uint64_t seq = 0;
  cp_info cp;
  MSGPACK_DEFINE_MAP(seq, cp)
};

// Central PUB stream (topic "cp"), once a second: the Clone pattern's HUGZ.
// `seq` is the sequence number of the last cp_update published (not a new
// one). A subscriber that applied less has lost updates and asks for a
// snapshot; one that hears nothing on the stream for a few seconds
// resubscribes.
struct stream_heartbeat {
  static constexpr std::string_view name = "stream_heartbeat";
  std::uint64_t seq = 0;
  MSGPACK_DEFINE_MAP(seq)
};

// Driver (or Monitor, for a charge started at the CP) -> Central.
// request_id makes retries idempotent: Central answers a repeated id with
// the first answer and never starts a second charge.
struct charge_request {
  static constexpr std::string_view name = "charge_request";
  std::string driver_id;
  std::string cp_id;
  std::int64_t duration_s = 0;  // 0: until unplugged
  std::string request_id;
  MSGPACK_DEFINE_MAP(driver_id, cp_id, duration_s, request_id)
};

struct charge_reply {
  static constexpr std::string_view name = "charge_reply";
  bool ok = false;
  std::string reason;
  std::string cp_id;
  std::string charge_id;
  std::string request_id;
  MSGPACK_DEFINE_MAP(ok, reason, cp_id, charge_id, request_id)
};

// Central -> Driver, every second of the driver's own charge.
struct progress {
  static constexpr std::string_view name = "progress";
  std::string cp_id;
  std::string charge_id;
  double kwh = 0.0;
  double amount = 0.0;
  MSGPACK_DEFINE_MAP(cp_id, charge_id, kwh, amount)
};

// Central -> Driver: the charge was cut short (fault, disconnection); the
// ticket follows once the CP reports the final figures.
struct charge_interrupted {
  static constexpr std::string_view name = "charge_interrupted";
  std::string cp_id;
  std::string charge_id;
  double kwh = 0.0;
  double amount = 0.0;
  std::string reason;
  MSGPACK_DEFINE_MAP(cp_id, charge_id, kwh, amount, reason)
};

// Central -> Driver: the final ticket; resent until ticket_ack.
struct ticket {
  static constexpr std::string_view name = "ticket";
  charge_record record;
  MSGPACK_DEFINE_MAP(record)
};

struct ticket_ack {
  static constexpr std::string_view name = "ticket_ack";
  std::string cp_id;
  std::string charge_id;
  MSGPACK_DEFINE_MAP(cp_id, charge_id)
};

using body = std::variant<heartbeat, error_reply, ack, cp_auth, cp_auth_reply, cp_status, cp_command,
                          engine_configure, health_check, health_reply, authorize_request, authorize_reply,
                          authorize_decision, decision_ack, engine_hello, telemetry, charge_finished, record_ack, driver_hello, snapshot_request,
                          snapshot, cp_update, charge_request, charge_reply, progress, charge_interrupted, ticket,
                          ticket_ack, stream_heartbeat>;

// A decoded message: envelope fields plus a typed body.
struct message {
  std::uint32_t version = protocol::version;
  std::string sender;            // "central", "monitor:ALC1", "driver:D1", ...
  std::uint64_t correlation = 0; // pairs replies with requests; 0 when unsolicited
  body payload;

  std::string_view type() const;

  template <class T>
  bool is() const { return std::holds_alternative<T>(payload); }
  template <class T>
  const T& as() const { return std::get<T>(payload); }
};

// Convenience: build a message from a body.
template <class T>
message make(std::string sender, T body, std::uint64_t correlation = 0) {
  message m;
  m.sender = std::move(sender);
  m.correlation = correlation;
  m.payload = std::move(body);
  return m;
}

// Serialises a message into one frame.
std::string encode(const message& m);

// Parses and validates one frame. Error codes: "malformed" (not MessagePack,
// truncated, trailing bytes, wrong shape or field type), "too_large",
// "bad_version", "unknown_type", "invalid_field" (a field out of range).
result<message> decode(const void* data, std::size_t size);
inline result<message> decode(std::string_view frame) { return decode(frame.data(), frame.size()); }

// True when `frame` is, by a byte check of its first fields, a `heartbeat`
// of this version as encode() writes it: [1, "heartbeat", ...] in a small
// frame. No decode, no allocation: the transport answers liveness traffic
// with it. A heartbeat encoded otherwise is still one for decode().
bool is_heartbeat_frame(const void* data, std::size_t size) noexcept;

// Names of all message types, for diagnostics and the fuzz corpus.
std::vector<std::string_view> type_names();

} // namespace evnet::protocol

