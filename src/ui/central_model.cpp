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
  for (std::string_view bad : {"denied", "fault", "out of order", "out of service", "disconnected", "error", "failed", "refused",
                               "cannot", "lost", "unknown"}) {
    if (contains(text, bad)) {
      return tone::bad;
    }
  }
  for (std::string_view good : {"accepted", "recovered", "back in service", "resumed", "status OK", "registered", "authorized"}) {
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

namespace {

std::size_t slot(const shown_state& s) { return s ? static_cast<std::size_t>(*s) : 5; }

} // namespace

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
    changed();
  } else if (name == "cps") {
    merge_table(ev);
  } else if (name == "cp_state") {
    apply_cp(ev);
  } else if (name == "engine") {
    messages_.push(ts, cp + " engine " + field::text(ev, "status", "connected"));
    changed();
  } else if (name == "request") {
    request_row row;
    row.request_id = field::text(ev, "request_id");
    row.driver = driver;
    row.cp = cp;
    row.ts = ts;
    row.duration = field::integer(ev, "duration");
    add_request(std::move(row));
    messages_.push(ts, "driver " + driver + " requests " + cp);
    changed();
  } else if (name == "authorized") {
    for (auto [it, end] = requests_by_cp_.equal_range(cp); it != end; ++it) {
      if (auto& row = live_requests_.at(it->second); row.driver == driver) {
        row.authorized = true;
        requests_stale_ = true;
      }
    }
    changed();
  } else if (name == "denied") {
    drop_request(driver, cp);
    changed();
  } else if (name == "telemetry") {
    if (!cp.empty()) {
      cp_view& view = entry(cp);
      view.driver = driver.empty() ? view.driver : driver;
      view.kwh = field::number(ev, "kwh", view.kwh);
      view.amount = field::number(ev, "amount", view.amount);
      touched(cp, false);
    }
  } else if (name == "interrupted") {
    drop_request(driver, cp);
    messages_.push(ts, cp + " charge of driver " + driver + " interrupted: " + field::text(ev, "reason"),
                   tone::bad);
    changed();
  } else if (name == "ticket") {
    drop_request(field::text(ev, "driver"), cp);
    changed();
  } else if (name == "message") {
    std::string text = field::text(ev, "text");
    tone kind = tone_of_text(text);
    messages_.push(ts, std::move(text), kind);
    changed();
  } else if (name == "error") {
    messages_.push(ts, "error: " + field::text(ev, "message", field::text(ev, "code")), tone::bad);
    changed();
  } else if (name == "refused") {
    // A key that may not connect or a message its key may not send (both
    // already escaped by Central; shown at most once a second per peer).
    const std::string who = field::text(ev, "identity").empty() ? field::text(ev, "peer") : field::text(ev, "identity");
    messages_.push(ts, "refused " + field::text(ev, "type") + " from " + who + ": " + field::text(ev, "reason"),
                   tone::bad);
    changed();
  }
}

// The whole table (at start, and after `list`): the one event that touches
// every CP. New CPs join the position index once, at the end.
void central_model::merge_table(const json::value& ev) {
  bool added = false;
  if (const json::value* list = field::find(ev, "cps"); list != nullptr && list->is_array()) {
    for (const auto& item : *list) {
      std::string id = field::text(item, "cp");
      if (id.empty()) {
        continue;
      }
      auto [it, is_new] = cps_.try_emplace(id);
      if (is_new) {
        added = true;
        ++counts_[slot(std::nullopt)];
        id_width_ = std::max(id_width_, display_width(id));
      }
      const shown_state before = it->second.state;
      merge_cp(it->second, item);
      recount(before, it->second.state);
    }
  }
  if (added) {
    order_.clear();
    order_.reserve(cps_.size());
    for (auto it = cps_.cbegin(); it != cps_.cend(); ++it) {
      order_.push_back(it);
    }
  }
  if (selected_.empty() && !cps_.empty()) {
    selected_ = cps_.begin()->first;
  }
  changed();
}

void central_model::apply_cp(const json::value& ev) {
  std::string id = field::text(ev, "cp");
  if (id.empty()) {
    return;
  }
  cp_view& view = entry(id);
  const shown_state before = view.state;
  merge_cp(view, ev);
  recount(before, view.state);
  if (selected_.empty()) {
    selected_ = id;
  }
  touched(id, before != view.state);
}

cp_view& central_model::entry(const std::string& id) {
  auto [it, is_new] = cps_.try_emplace(id);
  if (is_new) {
    it->second.id = id;
    ++counts_[slot(std::nullopt)];
    id_width_ = std::max(id_width_, display_width(id));
    // A CP registered while running: O(N) once, then O(log N) for its updates.
    const auto at = std::lower_bound(order_.begin(), order_.end(), id,
                                     [](cp_map::const_iterator e, const std::string& key) { return e->first < key; });
    order_.insert(at, it);
    changed();
  }
  return it->second;
}

void central_model::recount(const shown_state& before, const shown_state& after) {
  if (before != after) {
    --counts_[slot(before)];
    ++counts_[slot(after)];
  }
}

void central_model::touched(const std::string& id, bool state_changed) {
  if (state_changed) {
    changed();  // the summary line at least
    return;
  }
  const auto index = index_of(id);
  if (!index) {
    return;
  }
  const std::size_t page = page_first();
  const bool on_page = *index >= page && *index < page + page_size_;
  const bool in_list = *index >= list_first_ && *index < list_first_ + list_rows_;
  if (on_page || in_list) {
    changed();
  }
}

