// Members on their own threads in one process, talking through a hub in real time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "quorum/concepts.hpp"
#include "quorum/message.hpp"
#include "quorum/random.hpp"
#include "quorum/types.hpp"

namespace quorum {

/// The "network" between the members of one process. Thread-safe. It must outlive every
/// member attached to it. Optionally loses messages at random (seeded) to exercise retries.
class InProcHub {
 public:
  /// Called on the sender's thread; must not block for long (it should queue and return).
  using Deliver = std::function<void(ServerId from, Message message)>;

  InProcHub() = default;
  /// A hub that drops each message with probability `drop`, drawing from `seed`.
  InProcHub(double drop, std::uint64_t seed) : prng_(seed), drop_(drop) {}

  /// From now on messages to `id` are handed to `deliver`.
  void attach(ServerId id, Deliver deliver) {
    std::unique_lock lock(members_mutex_);
    members_[id] = std::move(deliver);
  }

  /// Stops delivery to `id`. When it returns, no delivery to `id` is in progress.
  void detach(ServerId id) {
    std::unique_lock lock(members_mutex_);
    members_.erase(id);
  }

  /// Delivers at once to an attached member; to anyone else it is lost, like a packet to a
  /// host that is down.
  void send(ServerId from, ServerId to, const Message& message) {
    if (drop_ > 0) {
      std::lock_guard lock(prng_mutex_);
      if (prng_.chance(drop_)) return;
    }
    std::shared_lock lock(members_mutex_);
    if (auto it = members_.find(to); it != members_.end()) it->second(from, message);
  }

  /// Real time as protocol time: the time since the hub was made.
  Instant now() const { return Instant(std::chrono::steady_clock::now() - origin_); }
  /// The steady_clock moment of a protocol Instant.
  std::chrono::steady_clock::time_point to_steady(Instant t) const {
    return origin_ +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch());
  }

 private:
  const std::chrono::steady_clock::time_point origin_ = std::chrono::steady_clock::now();
  std::shared_mutex members_mutex_;
  std::map<ServerId, Deliver> members_;
  std::mutex prng_mutex_;
  Prng prng_{0};
  double drop_ = 0.0;
};

/// One member's handle on an `InProcHub`. The hub must outlive it.
class InProcTransport {
 public:
  using Network = InProcHub;  ///< what a Node over this transport is built on
  InProcTransport(InProcHub& hub, ServerId self) noexcept : hub_(&hub), self_(self) {}

  void send(ServerId to, const Message& message) { hub_->send(self_, to, message); }

  ServerId self() const noexcept { return self_; }
  InProcHub& hub() const noexcept { return *hub_; }

 private:
  InProcHub* hub_;
  ServerId self_;
};

static_assert(Transport<InProcTransport>, "InProcTransport must satisfy quorum::Transport");

}  // namespace quorum
