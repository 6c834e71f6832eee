#pragma once

// The OCPP 1.6 messages the evnet gateway speaks, as typed payloads of the
// OCPP-J frames (ocpp_j.hpp):
//  - charge point -> central: BootNotification, Heartbeat,
//    StatusNotification, Authorize, StartTransaction, MeterValues,
//    StopTransaction, and the confirmations the gateway answers them with;
//  - central -> charge point: RemoteStartTransaction, RemoteStopTransaction,
//    ChangeAvailability, and the confirmations the charge point sends back.
//
// from_json<T>(payload) validates untrusted JSON against the 1.6 JSON
// schemas and returns the typed message, or the frame_error to answer with:
//   a required field missing, or an array with fewer items than the schema's
//     minItems                                  OccurenceConstraintViolation
//   a field of the wrong JSON type (a string where an integer belongs, a
//     fraction where an integer belongs)         TypeConstraintViolation
//   a string longer than the schema's maxLength, a word outside an enum, a
//     date-time that is not one, an integer out of range
//                                               PropertyConstraintViolation
//   the payload itself not an object             FormationViolation
// The error's id is left empty: the caller puts in the CALL's uniqueId.
// Fields the schemas do not know are ignored (charge points add vendor
// fields; refusing them would refuse the charge point), and a field that is
// null counts as absent (some charge points write null for "not given").
// Validation stops at the first violation. The description
// names the field by its path ("meterValue[0].sampledValue[1].unit").
//
// to_json(message) writes the payload; optional fields that are absent are
// left out, so from_json(to_json(m)) == m for every valid message.
// Times are Unix milliseconds (UTC) in the types and ISO 8601 on the wire.
//
// Thread-safety: pure functions over values.

#include "evnet/json.hpp"
#include "evnet/ocpp/ocpp_j.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::ocpp {

// ---- enums of the 1.6 schemas ---------------------------------------------
// Each has to_string() (its exact 1.6 spelling) and parse_<enum>() (nullopt
// for anything else, case-sensitive as the schemas are).

// StatusNotification.status
enum class charge_point_status : std::uint8_t {
  available, preparing, charging, suspended_evse, suspended_ev, finishing, reserved, unavailable, faulted,
};

// StatusNotification.errorCode
enum class charge_point_error_code : std::uint8_t {
  connector_lock_failure, ev_communication_error, ground_failure, high_temperature, internal_error,
  local_list_conflict, no_error, other_error, over_current_failure, power_meter_failure, power_switch_failure,
  reader_failure, reset_failure, under_voltage, over_voltage, weak_signal,
};

// BootNotification.conf status
enum class registration_status : std::uint8_t { accepted, pending, rejected };

// IdTagInfo.status
enum class authorization_status : std::uint8_t { accepted, blocked, expired, invalid, concurrent_tx };

// StopTransaction.reason
enum class stop_reason : std::uint8_t {
  emergency_stop, ev_disconnected, hard_reset, local, other, power_loss, reboot, remote, soft_reset,
  unlock_command, de_authorized,
};

// RemoteStartTransaction.conf / RemoteStopTransaction.conf status
enum class remote_start_stop_status : std::uint8_t { accepted, rejected };

// ChangeAvailability.type
enum class availability_type : std::uint8_t { inoperative, operative };

// ChangeAvailability.conf status
enum class availability_status : std::uint8_t { accepted, rejected, scheduled };

// SampledValue.context
enum class reading_context : std::uint8_t {
  interruption_begin, interruption_end, sample_clock, sample_periodic, transaction_begin, transaction_end,
  trigger, other,
};

// SampledValue.format
enum class value_format : std::uint8_t { raw, signed_data };

// SampledValue.measurand
enum class measurand : std::uint8_t {
  energy_active_export_register, energy_active_import_register, energy_reactive_export_register,
  energy_reactive_import_register, energy_active_export_interval, energy_active_import_interval,
  energy_reactive_export_interval, energy_reactive_import_interval, power_active_export, power_active_import,
  power_offered, power_reactive_export, power_reactive_import, power_factor, current_import, current_export,
  current_offered, voltage, frequency, temperature, soc, rpm,
};

// SampledValue.phase
enum class phase : std::uint8_t { l1, l2, l3, n, l1_n, l2_n, l3_n, l1_l2, l2_l3, l3_l1 };

// SampledValue.location
enum class location : std::uint8_t { cable, ev, inlet, outlet, body };

