#pragma once

// The Engine of one OCPP charge point, as a sans-I/O machine: what EV_OCPP
// decides for a real charge point where engine_machine decides for a
// simulated one. Towards Central it speaks the Engine's protocol, exactly
// like engine_machine (engine_hello, telemetry, charge_finished kept until
// record_ack: the same record_keeper), and it answers the gateway's
// in-process Monitor (monitor_machine, unchanged) the way an Engine does
// (health_reply, engine_configure, the authorisation fence, cp_command).
// Towards the charge point it turns those into OCPP 1.6 actions, and the
// charge point's OCPP messages into Engine facts. It never sees JSON
// framing, a socket or a clock: the gateway decodes OCPP-J into the calls
// below, passes the time, and encodes what take_requests() and
// take_answers() return.
//
// The mapping (docs/OCPP.md):
//  - StatusNotification (connector 1 or 0): Faulted -> the Engine is KO
//    (Central shows BROKEN); Charging, SuspendedEV, SuspendedEVSE and
//    Finishing are BUSY; Unavailable is OUT_OF_ORDER; Available, Preparing
//    and Reserved are ACTIVE.
//  - The fence: authorize_request reserves (answered at once, like an
//    Engine: nothing is supplied yet); a confirmed decision becomes
//    RemoteStartTransaction{connectorId 1, idTag = the driver}; the charge
//    point's StartTransaction with that idTag is answered with a
//    transactionId mapped one to one, durably, to the charge id, and supply
//    starts. A RemoteStartTransaction refused, or no StartTransaction within
//    plug_timeout_ms, ends the charge with 0 kWh (never_plugged).
//  - MeterValues (Energy.Active.Import.Register, already in kWh): kWh since
//    meterStart and the amount at the CP's price go to Central as telemetry.
//  - StopTransaction: the record (kWh = (meterStop - meterStart) / 1000) is
//    saved, sent, kept until record_ack; a StopTransaction replayed after a
//    reconnect (OCPP's offline queue) is answered again and billed once (the
//    ledger knows the transaction is closed; Central deduplicates on the
//    charge id besides).
//  - A charge's duration ends with RemoteStopTransaction; an operator STOP
//    sends RemoteStopTransaction (when charging) then ChangeAvailability
//    Inoperative; RESUME sends ChangeAvailability Operative.
//  - The charge point's connection lost: the charge stays open (the charge
//    point goes on charging and queues its messages); when it comes back its
//    queued MeterValues and StopTransaction settle it.
//  - A charge started at the charge point (an idTag read at the plug):
//    Authorize, or a StartTransaction for a charge Central did not start,
//    is held while the gateway's Monitor asks Central for a charge in that
//    driver's name (Central checks the driver is registered and the CP
//    free, and runs its fence). Confirmed: Authorize is Accepted (and the
//    StartTransaction that follows starts the charge), or the held
//    StartTransaction gets its transactionId at once. Refused, or no
//    answer within held_timeout_ms: Invalid.
//
// Thread-safety: none; owned by the gateway's actor for that charge point.

#include "evnet/domain/engine_machine.hpp"
#include "evnet/domain/outbox.hpp"
#include "evnet/domain/record_keeper.hpp"
#include "evnet/json.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evnet::domain {

// OCPP 1.6 ChargePointStatus.
enum class ocpp_status : std::uint8_t {
  available,
  preparing,
  charging,
  suspended_ev,
  suspended_evse,
  finishing,
  reserved,
  unavailable,
  faulted
};

// The spec's spelling ("Available", "SuspendedEV", ...); nullopt for others.
std::optional<ocpp_status> parse_ocpp_status(std::string_view s);
std::string_view to_string(ocpp_status s);
// The state evnet shows for a charge point in that status.
cp_state state_for(ocpp_status s);

// One OCPP transaction, as the ledger keeps it.
struct ocpp_transaction {
  std::int64_t id = 0;  // the transactionId given to the charge point
  std::string cp_id;
  std::string charge_id;
  std::string driver_id;
  double price = 0.0;
  std::int64_t meter_start_wh = 0;
  std::int64_t started_ms = 0;
  std::int64_t duration_s = 0;  // 0: until the charge point stops it
  bool closed = false;          // its StopTransaction was settled
};

