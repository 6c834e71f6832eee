#include "evnet/ocpp/messages.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace evnet::ocpp {

namespace {

using code = call_error_code;

// ---- enum spellings ----------------------------------------------------------

template <class E, std::size_t N>
using table = std::array<std::pair<E, std::string_view>, N>;

constexpr table<charge_point_status, 9> charge_point_statuses{{
    {charge_point_status::available, "Available"},
    {charge_point_status::preparing, "Preparing"},
    {charge_point_status::charging, "Charging"},
    {charge_point_status::suspended_evse, "SuspendedEVSE"},
    {charge_point_status::suspended_ev, "SuspendedEV"},
    {charge_point_status::finishing, "Finishing"},
    {charge_point_status::reserved, "Reserved"},
    {charge_point_status::unavailable, "Unavailable"},
    {charge_point_status::faulted, "Faulted"},
}};

constexpr table<charge_point_error_code, 16> charge_point_error_codes{{
    {charge_point_error_code::connector_lock_failure, "ConnectorLockFailure"},
    {charge_point_error_code::ev_communication_error, "EVCommunicationError"},
    {charge_point_error_code::ground_failure, "GroundFailure"},
    {charge_point_error_code::high_temperature, "HighTemperature"},
    {charge_point_error_code::internal_error, "InternalError"},
    {charge_point_error_code::local_list_conflict, "LocalListConflict"},
    {charge_point_error_code::no_error, "NoError"},
    {charge_point_error_code::other_error, "OtherError"},
    {charge_point_error_code::over_current_failure, "OverCurrentFailure"},
    {charge_point_error_code::power_meter_failure, "PowerMeterFailure"},
    {charge_point_error_code::power_switch_failure, "PowerSwitchFailure"},
    {charge_point_error_code::reader_failure, "ReaderFailure"},
    {charge_point_error_code::reset_failure, "ResetFailure"},
    {charge_point_error_code::under_voltage, "UnderVoltage"},
    {charge_point_error_code::over_voltage, "OverVoltage"},
    {charge_point_error_code::weak_signal, "WeakSignal"},
}};

constexpr table<registration_status, 3> registration_statuses{{
    {registration_status::accepted, "Accepted"},
    {registration_status::pending, "Pending"},
    {registration_status::rejected, "Rejected"},
}};

constexpr table<authorization_status, 5> authorization_statuses{{
    {authorization_status::accepted, "Accepted"},
    {authorization_status::blocked, "Blocked"},
    {authorization_status::expired, "Expired"},
    {authorization_status::invalid, "Invalid"},
    {authorization_status::concurrent_tx, "ConcurrentTx"},
}};

constexpr table<stop_reason, 11> stop_reasons{{
    {stop_reason::emergency_stop, "EmergencyStop"},
    {stop_reason::ev_disconnected, "EVDisconnected"},
    {stop_reason::hard_reset, "HardReset"},
    {stop_reason::local, "Local"},
    {stop_reason::other, "Other"},
    {stop_reason::power_loss, "PowerLoss"},
    {stop_reason::reboot, "Reboot"},
    {stop_reason::remote, "Remote"},
    {stop_reason::soft_reset, "SoftReset"},
    {stop_reason::unlock_command, "UnlockCommand"},
    {stop_reason::de_authorized, "DeAuthorized"},
}};

constexpr table<remote_start_stop_status, 2> remote_start_stop_statuses{{
    {remote_start_stop_status::accepted, "Accepted"},
    {remote_start_stop_status::rejected, "Rejected"},
}};

constexpr table<availability_type, 2> availability_types{{
    {availability_type::inoperative, "Inoperative"},
    {availability_type::operative, "Operative"},
}};

constexpr table<availability_status, 3> availability_statuses{{
    {availability_status::accepted, "Accepted"},
    {availability_status::rejected, "Rejected"},
    {availability_status::scheduled, "Scheduled"},
}};

constexpr table<reading_context, 8> reading_contexts{{
    {reading_context::interruption_begin, "Interruption.Begin"},
    {reading_context::interruption_end, "Interruption.End"},
    {reading_context::sample_clock, "Sample.Clock"},
    {reading_context::sample_periodic, "Sample.Periodic"},
    {reading_context::transaction_begin, "Transaction.Begin"},
    {reading_context::transaction_end, "Transaction.End"},
    {reading_context::trigger, "Trigger"},
    {reading_context::other, "Other"},
}};

constexpr table<value_format, 2> value_formats{{
    {value_format::raw, "Raw"},
    {value_format::signed_data, "SignedData"},
}};

constexpr table<measurand, 22> measurands{{
    {measurand::energy_active_export_register, "Energy.Active.Export.Register"},
    {measurand::energy_active_import_register, "Energy.Active.Import.Register"},
    {measurand::energy_reactive_export_register, "Energy.Reactive.Export.Register"},
    {measurand::energy_reactive_import_register, "Energy.Reactive.Import.Register"},
    {measurand::energy_active_export_interval, "Energy.Active.Export.Interval"},
    {measurand::energy_active_import_interval, "Energy.Active.Import.Interval"},
    {measurand::energy_reactive_export_interval, "Energy.Reactive.Export.Interval"},
    {measurand::energy_reactive_import_interval, "Energy.Reactive.Import.Interval"},
    {measurand::power_active_export, "Power.Active.Export"},
    {measurand::power_active_import, "Power.Active.Import"},
    {measurand::power_offered, "Power.Offered"},
    {measurand::power_reactive_export, "Power.Reactive.Export"},
    {measurand::power_reactive_import, "Power.Reactive.Import"},
    {measurand::power_factor, "Power.Factor"},
    {measurand::current_import, "Current.Import"},
    {measurand::current_export, "Current.Export"},
    {measurand::current_offered, "Current.Offered"},
    {measurand::voltage, "Voltage"},
    {measurand::frequency, "Frequency"},
    {measurand::temperature, "Temperature"},
    {measurand::soc, "SoC"},
    {measurand::rpm, "RPM"},
}};

constexpr table<phase, 10> phases{{
    {phase::l1, "L1"},
    {phase::l2, "L2"},
    {phase::l3, "L3"},
    {phase::n, "N"},
    {phase::l1_n, "L1-N"},
    {phase::l2_n, "L2-N"},
    {phase::l3_n, "L3-N"},
    {phase::l1_l2, "L1-L2"},
    {phase::l2_l3, "L2-L3"},
    {phase::l3_l1, "L3-L1"},
}};

constexpr table<location, 5> locations{{
    {location::cable, "Cable"},
    {location::ev, "EV"},
    {location::inlet, "Inlet"},
    {location::outlet, "Outlet"},
    {location::body, "Body"},
}};

constexpr table<unit_of_measure, 19> units{{
    {unit_of_measure::wh, "Wh"},
    {unit_of_measure::kwh, "kWh"},
    {unit_of_measure::varh, "varh"},
    {unit_of_measure::kvarh, "kvarh"},
    {unit_of_measure::w, "W"},
    {unit_of_measure::kw, "kW"},
    {unit_of_measure::va, "VA"},
    {unit_of_measure::kva, "kVA"},
    {unit_of_measure::var, "var"},
    {unit_of_measure::kvar, "kvar"},
    {unit_of_measure::a, "A"},
    {unit_of_measure::v, "V"},
    {unit_of_measure::k, "K"},
    {unit_of_measure::celcius, "Celcius"},
    {unit_of_measure::celsius, "Celsius"},
    {unit_of_measure::fahrenheit, "Fahrenheit"},
    {unit_of_measure::percent, "Percent"},
    {unit_of_measure::hertz, "Hertz"},
    {unit_of_measure::hz, "Hz"},
}};

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
std::optional<E> find_name(const table<E, N>& t, std::string_view text) {
  for (const auto& [v, name] : t) {
    if (name == text) {
      return v;
    }
  }
  return std::nullopt;
}

// ---- validation --------------------------------------------------------------

// Characters as JSON Schema's maxLength counts them: code points, not
// bytes (json::parse has checked the UTF-8 already).
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++n;
    }
  }
  return n;
}

