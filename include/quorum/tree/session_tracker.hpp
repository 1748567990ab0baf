// The leader's view of session liveness (ZooKeeper's SessionTrackerImpl): an expiry time per
// session rounded up to the next tick, touches from the members clients are attached to, the
// member that owns each session, and a closing flag once expiry or a close is under way.
// Sans-I/O: time comes in as the member's Instant.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "quorum/error.hpp"
#include "quorum/types.hpp"

namespace quorum::tree {

class SessionTracker {
 public:
  explicit SessionTracker(Duration tick) : tick_(tick) {}

  /// A new session (prep saw its createSession), owned by the member that created it.
  void add(std::int64_t id, std::int32_t timeout_ms, ServerId owner, Instant now) {
    Entry& e = sessions_[id];
    e.timeout = std::chrono::milliseconds(timeout_ms);
    e.owner = owner;
    e.closing = false;
    e.expires = expiry(now, e.timeout);
  }

  /// Keeps a session alive; `revalidate` also makes `from` its owner (the client reattached
  /// there). False when the session is unknown or closing.
  bool touch(std::int64_t id, ServerId from, bool revalidate, Instant now) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.closing) return false;
    if (revalidate) it->second.owner = from;
    it->second.expires = std::max(it->second.expires, expiry(now, it->second.timeout));
    return true;
  }

  /// May a write of `id` arriving through `via` go ahead?
  errc check(std::int64_t id, ServerId via) const {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.closing) return errc::session_expired;
    if (via != 0 && it->second.owner != 0 && it->second.owner != via) return errc::session_moved;
    return errc::ok;
  }

  void set_closing(std::int64_t id) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second.closing = true;
  }
  void remove(std::int64_t id) { sessions_.erase(id); }
  bool contains(std::int64_t id) const { return sessions_.count(id) != 0; }

  /// Sessions whose time ran out by `now`; each is marked closing and reported once.
  std::vector<std::int64_t> expire(Instant now) {
    std::vector<std::int64_t> out;
    for (auto& [id, e] : sessions_)
      if (!e.closing && e.expires <= now) {
        e.closing = true;
        out.push_back(id);
      }
    return out;
  }

  /// A new leader adopts every session the tree holds, each with a full timeout from now
  /// (ZooKeeper's leader does the same when it loads the database). Owners are unknown until
  /// the members touch their sessions.
  template <class Sessions>
  void adopt(const Sessions& sessions, Instant now) {
    sessions_.clear();
    for (const auto& [id, record] : sessions) add(id, record.timeout_ms, 0, now);
  }

  std::size_t size() const noexcept { return sessions_.size(); }

 private:
  struct Entry {
    Duration timeout{};
    Instant expires{};
    ServerId owner = 0;
    bool closing = false;
  };

  // Rounded up to a tick boundary, as ZooKeeper's expiry buckets: a session dies between
  // timeout and timeout + tick after its last touch.
  Instant expiry(Instant now, Duration timeout) const {
    const auto t = (now + timeout).time_since_epoch();
    const auto buckets = (t + tick_ - Duration(1)) / tick_;
    return Instant(tick_ * buckets);
  }

  Duration tick_;
  std::map<std::int64_t, Entry> sessions_;
};

}  // namespace quorum::tree
