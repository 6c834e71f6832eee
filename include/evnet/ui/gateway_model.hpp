#pragma once

// EV_OCPP's screen: one line per charge point (connected or not, the state
// Central will show, the charge it is supplying, its last OCPP message) and
// the gateway's messages (upgrades, refusals, disconnections). Only q
// (quit, confirmed) is a key: the charge points are driven by their own
// hardware and by Central.

#include "evnet/json.hpp"
#include "evnet/ui/view_model.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace evnet::ui {

class gateway_model {
public:
  struct charge_point {
    bool connected = false;
    shown_state state;
    bool rejected = false;     // Central refused it on its current connection
    std::string remote;
    std::string last_message;  // "in StartTransaction", "out RemoteStartTransaction", ...
    std::int64_t last_ts = 0;
    std::string driver;        // while charging
    double kwh = 0.0;
    double amount = 0.0;
  };

  gateway_model();

  void apply(const json::value& ev);
  std::optional<std::string> on_key(int key, std::int64_t now_ms);

  const std::string& listen() const { return listen_; }
  const std::string& central() const { return central_; }
  const std::map<std::string, charge_point>& charge_points() const { return cps_; }
  const message_log& messages() const { return messages_; }
  const std::string& question() const { return question_; }

private:
  charge_point& cp(const json::value& ev);

  std::string listen_;
  std::string central_;
  std::map<std::string, charge_point> cps_;
  message_log messages_;
  std::string question_;
};

} // namespace evnet::ui
