#pragma once

// The driver's live copy of Central's CP table, by the Clone pattern (ZeroMQ
// guide, chapter 5), all of it:
//  - the table starts with a snapshot (asked on the DEALER link) and then
//    follows the sequenced stream (SUB link);
//  - stream updates that arrive while a snapshot is awaited are buffered (in
//    sequence order, bounded); when the snapshot comes, those with
//    seq <= its seq are dropped and the rest applied in order;
//  - a gap in the sequence asks for a new snapshot and buffers again;
//  - at most one snapshot request is outstanding; one that gets no answer
//    for `snapshot_retry_ms` is asked again, and a new link (`resync`)
//    always asks again (Central may have restarted: its sequence with it).
// Sans-I/O: the snapshot request goes to the outbox (to "central") and the
// events `cps` (a snapshot arrived) and `cp_state` (a CP changed state) are
// notices with docs/HEADLESS.md's fields.
//
// Thread-safety: none; owned by its driver_runner.

#include "evnet/domain/outbox.hpp"
#include "evnet/json.hpp"
#include "evnet/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace evnet::domain {

// The name of the driver's link to Central in an outbox.
inline constexpr const char* driver_central_link = "central";


class cp_table {
public:
  static constexpr std::int64_t snapshot_retry_ms = 5000;
  static constexpr std::size_t max_buffered = 4096;

  // A new session on the link to Central (up: whether it is up now). Any
  // outstanding request died with the old link: ask again.
  void resync(outbox& out, bool up, std::int64_t now);
  void on_snapshot(const protocol::snapshot& s, outbox& out, bool up, std::int64_t now);
  void on_update(const protocol::cp_update& u, outbox& out, bool up, std::int64_t now);
  // Asks again for a snapshot that is wanted but not outstanding (the link
  // was down) or whose answer did not come in time.
  void on_tick(outbox& out, bool up, std::int64_t now);

  bool have_snapshot() const { return have_snapshot_; }
  bool awaiting_snapshot() const { return wanted_; }
  bool request_outstanding() const { return asked_at_.has_value(); }
  std::uint64_t seq() const { return seq_; }
  std::size_t buffered() const { return buffer_.size(); }
  const std::map<std::string, protocol::cp_info>& rows() const { return rows_; }
  const protocol::cp_info* find(const std::string& cp_id) const;
  std::optional<std::int64_t> next_deadline() const;

  // The `cps` event's array.
  json::array rows_json() const;

private:
  void want_snapshot(outbox& out, bool up, std::int64_t now);
  void ask(outbox& out, std::int64_t now);
  void apply(const protocol::cp_info& cp, outbox& out);
  void replay(outbox& out, bool up, std::int64_t now);

  std::map<std::string, protocol::cp_info> rows_;
  std::uint64_t seq_ = 0;
  bool have_snapshot_ = false;
  bool wanted_ = true;                     // buffering until a snapshot comes
  std::optional<std::int64_t> asked_at_;   // the outstanding request
  std::map<std::uint64_t, protocol::cp_update> buffer_;
};

} // namespace evnet::domain
