#include "evnet/protocol.hpp"

#include "evnet/text.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <typeinfo>
#include <utility>

namespace evnet::protocol {

namespace {

// ---- field validation ---------------------------------------------------------
// msgpack only checks types; these bounds keep hostile but well-typed input
// (a 500-byte cp_id, a NaN price) from reaching the domain.

class checker {
public:
  // An identifier: bounded and, when present, in the safe alphabet
  // (text.hpp), so that no id a peer picked can smuggle a quote, a control
  // character or a separator into a log line, a key name or a query.
  void id(std::string_view field, const std::string& s) {
    bounded(field, s, max_id_size);
    if (!s.empty() && s.size() <= max_id_size && !is_safe_id(s, max_id_size)) {
      fail(field, "holds characters outside [A-Za-z0-9._-]");
    }
  }
  // A driver id, which may also name a local charge at a CP: "@" + CP id.
  void driver(std::string_view field, const std::string& s) {
    if (!s.empty() && s.front() == '@') {
      bounded(field, s, max_id_size);
      if (s.size() <= max_id_size && !is_safe_id(std::string_view(s).substr(1), max_id_size)) {
        fail(field, "is not '@' followed by a CP id in [A-Za-z0-9._-]");
      }
      return;
    }
    id(field, s);
  }
  void text(std::string_view field, const std::string& s) { bounded(field, s, max_text_size); }

  void finite(std::string_view field, double d) {
    if (!std::isfinite(d)) {
      fail(field, "is not a finite number");
    }
  }
  // Energy, money and prices: finite and never negative (a negative amount
  // would credit a driver).
  void quantity(std::string_view field, double d) {
    finite(field, d);
    if (std::isfinite(d) && d < 0.0) {
      fail(field, "is negative");
    }
  }
  void duration(std::string_view field, std::int64_t d) {
    if (d < 0) {
      fail(field, "is negative");
    }
  }

  template <class F>
  void nested(std::string_view field, F&& check_fields) {
    const std::size_t saved = path_.size();
    path_.append(field).append(".");
    check_fields();
    path_.resize(saved);
  }

  void fail(std::string_view field, const std::string& why) {
    if (!error_) {
      error_ = error{errc::invalid_field, "field '" + path_ + std::string(field) + "' " + why};
    }
  }

  std::optional<error> take_error() { return std::move(error_); }

private:
  void bounded(std::string_view field, const std::string& s, std::size_t max) {
    if (s.size() > max) {
      fail(field, "is " + std::to_string(s.size()) + " bytes long (max " + std::to_string(max) + ")");
    }
  }

