#pragma once

// What the operator console shows: the CPs, the on-going driver requests and
// the application messages, plus the selection and the prompts the keys
// open. Applying an event never fails; a key may produce one command line
// for EV_Central (docs/HEADLESS.md).
//
// Built for thousands of CPs (a city: 5,000 and more). An event about one
// CP costs O(log N): the CPs are kept in id order with a position index, the
// count of CPs in each state is kept up to date as states change, and
// requests are indexed by CP. Only a `cps` event (the whole table: at start
// and on `list`) touches every CP. The renderer reads windows of the CPs by
// position (tiles page, list window), never the whole table.
//
// Redraws are paced here (frame_due/frame_drawn): a key draws at once, a
// change an event made at most every frame_interval_ms, and an event that
// changes nothing on screen (telemetry of a CP that is not shown) none.

#include "evnet/json.hpp"
#include "evnet/vocabulary.hpp"
#include "evnet/ui/view_model.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evnet::ui {

class central_model {
public:
  struct request_row {
    std::string request_id;
    std::string driver;
    std::string cp;
    std::int64_t ts = 0;         // when it was requested
    std::int64_t duration = 0;   // seconds, 0 = until unplugged
    bool authorized = false;
  };

  // At most this many frames a second for what events change.
  static constexpr std::int64_t frame_interval_ms = 200;

  central_model();

  void apply(const json::value& ev);
  // Returns the command line to send to EV_Central, if the key asks for one.
  std::optional<std::string> on_key(int key, std::int64_t now_ms);

  // The renderer tells the model how the tiles are laid out, so arrows move
  // by rows and PgUp/PgDn by pages.
  void set_layout(std::size_t columns, std::size_t page_size);

  const std::map<std::string, cp_view>& cps() const { return cps_; }
  // The CPs by position in id order: at(i) is the i-th; O(1).
  std::size_t size() const { return order_.size(); }
  const cp_view& at(std::size_t index) const { return order_[index]->second; }
  // Columns of the longest id seen (for the list's id column).
  std::size_t id_width() const { return id_width_; }
  // Position of a CP in id order; nullopt when unknown. O(log N).
  std::optional<std::size_t> index_of(const std::string& id) const;

  // How many CPs are in state `s` (nullopt: not heard yet). O(1).
  std::size_t count(shown_state s) const;

  // Requests still waiting or charging, oldest first.
  const std::vector<request_row>& requests() const;
  const message_log& messages() const { return messages_; }
  const form& prompt() const { return form_; }
  // A yes/no question waiting for its answer, empty when none.
  const std::string& question() const { return question_; }

  // Index of the selected CP in cps() order; 0 when there are none. O(log N).
  std::size_t selected_index() const;
  const std::string& selected_id() const { return selected_; }
  void select(const std::string& id);
  void move_selection(long delta);

  // The compact list beside the tiles, `rows` lines high: the position of
  // its first line. It keeps the selection in view and remembers where it
  // is: a step out of view scrolls just as far as needed, a jump (find,
  // Home/End) puts the selection in the middle.
  std::size_t list_first(std::size_t rows);
  // The first tile of the page that holds the selection.
  std::size_t page_first() const;

  // ---- redraw pacing ----------------------------------------------------------
  // Should the panel draw a frame now, on a screen of rows x cols? Yes at
  // once after a key or a resize (and for the first frame); after changes
  // from events only when the last frame is frame_interval_ms old; no when
  // nothing changed.
  bool frame_due(std::int64_t now_ms, int rows, int cols) const;
  void frame_drawn(std::int64_t now_ms, int rows, int cols);
  // Changes that need a frame, since the model was made (for tests).
  std::uint64_t changes() const { return version_; }

  bool central_ok() const { return started_; }
  std::int64_t port() const { return port_; }

private:
  using cp_map = std::map<std::string, cp_view>;

  void apply_cp(const json::value& ev);
  void merge_table(const json::value& ev);
  // Inserts `id` when new (keeping order_ sorted); its entry.
  cp_view& entry(const std::string& id);
  void recount(const shown_state& before, const shown_state& after);
  // A change to CP `id` (its state changed: `state_changed`): a frame is
  // needed when it shows (summary, tiles page, list window).
  void touched(const std::string& id, bool state_changed);
  void changed() { ++version_; }

  void add_request(request_row row);
  void drop_request(const std::string& driver, const std::string& cp);
  std::optional<std::string> finish_form(std::int64_t now_ms);
  std::optional<std::string> find(const std::string& text, std::int64_t now_ms);
  void open_order_form(cp_order order);
  void ask_order_for_all(cp_order order);
  std::optional<std::string> sent(std::string line, std::int64_t now_ms);

  cp_map cps_;
  std::vector<cp_map::const_iterator> order_;  // cps_ in id order, by position
  std::array<std::size_t, 6> counts_{};        // by state, [5] = not heard yet
  std::size_t id_width_ = 0;

  // Requests by arrival; each CP's requests by arrival number.
  std::map<std::uint64_t, request_row> live_requests_;
  std::multimap<std::string, std::uint64_t> requests_by_cp_;
  std::uint64_t request_seq_ = 0;
  mutable std::vector<request_row> requests_;  // live_requests_ as a vector, rebuilt when read after a change
  mutable bool requests_stale_ = false;

  message_log messages_;
  std::string selected_;
  std::size_t columns_ = 1;
  std::size_t page_size_ = 1;
  std::size_t list_first_ = 0;
  std::size_t list_rows_ = 0;
  form form_;
  std::optional<cp_order> order_form_;  // the order the open form is for, if any
  std::string question_;
  std::string pending_;  // the command the question confirms
  bool started_ = false;
  std::int64_t port_ = 0;

  std::uint64_t version_ = 0;        // bumped by every change that shows
  std::uint64_t drawn_version_ = 0;  // version_ at the last frame
  bool urgent_ = true;               // a key since the last frame (and the first frame)
  std::int64_t drawn_at_ = 0;
  int drawn_rows_ = 0;
  int drawn_cols_ = 0;
};

} // namespace evnet::ui
