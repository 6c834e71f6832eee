#pragma once

// What a program knows about its link to Central. The transport reports
// `disconnected` on every failed reconnect attempt; people and scripts want
// one "cannot reach CENTRAL" per outage, so each core actor keeps one of these.
//
// Thread-safety: none; owned by one actor.

namespace evnet::runtime {

class link_status {
public:
  void connected() {
    up_ = true;
    known_ = true;
  }

  // Returns true when this starts an outage (or is the first word on a link
  // that never came up): the moment to tell the user.
  bool disconnected() {
    const bool news = up_ || !known_;
    up_ = false;
    known_ = true;
    return news;
  }

  bool up() const { return up_; }
  // Down, and the user has been told so.
  bool known_down() const { return known_ && !up_; }

private:
  bool up_ = false;
  bool known_ = false;
};

} // namespace evnet::runtime