  std::string path_;
  std::optional<error> error_;
};

// One overload per type: a message without one does not compile, so a new
// field cannot silently skip validation. Durations are only refused when
// negative here; their upper bound is a business rule the domain reports
// clearly.

void check(checker& c, const cp_config& v) {
  c.id("cp_id", v.cp_id);
  c.text("location", v.location);
  c.quantity("price", v.price);
}

void check(checker& c, const cp_info& v) {
  c.id("cp_id", v.cp_id);
  c.text("location", v.location);
  c.quantity("price", v.price);
  c.driver("driver_id", v.driver_id);
  c.quantity("kwh", v.kwh);
  c.quantity("amount", v.amount);
}

void check(checker& c, const charge_record& v) {
  c.id("cp_id", v.cp_id);
  c.id("charge_id", v.charge_id);
  c.driver("driver_id", v.driver_id);
  c.quantity("kwh", v.kwh);
  c.quantity("price", v.price);
  c.quantity("amount", v.amount);
}

void check(checker& c, const charge_view& v) {
  c.id("charge_id", v.charge_id);
  c.driver("driver_id", v.driver_id);
  c.duration("elapsed_s", v.elapsed_s);
  c.duration("duration_s", v.duration_s);
  c.quantity("kwh", v.kwh);
  c.quantity("amount", v.amount);
}

void check(checker&, const heartbeat&) {}
void check(checker&, const health_check&) {}
void check(checker&, const snapshot_request&) {}

void check(checker& c, const error_reply& v) { c.text("detail", v.detail); }

void check(checker& c, const ack& v) { c.text("reason", v.reason); }
void check(checker& c, const cp_auth& v) {
  c.id("cp_id", v.cp_id);
  c.text("ocpp_password", v.ocpp_password);
}

void check(checker& c, const cp_auth_reply& v) {
  c.text("reason", v.reason);
  c.nested("config", [&] { check(c, v.config); });
}

void check(checker& c, const cp_status& v) {
  c.id("cp_id", v.cp_id);
  c.text("detail", v.detail);
}

void check(checker& c, const cp_command& v) {
  c.id("cp_id", v.cp_id);
  c.text("reason", v.reason);
}

void check(checker& c, const engine_configure& v) {
  c.nested("config", [&] { check(c, v.config); });
}

void check(checker& c, const health_reply& v) {
  c.nested("charge", [&] { check(c, v.charge); });
  c.nested("last", [&] { check(c, v.last); });
}

void check(checker& c, const authorize_request& v) {
  c.id("cp_id", v.cp_id);
  c.driver("driver_id", v.driver_id);
  c.duration("duration_s", v.duration_s);
  c.id("request_id", v.request_id);
}

void check(checker& c, const authorize_reply& v) {
  c.text("reason", v.reason);
  c.id("charge_id", v.charge_id);
  c.id("cp_id", v.cp_id);
  c.id("request_id", v.request_id);
}

void check(checker& c, const authorize_decision& v) {
  c.id("cp_id", v.cp_id);
  c.id("request_id", v.request_id);
  c.id("charge_id", v.charge_id);
}

void check(checker& c, const decision_ack& v) {
  c.id("cp_id", v.cp_id);
  c.id("request_id", v.request_id);
  c.id("charge_id", v.charge_id);
  c.text("reason", v.reason);
}

void check(checker& c, const engine_hello& v) { c.id("cp_id", v.cp_id); }

void check(checker& c, const telemetry& v) {
  c.id("cp_id", v.cp_id);
  c.id("charge_id", v.charge_id);
  c.driver("driver_id", v.driver_id);
  c.quantity("kwh", v.kwh);
  c.quantity("amount", v.amount);
  c.quantity("price", v.price);
}

void check(checker& c, const charge_finished& v) {
  c.nested("record", [&] { check(c, v.record); });
}

void check(checker& c, const record_ack& v) {
  c.id("cp_id", v.cp_id);
  c.id("charge_id", v.charge_id);
}

void check(checker& c, const driver_hello& v) { c.id("driver_id", v.driver_id); }

void check(checker& c, const snapshot& v) {
  if (v.stream_port > 65535) {
    c.fail("stream_port", "is " + std::to_string(v.stream_port) + ", not a TCP port");
  }
  // The unpack limit already bounds arrays; this keeps the rule explicit
  // should the limits ever be loosened.
  if (v.cps.size() > max_cps_in_snapshot) {
    c.fail("cps", "has " + std::to_string(v.cps.size()) + " entries (max " +
                      std::to_string(max_cps_in_snapshot) + ")");
    return;
  }
  for (std::size_t i = 0; i < v.cps.size(); ++i) {
    c.nested("cps[" + std::to_string(i) + "]", [&] { check(c, v.cps[i]); });
  }
}

void check(checker& c, const cp_update& v) {
  c.nested("cp", [&] { check(c, v.cp); });
}

void check(checker&, const stream_heartbeat&) {}

void check(checker& c, const charge_request& v) {
  c.driver("driver_id", v.driver_id);
  c.id("cp_id", v.cp_id);
  // A driver's duration, even a negative one, gets a reasoned denial from
  // Central that names the request (the domain's rule), not a bare error.
  c.id("request_id", v.request_id);
}

void check(checker& c, const charge_reply& v) {
  c.text("reason", v.reason);
  c.id("cp_id", v.cp_id);
  c.id("charge_id", v.charge_id);
  c.id("request_id", v.request_id);
}

void check(checker& c, const progress& v) {
  c.id("cp_id", v.cp_id);
  c.id("charge_id", v.charge_id);
  c.quantity("kwh", v.kwh);
  c.quantity("amount", v.amount);
}

void check(checker& c, const charge_interrupted& v) {
  c.id("cp_id", v.cp_id);
  c.id("charge_id", v.charge_id);
  c.quantity("kwh", v.kwh);
  c.quantity("amount", v.amount);
  c.text("reason", v.reason);
}

void check(checker& c, const ticket& v) {
  c.nested("record", [&] { check(c, v.record); });
}

void check(checker& c, const ticket_ack& v) {
  c.id("cp_id", v.cp_id);
  c.id("charge_id", v.charge_id);
}

// ---- type table -----------------------------------------------------------------
// Built from the variant itself, so adding a message means adding it to
// `body` (plus its check() overload) and nothing else.

using body_decoder = result<body> (*)(const msgpack::object&);

struct type_entry {
  std::string_view name;
  body_decoder decode;
};

template <class T>
result<body> decode_body(const msgpack::object& o) {
  T b;
  o.convert(b);  // throws msgpack::type_error on a wrong field type
  checker c;
  check(c, b);
  if (auto err = c.take_error()) {
    return std::move(*err);
  }
  return body{std::move(b)};
}

template <std::size_t... I>
constexpr auto make_table(std::index_sequence<I...>) {
  return std::array<type_entry, sizeof...(I)>{
      type_entry{std::variant_alternative_t<I, body>::name, &decode_body<std::variant_alternative_t<I, body>>}...};
}

constexpr auto type_table = make_table(std::make_index_sequence<std::variant_size_v<body>>{});

constexpr bool names_unique() {
  for (std::size_t i = 0; i < type_table.size(); ++i) {
    for (std::size_t j = i + 1; j < type_table.size(); ++j) {
      if (type_table[i].name == type_table[j].name) {
        return false;
      }
    }
  }
  return true;
}
static_assert(names_unique(), "two message types share a name");

const type_entry* find_type(std::string_view name) {
  for (const auto& entry : type_table) {
    if (entry.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

// ---- decoding -------------------------------------------------------------------

// msgpack allocates a container's slots as soon as it reads the header, so
// the array and map limits are what stop five bytes from claiming gigabytes.
// They fit the largest legitimate frame: a snapshot is an array of up to
// max_cps_in_snapshot maps inside the envelope (depth 4); bodies have at most
// 9 keys, and the slack in `map` and `depth` lets newer peers add fields.
// Strings, bin and ext are copied only once their bytes have arrived, so the
// frame size already bounds them; per-field bounds are left to checker, whose
// errors name the field.
const msgpack::unpack_limit frame_limits{
    /*array=*/max_cps_in_snapshot,
    /*map=*/64,
    /*str=*/max_frame_size,
    /*bin=*/max_frame_size,
    /*ext=*/max_frame_size,
    /*depth=*/8};

constexpr std::size_t envelope_arity = 5;

error malformed(std::string why) { return error{errc::malformed, std::move(why)}; }

// Echoing attacker-controlled bytes into logs needs care: keep them short and printable.
std::string printable(std::string_view s) {
  constexpr std::size_t max_shown = 32;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max_shown) {
    out += "...";
  }
  return out;
}

result<message> decode_envelope(const msgpack::object& root) {
  if (root.type != msgpack::type::ARRAY) {
    return malformed("frame is not an array");
  }
  if (root.via.array.size != envelope_arity) {
    return malformed("envelope has " + std::to_string(root.via.array.size) + " fields, expected " +
                     std::to_string(envelope_arity));
  }
  const msgpack::object* f = root.via.array.ptr;
  if (f[0].type != msgpack::type::POSITIVE_INTEGER) {
    return malformed("version is not an unsigned integer");
  }
  if (f[1].type != msgpack::type::STR) {
    return malformed("type is not a string");
  }
  if (f[2].type != msgpack::type::STR) {
    return malformed("sender is not a string");
  }
  if (f[3].type != msgpack::type::POSITIVE_INTEGER) {
    return malformed("correlation is not an unsigned integer");
  }
  if (f[4].type != msgpack::type::MAP) {
    return malformed("body is not a map");
  }

  // Version first: a peer from another version may use types we do not know.
  const std::uint64_t frame_version = f[0].via.u64;
  if (frame_version != version) {
    return error{errc::bad_version, "protocol version " + std::to_string(frame_version) + ", expected " +
                                    std::to_string(version)};
  }

  const std::string_view type_name(f[1].via.str.ptr, f[1].via.str.size);
  const type_entry* entry = find_type(type_name);
  if (entry == nullptr) {
    return error{errc::unknown_type, "unknown message type '" + printable(type_name) + "'"};
  }

  message m;
  m.version = version;
  m.sender.assign(f[2].via.str.ptr, f[2].via.str.size);
  if (m.sender.size() > max_id_size) {
    return error{errc::invalid_field, "field 'sender' is " + std::to_string(m.sender.size()) + " bytes long (max " +
                                      std::to_string(max_id_size) + ")"};
  }
  for (const char ch : m.sender) {
    const bool safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '-' || ch == '_' || ch == '.' || ch == ':' || ch == '@';
    if (!safe) {
      return error{errc::invalid_field, "field 'sender' holds characters outside [A-Za-z0-9._:@-]"};
    }
  }
  m.correlation = f[3].via.u64;

  auto payload = entry->decode(f[4]);
  if (!payload) {
    return payload.err();
  }
  m.payload = std::move(payload).value();
  return m;
}

} // namespace

std::string_view message::type() const {
  return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::name; }, payload);
}

std::vector<std::string_view> type_names() {
  std::vector<std::string_view> names;
  names.reserve(type_table.size());
  for (const auto& entry : type_table) {
    names.push_back(entry.name);
  }
  return names;
}

bool is_heartbeat_frame(const void* data, std::size_t size) noexcept {
  // fixarray(5), positive fixint version, fixstr(9) "heartbeat". A valid
  // heartbeat adds a sender of at most max_id_size bytes, a correlation and
  // a (small) map; anything longer takes the decode path.
  static constexpr unsigned char prefix[] = {0x95, 0x01, 0xa9, 'h', 'e', 'a', 'r', 't', 'b', 'e', 'a', 't'};
  static_assert(version == 1, "the heartbeat prefix spells the version");
  constexpr std::size_t max_heartbeat_size = sizeof prefix + 2 + max_id_size + 9 + 16;
  return size >= sizeof prefix + 3 && size <= max_heartbeat_size && std::memcmp(data, prefix, sizeof prefix) == 0;
}

std::string encode(const message& m) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(envelope_arity);
  packer.pack(m.version);
  packer.pack(m.type());
  packer.pack(m.sender);
  packer.pack(m.correlation);
  std::visit([&](const auto& b) { packer.pack(b); }, m.payload);
  return std::string(buffer.data(), buffer.size());
}

