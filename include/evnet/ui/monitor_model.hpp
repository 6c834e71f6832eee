#pragma once

// What a CP's own screen shows: the CP, its link with Central, the Engine's
// health, the charge in progress and the last ticket. A key starts a charge
// at the CP itself (`charge [SECONDS]`, docs/HEADLESS.md).

#include "evnet/json.hpp"
#include "evnet/ui/view_model.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace evnet::ui {

class monitor_model {
public:
  struct charge {
    std::string charge_id;
    std::string driver;
    double kwh = 0.0;
    double amount = 0.0;
    std::int64_t elapsed_s = 0;
    std::int64_t duration_s = 0;  // 0 = until unplugged
    bool plugged = false;
  };

  monitor_model();

  void apply(const json::value& ev);
  std::optional<std::string> on_key(int key, std::int64_t now_ms);

  const std::string& cp() const { return cp_; }
  const std::string& location() const { return location_; }
  double price() const { return price_; }
  const std::string& engine_endpoint() const { return engine_; }
  const std::string& central_endpoint() const { return central_; }

  bool central_connected() const { return connected_; }
  const std::string& central_text() const { return central_text_; }
  // nullopt until Central answered the authentication.
  std::optional<bool> authenticated() const { return authenticated_; }
  const std::string& auth_reason() const { return auth_reason_; }

  // nullopt until the first health check.
  std::optional<bool> engine_ok() const { return engine_ok_; }
  const std::string& engine_detail() const { return engine_detail_; }
  // The Engine's own state from its last health answer; nullopt before one
  // or while it is not configured.
  shown_state engine_state() const { return engine_state_; }
  std::int64_t engine_checked_at() const { return engine_checked_at_; }

  bool stopped() const { return stopped_; }
  const std::optional<charge>& current() const { return charge_; }
  const std::optional<ticket_view>& last_ticket() const { return ticket_; }
  // The reason the last local charge was refused, until the next attempt.
  const std::string& refusal() const { return refusal_; }

  const message_log& messages() const { return messages_; }
  const form& prompt() const { return form_; }
  const std::string& question() const { return question_; }

private:
  std::optional<std::string> sent(std::string line, std::int64_t now_ms);

  std::string cp_;
  std::string location_;
  double price_ = 0.0;
  std::string engine_;
  std::string central_;
  bool connected_ = false;
  std::string central_text_ = "connecting to CENTRAL...";
  std::optional<bool> authenticated_;
  std::string auth_reason_;
  std::optional<bool> engine_ok_;
  std::string engine_detail_;
  shown_state engine_state_;
  std::int64_t engine_checked_at_ = 0;
  bool stopped_ = false;
  std::optional<charge> charge_;
  std::optional<ticket_view> ticket_;
  std::string refusal_;
  message_log messages_;
  form form_;
  std::string question_;
};

} // namespace evnet::ui