// The gateway's durable memory for one charge point: the Engine's (finished
// charges until acknowledged) and the transactions. store::ocpp_store keeps
// it on SQLite; memory_ocpp_ledger in memory (tests).
class ocpp_ledger : public engine_ledger {
public:
  // The transaction of (cp_id, charge_id), made with a new id when there is
  // none (the same id for ever after: one to one, durably).
  virtual result<ocpp_transaction> open_transaction(const ocpp_transaction& t) = 0;
  virtual result<std::optional<ocpp_transaction>> transaction(std::int64_t id) = 0;
  // The transaction still open for this charge point, if any (after a restart).
  virtual result<std::optional<ocpp_transaction>> open_transaction_of(const std::string& cp_id) = 0;
  virtual status close_transaction(std::int64_t id) = 0;
};

class memory_ocpp_ledger final : public ocpp_ledger {
public:
  status save_open(const open_charge& c) override { return sync().save_open(c); }
  status save_finished(const protocol::charge_record& r) override { return sync().save_finished(r); }
  status acknowledge(const std::string& cp_id, const std::string& charge_id) override {
    return sync().acknowledge(cp_id, charge_id);
  }
  result<ledger_contents> load() override { return sync().load(); }

  result<ocpp_transaction> open_transaction(const ocpp_transaction& t) override;
  result<std::optional<ocpp_transaction>> transaction(std::int64_t id) override;
  result<std::optional<ocpp_transaction>> open_transaction_of(const std::string& cp_id) override;
  status close_transaction(std::int64_t id) override;

  const memory_ledger& engine() const { return engine_; }
  const std::map<std::int64_t, ocpp_transaction>& transactions() const { return transactions_; }

  // Every call fails with errc::store, as a broken disk would.
  bool failing = false;

private:
  memory_ledger& sync() {
    engine_.failing = failing;
    return engine_;
  }

  memory_ledger engine_;
  std::map<std::int64_t, ocpp_transaction> transactions_;
  std::int64_t next_id_ = 1;
};

// A CALL the gateway makes to the charge point ...
struct ocpp_request {
  std::string action;  // RemoteStartTransaction, RemoteStopTransaction, ChangeAvailability
  json::object payload;
};

// ... and the CALLRESULT payload of one of the charge point's CALLs.
struct ocpp_answer {
  std::string call_id;
  json::object payload;
  // Set: a CALLERROR InternalError with this description instead. OCPP 1.6
  // has the charge point send a transaction message again after one, so
  // nothing is lost when the gateway could not record it.
  std::optional<std::string> internal_error = std::nullopt;
};

class ocpp_engine {
public:
  static constexpr std::string_view central_link = engine_machine::central_link;
  // Where answers to the in-process Monitor go (outgoing::to).
  static constexpr std::string_view monitor_link = "monitor";
  static constexpr std::int64_t resend_every_ms = record_keeper::resend_every_ms;
  static constexpr std::int64_t hello_every_ms = record_keeper::hello_every_ms;
  static constexpr std::int64_t reservation_timeout_ms = charger::reservation_timeout_ms;
  // A confirmed charge whose StartTransaction never comes.
  static constexpr std::int64_t plug_timeout_ms = charger::plug_timeout_ms;
  // A held Authorize or StartTransaction that Central did not decide on.
  static constexpr std::int64_t held_timeout_ms = 20'000;

  // Recovers from the ledger (which must outlive the machine): records not
  // acknowledged are resent; an open transaction stays open (the charge
  // point still holds it and will stop it).
  ocpp_engine(std::string cp_id, ocpp_ledger& ledger, std::int64_t now);

  // ---- evnet's side ----------------------------------------------------------
  // A message from the in-process Monitor; answers go to the Monitor (to =
  // "monitor") with the same correlation.
  void on_monitor(const protocol::message& msg, std::int64_t now);
  void on_central(const protocol::message& msg, std::int64_t now);
  void on_central_connected(std::int64_t now);
  void on_central_disconnected(std::int64_t now);
  // Every second or so: deadlines, resends, hellos, a duration's end.
  void on_tick(std::int64_t now);

  // ---- the charge point's side ----------------------------------------------
  void on_connected(std::int64_t now);
  void on_disconnected(std::int64_t now);
  void on_status(int connector, ocpp_status s, std::int64_t now);
  // StartTransaction: answered now or later through take_answers().
  void on_start_transaction(const std::string& call_id, const std::string& id_tag, std::int64_t meter_start_wh,
                            std::int64_t timestamp_ms, std::int64_t now);
  // Authorize: answered now (the driver Central confirmed, or a refusal) or
  // held while Central is asked (take_charge_wanted).
  void on_authorize_call(const std::string& call_id, const std::string& id_tag, std::int64_t now);
  // The driver a held call needs a charge for, once: the gateway asks its
  // Monitor (monitor_machine::request_charge_for).
  std::optional<std::string> take_charge_wanted() { return std::exchange(wanted_, std::nullopt); }
  // Central refused that charge (the Monitor's `local_charge` event).
  void on_charge_refused(const std::string& reason, std::int64_t now);
  // A MeterValues sample of Energy.Active.Import.Register, in kWh (absolute
  // register reading). `transaction_id` 0 when the message carried none.
  void on_meter(std::int64_t transaction_id, double register_kwh, std::int64_t now);
  void on_stop_transaction(const std::string& call_id, std::int64_t transaction_id, std::int64_t meter_stop_wh,
                           std::int64_t timestamp_ms, std::int64_t now);
  // The charge point answered one of take_requests()'s CALLs: its `status`
  // field ("Accepted", "Rejected"...), or a CALLERROR (accepted = false).
  void on_request_answered(const std::string& action, bool accepted, std::int64_t now);