// Reads the members of one JSON object, checking each against its schema.
// The first violation is kept and every later read is skipped (returning a
// default), so a from_json reads straight through and checks failed() once.
// A member that is null counts as absent: some charge points write null for
// "not given".
class fields {
public:
  fields(const json::value& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) {
      fail(path_.empty() ? code::formation_violation : code::type_constraint_violation, "",
           "is not a JSON object");
    }
  }

  bool failed() const { return error_.has_value(); }
  const frame_error& error() const { return *error_; }

  void fail(code c, std::string_view key, std::string_view what) {
    if (!error_) {
      std::string where = path_ + std::string(key);
      if (key.empty() && !where.empty() && where.back() == '.') {
        where.pop_back();  // the object itself: "idTagInfo", not "idTagInfo."
      }
      where = where.empty() ? "payload: " : where + ": ";
      error_ = frame_error{"", c, where + std::string(what), true};
    }
  }

  // Takes over a nested reader's first violation.
  void absorb(const fields& inner) {
    if (!error_ && inner.error_) {
      error_ = inner.error_;
    }
  }

  std::string name(std::string_view key) const { return path_ + std::string(key); }

  // The member, or nullptr when absent (failing if it is required).
  const json::value* member(std::string_view key, bool required) {
    if (failed()) {
      return nullptr;
    }
    const json::value* v = json::find(object_, key);
    if (v != nullptr && v->is_null()) {
      v = nullptr;
    }
    if (v == nullptr && required) {
      fail(code::occurrence_constraint_violation, key, "is required");
    }
    return v;
  }

  std::optional<std::string> string(std::string_view key, std::size_t max_length, bool required) {
    const json::value* v = member(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_string()) {
      fail(code::type_constraint_violation, key, "is not a string");
      return std::nullopt;
    }
    const auto& s = v->get_ref<const std::string&>();
    if (code_points(s) > max_length) {
      fail(code::property_constraint_violation, key, "is longer than " + std::to_string(max_length) + " characters");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t minimum, bool required) {
    const json::value* v = member(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_number_integer()) {
      fail(code::type_constraint_violation, key, "is not an integer");
      return std::nullopt;
    }
    if (v->is_number_unsigned() &&
        v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(code::property_constraint_violation, key, "is out of range");
      return std::nullopt;
    }
    const auto n = v->get<std::int64_t>();
    if (n < minimum) {
      fail(code::property_constraint_violation, key, "is less than " + std::to_string(minimum));
      return std::nullopt;
    }
    return n;
  }

  std::optional<std::int64_t> time(std::string_view key, bool required) {
    const auto text = string(key, std::numeric_limits<std::size_t>::max(), required);
    if (!text) {
      return std::nullopt;
    }
    const auto ms = parse_iso8601(*text);
    if (!ms) {
      fail(code::property_constraint_violation, key, ms.err().message);
      return std::nullopt;
    }
    return *ms;
  }

  template <class E, std::size_t N>
  std::optional<E> word(std::string_view key, const table<E, N>& t, bool required) {
    const auto text = string(key, std::numeric_limits<std::size_t>::max(), required);
    if (!text) {
      return std::nullopt;
    }
    const auto v = find_name(t, *text);
    if (!v) {
      fail(code::property_constraint_violation, key, json::dump(json::value(*text)) + " is not a valid value");
    }
    return v;
  }

  // An array member with at least `min_items` items.
  const json::array* array(std::string_view key, std::size_t min_items, bool required) {
    const json::value* v = member(key, required);
    if (v == nullptr) {
      return nullptr;
    }
    if (!v->is_array()) {
      fail(code::type_constraint_violation, key, "is not an array");
      return nullptr;
    }
    const auto& items = v->get_ref<const json::array&>();
    if (items.size() < min_items) {
      fail(code::occurrence_constraint_violation, key, "needs at least " + std::to_string(min_items) + " item(s)");
      return nullptr;
    }
    return &items;
  }

private:
  const json::value& object_;
  std::string path_;
  std::optional<frame_error> error_;
};

