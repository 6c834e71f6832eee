#define BOOST_TEST_MODULE ocpp_messages
#include <boost/test/unit_test.hpp>

#include "evnet/ocpp/messages.hpp"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>

namespace o = evnet::ocpp;
namespace json = evnet::json;
using o::call_error_code;

namespace {

json::value parsed(std::string_view text) {
  auto r = json::parse(text);
  BOOST_REQUIRE_MESSAGE(r.ok(), "test JSON: " << text);
  return std::move(r).value();
}

// from_json of `text` as T must be refused with `code`; returns the
// description for further checks.
template <class T>
std::string check_refused(std::string_view text, call_error_code code) {
  const auto r = o::from_json<T>(parsed(text));
  BOOST_TEST_INFO("payload " << text);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST_INFO("payload " << text << ": " << r.err().description);
  BOOST_TEST(r.err().code == code);
  BOOST_TEST(r.err().id.empty());
  BOOST_TEST(r.err().answer);
  return r.err().description;
}

// to_json then from_json gives the message back, and the JSON is stable.
template <class T>
void check_round_trip(const T& m) {
  const json::value j = o::to_json(m);
  BOOST_TEST_INFO(json::dump(j));
  BOOST_REQUIRE(j.is_object());
  const auto back = o::from_json<T>(j);
  BOOST_REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.err().description));
  BOOST_TEST((*back == m));
  BOOST_TEST(json::dump(o::to_json(*back)) == json::dump(j));
}

template <class E>
void check_names(std::initializer_list<std::pair<E, std::string_view>> expected,
                 std::optional<E> (*parse)(std::string_view)) {
  for (const auto& [v, name] : expected) {
    BOOST_TEST(o::to_string(v) == name);
    BOOST_TEST((parse(name) == v));
  }
  BOOST_TEST(!parse("").has_value());
  BOOST_TEST(!parse("nope").has_value());
}

constexpr std::int64_t t0 = 1359752012486;  // 2013-02-01T20:53:32.486Z

o::meter_value sample_reading() {
  o::meter_value mv;
  mv.timestamp = t0;
  o::meter_value_sample all;
  all.value = "1234.5";
  all.context = o::reading_context::sample_periodic;
  all.format = o::value_format::raw;
  all.measurand = o::measurand::energy_active_import_register;
  all.phase = o::phase::l1_n;
  all.location = o::location::outlet;
  all.unit = o::unit_of_measure::kwh;
  o::meter_value_sample bare;
  bare.value = "42";
  mv.sampled_value = {all, bare};
  return mv;
}

} // namespace

