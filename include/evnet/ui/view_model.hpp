#pragma once

// Pieces shared by the four view models: how a CP and a ticket look to a
// view, the messages pane, key codes and the one-line prompt. Everything
// here is pure (no ncurses, no actors) so it can be unit-tested; the panels
// in src/ui/ only translate terminal keys into these codes and draw.

#include "evnet/json.hpp"
#include "evnet/vocabulary.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::ui {

// A CP's state as a view knows it: one of the five states of the
// vocabulary, or nullopt while we have not heard it (or heard a word that
// is not a state).
using shown_state = std::optional<cp_state>;

// What the operator reads: "Active", "Charging", "Broken", "Out of Order",
// "Disconnected"; "Unknown" for nullopt.
std::string_view status_label(shown_state s);

struct cp_view {
  std::string id;
  std::string location;
  double price = 0.0;  // EUR/kWh
  shown_state state;
  // Meaningful while BUSY.
  std::string driver;
  double kwh = 0.0;
  double amount = 0.0;
};

// Reads a CP object ({"cp","location","price","state","driver","kwh","amount"}).
// Fields missing from `ev` keep their value in `into`, so partial updates merge.
void merge_cp(cp_view& into, const json::value& ev);

// The selected CP of a view that lists CPs in id order. It is kept as an id,
// not a position, so it stays on its CP when others are added before it.
//
// Merges every row of a `cps` event into `cps`, and selects the first CP
// when nothing is selected yet, so the keys have something to act on.
void merge_cps(std::map<std::string, cp_view>& cps, std::string& selected, const json::value& ev);
// Position of `selected` in `cps`; 0 when it is not there.
std::size_t selection_index(const std::map<std::string, cp_view>& cps, const std::string& selected);
// The id `delta` places away from `selected`, stopping at either end;
// `selected` itself when there are no CPs.
std::string moved_selection(const std::map<std::string, cp_view>& cps, const std::string& selected, long delta);

struct ticket_view {
  std::string cp;
  std::string charge_id;
  std::string driver;
  double kwh = 0.0;
  double price = 0.0;
  double amount = 0.0;
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::string reason;               // as shown ("stopped by CENTRAL")
  std::optional<end_reason> ended;  // the same, decided on; nullopt if not a known reason
};

ticket_view parse_ticket(const json::value& ev);

// Reads event fields without throwing: events come from another part of the
// program, and a missing or mistyped field must not take the UI down.
namespace field {
std::string text(const json::value& ev, std::string_view key, std::string fallback = {});
double number(const json::value& ev, std::string_view key, double fallback = 0.0);
std::int64_t integer(const json::value& ev, std::string_view key, std::int64_t fallback = 0);
bool flag(const json::value& ev, std::string_view key, bool fallback = false);
const json::value* find(const json::value& ev, std::string_view key);
} // namespace field

// "2026-11-26" and "14:03:05" in local time.
std::string format_date(std::int64_t ms);
std::string format_clock(std::int64_t ms);
// "1:05" or "1:02:05".
std::string format_elapsed(std::int64_t seconds);
// Fixed decimals without touching the global locale.
std::string format_fixed(double v, int decimals);

// The latest lines for a messages pane. Old lines fall off the front so a
// long-running console keeps bounded memory.
class message_log {
public:
  enum class tone { info, good, bad };
  struct line {
    std::int64_t ts = 0;
    std::string text;
    tone kind = tone::info;
  };

  explicit message_log(std::size_t capacity = 200) : capacity_(capacity) {}

  void push(std::int64_t ts, std::string text, tone kind = tone::info);
  const std::deque<line>& lines() const { return lines_; }
  bool empty() const { return lines_.empty(); }
  const line& back() const { return lines_.back(); }

private:
  std::size_t capacity_;
  std::deque<line> lines_;
};

// Key codes the models understand. Plain characters are their own code;
// special keys sit above the Unicode range so they never collide.
namespace keys {
inline constexpr int enter = '\n';
inline constexpr int escape = 27;
inline constexpr int backspace = 127;
inline constexpr int tab = '\t';
inline constexpr int up = 0x110001;
inline constexpr int down = 0x110002;
inline constexpr int left = 0x110003;
inline constexpr int right = 0x110004;
inline constexpr int page_up = 0x110005;
inline constexpr int page_down = 0x110006;
inline constexpr int home = 0x110007;
inline constexpr int end = 0x110008;
} // namespace keys

// A small form: one or more labelled text fields filled in turn. ENTER
// accepts a field (and the form after the last), ESC cancels.
class form {
public:
  struct input {
    std::string label;
    std::string text;  // pre-filled default, replaced when the user types
    bool pristine = true;
  };
  enum class outcome { editing, done, cancelled };

  form() = default;
  form(std::string action, std::vector<input> inputs);

  bool active() const { return active_; }
  const std::string& action() const { return action_; }
  const input& current() const { return inputs_[index_]; }
  std::size_t index() const { return index_; }
  std::size_t size() const { return inputs_.size(); }
  // Field values once done.
  std::vector<std::string> values() const;

  outcome on_key(int key);

private:
  std::string action_;
  std::vector<input> inputs_;
  std::size_t index_ = 0;
  bool active_ = false;
};

// Splits "a b  c" on blanks.
std::vector<std::string> split_words(std::string_view text);
// Trims blanks at both ends.
std::string trim(std::string_view text);

// Columns a UTF-8 string takes, counting one per code point (the names we
// show are Latin script; wide CJK would be off by one per glyph).
std::size_t display_width(std::string_view utf8);
// The longest prefix of `utf8` that fits in `width` columns.
std::string clip(std::string_view utf8, std::size_t width);

// "0.40" -> 0.4; nullopt unless the whole text is a number >= 0.
std::optional<double> parse_price(std::string_view text);
// "30" -> 30; nullopt unless the whole text is an integer > 0.
std::optional<std::int64_t> parse_seconds(std::string_view text);

} // namespace evnet::ui