// Limits of the 1.6 schemas.
constexpr std::size_t id_token_length = 20;
constexpr std::size_t any_length = std::numeric_limits<std::size_t>::max();

template <class T>
outcome<T> done(const fields& f, T value) {
  if (f.failed()) {
    return f.error();
  }
  return value;
}

std::optional<id_tag_info> read_id_tag_info(fields& outer, std::string_view key, bool required) {
  const json::value* v = outer.member(key, required);
  if (v == nullptr) {
    return std::nullopt;
  }
  fields f(*v, outer.name(key) + ".");
  id_tag_info info;
  info.status = f.word("status", authorization_statuses, true).value_or(info.status);
  info.expiry_date = f.time("expiryDate", false);
  info.parent_id_tag = f.string("parentIdTag", id_token_length, false);
  outer.absorb(f);
  return info;
}

std::optional<meter_value_sample> read_sample(fields& outer, const json::value& v, const std::string& path) {
  fields f(v, path + ".");
  meter_value_sample s;
  s.value = f.string("value", any_length, true).value_or("");
  s.context = f.word("context", reading_contexts, false);
  s.format = f.word("format", value_formats, false);
  s.measurand = f.word("measurand", measurands, false);
  s.phase = f.word("phase", phases, false);
  s.location = f.word("location", locations, false);
  s.unit = f.word("unit", units, false);
  outer.absorb(f);
  return s;
}