  outbox& out() { return out_; }
  std::vector<ocpp_request> take_requests() { return std::exchange(requests_, {}); }
  std::vector<ocpp_answer> take_answers() { return std::exchange(answers_, {}); }

  cp_state state() const;
  bool charging() const { return tx_.has_value(); }
  // The driver of a charge Central confirmed that the charge point has not
  // started yet (the idTag its StartTransaction will carry), if any.
  std::optional<std::string> awaited_driver() const {
    return pending_ && pending_->confirmed ? std::optional<std::string>{pending_->driver_id} : std::nullopt;
  }
  const std::string& cp_id() const { return cp_id_; }
  std::size_t unacknowledged() const { return records_.unacknowledged(); }

private:
  // A reservation or a confirmed charge not started yet.
  struct pending {
    std::string request_id;
    std::string charge_id;
    std::string driver_id;
    std::int64_t duration_s = 0;
    std::int64_t since_ms = 0;
    bool confirmed = false;
    bool remote_start_sent = false;
    bool local = false;  // for a held call: no RemoteStartTransaction
  };

  // An Authorize or StartTransaction of the charge point waiting for Central.
  struct held_call {
    std::string call_id;
    std::string action;
    std::string id_tag;
    std::int64_t meter_start_wh = 0;
    std::int64_t timestamp_ms = 0;
    std::int64_t since_ms = 0;
  };
  bool can_hold() const;
  void hold(held_call h);
  void answer_held(std::string_view status, std::int64_t now);
  void start_transaction(const std::string& call_id, std::int64_t meter_start_wh, std::int64_t timestamp_ms,
                         std::int64_t now);
  void refuse_start(const std::string& call_id, const std::string& id_tag, std::int64_t meter_start_wh,
                    std::int64_t timestamp_ms, std::string_view status, const std::string& why);

  template <class T>
  void to_central(T body) {
    out_.send(std::string(central_link), std::move(body));
  }
  template <class T>
  void to_monitor(T body, std::uint64_t corr) {
    out_.send(std::string(monitor_link), std::move(body), corr);
  }
  void request(std::string action, json::object payload);
  void error_notice(errc code, std::string message);

  void on_health(std::uint64_t corr);
  void on_configure(std::uint64_t corr, const protocol::cp_config& c, std::int64_t now);
  void on_authorize(std::uint64_t corr, const protocol::authorize_request& req, std::int64_t now);
  void on_decision(std::uint64_t corr, const protocol::authorize_decision& d, std::int64_t now);
  void on_cp_command(std::uint64_t corr, const protocol::cp_command& c, std::int64_t now);

  void deadlines(std::int64_t now);
  void never_started(std::string_view why, std::int64_t now);
  void settle_state();
  std::string new_charge_id(std::int64_t now);

  std::string cp_id_;
  ocpp_ledger& ledger_;
  outbox out_;
  record_keeper records_;  // finished charges until acknowledged; engine_hello
  std::vector<ocpp_request> requests_;
  std::vector<ocpp_answer> answers_;

  std::optional<protocol::cp_config> config_;
  bool online_ = false;   // the charge point's WebSocket is up
  ocpp_status status_ = ocpp_status::available;
  bool stopped_ = false;  // operator STOP in force
  std::optional<pending> pending_;
  std::optional<held_call> held_;
  std::optional<std::string> wanted_;
  std::optional<ocpp_transaction> tx_;  // the charge being supplied
  std::int64_t tx_started_ms_ = 0;      // our clock when it started (its duration runs from there)
  double kwh_ = 0.0;                    // of tx_, from the last meter value
  double last_kwh_sent_ = -1.0;
  std::uint64_t telemetry_seq_ = 0;
  bool remote_stop_sent_ = false;
  std::uint64_t charges_made_ = 0;
  std::optional<cp_state> state_shown_;
};

} // namespace evnet::domain