// ---- enum spellings ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(enum_strings_are_exact) {
  using s = o::charge_point_status;
  check_names<s>({{s::available, "Available"}, {s::preparing, "Preparing"}, {s::charging, "Charging"},
                  {s::suspended_evse, "SuspendedEVSE"}, {s::suspended_ev, "SuspendedEV"},
                  {s::finishing, "Finishing"}, {s::reserved, "Reserved"}, {s::unavailable, "Unavailable"},
                  {s::faulted, "Faulted"}},
                 o::parse_charge_point_status);
  using e = o::charge_point_error_code;
  check_names<e>({{e::connector_lock_failure, "ConnectorLockFailure"},
                  {e::ev_communication_error, "EVCommunicationError"},
                  {e::ground_failure, "GroundFailure"},
                  {e::high_temperature, "HighTemperature"},
                  {e::internal_error, "InternalError"},
                  {e::local_list_conflict, "LocalListConflict"},
                  {e::no_error, "NoError"},
                  {e::other_error, "OtherError"},
                  {e::over_current_failure, "OverCurrentFailure"},
                  {e::power_meter_failure, "PowerMeterFailure"},
                  {e::power_switch_failure, "PowerSwitchFailure"},
                  {e::reader_failure, "ReaderFailure"},
                  {e::reset_failure, "ResetFailure"},
                  {e::under_voltage, "UnderVoltage"},
                  {e::over_voltage, "OverVoltage"},
                  {e::weak_signal, "WeakSignal"}},
                 o::parse_charge_point_error_code);
  using r = o::registration_status;
  check_names<r>({{r::accepted, "Accepted"}, {r::pending, "Pending"}, {r::rejected, "Rejected"}},
                 o::parse_registration_status);
  using a = o::authorization_status;
  check_names<a>({{a::accepted, "Accepted"}, {a::blocked, "Blocked"}, {a::expired, "Expired"},
                  {a::invalid, "Invalid"}, {a::concurrent_tx, "ConcurrentTx"}},
                 o::parse_authorization_status);
  using sr = o::stop_reason;
  check_names<sr>({{sr::emergency_stop, "EmergencyStop"}, {sr::ev_disconnected, "EVDisconnected"},
                   {sr::hard_reset, "HardReset"}, {sr::local, "Local"}, {sr::other, "Other"},
                   {sr::power_loss, "PowerLoss"}, {sr::reboot, "Reboot"}, {sr::remote, "Remote"},
                   {sr::soft_reset, "SoftReset"}, {sr::unlock_command, "UnlockCommand"},
                   {sr::de_authorized, "DeAuthorized"}},
                  o::parse_stop_reason);
  using rs = o::remote_start_stop_status;
  check_names<rs>({{rs::accepted, "Accepted"}, {rs::rejected, "Rejected"}}, o::parse_remote_start_stop_status);
  using at = o::availability_type;
  check_names<at>({{at::inoperative, "Inoperative"}, {at::operative, "Operative"}}, o::parse_availability_type);
  using as = o::availability_status;
  check_names<as>({{as::accepted, "Accepted"}, {as::rejected, "Rejected"}, {as::scheduled, "Scheduled"}},
                  o::parse_availability_status);
  using c = o::reading_context;
  check_names<c>({{c::interruption_begin, "Interruption.Begin"}, {c::interruption_end, "Interruption.End"},
                  {c::sample_clock, "Sample.Clock"}, {c::sample_periodic, "Sample.Periodic"},
                  {c::transaction_begin, "Transaction.Begin"}, {c::transaction_end, "Transaction.End"},
                  {c::trigger, "Trigger"}, {c::other, "Other"}},
                 o::parse_reading_context);
  using f = o::value_format;
  check_names<f>({{f::raw, "Raw"}, {f::signed_data, "SignedData"}}, o::parse_value_format);
  using m = o::measurand;
  check_names<m>({{m::energy_active_export_register, "Energy.Active.Export.Register"},
                  {m::energy_active_import_register, "Energy.Active.Import.Register"},
                  {m::energy_reactive_export_register, "Energy.Reactive.Export.Register"},
                  {m::energy_reactive_import_register, "Energy.Reactive.Import.Register"},
                  {m::energy_active_export_interval, "Energy.Active.Export.Interval"},
                  {m::energy_active_import_interval, "Energy.Active.Import.Interval"},
                  {m::energy_reactive_export_interval, "Energy.Reactive.Export.Interval"},
                  {m::energy_reactive_import_interval, "Energy.Reactive.Import.Interval"},
                  {m::power_active_export, "Power.Active.Export"},
                  {m::power_active_import, "Power.Active.Import"},
                  {m::power_offered, "Power.Offered"},
                  {m::power_reactive_export, "Power.Reactive.Export"},
                  {m::power_reactive_import, "Power.Reactive.Import"},
                  {m::power_factor, "Power.Factor"},
                  {m::current_import, "Current.Import"},
                  {m::current_export, "Current.Export"},
                  {m::current_offered, "Current.Offered"},
                  {m::voltage, "Voltage"},
                  {m::frequency, "Frequency"},
                  {m::temperature, "Temperature"},
                  {m::soc, "SoC"},
                  {m::rpm, "RPM"}},
                 o::parse_measurand);
  using p = o::phase;
  check_names<p>({{p::l1, "L1"}, {p::l2, "L2"}, {p::l3, "L3"}, {p::n, "N"}, {p::l1_n, "L1-N"}, {p::l2_n, "L2-N"},
                  {p::l3_n, "L3-N"}, {p::l1_l2, "L1-L2"}, {p::l2_l3, "L2-L3"}, {p::l3_l1, "L3-L1"}},
                 o::parse_phase);
  using l = o::location;
  check_names<l>({{l::cable, "Cable"}, {l::ev, "EV"}, {l::inlet, "Inlet"}, {l::outlet, "Outlet"}, {l::body, "Body"}},
                 o::parse_location);
  using u = o::unit_of_measure;
  check_names<u>({{u::wh, "Wh"}, {u::kwh, "kWh"}, {u::varh, "varh"}, {u::kvarh, "kvarh"}, {u::w, "W"}, {u::kw, "kW"},
                  {u::va, "VA"}, {u::kva, "kVA"}, {u::var, "var"}, {u::kvar, "kvar"}, {u::a, "A"}, {u::v, "V"},
                  {u::k, "K"}, {u::celcius, "Celcius"}, {u::celsius, "Celsius"}, {u::fahrenheit, "Fahrenheit"},
                  {u::percent, "Percent"}, {u::hertz, "Hertz"}, {u::hz, "Hz"}},
                 o::parse_unit_of_measure);
  // Case matters, as in the schemas.
  BOOST_TEST(!o::parse_charge_point_status("available").has_value());
  BOOST_TEST(!o::parse_unit_of_measure("kwh").has_value());
}