std::vector<meter_value> read_meter_values(fields& outer, std::string_view key, bool required) {
  std::vector<meter_value> out;
  const json::array* items = outer.array(key, required ? 1 : 0, required);
  if (items == nullptr) {
    return out;
  }
  for (std::size_t i = 0; i < items->size() && !outer.failed(); ++i) {
    const std::string path = outer.name(key) + "[" + std::to_string(i) + "]";
    fields f((*items)[i], path + ".");
    meter_value mv;
    mv.timestamp = f.time("timestamp", true).value_or(0);
    if (const json::array* samples = f.array("sampledValue", 1, true)) {
      for (std::size_t j = 0; j < samples->size() && !f.failed(); ++j) {
        if (auto s = read_sample(f, (*samples)[j], path + ".sampledValue[" + std::to_string(j) + "]")) {
          mv.sampled_value.push_back(std::move(*s));
        }
      }
    }
    outer.absorb(f);
    out.push_back(std::move(mv));
  }
  return out;
}

// ---- writing -------------------------------------------------------------------

template <class E>
void put_word(json::value& j, const char* key, const std::optional<E>& v) {
  if (v) {
    j[key] = std::string(to_string(*v));
  }
}

void put(json::value& j, const char* key, const std::optional<std::string>& v) {
  if (v) {
    j[key] = *v;
  }
}

void put(json::value& j, const char* key, const std::optional<std::int64_t>& v) {
  if (v) {
    j[key] = *v;
  }
}

void put_time(json::value& j, const char* key, const std::optional<std::int64_t>& v) {
  if (v) {
    j[key] = iso8601_utc(*v);
  }
}

json::value id_tag_info_json(const id_tag_info& info) {
  json::value j = json::object{};
  j["status"] = std::string(to_string(info.status));
  put_time(j, "expiryDate", info.expiry_date);
  put(j, "parentIdTag", info.parent_id_tag);
  return j;
}

json::value meter_values_json(const std::vector<meter_value>& values) {
  json::array out;
  for (const auto& mv : values) {
    json::array samples;
    for (const auto& s : mv.sampled_value) {
      json::value sj = json::object{};
      sj["value"] = s.value;
      put_word(sj, "context", s.context);
      put_word(sj, "format", s.format);
      put_word(sj, "measurand", s.measurand);
      put_word(sj, "phase", s.phase);
      put_word(sj, "location", s.location);
      put_word(sj, "unit", s.unit);
      samples.push_back(std::move(sj));
    }
    json::value mj = json::object{};
    mj["timestamp"] = iso8601_utc(mv.timestamp);
    mj["sampledValue"] = json::value(std::move(samples));
    out.push_back(std::move(mj));
  }
  return json::value(std::move(out));
}

// ---- calendar ------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
// Hinnant's algorithms, exact over the whole int64 range used here).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return civil{y + (m <= 2 ? 1 : 0), m, d};
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  constexpr std::array<unsigned, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

// Reads exactly `n` decimal digits at `pos`, advancing it.
std::optional<unsigned> digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) {
    return std::nullopt;
  }
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

} // namespace

// ---- enum functions -------------------------------------------------------------

std::string_view to_string(charge_point_status v) { return name_of(charge_point_statuses, v); }
std::string_view to_string(charge_point_error_code v) { return name_of(charge_point_error_codes, v); }
std::string_view to_string(registration_status v) { return name_of(registration_statuses, v); }
std::string_view to_string(authorization_status v) { return name_of(authorization_statuses, v); }
std::string_view to_string(stop_reason v) { return name_of(stop_reasons, v); }
std::string_view to_string(remote_start_stop_status v) { return name_of(remote_start_stop_statuses, v); }
std::string_view to_string(availability_type v) { return name_of(availability_types, v); }
std::string_view to_string(availability_status v) { return name_of(availability_statuses, v); }
std::string_view to_string(reading_context v) { return name_of(reading_contexts, v); }
std::string_view to_string(value_format v) { return name_of(value_formats, v); }
std::string_view to_string(measurand v) { return name_of(measurands, v); }
std::string_view to_string(phase v) { return name_of(phases, v); }
std::string_view to_string(location v) { return name_of(locations, v); }
std::string_view to_string(unit_of_measure v) { return name_of(units, v); }