std::optional<std::size_t> central_model::index_of(const std::string& id) const {
  const auto at = std::lower_bound(order_.begin(), order_.end(), id,
                                   [](cp_map::const_iterator e, const std::string& key) { return e->first < key; });
  if (at == order_.end() || (*at)->first != id) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(at - order_.begin());
}

std::size_t central_model::count(shown_state s) const { return counts_[slot(s)]; }

void central_model::add_request(request_row row) {
  drop_request(row.driver, row.cp);
  const std::uint64_t seq = ++request_seq_;
  requests_by_cp_.emplace(row.cp, seq);
  live_requests_.emplace(seq, std::move(row));
  requests_stale_ = true;
}

void central_model::drop_request(const std::string& driver, const std::string& cp) {
  auto [it, end] = requests_by_cp_.equal_range(cp);
  while (it != end) {
    const auto row = live_requests_.find(it->second);
    if (driver.empty() || row->second.driver == driver) {
      live_requests_.erase(row);
      it = requests_by_cp_.erase(it);
      requests_stale_ = true;
    } else {
      ++it;
    }
  }
}

const std::vector<central_model::request_row>& central_model::requests() const {
  if (requests_stale_) {
    requests_.clear();
    requests_.reserve(live_requests_.size());
    for (const auto& [seq, row] : live_requests_) {
      requests_.push_back(row);
    }
    requests_stale_ = false;
  }
  return requests_;
}

void central_model::set_layout(std::size_t columns, std::size_t page_size) {
  columns_ = std::max<std::size_t>(columns, 1);
  page_size_ = std::max<std::size_t>(page_size, 1);
}

std::size_t central_model::selected_index() const { return index_of(selected_).value_or(0); }

void central_model::select(const std::string& id) {
  if (cps_.contains(id)) {
    selected_ = id;
    changed();
  }
}

void central_model::move_selection(long delta) {
  if (order_.empty()) {
    return;
  }
  const long last = static_cast<long>(order_.size()) - 1;
  const long target = std::clamp(static_cast<long>(selected_index()) + delta, 0L, last);
  selected_ = order_[static_cast<std::size_t>(target)]->first;
  changed();
}

std::size_t central_model::page_first() const { return selected_index() / page_size_ * page_size_; }

std::size_t central_model::list_first(std::size_t rows) {
  list_rows_ = rows;
  const std::size_t n = order_.size();
  if (rows == 0 || n == 0) {
    list_first_ = 0;
    return 0;
  }
  const std::size_t sel = selected_index();
  if (sel + rows < list_first_ || sel >= list_first_ + 2 * rows) {
    // A jump (find, Home/End, a far page): the selection in the middle.
    list_first_ = sel > rows / 2 ? sel - rows / 2 : 0;
  } else if (sel < list_first_) {
    list_first_ = sel;  // a step: just as far as needed
  } else if (sel >= list_first_ + rows) {
    list_first_ = sel + 1 - rows;
  }
  // No blank lines at the end while there are CPs above to show.
  if (list_first_ + rows > n) {
    list_first_ = n > rows ? n - rows : 0;
  }
  return list_first_;
}

bool central_model::frame_due(std::int64_t now_ms, int rows, int cols) const {
  if (urgent_ || rows != drawn_rows_ || cols != drawn_cols_) {
    return true;
  }
  if (version_ == drawn_version_) {
    return false;
  }
  return now_ms - drawn_at_ >= frame_interval_ms;
}

void central_model::frame_drawn(std::int64_t now_ms, int rows, int cols) {
  drawn_version_ = version_;
  urgent_ = false;
  drawn_at_ = now_ms;
  drawn_rows_ = rows;
  drawn_cols_ = cols;
}

// Find by id: the CP itself, else the first whose id starts with the text
// (as typed, then in capitals). The tiles and the list follow the selection.
std::optional<std::string> central_model::find(const std::string& text, std::int64_t now_ms) {
  if (cps_.contains(text)) {
    selected_ = text;
    return std::nullopt;
  }
  for (const std::string& prefix : {text, upper(text)}) {
    if (prefix.empty()) {
      break;
    }
    if (auto it = cps_.lower_bound(prefix); it != cps_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
      selected_ = it->first;
      return std::nullopt;
    }
  }
  messages_.push(now_ms, "no CP " + text, tone::bad);
  return std::nullopt;
}

void central_model::open_order_form(cp_order order) {
  order_form_ = order;
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
  // Whatever the key does, the operator sees it at once.
  urgent_ = true;
  changed();
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
      move_selection(-static_cast<long>(order_.size()));
      break;
    case keys::end:
      move_selection(static_cast<long>(order_.size()));
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
      order_form_.reset();
      form_ = form("ADD", {{"New CP id", ""}, {"Price EUR/kWh", "0.40"}, {"Location", ""}});
      break;
    case 'k':
      order_form_.reset();
      form_ = form("REVOKE", {{"Revoke the key of (CP or driver id)", selected_}});
      break;
    case '/':
    case 'g':
      order_form_.reset();
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
  if (const auto order = std::exchange(order_form_, std::nullopt)) {
    const std::string verb(to_string(*order));
    if (!is_single_word(v[0])) {
      messages_.push(now_ms, verb + ": give one CP id or all", tone::bad);
      return std::nullopt;
    }
    std::string target = v[0] == "ALL" ? "all" : v[0];
    return sent(verb + " " + target, now_ms);
  }
  if (action == "GOTO") {
    return find(v[0], now_ms);
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