// ---- the spec's examples ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(spec_boot_notification_example) {
  const auto r = o::from_json<o::boot_notification_req>(
      parsed(R"({"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"})"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->charge_point_vendor == "VendorX");
  BOOST_TEST(r->charge_point_model == "SingleSocketCharger");
  BOOST_TEST(!r->firmware_version.has_value());

  const auto conf = o::from_json<o::boot_notification_conf>(
      parsed(R"({"currentTime":"2013-02-01T20:53:32.486Z","interval":300,"status":"Accepted"})"));
  BOOST_REQUIRE(conf.ok());
  BOOST_TEST(conf->status == o::registration_status::accepted);
  BOOST_TEST(conf->current_time == t0);
  BOOST_TEST(conf->interval == 300);
  BOOST_TEST(json::dump(o::to_json(*conf)) ==
             R"({"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","interval":300})");
}

BOOST_AUTO_TEST_CASE(typical_meter_values_from_a_charger) {
  const auto r = o::from_json<o::meter_values_req>(parsed(R"({
    "connectorId": 1, "transactionId": 17,
    "meterValue": [{"timestamp": "2026-11-27T20:00:00Z", "sampledValue": [
      {"value": "15230", "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register",
       "location": "Outlet", "unit": "Wh"},
      {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
      {"value": "230.1", "measurand": "Voltage", "phase": "L1-N", "unit": "V"}]}]})"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->connector_id == 1);
  BOOST_TEST(r->transaction_id.value_or(-1) == 17);
  BOOST_REQUIRE(r->meter_value.size() == 1U);
  const auto& samples = r->meter_value[0].sampled_value;
  BOOST_REQUIRE(samples.size() == 3U);
  BOOST_TEST(o::energy_kwh(samples[0]).value_or(-1) == 15.23, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(!o::energy_kwh(samples[1]).has_value());
  BOOST_TEST(!o::energy_kwh(samples[2]).has_value());
  BOOST_TEST((samples[2].phase == o::phase::l1_n));
}

// ---- round trips --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(charge_point_requests_round_trip) {
  check_round_trip(o::boot_notification_req{"VendorX", "Model", "CP-SN", "BOX-SN", "1.2.3", "8931", "2620",
                                            "MeterCo", "M-SN"});
  check_round_trip(o::boot_notification_req{"V", "M", {}, {}, {}, {}, {}, {}, {}});
  check_round_trip(o::heartbeat_req{});
  check_round_trip(o::status_notification_req{2, o::charge_point_error_code::ground_failure,
                                              o::charge_point_status::faulted, "RCD tripped", t0, "evnet", "E42"});
  check_round_trip(o::status_notification_req{0, o::charge_point_error_code::no_error,
                                              o::charge_point_status::available, {}, {}, {}, {}});
  check_round_trip(o::authorize_req{"04E91C5A123456"});
  check_round_trip(o::start_transaction_req{1, "TAG1", 15230, 99, t0});
  check_round_trip(o::start_transaction_req{3, "TAG1", 0, {}, t0});
  check_round_trip(o::meter_values_req{1, 17, {sample_reading(), sample_reading()}});
  check_round_trip(o::meter_values_req{0, {}, {sample_reading()}});
  check_round_trip(o::stop_transaction_req{"TAG1", 20000, t0 + 1000, 17, o::stop_reason::ev_disconnected,
                                           {sample_reading()}});
  check_round_trip(o::stop_transaction_req{{}, 20000, t0, 17, {}, {}});
}

BOOST_AUTO_TEST_CASE(confirmations_round_trip) {
  check_round_trip(o::boot_notification_conf{o::registration_status::pending, t0, 60});
  check_round_trip(o::heartbeat_conf{t0});
  check_round_trip(o::status_notification_conf{});
  check_round_trip(o::authorize_conf{{o::authorization_status::accepted, t0 + 86'400'000, "PARENT"}});
  check_round_trip(o::authorize_conf{{o::authorization_status::concurrent_tx, {}, {}}});
  check_round_trip(o::start_transaction_conf{{o::authorization_status::blocked, {}, {}}, 17});
  check_round_trip(o::meter_values_conf{});
  check_round_trip(o::stop_transaction_conf{o::id_tag_info{o::authorization_status::expired, {}, {}}});
  check_round_trip(o::stop_transaction_conf{});
}

BOOST_AUTO_TEST_CASE(central_requests_round_trip) {
  check_round_trip(o::remote_start_transaction_req{2, "TAG1"});
  check_round_trip(o::remote_start_transaction_req{{}, "TAG1"});
  check_round_trip(o::remote_start_transaction_conf{o::remote_start_stop_status::accepted});
  check_round_trip(o::remote_stop_transaction_req{17});
  check_round_trip(o::remote_stop_transaction_conf{o::remote_start_stop_status::rejected});
  check_round_trip(o::change_availability_req{0, o::availability_type::inoperative});
  check_round_trip(o::change_availability_conf{o::availability_status::scheduled});
}

BOOST_AUTO_TEST_CASE(empty_messages_are_empty_objects) {
  BOOST_TEST(json::dump(o::to_json(o::heartbeat_req{})) == "{}");
  BOOST_TEST(json::dump(o::to_json(o::status_notification_conf{})) == "{}");
  BOOST_TEST(json::dump(o::to_json(o::meter_values_conf{})) == "{}");
  BOOST_TEST(json::dump(o::to_json(o::stop_transaction_conf{})) == "{}");
  BOOST_TEST(json::dump(o::to_json(o::start_transaction_conf{{o::authorization_status::accepted, {}, {}}, 5})) ==
             R"({"idTagInfo":{"status":"Accepted"},"transactionId":5})");
  BOOST_TEST(o::boot_notification_req::action == "BootNotification");
  BOOST_TEST(o::remote_stop_transaction_req::action == "RemoteStopTransaction");
}

// ---- refusals ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(payload_not_an_object_is_a_formation_violation) {
  check_refused<o::heartbeat_req>("[]", call_error_code::formation_violation);
  check_refused<o::authorize_req>(R"("TAG")", call_error_code::formation_violation);
  BOOST_TEST(check_refused<o::meter_values_conf>("null", call_error_code::formation_violation) ==
             "payload: is not a JSON object");
}

