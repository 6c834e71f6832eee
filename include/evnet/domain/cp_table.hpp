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
//    always asks again (Central may have restarted: its sequence with it);
//  - the stream's port is learned from the snapshot (`stream_port`): when
//    it names a port the table is not subscribed to, the table subscribes
//    and asks for a snapshot again (subscribe first, then snapshot, so that
//    nothing published in between is missed). A snapshot naming no port
//    (0: an older Central) means the old convention, Central's port + 1,
//    without a second snapshot (such a Central sends no heartbeat; the next
//    update's sequence shows a gap, as it always did);
//  - the stream's heartbeat (stream_heartbeat, once a second) names the
//    last sequence published: one above ours means updates were lost, so a
//    snapshot is asked; no stream message at all for `stream_silence_ms`
//    while the link to Central is up (a dead path, a NAT that forgot us)
//    means resubscribe and ask for a snapshot. Silence only counts with a
//    Central that names its stream port (older ones send no heartbeat).
// Sans-I/O: the snapshot request goes to the outbox (to "central"); the
// events `cps` (a snapshot arrived) and `cp_state` (a CP changed state) are
// notices with docs/HEADLESS.md's fields; so is `stream`, which is also the
// owner's instruction: (re)subscribe the SUB link to Central's host at
// `port` (0: Central's port + 1) with a fresh socket, and say so (fields
// `port`, `reason`: "learned", "moved", "silent" or "assumed"; the owner
// adds `endpoint` and writes the port it used in place of 0).
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
  static constexpr std::int64_t stream_silence_ms = 3000;

  // A new session on the link to Central (up: whether it is up now). Any
  // outstanding request died with the old link: ask again.
  void resync(outbox& out, bool up, std::int64_t now);
  void on_snapshot(const protocol::snapshot& s, outbox& out, bool up, std::int64_t now);
  void on_update(const protocol::cp_update& u, outbox& out, bool up, std::int64_t now);
  void on_heartbeat(const protocol::stream_heartbeat& h, outbox& out, bool up, std::int64_t now);
  // Asks again for a snapshot that is wanted but not outstanding (the link
  // was down) or whose answer did not come in time; resubscribes a stream
  // silent for stream_silence_ms.
  void on_tick(outbox& out, bool up, std::int64_t now);

  bool have_snapshot() const { return have_snapshot_; }
  bool awaiting_snapshot() const { return wanted_; }
  bool request_outstanding() const { return asked_at_.has_value(); }
  std::uint64_t seq() const { return seq_; }
  std::size_t buffered() const { return buffer_.size(); }
  // The port the stream is subscribed to (0: Central's port + 1); nullopt
  // before the first snapshot.
  std::optional<std::uint32_t> stream_port() const { return stream_port_; }
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
  void subscribe(std::uint32_t port, const char* reason, outbox& out, bool up, std::int64_t now);
  bool watching_silence() const { return stream_port_.has_value() && *stream_port_ != 0; }

  std::map<std::string, protocol::cp_info> rows_;
  std::uint64_t seq_ = 0;
  bool have_snapshot_ = false;
  bool wanted_ = true;                     // buffering until a snapshot comes
  std::optional<std::int64_t> asked_at_;   // the outstanding request
  std::map<std::uint64_t, protocol::cp_update> buffer_;
  std::optional<std::uint32_t> stream_port_;  // subscribed to (0: the old convention)
  std::int64_t stream_heard_ms_ = 0;          // last stream message, or (re)subscription
};

} // namespace evnet::domain
