// Unit tests of the view models: events in, what to draw and command lines out.
#define BOOST_TEST_MODULE ui_models
#include <boost/test/unit_test.hpp>

#include "evnet/ui/central_model.hpp"
#include "evnet/ui/driver_model.hpp"
#include "evnet/ui/engine_model.hpp"
#include "evnet/ui/gateway_model.hpp"
#include "evnet/ui/monitor_model.hpp"
#include "evnet/ui/view_model.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

using namespace evnet;
using namespace evnet::ui;

namespace {

json::value event(std::string name, json::object fields = {}, std::int64_t ts = 1'700'000'000'000) {
  json::object obj{{"event", std::move(name)}, {"ts", ts}};
  for (auto& f : fields) {
    obj.push_back(std::move(f));
  }
  return json::value(std::move(obj));
}

json::value cp(std::string id, std::string state, double price = 0.40, std::string driver = "", double kwh = 0,
               double amount = 0) {
  return json::value(json::object{{"cp", std::move(id)},
                                  {"location", "Calle Mayor 1, Alicante"},
                                  {"price", price},
                                  {"state", std::move(state)},
                                  {"driver", std::move(driver)},
                                  {"kwh", kwh},
                                  {"amount", amount}});
}

json::value cp_event(std::string id, std::string state, std::string driver = "") {
  json::value v = cp(std::move(id), std::move(state), 0.40, std::move(driver));
  json::object fields = v.get_ref<const json::object&>();
  return event("cp_state", std::move(fields));
}

json::value ticket(std::string cp_id, std::string driver, double kwh, double amount) {
  return event("ticket", {{"cp", std::move(cp_id)},
                          {"charge_id", "c1"},
                          {"driver", std::move(driver)},
                          {"kwh", kwh},
                          {"price", 0.40},
                          {"amount", amount},
                          {"start", 1'700'000'000'000},
                          {"end", 1'700'000'030'000},
                          {"reason", "completed"}});
}

// Types `text` then ENTER into whatever prompt the model has open.
template <class Model>
std::optional<std::string> type_line(Model& m, std::string_view text) {
  for (char c : text) {
    if (auto out = m.on_key(static_cast<unsigned char>(c), 0)) {
      return out;
    }
  }
  return m.on_key(keys::enter, 0);
}

central_model central_with(std::initializer_list<std::string> ids) {
  central_model m;
  json::array list;
  for (const auto& id : ids) {
    list.push_back(cp(id, "ACTIVE"));
  }
  m.apply(event("cps", {{"cps", std::move(list)}}));
  return m;
}

} // namespace

BOOST_AUTO_TEST_SUITE(shared)

BOOST_AUTO_TEST_CASE(statuses_parse_and_read_as_the_operator_expects) {
  cp_view v;
  BOOST_TEST(!v.state.has_value());
  merge_cp(v, cp("ALC1", "OUT_OF_ORDER"));
  BOOST_TEST((v.state == cp_state::out_of_order));
  merge_cp(v, cp("ALC1", "BUSY"));
  BOOST_TEST((v.state == cp_state::busy));
  merge_cp(v, cp("ALC1", "nonsense"));
  BOOST_TEST(!v.state.has_value());
  BOOST_TEST(status_label(cp_state::out_of_order) == "Out of Order");
  BOOST_TEST(status_label(cp_state::busy) == "Charging");
  BOOST_TEST(status_label(std::nullopt) == "Unknown");
}

BOOST_AUTO_TEST_CASE(numbers_format_without_the_locale) {
  BOOST_TEST(format_fixed(0.4, 2) == "0.40");
  BOOST_TEST(format_fixed(12.3456, 3) == "12.346");
  BOOST_TEST(format_fixed(0.0, 2) == "0.00");
  BOOST_TEST(format_fixed(-1.5, 1) == "-1.5");
  BOOST_TEST(format_elapsed(65) == "1:05");
  BOOST_TEST(format_elapsed(3725) == "1:02:05");
}

BOOST_AUTO_TEST_CASE(prices_and_durations_are_checked) {
  BOOST_TEST(parse_price("0.40").value() == 0.40);
  BOOST_TEST(!parse_price("0,40"));
  BOOST_TEST(!parse_price("-1"));
  BOOST_TEST(!parse_price(""));
  BOOST_TEST(parse_seconds("30").value() == 30);
  BOOST_TEST(!parse_seconds("0"));
  BOOST_TEST(!parse_seconds("3x"));
}