// SampledValue.unit. The 1.6 schema spells Celsius "Celcius"; "Celsius",
// "Hertz" and "Hz" are accepted too, as widely used copies of the schema do.
enum class unit_of_measure : std::uint8_t {
  wh, kwh, varh, kvarh, w, kw, va, kva, var, kvar, a, v, k, celcius, celsius, fahrenheit, percent, hertz, hz,
};

std::string_view to_string(charge_point_status v);
std::string_view to_string(charge_point_error_code v);
std::string_view to_string(registration_status v);
std::string_view to_string(authorization_status v);
std::string_view to_string(stop_reason v);
std::string_view to_string(remote_start_stop_status v);
std::string_view to_string(availability_type v);
std::string_view to_string(availability_status v);
std::string_view to_string(reading_context v);
std::string_view to_string(value_format v);
std::string_view to_string(measurand v);
std::string_view to_string(phase v);
std::string_view to_string(location v);
std::string_view to_string(unit_of_measure v);

std::optional<charge_point_status> parse_charge_point_status(std::string_view s);
std::optional<charge_point_error_code> parse_charge_point_error_code(std::string_view s);
std::optional<registration_status> parse_registration_status(std::string_view s);
std::optional<authorization_status> parse_authorization_status(std::string_view s);
std::optional<stop_reason> parse_stop_reason(std::string_view s);
std::optional<remote_start_stop_status> parse_remote_start_stop_status(std::string_view s);
std::optional<availability_type> parse_availability_type(std::string_view s);
std::optional<availability_status> parse_availability_status(std::string_view s);
std::optional<reading_context> parse_reading_context(std::string_view s);
std::optional<value_format> parse_value_format(std::string_view s);
std::optional<measurand> parse_measurand(std::string_view s);
std::optional<phase> parse_phase(std::string_view s);
std::optional<location> parse_location(std::string_view s);
std::optional<unit_of_measure> parse_unit_of_measure(std::string_view s);

// For test frameworks and logs.
std::ostream& operator<<(std::ostream& os, charge_point_status v);
std::ostream& operator<<(std::ostream& os, charge_point_error_code v);
std::ostream& operator<<(std::ostream& os, registration_status v);
std::ostream& operator<<(std::ostream& os, authorization_status v);
std::ostream& operator<<(std::ostream& os, stop_reason v);
std::ostream& operator<<(std::ostream& os, remote_start_stop_status v);
std::ostream& operator<<(std::ostream& os, availability_type v);
std::ostream& operator<<(std::ostream& os, availability_status v);
std::ostream& operator<<(std::ostream& os, reading_context v);
std::ostream& operator<<(std::ostream& os, value_format v);
std::ostream& operator<<(std::ostream& os, measurand v);
std::ostream& operator<<(std::ostream& os, phase v);
std::ostream& operator<<(std::ostream& os, location v);
std::ostream& operator<<(std::ostream& os, unit_of_measure v);

// ---- shared types -----------------------------------------------------------

// IdTagInfo: what central says about an idTag.
struct id_tag_info {
  authorization_status status = authorization_status::invalid;
  std::optional<std::int64_t> expiry_date;  // Unix ms
  std::optional<std::string> parent_id_tag; // <= 20
  bool operator==(const id_tag_info&) const = default;
};

// SampledValue: one reading. `value` is text on the wire (a number for Raw
// readings, an opaque blob for SignedData).
struct meter_value_sample {
  std::string value;
  std::optional<reading_context> context;
  std::optional<value_format> format;
  std::optional<ocpp::measurand> measurand;
  std::optional<ocpp::phase> phase;
  std::optional<ocpp::location> location;
  std::optional<unit_of_measure> unit;
  bool operator==(const meter_value_sample&) const = default;
};

// MeterValue: readings taken at one time (at least one).
struct meter_value {
  std::int64_t timestamp = 0;  // Unix ms
  std::vector<meter_value_sample> sampled_value;
  bool operator==(const meter_value&) const = default;
};

// ---- charge point -> central ----------------------------------------------

struct boot_notification_req {
  static constexpr std::string_view action = "BootNotification";
  std::string charge_point_vendor;  // <= 20
  std::string charge_point_model;   // <= 20
  std::optional<std::string> charge_point_serial_number;  // <= 25
  std::optional<std::string> charge_box_serial_number;    // <= 25
  std::optional<std::string> firmware_version;            // <= 50
  std::optional<std::string> iccid;                       // <= 20
  std::optional<std::string> imsi;                        // <= 20
  std::optional<std::string> meter_type;                  // <= 25
  std::optional<std::string> meter_serial_number;         // <= 25
  bool operator==(const boot_notification_req&) const = default;
};

