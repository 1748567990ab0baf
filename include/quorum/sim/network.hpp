// A deterministic simulated network in virtual time, with seeded faults.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/message.hpp"
#include "quorum/random.hpp"
#include "quorum/types.hpp"

namespace quorum::sim {

/// What can go wrong on every link. Each message draws its own fate from the network's seed.
struct LinkFaults {
  Duration delay_min = std::chrono::milliseconds(1);  ///< one-way delay, uniform in [min, max]
  Duration delay_max = std::chrono::milliseconds(5);
  double drop = 0.0;       ///< probability a message is lost
  double duplicate = 0.0;  ///< probability a message is delivered twice
  double reorder = 0.0;    ///< probability a message is held back by up to `reorder_max`
  Duration reorder_max = std::chrono::milliseconds(100);
  /// ZAB packets travel like TCP: in order per link and never duplicated (a loss is then a
  /// broken connection, which ZAB notices). Election notifications keep the faults above.
  bool fifo_packets = true;
};

/// A message on its way.
struct Delivery {
  Instant at;
  std::uint64_t sequence =
      0;  // breaks ties between equal times, so order never depends on the heap
  ServerId from = 0;
  ServerId to = 0;
  Message message;
};

/// Counters of what the network did.
struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;  ///< lost by chance, to a partition, or to a crashed member
  std::uint64_t duplicated = 0;
};

/// The simulator's network. One thread; virtual time only moves through `advance_to`.
/// The same seed and the same calls give the same deliveries, byte for byte.
class Network {
 public:
  explicit Network(std::uint64_t seed, LinkFaults faults = {})
      : prng_(Prng(seed).fork("network")), faults_(faults) {
    check(faults_);
  }

  Instant now() const noexcept { return now_; }
  void advance_to(Instant t) {
    QUORUM_ASSERT(t >= now_, "virtual time never goes back");
    now_ = t;
  }

  const LinkFaults& faults() const noexcept { return faults_; }
  void set_faults(LinkFaults faults) {
    check(faults);
    faults_ = faults;
  }

  /// A member that is down sends nothing and receives nothing (messages to it are lost).
  void set_up(ServerId id, bool up) {
    if (up)
      down_.erase(id);
    else
      down_.insert(id);
  }
  bool is_up(ServerId id) const { return !down_.contains(id); }

  /// Cuts the link between a and b in both directions; messages in flight on it are lost.
  void cut(ServerId a, ServerId b) { cut_.insert(std::minmax(a, b)); }
  /// Splits members into groups that cannot talk to each other (members not listed keep
  /// their links to everyone).
  void partition(const std::vector<std::vector<ServerId>>& groups) {
    for (std::size_t g = 0; g < groups.size(); ++g)
      for (std::size_t h = g + 1; h < groups.size(); ++h)
        for (ServerId a : groups[g])
          for (ServerId b : groups[h]) cut(a, b);
  }
  /// Restores every link.
  void heal() { cut_.clear(); }
  bool connected(ServerId a, ServerId b) const {
    return a == b || !cut_.contains(std::minmax(a, b));
  }

  /// Puts a message on the wire from `from` to `to`, subject to the faults.
  void send(ServerId from, ServerId to, const Message& message) {
    ++stats_.sent;
    if (!is_up(from)) return;
    if (prng_.chance(faults_.drop)) {
      ++stats_.dropped;
      return;
    }
    const bool fifo = faults_.fifo_packets && std::holds_alternative<QuorumPacket>(message);
    enqueue(from, to, message, fifo);
    if (!fifo && prng_.chance(faults_.duplicate)) {
      ++stats_.duplicated;
      enqueue(from, to, message, false);
    }
  }

  /// When the next message arrives, if any is in flight.
  std::optional<Instant> next_delivery_time() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.front().at;
  }

  /// The earliest message due at or before now(), if any. Messages to a member that is down
  /// or cut off are dropped here and counted.
  std::optional<Delivery> pop_due() {
    while (!queue_.empty() && queue_.front().at <= now_) {
      std::pop_heap(queue_.begin(), queue_.end(), later);
      Delivery d = std::move(queue_.back());
      queue_.pop_back();
      if (!is_up(d.to) || !connected(d.from, d.to)) {
        ++stats_.dropped;
        continue;
      }
      ++stats_.delivered;
      return d;
    }
    return std::nullopt;
  }

  std::size_t in_flight() const noexcept { return queue_.size(); }
  const NetworkStats& stats() const noexcept { return stats_; }

 private:
  static bool later(const Delivery& a, const Delivery& b) noexcept {
    return a.at != b.at ? a.at > b.at : a.sequence > b.sequence;
  }

  static void check(const LinkFaults& f) {
    QUORUM_ASSERT(f.delay_min >= Duration::zero() && f.delay_min <= f.delay_max,
                  "link delay range must be 0 <= min <= max");
    QUORUM_ASSERT(f.drop >= 0 && f.drop <= 1 && f.duplicate >= 0 && f.duplicate <= 1 &&
                      f.reorder >= 0 && f.reorder <= 1,
                  "fault probabilities must be in [0, 1]");
  }

  void enqueue(ServerId from, ServerId to, const Message& message, bool fifo) {
    Duration delay = faults_.delay_min +
                     Duration(prng_.between(0, (faults_.delay_max - faults_.delay_min).count()));
    if (!fifo && faults_.reorder > 0 && prng_.chance(faults_.reorder))
      delay += Duration(prng_.between(0, faults_.reorder_max.count()));
    Instant at = now_ + delay;
    if (fifo) {
      // Never before the previous packet on this link; equal times keep send order.
      Instant& last = fifo_last_[{from, to}];
      at = std::max(at, last);
      last = at;
    }
    queue_.push_back(Delivery{at, next_sequence_++, from, to, message});
    std::push_heap(queue_.begin(), queue_.end(), later);
  }

  Prng prng_;
  LinkFaults faults_;
  Instant now_{};
  std::uint64_t next_sequence_ = 0;
  std::vector<Delivery> queue_;  // a min-heap on (at, sequence)
  std::set<ServerId> down_;
  std::set<std::pair<ServerId, ServerId>> cut_;
  std::map<std::pair<ServerId, ServerId>, Instant> fifo_last_;
  NetworkStats stats_;
};

}  // namespace quorum::sim
