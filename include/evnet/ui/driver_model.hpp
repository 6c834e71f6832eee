#pragma once

// What the driver's app shows: the CPs, the charge in progress with the
// steps before it, the run of a file of services, the ticket history, and
// whether CENTRAL can be reached. Keys may produce one command line for
// EV_Driver (docs/HEADLESS.md).

#include "evnet/json.hpp"
#include "evnet/ui/view_model.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evnet::ui {

class driver_model {
public:
  enum class page { cps, charge, file, tickets };

  struct charge {
    std::string cp;
    std::string charge_id;
    std::int64_t duration = 0;  // seconds, 0 = until unplugged
    std::int64_t requested_at = 0;
    bool authorized = false;
    bool plugged = false;
    std::int64_t plugged_at = 0;
    double kwh = 0.0;
    double amount = 0.0;
    // How it ended; all empty/false while it runs.
    bool finished = false;
    bool denied = false;
    bool interrupted = false;
    std::string reason;
    std::int64_t ended_at = 0;
  };

  struct service {
    std::int64_t index = 0;
    std::string cp;
    std::string status;  // running, done, failed
    std::string reason;  // why it failed, when known
  };

  struct file_run {
    std::string path;
    std::int64_t total = 0;
    std::vector<std::string> errors;  // "line 3: ..." for rejected lines
    std::map<std::int64_t, service> services;
    std::int64_t waiting_until = 0;  // ms; the pause between services
    bool finished = false;
    std::int64_t done = 0;
    std::int64_t failed = 0;
  };

  driver_model();

  void apply(const json::value& ev);
  std::optional<std::string> on_key(int key, std::int64_t now_ms);

  page current_page() const { return page_; }
  const std::string& driver_id() const { return driver_; }
  const std::string& central_endpoint() const { return central_; }
  bool central_reachable() const { return reachable_; }
  // The last thing the link to CENTRAL said ("cannot reach CENTRAL ...").
  const std::string& central_text() const { return central_text_; }

  const std::map<std::string, cp_view>& cps() const { return cps_; }
  const std::optional<charge>& current() const { return charge_; }
  const std::optional<file_run>& file() const { return file_; }
  // Newest first.
  const std::vector<ticket_view>& tickets() const { return tickets_; }
  const message_log& messages() const { return messages_; }
  const form& prompt() const { return form_; }

  std::size_t selected_index() const;
  const std::string& selected_id() const { return selected_; }
  void move_selection(long delta);

private:
  std::optional<std::string> finish_form(std::int64_t now_ms);
  std::optional<std::string> sent(std::string line, std::int64_t now_ms);

  page page_ = page::cps;
  std::string driver_;
  std::string central_;
  bool reachable_ = false;
  std::string central_text_ = "connecting to CENTRAL...";
  std::map<std::string, cp_view> cps_;
  std::optional<charge> charge_;
  std::optional<file_run> file_;
  std::vector<ticket_view> tickets_;
  message_log messages_;
  form form_;
  std::string selected_;
};

} // namespace evnet::ui