struct boot_notification_conf {
  registration_status status = registration_status::rejected;
  std::int64_t current_time = 0;  // Unix ms
  std::int64_t interval = 0;      // seconds: heartbeat (Accepted) or retry (Pending, Rejected)
  bool operator==(const boot_notification_conf&) const = default;
};

struct heartbeat_req {
  static constexpr std::string_view action = "Heartbeat";
  bool operator==(const heartbeat_req&) const = default;
};

struct heartbeat_conf {
  std::int64_t current_time = 0;  // Unix ms
  bool operator==(const heartbeat_conf&) const = default;
};

struct status_notification_req {
  static constexpr std::string_view action = "StatusNotification";
  std::int64_t connector_id = 0;  // >= 0; 0 is the charge point as a whole
  charge_point_error_code error_code = charge_point_error_code::no_error;
  charge_point_status status = charge_point_status::unavailable;
  std::optional<std::string> info;               // <= 50
  std::optional<std::int64_t> timestamp;         // Unix ms
  std::optional<std::string> vendor_id;          // <= 255
  std::optional<std::string> vendor_error_code;  // <= 50
  bool operator==(const status_notification_req&) const = default;
};

struct status_notification_conf {
  bool operator==(const status_notification_conf&) const = default;
};

struct authorize_req {
  static constexpr std::string_view action = "Authorize";
  std::string id_tag;  // <= 20
  bool operator==(const authorize_req&) const = default;
};

struct authorize_conf {
  ocpp::id_tag_info id_tag_info;
  bool operator==(const authorize_conf&) const = default;
};

struct start_transaction_req {
  static constexpr std::string_view action = "StartTransaction";
  std::int64_t connector_id = 0;  // > 0
  std::string id_tag;             // <= 20
  std::int64_t meter_start = 0;   // Wh
  std::optional<std::int64_t> reservation_id;
  std::int64_t timestamp = 0;     // Unix ms
  bool operator==(const start_transaction_req&) const = default;
};

struct start_transaction_conf {
  ocpp::id_tag_info id_tag_info;
  std::int64_t transaction_id = 0;
  bool operator==(const start_transaction_conf&) const = default;
};

struct meter_values_req {
  static constexpr std::string_view action = "MeterValues";
  std::int64_t connector_id = 0;  // >= 0
  std::optional<std::int64_t> transaction_id;
  std::vector<ocpp::meter_value> meter_value;  // at least one
  bool operator==(const meter_values_req&) const = default;
};

struct meter_values_conf {
  bool operator==(const meter_values_conf&) const = default;
};

struct stop_transaction_req {
  static constexpr std::string_view action = "StopTransaction";
  std::optional<std::string> id_tag;  // <= 20
  std::int64_t meter_stop = 0;        // Wh
  std::int64_t timestamp = 0;         // Unix ms
  std::int64_t transaction_id = 0;
  std::optional<stop_reason> reason;  // absent means Local
  std::vector<meter_value> transaction_data;  // empty: absent on the wire
  bool operator==(const stop_transaction_req&) const = default;
};

struct stop_transaction_conf {
  std::optional<ocpp::id_tag_info> id_tag_info;
  bool operator==(const stop_transaction_conf&) const = default;
};

// ---- central -> charge point ----------------------------------------------

// chargingProfile is not supported: the gateway never sends one, and one
// received is ignored.
struct remote_start_transaction_req {
  static constexpr std::string_view action = "RemoteStartTransaction";
  std::optional<std::int64_t> connector_id;  // > 0
  std::string id_tag;                        // <= 20
  bool operator==(const remote_start_transaction_req&) const = default;
};

struct remote_start_transaction_conf {
  remote_start_stop_status status = remote_start_stop_status::rejected;
  bool operator==(const remote_start_transaction_conf&) const = default;
};

struct remote_stop_transaction_req {
  static constexpr std::string_view action = "RemoteStopTransaction";
  std::int64_t transaction_id = 0;
  bool operator==(const remote_stop_transaction_req&) const = default;
};

struct remote_stop_transaction_conf {
  remote_start_stop_status status = remote_start_stop_status::rejected;
  bool operator==(const remote_stop_transaction_conf&) const = default;
};