result<message> decode(const void* data, std::size_t size) {
  if (size > max_frame_size) {
    return error{errc::too_large, "frame of " + std::to_string(size) + " bytes exceeds " +
                                  std::to_string(max_frame_size)};
  }
  // Bytes off the network must never take a process down: every failure,
  // including allocation failure, becomes an error value.
  try {
    std::size_t offset = 0;
    const msgpack::object_handle handle =
        msgpack::unpack(static_cast<const char*>(data), size, offset, nullptr, nullptr, frame_limits);
    if (offset != size) {
      return malformed(std::to_string(size - offset) + " trailing bytes after the frame");
    }
    return decode_envelope(handle.get());
  } catch (const msgpack::depth_size_overflow&) {
    return malformed("nesting too deep");
  } catch (const msgpack::size_overflow& e) {
    // Only an array or map longer than any legitimate field fails this way.
    return error{errc::invalid_field, std::string("a field exceeds its size limit: ") + e.what()};
  } catch (const msgpack::insufficient_bytes&) {
    return malformed("truncated frame");
  } catch (const msgpack::unpack_error& e) {
    return malformed(std::string("not MessagePack: ") + e.what());
  } catch (const msgpack::type_error&) {
    return malformed("a body field has the wrong type");
  } catch (const std::bad_cast&) {
    return malformed("a body field has the wrong type");
  } catch (const std::bad_alloc&) {
    return error{errc::too_large, "out of memory while decoding"};
  } catch (const std::exception& e) {
    return malformed(std::string("undecodable frame: ") + e.what());
  } catch (...) {
    return malformed("undecodable frame");
  }
}

} // namespace evnet::protocol