BOOST_AUTO_TEST_CASE(missing_or_mistyped_fields_fall_back) {
  json::value ev = event("x", {{"n", "not a number"}, {"i", 7}});
  BOOST_TEST(field::number(ev, "n", 2.5) == 2.5);
  BOOST_TEST(field::number(ev, "i") == 7.0);
  BOOST_TEST(field::text(ev, "i") == "7");
  BOOST_TEST(field::text(ev, "absent", "dflt") == "dflt");
  BOOST_TEST(field::text(json::value(42), "event").empty());
  BOOST_TEST(field::integer(event("x", {{"f", 2.9}, {"big", 1e300}}), "f") == 2);
  BOOST_TEST(field::integer(event("x", {{"big", 1e300}}), "big") == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(field::text(event("x", {{"u", 18446744073709551615ULL}}), "u") == "18446744073709551615");
}

BOOST_AUTO_TEST_CASE(message_log_keeps_the_latest_lines) {
  message_log log(3);
  for (int i = 0; i < 5; ++i) {
    log.push(i, "line " + std::to_string(i));
  }
  BOOST_TEST(log.lines().size() == 3u);
  BOOST_TEST(log.lines().front().text == "line 2");
  BOOST_TEST(log.back().text == "line 4");
}

BOOST_AUTO_TEST_CASE(form_defaults_are_replaced_by_typing_and_kept_by_enter) {
  form f("ADD", {{"id", "ALC1"}, {"price", "0.40"}});
  BOOST_TEST((f.on_key('X') == form::outcome::editing));
  BOOST_TEST(f.current().text == "X");
  BOOST_TEST((f.on_key(keys::enter) == form::outcome::editing));
  BOOST_TEST((f.on_key(keys::enter) == form::outcome::done));
  BOOST_TEST(!f.active());
  auto v = f.values();
  BOOST_TEST(v[0] == "X");
  BOOST_TEST(v[1] == "0.40");
}

BOOST_AUTO_TEST_CASE(form_backspace_removes_whole_utf8_characters_and_esc_cancels) {
  form f("ADD", {{"location", ""}});
  f.on_key('A');
  f.on_key(0xE9);  // é, two bytes in UTF-8
  BOOST_TEST(f.current().text == "A\xC3\xA9");
  f.on_key(keys::backspace);
  BOOST_TEST(f.current().text == "A");
  BOOST_TEST((f.on_key(keys::escape) == form::outcome::cancelled));
  BOOST_TEST(!f.active());
}

BOOST_AUTO_TEST_CASE(clip_counts_code_points) {
  BOOST_TEST(display_width("Alicante") == 8u);
  BOOST_TEST(display_width("Eléctrica") == 9u);
  BOOST_TEST(clip("Eléctrica", 3) == "Elé");
  BOOST_TEST(clip("abc", 10) == "abc");
  BOOST_TEST(clip("abc", 0).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(central)

BOOST_AUTO_TEST_CASE(cps_list_fills_tiles_sorted_and_selects_the_first) {
  central_model m = central_with({"ALC3", "ALC1", "ALC2"});
  BOOST_TEST(m.cps().size() == 3u);
  BOOST_TEST(m.cps().begin()->first == "ALC1");
  BOOST_TEST(m.selected_id() == "ALC1");
  BOOST_TEST(m.cps().at("ALC2").location == "Calle Mayor 1, Alicante");
  BOOST_TEST(m.cps().at("ALC2").price == 0.40);
  BOOST_TEST((m.cps().at("ALC2").state == cp_state::active));
}

BOOST_AUTO_TEST_CASE(state_changes_recolour_the_tile) {
  central_model m = central_with({"ALC1", "ALC3"});
  m.apply(cp_event("ALC1", "BUSY", "D1"));
  BOOST_TEST((m.cps().at("ALC1").state == cp_state::busy));
  BOOST_TEST(m.cps().at("ALC1").driver == "D1");
  m.apply(cp_event("ALC3", "OUT_OF_ORDER"));
  BOOST_TEST((m.cps().at("ALC3").state == cp_state::out_of_order));
  m.apply(cp_event("ALC9", "ACTIVE"));  // registered while running
  BOOST_TEST(m.cps().size() == 3u);
}

BOOST_AUTO_TEST_CASE(telemetry_updates_live_kwh_amount_and_driver) {
  central_model m = central_with({"ALC1"});
  m.apply(cp_event("ALC1", "BUSY", "D1"));
  m.apply(event("telemetry", {{"cp", "ALC1"}, {"charge_id", "c1"}, {"driver", "D1"}, {"kwh", 1.25}, {"amount", 0.5}}));
  const cp_view& v = m.cps().at("ALC1");
  BOOST_TEST(v.kwh == 1.25);
  BOOST_TEST(v.amount == 0.5);
  BOOST_TEST(v.driver == "D1");
}

BOOST_AUTO_TEST_CASE(requests_live_from_request_until_ticket_or_denial) {
  central_model m = central_with({"ALC1", "ALC2"});
  m.apply(event("request", {{"driver", "D1"}, {"cp", "ALC1"}, {"duration", 30}, {"request_id", "r1"}}));
  m.apply(event("request", {{"driver", "D2"}, {"cp", "ALC2"}, {"duration", 10}, {"request_id", "r2"}}));
  BOOST_TEST(m.requests().size() == 2u);
  BOOST_TEST(m.requests()[0].driver == "D1");
  BOOST_TEST(m.requests()[0].duration == 30);

  m.apply(event("authorized", {{"driver", "D1"}, {"cp", "ALC1"}, {"charge_id", "c1"}}));
  BOOST_TEST(m.requests()[0].authorized);

  m.apply(event("denied", {{"driver", "D2"}, {"cp", "ALC2"}, {"reason", "CP is BROKEN"}}));
  BOOST_TEST(m.requests().size() == 1u);

  m.apply(ticket("ALC1", "D1", 2.0, 0.8));
  BOOST_TEST(m.requests().empty());
}

BOOST_AUTO_TEST_CASE(central_narrates_the_messages_pane_coloured_by_meaning) {
  central_model m;
  m.apply(event("started", {{"port", 7000}, {"pub_port", 7001}, {"db", "x"}, {"cps", 2}}));
  BOOST_TEST(m.central_ok());
  BOOST_TEST(m.port() == 7000);
  m.apply(event("message", {{"text", "CENTRAL system status OK"}}));
  BOOST_TEST((m.messages().back().kind == message_log::tone::good));
  m.apply(event("message", {{"text", "ALC3 out of order"}}));
  BOOST_TEST(m.messages().back().text == "ALC3 out of order");
  BOOST_TEST((m.messages().back().kind == message_log::tone::bad));
  m.apply(event("message", {{"text", "authentication denied for ALC9: unknown CP"}}));
  BOOST_TEST((m.messages().back().kind == message_log::tone::bad));
  m.apply(event("message", {{"text", "ticket ALC1 D1: 2 kWh"}}));
  BOOST_TEST((m.messages().back().kind == message_log::tone::info));
  // Events Central already narrates add no second line.
  auto before = m.messages().lines().size();
  m.apply(event("auth", {{"cp", "ALC1"}, {"ok", true}, {"reason", ""}}));
  m.apply(event("fault", {{"cp", "ALC1"}, {"detail", "x"}}));
  m.apply(event("command", {{"command", "stop"}, {"cp", "ALC1"}, {"ok", true}, {"reason", ""}}));
  BOOST_TEST(m.messages().lines().size() == before);
  // ... while those it does not narrate do.
  m.apply(event("engine", {{"cp", "ALC1"}, {"status", "connected"}}));
  BOOST_TEST(m.messages().back().text == "ALC1 engine connected");
  m.apply(event("error", {{"code", "bad_command"}, {"message", "unknown command"}}));
  BOOST_TEST(m.messages().back().text == "error: unknown command");
}

BOOST_AUTO_TEST_CASE(stop_defaults_to_the_selected_cp_and_is_echoed) {
  central_model m = central_with({"ALC1", "ALC2"});
  m.on_key(keys::right, 0);
  BOOST_TEST(m.selected_id() == "ALC2");
  BOOST_TEST(!m.on_key('s', 0));
  BOOST_TEST(m.prompt().active());
  auto line = m.on_key(keys::enter, 0);
  BOOST_TEST(line.value() == "stop ALC2");
  BOOST_TEST(m.messages().back().text == "> stop ALC2");
}

BOOST_AUTO_TEST_CASE(stop_or_resume_by_typed_id_or_all) {
  central_model m = central_with({"ALC1", "ALC2"});
  m.on_key('s', 0);
  BOOST_TEST(type_line(m, "ALC7").value() == "stop ALC7");
  m.on_key('r', 0);
  BOOST_TEST(type_line(m, "all").value() == "resume all");
  m.on_key('r', 0);
  BOOST_TEST(!type_line(m, "two words"));
  BOOST_TEST((m.messages().back().kind == message_log::tone::bad));
}

BOOST_AUTO_TEST_CASE(all_actions_and_quit_ask_first) {
  central_model m = central_with({"ALC1"});
  BOOST_TEST(!m.on_key('S', 0));
  BOOST_TEST(!m.question().empty());
  BOOST_TEST(m.on_key('y', 0).value() == "stop all");
  BOOST_TEST(m.question().empty());
  m.on_key('R', 0);
  BOOST_TEST(!m.on_key('n', 0));
  BOOST_TEST(m.messages().back().text == "cancelled: resume all");
  m.on_key('q', 0);
  BOOST_TEST(m.on_key('y', 0).value() == "quit");
  BOOST_TEST(m.on_key('l', 0).value() == "list");
}

BOOST_AUTO_TEST_CASE(register_a_cp_with_id_price_and_location) {
  central_model m;
  m.on_key('a', 0);
  BOOST_TEST(!type_line(m, "ALC9"));
  BOOST_TEST(!m.on_key(keys::enter, 0));  // keeps the suggested price 0.40
  auto line = type_line(m, "Calle Mayor 1, Alicante");
  BOOST_TEST(line.value() == "add ALC9 0.40 Calle Mayor 1, Alicante");
}

BOOST_AUTO_TEST_CASE(revoke_asks_for_an_id_and_suggests_the_selected_cp) {
  central_model m = central_with({"ALC1"});
  BOOST_TEST(!m.on_key('k', 0));
  BOOST_TEST(m.prompt().active());
  BOOST_TEST(m.on_key(keys::enter, 0).value() == "revoke ALC1");
}

BOOST_AUTO_TEST_CASE(a_refusal_is_shown_in_the_messages) {
  central_model m = central_with({"ALC1"});
  m.apply(event("refused", {{"peer", "0x00ff"}, {"identity", "cp:ALC2"}, {"type", "charge_finished"},
                            {"reason", "the key of CP ALC2 may not speak for CP ALC1"}}));
  BOOST_TEST(m.messages().back().text ==
             "refused charge_finished from cp:ALC2: the key of CP ALC2 may not speak for CP ALC1");
}

BOOST_AUTO_TEST_CASE(register_rejects_a_bad_price_without_sending) {
  central_model m;
  m.on_key('a', 0);
  type_line(m, "ALC9");
  type_line(m, "cheap");
  BOOST_TEST(!type_line(m, "Somewhere"));
  BOOST_TEST(m.messages().back().text == "add: price must be a number >= 0 (EUR/kWh)");
}

BOOST_AUTO_TEST_CASE(escape_cancels_a_prompt) {
  central_model m = central_with({"ALC1"});
  m.on_key('s', 0);
  BOOST_TEST(!m.on_key(keys::escape, 0));
  BOOST_TEST(!m.prompt().active());
  BOOST_TEST(!m.on_key(keys::enter, 0));
}

BOOST_AUTO_TEST_CASE(arrows_move_by_rows_and_pages_and_goto_selects) {
  central_model m = central_with({"A1", "A2", "A3", "A4", "A5", "A6", "A7"});
  m.set_layout(3, 6);
  m.on_key(keys::down, 0);
  BOOST_TEST(m.selected_id() == "A4");
  m.on_key(keys::page_down, 0);
  BOOST_TEST(m.selected_id() == "A7");  // clamped to the last
  m.on_key(keys::up, 0);
  BOOST_TEST(m.selected_id() == "A4");
  m.on_key(keys::home, 0);
  BOOST_TEST(m.selected_id() == "A1");
  m.on_key('/', 0);
  type_line(m, "A5");
  BOOST_TEST(m.selected_id() == "A5");
  BOOST_TEST(m.selected_index() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(driver)

BOOST_AUTO_TEST_CASE(a_charge_goes_through_its_steps_to_a_ticket) {
  driver_model m;
  m.apply(event("started", {{"driver", "D1"}, {"central", "tcp://127.0.0.1:7000"}}));
  m.apply(event("requested", {{"cp", "ALC1"}, {"duration", 30}, {"request_id", "r1"}}));
  BOOST_TEST((m.current_page() == driver_model::page::charge));
  BOOST_TEST(m.current().has_value());
  BOOST_TEST(!m.current()->authorized);

  m.apply(event("authorized", {{"cp", "ALC1"}, {"charge_id", "c1"}}));
  BOOST_TEST(m.current()->authorized);
  m.apply(event("plugged", {{"cp", "ALC1"}, {"charge_id", "c1"}}, 1'700'000'001'000));
  BOOST_TEST(m.current()->plugged);
  m.apply(event("progress", {{"cp", "ALC1"}, {"charge_id", "c1"}, {"kwh", 0.5}, {"amount", 0.2}}));
  BOOST_TEST(m.current()->kwh == 0.5);
  BOOST_TEST(m.current()->amount == 0.2);

  m.apply(ticket("ALC1", "D1", 3.0, 1.2));
  BOOST_TEST(m.current()->finished);
  BOOST_TEST(m.current()->kwh == 3.0);
  BOOST_TEST(m.tickets().size() == 1u);
  BOOST_TEST(m.tickets().front().amount == 1.2);
}

BOOST_AUTO_TEST_CASE(interruption_and_denial_are_kept_with_their_reason) {
  driver_model m;
  m.apply(event("requested", {{"cp", "ALC1"}, {"duration", 30}, {"request_id", "r1"}}));
  m.apply(event("denied", {{"cp", "ALC1"}, {"reason", "CP is BROKEN"}}));
  BOOST_TEST(m.current()->denied);
  BOOST_TEST(m.current()->reason == "CP is BROKEN");

  m.apply(event("requested", {{"cp", "ALC2"}, {"duration", 30}, {"request_id", "r2"}}));
  BOOST_TEST(!m.current()->denied);
  m.apply(event("progress", {{"cp", "ALC2"}, {"charge_id", "c2"}, {"kwh", 0.1}, {"amount", 0.04}}));
  m.apply(event("interrupted",
                {{"cp", "ALC2"}, {"charge_id", "c2"}, {"kwh", 0.2}, {"amount", 0.08}, {"reason", "engine fault"}}));
  BOOST_TEST(m.current()->interrupted);
  BOOST_TEST(m.current()->kwh == 0.2);
  BOOST_TEST(m.messages().back().text == "charge at ALC2 interrupted: engine fault");
}

BOOST_AUTO_TEST_CASE(a_ticket_cut_short_by_stop_reads_as_an_interruption) {
  driver_model m;
  m.apply(event("requested", {{"cp", "ALC1"}, {"duration", 60}, {"request_id", "r1"}}));
  json::value t = ticket("ALC1", "D1", 1.0, 0.35);
  t["reason"] = "stopped by CENTRAL";
  m.apply(t);
  BOOST_TEST(m.current()->finished);
  BOOST_TEST(m.current()->interrupted);
  BOOST_TEST(m.current()->reason == "stopped by CENTRAL");
  BOOST_TEST(m.tickets().size() == 1u);

  m.apply(event("requested", {{"cp", "ALC1"}, {"duration", 5}, {"request_id", "r2"}}));
  m.apply(ticket("ALC1", "D1", 5.0, 1.75));
  BOOST_TEST(!m.current()->interrupted);
}

BOOST_AUTO_TEST_CASE(tickets_are_read_as_cut_short_by_their_end_reason) {
  driver_model m;
  m.apply(event("requested", {{"cp", "ALC1"}, {"duration", 60}, {"request_id", "r1"}}));
  json::value fault = ticket("ALC1", "D1", 0.5, 0.2);
  fault["reason"] = evnet::end_reason::engine_fault;
  m.apply(fault);
  BOOST_TEST(m.current()->interrupted);
  BOOST_TEST((m.tickets().front().ended == evnet::end_reason::engine_fault));

  m.apply(event("requested", {{"cp", "ALC1"}, {"duration", 0}, {"request_id", "r2"}}));
  json::value unplugged = ticket("ALC1", "D1", 0.5, 0.2);
  unplugged["reason"] = "unplugged";
  m.apply(unplugged);
  BOOST_TEST(!m.current()->interrupted);

  // A word outside the vocabulary is shown, not decided on.
  m.apply(event("requested", {{"cp", "ALC1"}, {"duration", 5}, {"request_id", "r3"}}));
  json::value odd = ticket("ALC1", "D1", 0.5, 0.2);
  odd["reason"] = "cosmic rays";
  m.apply(odd);
  BOOST_TEST(!m.current()->interrupted);
  BOOST_TEST(!m.tickets().front().ended.has_value());
  BOOST_TEST(m.tickets().front().reason == "cosmic rays");
}

BOOST_AUTO_TEST_CASE(central_reachability_is_part_of_the_screen) {
  driver_model m;
  BOOST_TEST(!m.central_reachable());
  m.apply(event("central", {{"status", "unreachable"}, {"text", "cannot reach CENTRAL at 127.0.0.1:7000, retrying"}}));
  BOOST_TEST(!m.central_reachable());
  BOOST_TEST(m.central_text() == "cannot reach CENTRAL at 127.0.0.1:7000, retrying");
  m.apply(event("central", {{"status", "connected"}, {"text", "connected to CENTRAL"}}));
  BOOST_TEST(m.central_reachable());
}

BOOST_AUTO_TEST_CASE(cps_are_listed_live) {
  driver_model m;
  m.apply(event("cps", {{"cps", json::array{cp("ALC2", "ACTIVE"), cp("ALC1", "BROKEN")}}}));
  BOOST_TEST(m.selected_id() == "ALC1");
  m.apply(cp_event("ALC2", "BUSY", "D9"));
  BOOST_TEST((m.cps().at("ALC2").state == cp_state::busy));
  m.on_key(keys::down, 0);
  BOOST_TEST(m.selected_id() == "ALC2");
}

BOOST_AUTO_TEST_CASE(file_run_tracks_services_and_the_pause) {
  driver_model m;
  json::array errors{json::value(json::object{{"line", 3}, {"text", "??"}, {"message", "bad CP id"}})};
  m.apply(event("file", {{"path", "config/requests.txt"}, {"services", 3}, {"errors", std::move(errors)}}));
  BOOST_TEST(m.file()->total == 3);
  BOOST_TEST(m.file()->errors.size() == 1u);
  m.apply(event("service", {{"index", 1}, {"total", 3}, {"cp", "ALC1"}, {"status", "running"}}));
  m.apply(event("service", {{"index", 1}, {"total", 3}, {"cp", "ALC1"}, {"status", "done"}}));
  m.apply(event("waiting", {{"seconds", 4}}, 1'000));
  BOOST_TEST(m.file()->waiting_until == 5'000);
  m.apply(event("service", {{"index", 2}, {"total", 3}, {"cp", "ALC2"}, {"status", "running"}}));
  BOOST_TEST(m.file()->waiting_until == 0);
  BOOST_TEST(m.file()->services.at(1).status == "done");
  BOOST_TEST(m.file()->services.at(2).cp == "ALC2");
  m.apply(event("requested", {{"cp", "ALC3"}, {"duration", 5}, {"request_id", "r3"}}));
  m.apply(event("denied", {{"cp", "ALC3"}, {"reason", "CP ALC3 is DISCONNECTED"}}));
  m.apply(event("service", {{"index", 3}, {"total", 3}, {"cp", "ALC3"}, {"status", "failed"}}));
  BOOST_TEST(m.file()->services.at(3).reason == "CP ALC3 is DISCONNECTED");
  m.apply(event("file_done", {{"path", "config/requests.txt"}, {"done", 2}, {"failed", 1}}));
  BOOST_TEST(m.file()->finished);
  BOOST_TEST(m.file()->failed == 1);
}

BOOST_AUTO_TEST_CASE(keys_request_a_charge_or_run_a_file) {
  driver_model m;
  m.apply(event("cps", {{"cps", json::array{cp("ALC1", "ACTIVE")}}}));
  m.on_key('c', 0);
  BOOST_TEST(!m.on_key(keys::enter, 0));  // keeps the selected CP
  BOOST_TEST(type_line(m, "10").value() == "charge ALC1 10");

  m.on_key('c', 0);
  m.on_key(keys::enter, 0);
  BOOST_TEST(m.on_key(keys::enter, 0).value() == "charge ALC1");

  m.on_key('c', 0);
  type_line(m, "ALC2");
  BOOST_TEST(!type_line(m, "ten"));

  m.on_key('f', 0);
  BOOST_TEST(m.on_key(keys::enter, 0).value() == "file config/requests.txt");
  BOOST_TEST(m.on_key('l', 0).value() == "list");
  BOOST_TEST(!m.on_key('4', 0));
  BOOST_TEST((m.current_page() == driver_model::page::tickets));
  BOOST_TEST(m.on_key('q', 0).value() == "quit");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(monitor)

BOOST_AUTO_TEST_CASE(link_health_charge_and_ticket) {
  monitor_model m;
  m.apply(event("started", {{"cp", "ALC1"}, {"engine", "127.0.0.1:7100"}, {"central", "127.0.0.1:7000"}}));
  BOOST_TEST(!m.authenticated());
  m.apply(event("central", {{"status", "connected"}, {"text", "connected"}}));
  m.apply(event("auth", {{"ok", true}, {"reason", ""}, {"cp", "ALC1"}, {"location", "Calle Mayor 1"}, {"price", 0.4}}));
  BOOST_TEST(m.authenticated().value());
  BOOST_TEST(m.location() == "Calle Mayor 1");
  BOOST_TEST(m.price() == 0.4);

  m.apply(event("engine", {{"ok", false}, {"detail", "the Engine reports a fault"}, {"state", "BROKEN"}}, 5));
  BOOST_TEST(!m.engine_ok().value());
  BOOST_TEST(m.engine_checked_at() == 5);
  BOOST_TEST(m.messages().back().text == "engine KO: the Engine reports a fault");

  m.apply(event("charge", {{"cp", "ALC1"}, {"charge_id", "c1"}, {"driver", "D1"}, {"kwh", 0.3}, {"amount", 0.12},
                           {"elapsed_s", 3}, {"duration_s", 10}, {"plugged", true}}));
  BOOST_TEST(m.current()->elapsed_s == 3);
  m.apply(ticket("ALC1", "D1", 1.0, 0.4));
  BOOST_TEST(!m.current());
  BOOST_TEST(m.last_ticket()->kwh == 1.0);
}

BOOST_AUTO_TEST_CASE(a_lost_link_forgets_the_authentication) {
  monitor_model m;
  m.apply(event("auth", {{"ok", true}, {"reason", ""}, {"cp", "ALC1"}}));
  m.apply(event("central", {{"status", "unreachable"}, {"text", "cannot reach CENTRAL"}}));
  BOOST_TEST(!m.authenticated());
  BOOST_TEST(!m.central_connected());
}

BOOST_AUTO_TEST_CASE(a_local_charge_key_and_its_refusal) {
  monitor_model m;
  m.on_key('c', 0);
  BOOST_TEST(type_line(m, "10").value() == "charge 10");
  m.on_key('c', 0);
  BOOST_TEST(m.on_key(keys::enter, 0).value() == "charge");
  m.apply(event("local_charge", {{"ok", false}, {"reason", "the CP is OUT_OF_ORDER"}, {"charge_id", ""}}));
  BOOST_TEST(m.refusal() == "the CP is OUT_OF_ORDER");
  m.apply(event("command", {{"command", "stop"}, {"ok", true}, {"reason", ""}}));
  BOOST_TEST(m.stopped());
  m.on_key('q', 0);
  BOOST_TEST(m.on_key('y', 0).value() == "quit");
}

BOOST_AUTO_TEST_CASE(operator_orders_and_the_engine_state_are_read_through_the_vocabulary) {
  monitor_model m;
  m.apply(event("command", {{"command", evnet::cp_order::stop}, {"ok", true}, {"reason", ""}}));
  BOOST_TEST(m.stopped());
  m.apply(event("command", {{"command", "resume"}, {"ok", false}, {"reason", "no answer"}}));
  BOOST_TEST(m.stopped());  // not applied
  BOOST_TEST(m.messages().back().text == "CENTRAL resume failed: no answer");
  m.apply(event("command", {{"command", "pause"}, {"ok", true}, {"reason", ""}}));
  BOOST_TEST(m.stopped());  // not an order
  m.apply(event("command", {{"command", "resume"}, {"ok", true}, {"reason", ""}}));
  BOOST_TEST(!m.stopped());

  BOOST_TEST(!m.engine_state().has_value());
  m.apply(event("engine", {{"ok", true}, {"detail", ""}, {"state", "BUSY"}}));
  BOOST_TEST((m.engine_state() == cp_state::busy));
  m.apply(event("engine", {{"ok", true}, {"detail", ""}}));
  BOOST_TEST((m.engine_state() == cp_state::busy));  // no state field: kept
  m.apply(event("engine", {{"ok", false}, {"detail", "not configured"}, {"state", ""}}));
  BOOST_TEST(!m.engine_state().has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(enter_toggles_the_fault_by_what_the_engine_reported) {
  engine_model m;
  BOOST_TEST(m.on_key(keys::enter, 0).value() == "fault");
  m.apply(event("fault", {{"cp", "ALC1"}}));
  BOOST_TEST(m.faulted());
  BOOST_TEST(m.on_key(keys::enter, 0).value() == "repair");
  m.apply(event("repaired", {{"cp", "ALC1"}}));
  BOOST_TEST(m.on_key(keys::enter, 0).value() == "fault");
}

BOOST_AUTO_TEST_CASE(plug_unplug_and_quit_keys) {
  engine_model m;
  BOOST_TEST(m.on_key('p', 0).value() == "plug");
  BOOST_TEST(m.on_key('u', 0).value() == "unplug");
  BOOST_TEST(!m.on_key('q', 0));
  BOOST_TEST(!m.on_key('n', 0));
  m.on_key('q', 0);
  BOOST_TEST(m.on_key('y', 0).value() == "quit");
}

BOOST_AUTO_TEST_CASE(status_line_state_and_current_charge) {
  engine_model m;
  m.apply(event("configured", {{"cp", "ALC1"}, {"location", "Calle Mayor 1"}, {"price", 0.4}}));
  m.apply(event("state", {{"cp", "ALC1"}, {"state", "BUSY"}}));
  BOOST_TEST((m.state() == cp_state::busy));
  m.apply(event("authorized", {{"cp", "ALC1"}, {"charge_id", "c1"}, {"driver", "D1"}, {"duration", 30}}));
  BOOST_TEST(!m.current()->plugged);
  m.apply(event("plugged", {{"cp", "ALC1"}, {"charge_id", "c1"}}));
  m.apply(event("progress", {{"cp", "ALC1"}, {"charge_id", "c1"}, {"driver", "D1"}, {"kwh", 0.7}, {"amount", 0.28}}));
  BOOST_TEST(m.current()->kwh == 0.7);
  json::value finished = ticket("ALC1", "D1", 1.0, 0.4);
  finished["event"] = "finished";
  m.apply(finished);
  BOOST_TEST(!m.current());
  BOOST_TEST(m.last_ticket()->amount == 0.4);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gateway)

// EV_OCPP's screen: a line per charge point, its connection, the state
// Central will show, its charge and its last OCPP message; refusals and
// disconnections in the messages.
BOOST_AUTO_TEST_CASE(charge_points_their_state_charge_and_last_message) {
  gateway_model m;
  m.apply(event("started", {{"listen", 9000}, {"central", "127.0.0.1:7000"}}));
  BOOST_TEST(m.listen() == "9000");
  m.apply(event("upgrade", {{"cp", "OC1"}, {"remote", "10.0.0.5"}, {"conn", 1}}));
  m.apply(event("connected", {{"cp", "OC1"}, {"conn", 1}}));
  m.apply(event("state", {{"cp", "OC1"}, {"state", "ACTIVE"}}));
  m.apply(event("ocpp", {{"cp", "OC1"}, {"dir", "in"}, {"action", "BootNotification"}, {"id", "b1"}}));
  const auto& c = m.charge_points().at("OC1");
  BOOST_TEST(c.connected);
  BOOST_TEST(c.remote == "10.0.0.5");
  BOOST_TEST((c.state == cp_state::active));
  BOOST_TEST(c.last_message == "in BootNotification");
  m.apply(event("ocpp", {{"cp", "OC1"}, {"dir", "out"}, {"action", "CALLERROR"}, {"id", "x"}, {"code", "FormationViolation"}}));
  BOOST_TEST(m.charge_points().at("OC1").last_message == "out CALLERROR FormationViolation");
  m.apply(event("progress", {{"cp", "OC1"}, {"charge_id", "c1"}, {"driver", "D1"}, {"kwh", 1.5}, {"amount", 0.45}}));
  BOOST_TEST(m.charge_points().at("OC1").driver == "D1");
  BOOST_TEST(m.charge_points().at("OC1").kwh == 1.5);
  json::value finished = ticket("OC1", "D1", 3.5, 1.05);
  finished["event"] = "finished";
  finished["cp"] = "OC1";
  m.apply(finished);
  BOOST_TEST(m.charge_points().at("OC1").driver.empty());
  BOOST_TEST(m.messages().back().text.find("3.50 kWh") != std::string::npos);
  m.apply(event("refused", {{"cp", "OC2"}, {"status", 401}, {"reason", "OCPP credentials refused for OC2"}}));
  BOOST_TEST(m.messages().back().text.find("refused OC2 (401)") != std::string::npos);
  BOOST_TEST(m.charge_points().count("OC2") == 0u);  // a refusal is not a charge point
  m.apply(event("rejected", {{"cp", "OC1"}, {"conn", 1}, {"reason", "CENTRAL refused CP OC1's key (revoked or unknown)"}}));
  BOOST_TEST(m.charge_points().at("OC1").rejected);
  BOOST_TEST(m.messages().back().text == "OC1 rejected by CENTRAL: CENTRAL refused CP OC1's key (revoked or unknown)");
  m.apply(event("disconnected", {{"cp", "OC1"}, {"reason", "connection lost"}}));
  BOOST_TEST(!m.charge_points().at("OC1").connected);
  m.apply(event("connected", {{"cp", "OC1"}, {"conn", 2}}));
  BOOST_TEST(!m.charge_points().at("OC1").rejected);  // a new connection, admitted: no longer rejected
}

BOOST_AUTO_TEST_CASE(only_quit_is_a_key_and_it_is_confirmed) {
  gateway_model m;
  BOOST_TEST(!m.on_key('p', 0));
  BOOST_TEST(!m.on_key('q', 0));
  BOOST_TEST(!m.question().empty());
  BOOST_TEST(!m.on_key('n', 0));
  BOOST_TEST(m.question().empty());
  m.on_key('q', 0);
  BOOST_TEST(m.on_key('y', 0).value() == "quit");
}

BOOST_AUTO_TEST_SUITE_END()