BOOST_AUTO_TEST_CASE(missing_required_field_is_an_occurrence_violation) {
  BOOST_TEST(check_refused<o::boot_notification_req>(R"({"chargePointVendor":"V"})",
                                                     call_error_code::occurrence_constraint_violation) ==
             "chargePointModel: is required");
  check_refused<o::authorize_req>("{}", call_error_code::occurrence_constraint_violation);
  check_refused<o::status_notification_req>(R"({"connectorId":1,"errorCode":"NoError"})",
                                            call_error_code::occurrence_constraint_violation);
  check_refused<o::start_transaction_req>(R"({"connectorId":1,"idTag":"T","meterStart":0})",
                                          call_error_code::occurrence_constraint_violation);
  check_refused<o::stop_transaction_req>(R"({"meterStop":1,"timestamp":"2026-01-01T00:00:00Z"})",
                                         call_error_code::occurrence_constraint_violation);
  check_refused<o::authorize_conf>(R"({"idTagInfo":{}})", call_error_code::occurrence_constraint_violation);
  check_refused<o::heartbeat_conf>("{}", call_error_code::occurrence_constraint_violation);
  // null is "not given".
  check_refused<o::authorize_req>(R"({"idTag":null})", call_error_code::occurrence_constraint_violation);
  // minItems 1
  check_refused<o::meter_values_req>(R"({"connectorId":1,"meterValue":[]})",
                                     call_error_code::occurrence_constraint_violation);
  check_refused<o::meter_values_req>(
      R"({"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[]}]})",
      call_error_code::occurrence_constraint_violation);
  // The path names the nested field.
  BOOST_TEST(check_refused<o::meter_values_req>(
                 R"({"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":"1"},{"unit":"Wh"}]}]})",
                 call_error_code::occurrence_constraint_violation) ==
             "meterValue[0].sampledValue[1].value: is required");
}

