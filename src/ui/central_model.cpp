#include "evnet/ui/central_model.hpp"

#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace evnet::ui {

namespace {

using tone = message_log::tone;

bool contains(std::string_view text, std::string_view word) {
  return text.find(word) != std::string_view::npos;
}

// Central's lines carry no severity; colour them by what they say.
tone tone_of_text(std::string_view text) {
  for (std::string_view bad : {"denied", "fault", "out of order", "disconnected", "error", "failed", "refused",
                               "cannot", "lost", "unknown"}) {
    if (contains(text, bad)) {
      return tone::bad;
    }
  }
  for (std::string_view good : {"accepted", "recovered", "resumed", "status OK", "registered", "authorized"}) {
    if (contains(text, good)) {
      return tone::good;
    }
  }
  return tone::info;
}

// "STOP" for the prompts from the order's spelling "stop".
std::string upper(std::string_view word) {
  std::string out(word);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

bool is_single_word(const std::string& s) {
  return !s.empty() && split_words(s).size() == 1;
}

} // namespace

central_model::central_model() : messages_(200) {}

// Central narrates most events itself (`message` events), so the model
// adds lines only for what it does not: engines announcing themselves,
// driver requests, interruptions, errors, and the operator's own commands.
void central_model::apply(const json::value& ev) {
  const std::string name = field::text(ev, "event");
  const std::int64_t ts = field::integer(ev, "ts");
  const std::string cp = field::text(ev, "cp");
  const std::string driver = field::text(ev, "driver");

  if (name == "started") {
    started_ = true;
    port_ = field::integer(ev, "port");
  } else if (name == "cps") {
    merge_cps(cps_, selected_, ev);
  } else if (name == "cp_state") {
    apply_cp(ev);
  } else if (name == "engine") {
    messages_.push(ts, cp + " engine " + field::text(ev, "status", "connected"));
  } else if (name == "request") {
    request_row row;
    row.request_id = field::text(ev, "request_id");
    row.driver = driver;
    row.cp = cp;
    row.ts = ts;
    row.duration = field::integer(ev, "duration");
    drop_request(driver, cp);
    requests_.push_back(std::move(row));
    messages_.push(ts, "driver " + driver + " requests " + cp);
  } else if (name == "authorized") {
    for (auto& row : requests_) {
      if (row.driver == driver && row.cp == cp) {
        row.authorized = true;
      }
    }
  } else if (name == "denied") {
    drop_request(driver, cp);
  } else if (name == "telemetry") {
    if (!cp.empty()) {
      cp_view& view = cps_[cp];
      view.id = cp;
      view.driver = driver.empty() ? view.driver : driver;
      view.kwh = field::number(ev, "kwh", view.kwh);
      view.amount = field::number(ev, "amount", view.amount);
    }
  } else if (name == "interrupted") {
    drop_request(driver, cp);
    messages_.push(ts, cp + " charge of driver " + driver + " interrupted: " + field::text(ev, "reason"),
                   tone::bad);
  } else if (name == "ticket") {
    drop_request(field::text(ev, "driver"), cp);
  } else if (name == "message") {
    std::string text = field::text(ev, "text");
    tone kind = tone_of_text(text);
    messages_.push(ts, std::move(text), kind);
  } else if (name == "error") {
    messages_.push(ts, "error: " + field::text(ev, "message", field::text(ev, "code")), tone::bad);
  } else if (name == "refused") {
    // A key that may not connect or a message its key may not send (both
    // already escaped by Central; shown at most once a second per peer).
    const std::string who = field::text(ev, "identity").empty() ? field::text(ev, "peer") : field::text(ev, "identity");
    messages_.push(ts, "refused " + field::text(ev, "type") + " from " + who + ": " + field::text(ev, "reason"),
                   tone::bad);
  }
}

void central_model::apply_cp(const json::value& ev) {
  std::string id = field::text(ev, "cp");
  if (id.empty()) {
    return;
  }
  merge_cp(cps_[id], ev);
  if (selected_.empty()) {
    selected_ = id;
  }
}

void central_model::drop_request(const std::string& driver, const std::string& cp) {
  std::erase_if(requests_,
                [&](const request_row& r) { return r.cp == cp && (driver.empty() || r.driver == driver); });
}

void central_model::set_layout(std::size_t columns, std::size_t page_size) {
  columns_ = std::max<std::size_t>(columns, 1);
  page_size_ = std::max<std::size_t>(page_size, 1);
}

std::size_t central_model::selected_index() const { return selection_index(cps_, selected_); }

void central_model::select(const std::string& id) {
  if (cps_.contains(id)) {
    selected_ = id;
  }
}

void central_model::move_selection(long delta) { selected_ = moved_selection(cps_, selected_, delta); }

void central_model::open_order_form(cp_order order) {
  order_ = order;
  const std::string verb = upper(to_string(order));
  form_ = form(verb, {{verb + " which CP (id or all)", selected_}});
}

void central_model::ask_order_for_all(cp_order order) {
  question_ = upper(to_string(order)) + " ALL charging points? (y/n)";
  pending_ = std::string(to_string(order)) + " all";
}

std::optional<std::string> central_model::sent(std::string line, std::int64_t now_ms) {
  messages_.push(now_ms, "> " + line);
  return line;
}

std::optional<std::string> central_model::on_key(int key, std::int64_t now_ms) {
  if (form_.active()) {
    if (form_.on_key(key) == form::outcome::done) {
      return finish_form(now_ms);
    }
    return std::nullopt;
  }
  if (!question_.empty()) {
    std::string command = std::exchange(pending_, {});
    question_.clear();
    if (key == 'y' || key == 'Y') {
      return sent(std::move(command), now_ms);
    }
    messages_.push(now_ms, "cancelled: " + command);
    return std::nullopt;
  }

  auto cols = static_cast<long>(columns_);
  auto page = static_cast<long>(page_size_);
  switch (key) {
    case keys::left:
      move_selection(-1);
      break;
    case keys::right:
    case keys::tab:
      move_selection(1);
      break;
    case keys::up:
      move_selection(-cols);
      break;
    case keys::down:
      move_selection(cols);
      break;
    case keys::page_up:
      move_selection(-page);
      break;
    case keys::page_down:
      move_selection(page);
      break;
    case keys::home:
      move_selection(-static_cast<long>(cps_.size()));
      break;
    case keys::end:
      move_selection(static_cast<long>(cps_.size()));
      break;
    case 's':
      open_order_form(cp_order::stop);
      break;
    case 'r':
      open_order_form(cp_order::resume);
      break;
    case 'S':
      ask_order_for_all(cp_order::stop);
      break;
    case 'R':
      ask_order_for_all(cp_order::resume);
      break;
    case 'a':
      order_.reset();
      form_ = form("ADD", {{"New CP id", ""}, {"Price EUR/kWh", "0.40"}, {"Location", ""}});
      break;
    case 'k':
      order_.reset();
      form_ = form("REVOKE", {{"Revoke the key of (CP or driver id)", selected_}});
      break;
    case '/':
    case 'g':
      order_.reset();
      form_ = form("GOTO", {{"Go to CP id", ""}});
      break;
    case 'l':
      return sent("list", now_ms);
    case 'q':
    case 'Q':
      question_ = "Quit EV_Central? (y/n)";
      pending_ = "quit";
      break;
    default:
      break;
  }
  return std::nullopt;
}

std::optional<std::string> central_model::finish_form(std::int64_t now_ms) {
  const std::string action = form_.action();
  std::vector<std::string> v = form_.values();
  if (const auto order = std::exchange(order_, std::nullopt)) {
    const std::string verb(to_string(*order));
    if (!is_single_word(v[0])) {
      messages_.push(now_ms, verb + ": give one CP id or all", tone::bad);
      return std::nullopt;
    }
    std::string target = v[0] == "ALL" ? "all" : v[0];
    return sent(verb + " " + target, now_ms);
  }
  if (action == "GOTO") {
    if (!cps_.contains(v[0])) {
      messages_.push(now_ms, "no CP " + v[0], tone::bad);
      return std::nullopt;
    }
    selected_ = v[0];
    return std::nullopt;
  }
  if (action == "REVOKE") {
    if (!is_single_word(v[0])) {
      messages_.push(now_ms, "revoke: give one CP or driver id", tone::bad);
      return std::nullopt;
    }
    return sent("revoke " + v[0], now_ms);
  }
  if (action == "ADD") {
    if (!is_single_word(v[0])) {
      messages_.push(now_ms, "add: the CP id is one word", tone::bad);
      return std::nullopt;
    }
    std::optional<double> price = parse_price(v[1]);
    if (!price) {
      messages_.push(now_ms, "add: price must be a number >= 0 (EUR/kWh)", tone::bad);
      return std::nullopt;
    }
    if (v[2].empty()) {
      messages_.push(now_ms, "add: a location is required", tone::bad);
      return std::nullopt;
    }
    return sent("add " + v[0] + " " + v[1] + " " + v[2], now_ms);
  }
  return std::nullopt;
}

} // namespace evnet::ui