std::optional<charge_point_status> parse_charge_point_status(std::string_view s) {
  return find_name(charge_point_statuses, s);
}
std::optional<charge_point_error_code> parse_charge_point_error_code(std::string_view s) {
  return find_name(charge_point_error_codes, s);
}
std::optional<registration_status> parse_registration_status(std::string_view s) {
  return find_name(registration_statuses, s);
}
std::optional<authorization_status> parse_authorization_status(std::string_view s) {
  return find_name(authorization_statuses, s);
}
std::optional<stop_reason> parse_stop_reason(std::string_view s) { return find_name(stop_reasons, s); }
std::optional<remote_start_stop_status> parse_remote_start_stop_status(std::string_view s) {
  return find_name(remote_start_stop_statuses, s);
}
std::optional<availability_type> parse_availability_type(std::string_view s) {
  return find_name(availability_types, s);
}
std::optional<availability_status> parse_availability_status(std::string_view s) {
  return find_name(availability_statuses, s);
}
std::optional<reading_context> parse_reading_context(std::string_view s) { return find_name(reading_contexts, s); }
std::optional<value_format> parse_value_format(std::string_view s) { return find_name(value_formats, s); }
std::optional<measurand> parse_measurand(std::string_view s) { return find_name(measurands, s); }
std::optional<phase> parse_phase(std::string_view s) { return find_name(phases, s); }
std::optional<location> parse_location(std::string_view s) { return find_name(locations, s); }
std::optional<unit_of_measure> parse_unit_of_measure(std::string_view s) { return find_name(units, s); }

std::ostream& operator<<(std::ostream& os, charge_point_status v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, charge_point_error_code v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, registration_status v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, authorization_status v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, stop_reason v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, remote_start_stop_status v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, availability_type v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, availability_status v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, reading_context v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, value_format v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, measurand v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, phase v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, location v) { return os << to_string(v); }
std::ostream& operator<<(std::ostream& os, unit_of_measure v) { return os << to_string(v); }

// ---- from_json -------------------------------------------------------------------

template <>
outcome<boot_notification_req> from_json<boot_notification_req>(const json::value& payload) {
  fields f(payload, "");
  boot_notification_req m;
  m.charge_point_vendor = f.string("chargePointVendor", 20, true).value_or("");
  m.charge_point_model = f.string("chargePointModel", 20, true).value_or("");
  m.charge_point_serial_number = f.string("chargePointSerialNumber", 25, false);
  m.charge_box_serial_number = f.string("chargeBoxSerialNumber", 25, false);
  m.firmware_version = f.string("firmwareVersion", 50, false);
  m.iccid = f.string("iccid", 20, false);
  m.imsi = f.string("imsi", 20, false);
  m.meter_type = f.string("meterType", 25, false);
  m.meter_serial_number = f.string("meterSerialNumber", 25, false);
  return done(f, std::move(m));
}

template <>
outcome<boot_notification_conf> from_json<boot_notification_conf>(const json::value& payload) {
  fields f(payload, "");
  boot_notification_conf m;
  m.status = f.word("status", registration_statuses, true).value_or(m.status);
  m.current_time = f.time("currentTime", true).value_or(0);
  m.interval = f.integer("interval", 0, true).value_or(0);
  return done(f, m);
}

template <>
outcome<heartbeat_req> from_json<heartbeat_req>(const json::value& payload) {
  const fields f(payload, "");
  return done(f, heartbeat_req{});
}

template <>
outcome<heartbeat_conf> from_json<heartbeat_conf>(const json::value& payload) {
  fields f(payload, "");
  heartbeat_conf m;
  m.current_time = f.time("currentTime", true).value_or(0);
  return done(f, m);
}

template <>
outcome<status_notification_req> from_json<status_notification_req>(const json::value& payload) {
  fields f(payload, "");
  status_notification_req m;
  m.connector_id = f.integer("connectorId", 0, true).value_or(0);
  m.error_code = f.word("errorCode", charge_point_error_codes, true).value_or(m.error_code);
  m.info = f.string("info", 50, false);
  m.status = f.word("status", charge_point_statuses, true).value_or(m.status);
  m.timestamp = f.time("timestamp", false);
  m.vendor_id = f.string("vendorId", 255, false);
  m.vendor_error_code = f.string("vendorErrorCode", 50, false);
  return done(f, std::move(m));
}

template <>
outcome<status_notification_conf> from_json<status_notification_conf>(const json::value& payload) {
  const fields f(payload, "");
  return done(f, status_notification_conf{});
}

template <>
outcome<authorize_req> from_json<authorize_req>(const json::value& payload) {
  fields f(payload, "");
  authorize_req m;
  m.id_tag = f.string("idTag", id_token_length, true).value_or("");
  return done(f, std::move(m));
}

