#include "evnet/ui/view_model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <limits>

namespace evnet::ui {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

} // namespace

std::string_view status_label(shown_state s) {
  if (!s) {
    return "Unknown";
  }
  switch (*s) {
    case cp_state::active:
      return "Active";
    case cp_state::busy:
      return "Charging";
    case cp_state::broken:
      return "Broken";
    case cp_state::out_of_order:
      return "Out of Order";
    case cp_state::disconnected:
      return "Disconnected";
  }
  return "Unknown";
}

namespace field {

const json::value* find(const json::value& ev, std::string_view key) {
  // nlohmann's own lookup, header-only: the view models need no library
  // for it.
  if (!ev.is_object()) {
    return nullptr;
  }
  const auto it = ev.find(key);
  return it == ev.end() ? nullptr : &*it;
}

std::string text(const json::value& ev, std::string_view key, std::string fallback) {
  const json::value* v = find(ev, key);
  if (v == nullptr) {
    return fallback;
  }
  if (v->is_string()) {
    return v->get_ref<const std::string&>();
  }
  // Driver ids and charge ids may arrive as numbers; show them as typed.
  if (v->is_number_unsigned()) {
    return std::to_string(v->get<std::uint64_t>());
  }
  if (v->is_number_integer()) {
    return std::to_string(v->get<std::int64_t>());
  }
  return fallback;
}

double number(const json::value& ev, std::string_view key, double fallback) {
  const json::value* v = find(ev, key);
  if (v == nullptr || !v->is_number()) {
    return fallback;
  }
  return v->get<double>();
}

std::int64_t integer(const json::value& ev, std::string_view key, std::int64_t fallback) {
  const json::value* v = find(ev, key);
  if (v == nullptr || !v->is_number()) {
    return fallback;
  }
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  if (v->is_number_unsigned()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v->get<std::uint64_t>(), max));
  }
  if (v->is_number_integer()) {
    return v->get<std::int64_t>();
  }
  // A fraction is truncated; casting a double outside int64's range is
  // undefined, so clamp it first.
  const double d = v->get<double>();
  if (std::isnan(d)) {
    return fallback;
  }
  if (d >= 9223372036854775808.0) {
    return max;
  }
  if (d < -9223372036854775808.0) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return static_cast<std::int64_t>(d);
}

bool flag(const json::value& ev, std::string_view key, bool fallback) {
  const json::value* v = find(ev, key);
  if (v == nullptr || !v->is_boolean()) {
    return fallback;
  }
  return v->get<bool>();
}

} // namespace field

void merge_cp(cp_view& into, const json::value& ev) {
  into.id = field::text(ev, "cp", into.id);
  into.location = field::text(ev, "location", into.location);
  into.price = field::number(ev, "price", into.price);
  if (field::find(ev, "state") != nullptr) {
    into.state = parse_cp_state(field::text(ev, "state"));
  }
  into.driver = field::text(ev, "driver", into.driver);
  into.kwh = field::number(ev, "kwh", into.kwh);
  into.amount = field::number(ev, "amount", into.amount);
}

void merge_cps(std::map<std::string, cp_view>& cps, std::string& selected, const json::value& ev) {
  if (const json::value* list = field::find(ev, "cps"); list != nullptr && list->is_array()) {
    for (const auto& item : *list) {
      std::string id = field::text(item, "cp");
      if (!id.empty()) {
        merge_cp(cps[id], item);
      }
    }
  }
  if (selected.empty() && !cps.empty()) {
    selected = cps.begin()->first;
  }
}

std::size_t selection_index(const std::map<std::string, cp_view>& cps, const std::string& selected) {
  auto it = cps.find(selected);
  if (it == cps.end()) {
    return 0;
  }
  return static_cast<std::size_t>(std::distance(cps.begin(), it));
}

std::string moved_selection(const std::map<std::string, cp_view>& cps, const std::string& selected, long delta) {
  if (cps.empty()) {
    return selected;
  }
  long last = static_cast<long>(cps.size()) - 1;
  long target = std::clamp(static_cast<long>(selection_index(cps, selected)) + delta, 0L, last);
  return std::next(cps.begin(), target)->first;
}

ticket_view parse_ticket(const json::value& ev) {
  ticket_view t;
  t.cp = field::text(ev, "cp");
  t.charge_id = field::text(ev, "charge_id");
  t.driver = field::text(ev, "driver");
  t.kwh = field::number(ev, "kwh");
  t.price = field::number(ev, "price");
  t.amount = field::number(ev, "amount");
  t.start = field::integer(ev, "start");
  t.end = field::integer(ev, "end");
  t.reason = field::text(ev, "reason");
  t.ended = parse_end_reason(t.reason);
  return t;
}

namespace {

std::tm local_tm(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return tm;
}

} // namespace