BOOST_AUTO_TEST_CASE(wrong_json_type_is_a_type_violation) {
  check_refused<o::authorize_req>(R"({"idTag":12})", call_error_code::type_constraint_violation);
  check_refused<o::status_notification_req>(R"({"connectorId":"1","errorCode":"NoError","status":"Available"})",
                                            call_error_code::type_constraint_violation);
  check_refused<o::status_notification_req>(R"({"connectorId":1.5,"errorCode":"NoError","status":"Available"})",
                                            call_error_code::type_constraint_violation);
  check_refused<o::start_transaction_req>(
      R"({"connectorId":1,"idTag":"T","meterStart":true,"timestamp":"2026-01-01T00:00:00Z"})",
      call_error_code::type_constraint_violation);
  check_refused<o::meter_values_req>(R"({"connectorId":1,"meterValue":{}})",
                                     call_error_code::type_constraint_violation);
  BOOST_TEST(check_refused<o::authorize_conf>(R"({"idTagInfo":"Accepted"})",
                                              call_error_code::type_constraint_violation) ==
             "idTagInfo: is not a JSON object");
  check_refused<o::meter_values_req>(R"({"connectorId":1,"meterValue":[7]})",
                                     call_error_code::type_constraint_violation);
  check_refused<o::boot_notification_conf>(R"({"status":"Accepted","currentTime":1359752012,"interval":300})",
                                           call_error_code::type_constraint_violation);
}