template <>
outcome<authorize_conf> from_json<authorize_conf>(const json::value& payload) {
  fields f(payload, "");
  authorize_conf m;
  m.id_tag_info = read_id_tag_info(f, "idTagInfo", true).value_or(id_tag_info{});
  return done(f, std::move(m));
}

template <>
outcome<start_transaction_req> from_json<start_transaction_req>(const json::value& payload) {
  fields f(payload, "");
  start_transaction_req m;
  m.connector_id = f.integer("connectorId", 1, true).value_or(0);
  m.id_tag = f.string("idTag", id_token_length, true).value_or("");
  m.meter_start = f.integer("meterStart", std::numeric_limits<std::int64_t>::min(), true).value_or(0);
  m.reservation_id = f.integer("reservationId", std::numeric_limits<std::int64_t>::min(), false);
  m.timestamp = f.time("timestamp", true).value_or(0);
  return done(f, std::move(m));
}

template <>
outcome<start_transaction_conf> from_json<start_transaction_conf>(const json::value& payload) {
  fields f(payload, "");
  start_transaction_conf m;
  m.id_tag_info = read_id_tag_info(f, "idTagInfo", true).value_or(id_tag_info{});
  m.transaction_id = f.integer("transactionId", std::numeric_limits<std::int64_t>::min(), true).value_or(0);
  return done(f, std::move(m));
}

template <>
outcome<meter_values_req> from_json<meter_values_req>(const json::value& payload) {
  fields f(payload, "");
  meter_values_req m;
  m.connector_id = f.integer("connectorId", 0, true).value_or(0);
  m.transaction_id = f.integer("transactionId", std::numeric_limits<std::int64_t>::min(), false);
  m.meter_value = read_meter_values(f, "meterValue", true);
  return done(f, std::move(m));
}

template <>
outcome<meter_values_conf> from_json<meter_values_conf>(const json::value& payload) {
  const fields f(payload, "");
  return done(f, meter_values_conf{});
}

template <>
outcome<stop_transaction_req> from_json<stop_transaction_req>(const json::value& payload) {
  fields f(payload, "");
  stop_transaction_req m;
  m.id_tag = f.string("idTag", id_token_length, false);
  m.meter_stop = f.integer("meterStop", std::numeric_limits<std::int64_t>::min(), true).value_or(0);
  m.timestamp = f.time("timestamp", true).value_or(0);
  m.transaction_id = f.integer("transactionId", std::numeric_limits<std::int64_t>::min(), true).value_or(0);
  m.reason = f.word("reason", stop_reasons, false);
  m.transaction_data = read_meter_values(f, "transactionData", false);
  return done(f, std::move(m));
}

template <>
outcome<stop_transaction_conf> from_json<stop_transaction_conf>(const json::value& payload) {
  fields f(payload, "");
  stop_transaction_conf m;
  m.id_tag_info = read_id_tag_info(f, "idTagInfo", false);
  return done(f, std::move(m));
}

template <>
outcome<remote_start_transaction_req> from_json<remote_start_transaction_req>(const json::value& payload) {
  fields f(payload, "");
  remote_start_transaction_req m;
  m.connector_id = f.integer("connectorId", 1, false);
  m.id_tag = f.string("idTag", id_token_length, true).value_or("");
  return done(f, std::move(m));
}

template <>
outcome<remote_start_transaction_conf> from_json<remote_start_transaction_conf>(const json::value& payload) {
  fields f(payload, "");
  remote_start_transaction_conf m;
  m.status = f.word("status", remote_start_stop_statuses, true).value_or(m.status);
  return done(f, m);
}

template <>
outcome<remote_stop_transaction_req> from_json<remote_stop_transaction_req>(const json::value& payload) {
  fields f(payload, "");
  remote_stop_transaction_req m;
  m.transaction_id = f.integer("transactionId", std::numeric_limits<std::int64_t>::min(), true).value_or(0);
  return done(f, m);
}

template <>
outcome<remote_stop_transaction_conf> from_json<remote_stop_transaction_conf>(const json::value& payload) {
  fields f(payload, "");
  remote_stop_transaction_conf m;
  m.status = f.word("status", remote_start_stop_statuses, true).value_or(m.status);
  return done(f, m);
}

template <>
outcome<change_availability_req> from_json<change_availability_req>(const json::value& payload) {
  fields f(payload, "");
  change_availability_req m;
  m.connector_id = f.integer("connectorId", 0, true).value_or(0);
  m.type = f.word("type", availability_types, true).value_or(m.type);
  return done(f, m);
}