std::string format_date(std::int64_t ms) {
  std::tm tm = local_tm(ms);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string format_clock(std::int64_t ms) {
  std::tm tm = local_tm(ms);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::string format_elapsed(std::int64_t seconds) {
  if (seconds < 0) {
    seconds = 0;
  }
  char buf[32];
  long long h = seconds / 3600;
  long long m = (seconds / 60) % 60;
  long long s = seconds % 60;
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", m, s);
  }
  return buf;
}

std::string format_fixed(double v, int decimals) {
  // snprintf honours LC_NUMERIC; the panels only ever set LC_CTYPE, and
  // integer arithmetic keeps the output stable whatever the locale.
  bool negative = v < 0;
  double scale = 1.0;
  for (int i = 0; i < decimals; ++i) {
    scale *= 10.0;
  }
  auto scaled = static_cast<long long>((negative ? -v : v) * scale + 0.5);
  auto whole = static_cast<long long>(scaled / static_cast<long long>(scale));
  auto frac = static_cast<long long>(scaled % static_cast<long long>(scale));
  std::string out = (negative && scaled != 0 ? "-" : "") + std::to_string(whole);
  if (decimals > 0) {
    std::string digits = std::to_string(frac);
    out += '.';
    out += std::string(static_cast<std::size_t>(decimals) - digits.size(), '0');
    out += digits;
  }
  return out;
}

void message_log::push(std::int64_t ts, std::string text, tone kind) {
  lines_.push_back(line{ts, std::move(text), kind});
  while (lines_.size() > capacity_) {
    lines_.pop_front();
  }
}

form::form(std::string action, std::vector<input> inputs)
    : action_(std::move(action)), inputs_(std::move(inputs)), active_(!inputs_.empty()) {}

std::vector<std::string> form::values() const {
  std::vector<std::string> out;
  out.reserve(inputs_.size());
  for (const auto& in : inputs_) {
    out.push_back(trim(in.text));
  }
  return out;
}

form::outcome form::on_key(int key) {
  if (!active_) {
    return outcome::cancelled;
  }
  input& in = inputs_[index_];
  if (key == keys::escape) {
    active_ = false;
    return outcome::cancelled;
  }
  if (key == keys::enter || key == '\r') {
    if (index_ + 1 < inputs_.size()) {
      ++index_;
      return outcome::editing;
    }
    active_ = false;
    return outcome::done;
  }
  if (key == keys::backspace || key == 8) {
    in.pristine = false;
    if (!in.text.empty()) {
      // Drop a whole UTF-8 sequence, not just its last byte.
      std::size_t n = in.text.size() - 1;
      while (n > 0 && (static_cast<unsigned char>(in.text[n]) & 0xC0) == 0x80) {
        --n;
      }
      in.text.erase(n);
    }
    return outcome::editing;
  }
  if (key >= 32 && key < 0x110000 && key != 127) {
    if (in.pristine) {
      // Typing replaces the suggested default, as in most dialogs.
      in.text.clear();
      in.pristine = false;
    }
    auto cp = static_cast<char32_t>(key);
    if (cp < 0x80) {
      in.text += static_cast<char>(cp);
    } else if (cp < 0x800) {
      in.text += static_cast<char>(0xC0 | (cp >> 6));
      in.text += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      in.text += static_cast<char>(0xE0 | (cp >> 12));
      in.text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      in.text += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      in.text += static_cast<char>(0xF0 | (cp >> 18));
      in.text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      in.text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      in.text += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return outcome::editing;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_blank(text[i])) {
      ++i;
    }
    std::size_t start = i;
    while (i < text.size() && !is_blank(text[i])) {
      ++i;
    }
    if (i > start) {
      out.emplace_back(text.substr(start, i - start));
    }
  }
  return out;
}

std::string trim(std::string_view text) {
  std::size_t b = 0;
  std::size_t e = text.size();
  while (b < e && is_blank(text[b])) {
    ++b;
  }
  while (e > b && is_blank(text[e - 1])) {
    --e;
  }
  return std::string(text.substr(b, e - b));
}

std::optional<double> parse_price(std::string_view text) {
  // from_chars ignores the locale, unlike strtod.
  double v = 0.0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || !(v >= 0.0)) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v <= 0) {
    return std::nullopt;
  }
  return v;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

std::string clip(std::string_view utf8, std::size_t width) {
  std::size_t columns = 0;
  std::size_t i = 0;
  while (i < utf8.size()) {
    // Start of the next code point: stop before it if it would not fit.
    if ((static_cast<unsigned char>(utf8[i]) & 0xC0) != 0x80) {
      if (columns == width) {
        break;
      }
      ++columns;
    }
    ++i;
  }
  return std::string(utf8.substr(0, i));
}

} // namespace evnet::ui