BOOST_AUTO_TEST_CASE(bad_values_are_property_violations) {
  // maxLength
  check_refused<o::authorize_req>(R"({"idTag":"123456789012345678901"})",
                                  call_error_code::property_constraint_violation);
  BOOST_TEST(o::from_json<o::authorize_req>(parsed(R"({"idTag":"12345678901234567890"})")).ok());
  check_refused<o::boot_notification_req>(R"({"chargePointVendor":"123456789012345678901","chargePointModel":"M"})",
                                          call_error_code::property_constraint_violation);
  check_refused<o::status_notification_req>(
      R"({"connectorId":1,"errorCode":"NoError","status":"Available","info":")" + std::string(51, 'i') + R"("})",
      call_error_code::property_constraint_violation);
  // maxLength counts characters, not bytes: 20 accented letters fit.
  std::string accented;
  for (int i = 0; i < 20; ++i) {
    accented += "\xc3\xa9";
  }
  BOOST_TEST(o::from_json<o::authorize_req>(parsed(R"({"idTag":")" + accented + R"("})")).ok());
  // enums
  BOOST_TEST(check_refused<o::status_notification_req>(R"({"connectorId":1,"errorCode":"NoError","status":"Idle"})",
                                                       call_error_code::property_constraint_violation) ==
             R"(status: "Idle" is not a valid value)");
  check_refused<o::status_notification_req>(R"({"connectorId":1,"errorCode":"Broken","status":"Available"})",
                                            call_error_code::property_constraint_violation);
  check_refused<o::change_availability_req>(R"({"connectorId":1,"type":"operative"})",
                                            call_error_code::property_constraint_violation);
  check_refused<o::stop_transaction_req>(
      R"({"meterStop":1,"timestamp":"2026-01-01T00:00:00Z","transactionId":1,"reason":"Bored"})",
      call_error_code::property_constraint_violation);
  check_refused<o::meter_values_req>(
      R"({"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":"1","unit":"MWh"}]}]})",
      call_error_code::property_constraint_violation);
  // ranges
  check_refused<o::status_notification_req>(R"({"connectorId":-1,"errorCode":"NoError","status":"Available"})",
                                            call_error_code::property_constraint_violation);
  check_refused<o::start_transaction_req>(
      R"({"connectorId":0,"idTag":"T","meterStart":0,"timestamp":"2026-01-01T00:00:00Z"})",
      call_error_code::property_constraint_violation);
  check_refused<o::remote_stop_transaction_req>(R"({"transactionId":9223372036854775808})",
                                                call_error_code::property_constraint_violation);
  BOOST_TEST(o::from_json<o::remote_stop_transaction_req>(parsed(R"({"transactionId":9223372036854775807})")).ok());
  // dates
  check_refused<o::heartbeat_conf>(R"({"currentTime":"yesterday"})", call_error_code::property_constraint_violation);
  check_refused<o::heartbeat_conf>(R"({"currentTime":"2026-02-30T00:00:00Z"})",
                                   call_error_code::property_constraint_violation);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_ignored) {
  const auto r = o::from_json<o::authorize_req>(parsed(R"({"idTag":"T","vendorExtension":{"x":[1,2]}})"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->id_tag == "T");
  const auto rs = o::from_json<o::remote_start_transaction_req>(
      parsed(R"({"idTag":"T","chargingProfile":{"chargingProfileId":1}})"));
  BOOST_REQUIRE(rs.ok());
  BOOST_TEST(!rs->connector_id.has_value());
}

BOOST_AUTO_TEST_CASE(first_violation_wins) {
  BOOST_TEST(check_refused<o::boot_notification_req>(R"({"chargePointVendor":1,"chargePointModel":2})",
                                                     call_error_code::type_constraint_violation) ==
             "chargePointVendor: is not a string");
}

// ---- energy ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(energy_in_kwh) {
  namespace tt = boost::test_tools;
  o::meter_value_sample s;
  s.value = "15230";
  BOOST_TEST(o::energy_kwh(s).value_or(-1) == 15.23, tt::tolerance(1e-12));  // defaults: register, Wh
  s.unit = o::unit_of_measure::wh;
  BOOST_TEST(o::energy_kwh(s).value_or(-1) == 15.23, tt::tolerance(1e-12));
  s.unit = o::unit_of_measure::kwh;
  s.value = "15.23";
  BOOST_TEST(o::energy_kwh(s).value_or(-1) == 15.23, tt::tolerance(1e-12));
  s.measurand = o::measurand::energy_active_import_register;
  s.value = "1e3";
  BOOST_TEST(o::energy_kwh(s).value_or(-1) == 1000.0, tt::tolerance(1e-12));
  s.value = "0";
  BOOST_TEST(o::energy_kwh(s).value_or(-1) == 0.0);
  s.format = o::value_format::signed_data;
  BOOST_TEST(!o::energy_kwh(s).has_value());
  s.format = o::value_format::raw;
  BOOST_TEST(o::energy_kwh(s).has_value());

  // Not the import register, or not an energy unit.
  s.value = "10";
  s.measurand = o::measurand::energy_active_export_register;
  BOOST_TEST(!o::energy_kwh(s).has_value());
  s.measurand = o::measurand::power_active_import;
  BOOST_TEST(!o::energy_kwh(s).has_value());
  s.measurand.reset();
  s.unit = o::unit_of_measure::kw;
  BOOST_TEST(!o::energy_kwh(s).has_value());
  s.unit.reset();

  // Not a number.
  for (const char* bad : {"", "abc", " 12", "12 ", "12kWh", "nan", "inf", "1e999", "0x10", "+5"}) {
    s.value = bad;
    BOOST_TEST_INFO("value \"" << bad << "\"");
    BOOST_TEST(!o::energy_kwh(s).has_value());
  }
}