template <>
outcome<change_availability_conf> from_json<change_availability_conf>(const json::value& payload) {
  fields f(payload, "");
  change_availability_conf m;
  m.status = f.word("status", availability_statuses, true).value_or(m.status);
  return done(f, m);
}

// ---- to_json ---------------------------------------------------------------------

json::value to_json(const boot_notification_req& m) {
  json::value j = json::object{};
  j["chargePointVendor"] = m.charge_point_vendor;
  j["chargePointModel"] = m.charge_point_model;
  put(j, "chargePointSerialNumber", m.charge_point_serial_number);
  put(j, "chargeBoxSerialNumber", m.charge_box_serial_number);
  put(j, "firmwareVersion", m.firmware_version);
  put(j, "iccid", m.iccid);
  put(j, "imsi", m.imsi);
  put(j, "meterType", m.meter_type);
  put(j, "meterSerialNumber", m.meter_serial_number);
  return j;
}

json::value to_json(const boot_notification_conf& m) {
  json::value j = json::object{};
  j["status"] = std::string(to_string(m.status));
  j["currentTime"] = iso8601_utc(m.current_time);
  j["interval"] = m.interval;
  return j;
}

json::value to_json(const heartbeat_req&) { return json::object{}; }

json::value to_json(const heartbeat_conf& m) {
  json::value j = json::object{};
  j["currentTime"] = iso8601_utc(m.current_time);
  return j;
}

json::value to_json(const status_notification_req& m) {
  json::value j = json::object{};
  j["connectorId"] = m.connector_id;
  j["errorCode"] = std::string(to_string(m.error_code));
  put(j, "info", m.info);
  j["status"] = std::string(to_string(m.status));
  put_time(j, "timestamp", m.timestamp);
  put(j, "vendorId", m.vendor_id);
  put(j, "vendorErrorCode", m.vendor_error_code);
  return j;
}

json::value to_json(const status_notification_conf&) { return json::object{}; }

json::value to_json(const authorize_req& m) {
  json::value j = json::object{};
  j["idTag"] = m.id_tag;
  return j;
}

json::value to_json(const authorize_conf& m) {
  json::value j = json::object{};
  j["idTagInfo"] = id_tag_info_json(m.id_tag_info);
  return j;
}

json::value to_json(const start_transaction_req& m) {
  json::value j = json::object{};
  j["connectorId"] = m.connector_id;
  j["idTag"] = m.id_tag;
  j["meterStart"] = m.meter_start;
  put(j, "reservationId", m.reservation_id);
  j["timestamp"] = iso8601_utc(m.timestamp);
  return j;
}

json::value to_json(const start_transaction_conf& m) {
  json::value j = json::object{};
  j["idTagInfo"] = id_tag_info_json(m.id_tag_info);
  j["transactionId"] = m.transaction_id;
  return j;
}

json::value to_json(const meter_values_req& m) {
  json::value j = json::object{};
  j["connectorId"] = m.connector_id;
  put(j, "transactionId", m.transaction_id);
  j["meterValue"] = meter_values_json(m.meter_value);
  return j;
}

json::value to_json(const meter_values_conf&) { return json::object{}; }

json::value to_json(const stop_transaction_req& m) {
  json::value j = json::object{};
  put(j, "idTag", m.id_tag);
  j["meterStop"] = m.meter_stop;
  j["timestamp"] = iso8601_utc(m.timestamp);
  j["transactionId"] = m.transaction_id;
  put_word(j, "reason", m.reason);
  if (!m.transaction_data.empty()) {
    j["transactionData"] = meter_values_json(m.transaction_data);
  }
  return j;
}

json::value to_json(const stop_transaction_conf& m) {
  json::value j = json::object{};
  if (m.id_tag_info) {
    j["idTagInfo"] = id_tag_info_json(*m.id_tag_info);
  }
  return j;
}

json::value to_json(const remote_start_transaction_req& m) {
  json::value j = json::object{};
  put(j, "connectorId", m.connector_id);
  j["idTag"] = m.id_tag;
  return j;
}

json::value to_json(const remote_start_transaction_conf& m) {
  json::value j = json::object{};
  j["status"] = std::string(to_string(m.status));
  return j;
}

json::value to_json(const remote_stop_transaction_req& m) {
  json::value j = json::object{};
  j["transactionId"] = m.transaction_id;
  return j;
}

json::value to_json(const remote_stop_transaction_conf& m) {
  json::value j = json::object{};
  j["status"] = std::string(to_string(m.status));
  return j;
}