struct change_availability_req {
  static constexpr std::string_view action = "ChangeAvailability";
  std::int64_t connector_id = 0;  // >= 0; 0 is the charge point as a whole
  availability_type type = availability_type::operative;
  bool operator==(const change_availability_req&) const = default;
};

struct change_availability_conf {
  availability_status status = availability_status::rejected;
  bool operator==(const change_availability_conf&) const = default;
};

// ---- validation and writing ------------------------------------------------

// Validates a payload as message T (one of the structs above; any other T
// does not link). Never throws.
template <class T>
outcome<T> from_json(const json::value& payload);

template <> outcome<boot_notification_req> from_json<boot_notification_req>(const json::value& payload);
template <> outcome<boot_notification_conf> from_json<boot_notification_conf>(const json::value& payload);
template <> outcome<heartbeat_req> from_json<heartbeat_req>(const json::value& payload);
template <> outcome<heartbeat_conf> from_json<heartbeat_conf>(const json::value& payload);
template <> outcome<status_notification_req> from_json<status_notification_req>(const json::value& payload);
template <> outcome<status_notification_conf> from_json<status_notification_conf>(const json::value& payload);
template <> outcome<authorize_req> from_json<authorize_req>(const json::value& payload);
template <> outcome<authorize_conf> from_json<authorize_conf>(const json::value& payload);
template <> outcome<start_transaction_req> from_json<start_transaction_req>(const json::value& payload);
template <> outcome<start_transaction_conf> from_json<start_transaction_conf>(const json::value& payload);
template <> outcome<meter_values_req> from_json<meter_values_req>(const json::value& payload);
template <> outcome<meter_values_conf> from_json<meter_values_conf>(const json::value& payload);
template <> outcome<stop_transaction_req> from_json<stop_transaction_req>(const json::value& payload);
template <> outcome<stop_transaction_conf> from_json<stop_transaction_conf>(const json::value& payload);
template <>
outcome<remote_start_transaction_req> from_json<remote_start_transaction_req>(const json::value& payload);
template <>
outcome<remote_start_transaction_conf> from_json<remote_start_transaction_conf>(const json::value& payload);
template <>
outcome<remote_stop_transaction_req> from_json<remote_stop_transaction_req>(const json::value& payload);
template <>
outcome<remote_stop_transaction_conf> from_json<remote_stop_transaction_conf>(const json::value& payload);
template <> outcome<change_availability_req> from_json<change_availability_req>(const json::value& payload);
template <> outcome<change_availability_conf> from_json<change_availability_conf>(const json::value& payload);

// The payload of a message (a JSON object). Never throws.
json::value to_json(const boot_notification_req& m);
json::value to_json(const boot_notification_conf& m);
json::value to_json(const heartbeat_req& m);
json::value to_json(const heartbeat_conf& m);
json::value to_json(const status_notification_req& m);
json::value to_json(const status_notification_conf& m);
json::value to_json(const authorize_req& m);
json::value to_json(const authorize_conf& m);
json::value to_json(const start_transaction_req& m);
json::value to_json(const start_transaction_conf& m);
json::value to_json(const meter_values_req& m);
json::value to_json(const meter_values_conf& m);
json::value to_json(const stop_transaction_req& m);
json::value to_json(const stop_transaction_conf& m);
json::value to_json(const remote_start_transaction_req& m);
json::value to_json(const remote_start_transaction_conf& m);
json::value to_json(const remote_stop_transaction_req& m);
json::value to_json(const remote_stop_transaction_conf& m);
json::value to_json(const change_availability_req& m);
json::value to_json(const change_availability_conf& m);

// ---- readings and times ------------------------------------------------------

// The energy a sample reports in kWh, when it is the
// Energy.Active.Import.Register reading (an absent measurand means that
// one, per the spec) and its value is a finite number in Wh (the default
// unit) or kWh. nullopt for any other measurand or unit, for SignedData,
// and for a value that is not a plain decimal number ("1.5e3" is one;
// " 12", "+5", "nan", "inf" are not).
std::optional<double> energy_kwh(const meter_value_sample& sample);

// "2026-11-27T20:46:08.123Z" for a Unix time in milliseconds.
std::string iso8601_utc(std::int64_t unix_ms);

// Unix milliseconds of "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)":
// the fraction may have any number of digits (beyond milliseconds they are
// dropped); a time without a zone is refused (1.6 requires UTC, and a
// local time cannot be placed). Errors carry errc::invalid_field.
result<std::int64_t> parse_iso8601(std::string_view text);

} // namespace evnet::ocpp