// ---- times ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(iso8601_writes_utc_with_milliseconds) {
  BOOST_TEST(o::iso8601_utc(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(o::iso8601_utc(t0) == "2013-02-01T20:53:32.486Z");
  BOOST_TEST(o::iso8601_utc(1709208000000) == "2024-02-29T12:00:00.000Z");
  BOOST_TEST(o::iso8601_utc(-1) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(o::iso8601_utc(253402300799999) == "9999-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(iso8601_parses_zones_and_fractions) {
  const auto ms = [](std::string_view text) {
    const auto r = o::parse_iso8601(text);
    BOOST_TEST_INFO(text);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.err().message));
    return *r;
  };
  BOOST_TEST(ms("2013-02-01T20:53:32.486Z") == t0);
  BOOST_TEST(ms("2013-02-01T20:53:32.486123Z") == t0);
  BOOST_TEST(ms("2013-02-01T20:53:32.4Z") == t0 - 86);
  BOOST_TEST(ms("2013-02-01T20:53:32Z") == t0 - 486);
  BOOST_TEST(ms("2013-02-01T21:53:32.486+01:00") == t0);
  BOOST_TEST(ms("2000-01-01T00:00:00+02:00") == 946677600000);
  BOOST_TEST(ms("2000-01-01T00:00:00-05:30") == 946704600000);
  BOOST_TEST(ms("2024-02-29T12:00:00Z") == 1709208000000);
  BOOST_TEST(ms("1970-01-01T00:00:00Z") == 0);
  BOOST_TEST(ms("9999-12-31T23:59:59.999Z") == 253402300799999);
  for (std::int64_t t = -86'400'000; t < 4'000'000'000'000; t += 7'777'777'777) {
    BOOST_TEST(ms(o::iso8601_utc(t)) == t);
  }
}

BOOST_AUTO_TEST_CASE(iso8601_refusals) {
  for (const char* bad : {"", "2013-02-01", "2013-02-01T20:53:32", "2013-02-01 20:53:32Z", "2013-02-01t20:53:32Z",
                          "2013-13-01T00:00:00Z", "2013-00-01T00:00:00Z", "2023-02-29T00:00:00Z",
                          "2013-02-01T24:00:00Z", "2013-02-01T20:60:00Z", "2013-02-01T20:53:60Z",
                          "2013-02-01T20:53:32.Z", "2013-02-01T20:53:32+0100", "2013-02-01T20:53:32+01",
                          "2013-02-01T20:53:32+24:00", "2013-02-01T20:53:32ZZ", "13-02-01T20:53:32Z",
                          "2013-2-01T20:53:32Z", "+2013-02-01T20:53:32Z"}) {
    const auto r = o::parse_iso8601(bad);
    BOOST_TEST_INFO("\"" << bad << "\"");
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.err().code == evnet::errc::invalid_field);
  }
}

// ---- hostile input ------------------------------------------------------------------

namespace {

// Every from_json on one payload: each either accepts or refuses with a
// description, none throws or crashes.
template <class... T>
void validate_as_all(const json::value& payload) {
  (
      [&payload] {
        const auto r = o::from_json<T>(payload);
        if (!r.ok()) {
          BOOST_TEST(!r.err().description.empty());
        }
      }(),
      ...);
}

} // namespace

BOOST_AUTO_TEST_CASE(mutated_payloads_never_crash) {
  const std::string seeds[] = {
      json::dump(o::to_json(o::boot_notification_req{"VendorX", "Model", "CP-SN", {}, "1.2.3", {}, {}, {}, {}})),
      json::dump(o::to_json(o::status_notification_req{2, o::charge_point_error_code::ground_failure,
                                                       o::charge_point_status::faulted, "x", t0, "v", "E"})),
      json::dump(o::to_json(o::meter_values_req{1, 17, {sample_reading()}})),
      json::dump(o::to_json(o::stop_transaction_req{"T", 1, t0, 17, o::stop_reason::remote, {sample_reading()}})),
      json::dump(o::to_json(o::start_transaction_conf{{o::authorization_status::accepted, t0, "P"}, 5})),
  };
  std::mt19937 rng(20261127);  // fixed: a failure reproduces
  const std::string alphabet = "{}[]\",:0123456789.-eEtrufalsnZT+ \xc3\xa9";
  int validated = 0;
  for (const auto& seed : seeds) {
    for (int round = 0; round < 400; ++round) {
      std::string text = seed;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < edits && !text.empty(); ++i) {
        const std::size_t at = rng() % text.size();
        switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        }
      }
      const auto doc = json::parse(text);
      if (!doc.ok()) {
        continue;
      }
      ++validated;
      validate_as_all<o::boot_notification_req, o::boot_notification_conf, o::heartbeat_req, o::heartbeat_conf,
                      o::status_notification_req, o::status_notification_conf, o::authorize_req, o::authorize_conf,
                      o::start_transaction_req, o::start_transaction_conf, o::meter_values_req, o::meter_values_conf,
                      o::stop_transaction_req, o::stop_transaction_conf, o::remote_start_transaction_req,
                      o::remote_start_transaction_conf, o::remote_stop_transaction_req,
                      o::remote_stop_transaction_conf, o::change_availability_req, o::change_availability_conf>(*doc);
    }
  }
  // The mutations must leave enough valid JSON to exercise the validators.
  BOOST_TEST(validated > 200);
}