json::value to_json(const change_availability_req& m) {
  json::value j = json::object{};
  j["connectorId"] = m.connector_id;
  j["type"] = std::string(to_string(m.type));
  return j;
}

json::value to_json(const change_availability_conf& m) {
  json::value j = json::object{};
  j["status"] = std::string(to_string(m.status));
  return j;
}

// ---- readings and times ------------------------------------------------------------

std::optional<double> energy_kwh(const meter_value_sample& sample) {
  if (sample.measurand.value_or(measurand::energy_active_import_register) != measurand::energy_active_import_register) {
    return std::nullopt;
  }
  if (sample.format == value_format::signed_data) {
    return std::nullopt;  // an opaque blob, even when it happens to look like digits
  }
  const auto unit = sample.unit.value_or(unit_of_measure::wh);
  if (unit != unit_of_measure::wh && unit != unit_of_measure::kwh) {
    return std::nullopt;
  }
  // from_chars: no locale, no leading spaces or '+', the whole text a number.
  const std::string& text = sample.value;
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return unit == unit_of_measure::wh ? v / 1000.0 : v;
}

std::string iso8601_utc(std::int64_t unix_ms) {
  // Floor division, so times before 1970 count back correctly.
  constexpr std::int64_t ms_per_day = 86'400'000;
  std::int64_t days = unix_ms / ms_per_day;
  std::int64_t rest = unix_ms % ms_per_day;
  if (rest < 0) {
    rest += ms_per_day;
    --days;
  }
  const civil date = civil_from_days(days);
  const auto ms = static_cast<int>(rest % 1000);
  const auto s = static_cast<int>(rest / 1000 % 60);
  const auto min = static_cast<int>(rest / 60'000 % 60);
  const auto h = static_cast<int>(rest / 3'600'000);
  std::array<char, 64> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                              static_cast<long long>(date.year), date.month, date.day, h, min, s, ms);
  return std::string(buffer.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

result<std::int64_t> parse_iso8601(std::string_view text) {
  const auto bad = [text](std::string_view why) {
    return error{errc::invalid_field,
                 "\"" + std::string(text.substr(0, 64)) + "\" is not an ISO 8601 date-time: " + std::string(why)};
  };
  std::size_t pos = 0;
  const auto year = digits(text, pos, 4);
  if (!year || !expect(text, pos, '-')) {
    return bad("expected YYYY-");
  }
  const auto month = digits(text, pos, 2);
  if (!month || !expect(text, pos, '-')) {
    return bad("expected MM-");
  }
  const auto day = digits(text, pos, 2);
  if (!day || !expect(text, pos, 'T')) {
    return bad("expected DDT");
  }
  const auto hour = digits(text, pos, 2);
  if (!hour || !expect(text, pos, ':')) {
    return bad("expected hh:");
  }
  const auto minute = digits(text, pos, 2);
  if (!minute || !expect(text, pos, ':')) {
    return bad("expected mm:");
  }
  const auto second = digits(text, pos, 2);
  if (!second) {
    return bad("expected ss");
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) {
    return bad("no such date");
  }
  if (*hour > 23 || *minute > 59 || *second > 59) {
    return bad("no such time");
  }
  std::int64_t ms = 0;
  if (expect(text, pos, '.')) {
    const std::size_t first = pos;
    std::int64_t scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ms += scale * (text[pos] - '0');
      scale /= 10;
      ++pos;
    }
    if (pos == first) {
      return bad("no digits after '.'");
    }
  }
  std::int64_t offset_min = 0;
  if (expect(text, pos, 'Z')) {
    // UTC
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool minus = text[pos] == '-';
    ++pos;
    const auto oh = digits(text, pos, 2);
    if (!oh || !expect(text, pos, ':')) {
      return bad("expected a zone offset ±hh:mm");
    }
    const auto om = digits(text, pos, 2);
    if (!om || *oh > 23 || *om > 59) {
      return bad("expected a zone offset ±hh:mm");
    }
    offset_min = (minus ? -1 : 1) * static_cast<std::int64_t>(*oh * 60 + *om);
  } else {
    return bad("no zone (Z or ±hh:mm)");
  }
  if (pos != text.size()) {
    return bad("text after the zone");
  }
  const std::int64_t days = days_from_civil(*year, *month, *day);
  const std::int64_t seconds = days * 86'400 + *hour * 3'600 + *minute * 60 + *second - offset_min * 60;
  return seconds * 1000 + ms;
}

} // namespace evnet::ocpp
