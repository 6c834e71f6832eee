#pragma once

// The Engine's hardware console: a status line (CP, state, current charge)
// and keys for the hardware: ENTER toggles a fault, p plugs in, u unplugs
// (`fault`, `repair`, `plug`, `unplug`, docs/HEADLESS.md).

#include "evnet/json.hpp"
#include "evnet/ui/view_model.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace evnet::ui {

class engine_model {
public:
  struct charge {
    std::string charge_id;
    std::string driver;
    std::int64_t duration = 0;  // seconds, 0 = until unplugged
    bool plugged = false;
    std::int64_t plugged_at = 0;
    double kwh = 0.0;
    double amount = 0.0;
  };

  engine_model();

  void apply(const json::value& ev);
  std::optional<std::string> on_key(int key, std::int64_t now_ms);

  const std::string& cp() const { return cp_; }
  const std::string& location() const { return location_; }
  double price() const { return price_; }
  const std::string& listen() const { return listen_; }
  bool central_connected() const { return connected_; }
  const std::string& central_text() const { return central_text_; }
  // The Engine's own view of its state; nullopt until told.
  shown_state state() const { return state_; }
  bool faulted() const { return faulted_; }
  bool stopped() const { return stopped_; }
  const std::optional<charge>& current() const { return charge_; }
  const std::optional<ticket_view>& last_ticket() const { return ticket_; }
  const message_log& messages() const { return messages_; }
  const std::string& question() const { return question_; }

private:
  std::optional<std::string> sent(std::string line, std::int64_t now_ms);

  std::string cp_;
  std::string location_;
  double price_ = 0.0;
  std::string listen_;
  bool connected_ = false;
  std::string central_text_ = "waiting for the Monitor";
  shown_state state_;
  bool faulted_ = false;
  bool stopped_ = false;
  std::optional<charge> charge_;
  std::optional<ticket_view> ticket_;
  message_log messages_;
  std::string question_;
};

} // namespace evnet::ui
