#pragma once

// What the operator console shows: the CPs, the on-going driver requests and
// the application messages, plus the selection and the prompts the keys
// open. Applying an event never fails; a key may produce one command line
// for EV_Central (docs/HEADLESS.md).

#include "evnet/json.hpp"
#include "evnet/vocabulary.hpp"
#include "evnet/ui/view_model.hpp"

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

  central_model();

  void apply(const json::value& ev);
  // Returns the command line to send to EV_Central, if the key asks for one.
  std::optional<std::string> on_key(int key, std::int64_t now_ms);

  // The renderer tells the model how the tiles are laid out, so arrows move
  // by rows and PgUp/PgDn by pages.
  void set_layout(std::size_t columns, std::size_t page_size);

  const std::map<std::string, cp_view>& cps() const { return cps_; }
  const std::vector<request_row>& requests() const { return requests_; }
  const message_log& messages() const { return messages_; }
  const form& prompt() const { return form_; }
  // A yes/no question waiting for its answer, empty when none.
  const std::string& question() const { return question_; }

  // Index of the selected CP in cps() order; 0 when there are none.
  std::size_t selected_index() const;
  const std::string& selected_id() const { return selected_; }
  void select(const std::string& id);
  void move_selection(long delta);

  bool central_ok() const { return started_; }
  std::int64_t port() const { return port_; }

private:
  void apply_cp(const json::value& ev);
  void drop_request(const std::string& driver, const std::string& cp);
  std::optional<std::string> finish_form(std::int64_t now_ms);
  void open_order_form(cp_order order);
  void ask_order_for_all(cp_order order);
  std::optional<std::string> sent(std::string line, std::int64_t now_ms);

  std::map<std::string, cp_view> cps_;
  std::vector<request_row> requests_;
  message_log messages_;
  std::string selected_;
  std::size_t columns_ = 1;
  std::size_t page_size_ = 1;
  form form_;
  std::optional<cp_order> order_;  // the order the open form is for, if any
  std::string question_;
  std::string pending_;  // the command the question confirms
  bool started_ = false;
  std::int64_t port_ = 0;
};

} // namespace evnet::ui
