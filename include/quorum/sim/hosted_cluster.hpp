// What the simulator's replicated clusters share: members 1..N on one simulated network, each
// with a MemoryStorage whose appends become durable one group commit (a simulated fsync with a
// seeded latency) later, stepped in virtual time.
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/random.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/sim/stepper.hpp"
#include "quorum/storage/memory.hpp"

namespace quorum::sim {

/// `Host` holds one member's `storage` (MemoryStorage), `fsync` (the group commit in
/// progress) and whatever runs the member; it is built from (Network&, ServerId).
/// `Derived::member_of(Host&)` returns the running member (nullptr when down), which must offer
/// receive(from, message, now), tick(now), log_durable(now) and next_deadline();
/// `Derived::replica_of(Host&)` returns the member's ZAB replica (nullptr when down).
template <class Derived, class Host>
class HostedCluster : public Stepper<Derived> {
  friend class Stepper<Derived>;

 public:
  const std::vector<ServerId>& voters() const noexcept { return voters_; }
  Network& network() noexcept { return network_; }
  Instant now() const noexcept { return network_.now(); }

  /// The member every running member follows or is, when all serve the same running leader.
  std::optional<ServerId> serving_leader() {
    std::optional<ServerId> leader;
    for (auto& h : hosts_) {
      const auto* r = Derived::replica_of(*h);
      if (!r) continue;
      if (!r->serving()) return std::nullopt;
      if (leader && *leader != r->leader()) return std::nullopt;
      leader = r->leader();
    }
    // Followers keep "serving" a crashed leader, or an earlier leadership of the same member,
    // until they miss its pings; that is not it.
    if (!leader) return std::nullopt;
    const auto* lr = Derived::replica_of(host(*leader));
    if (!lr || lr->state() != PeerState::leading) return std::nullopt;
    for (auto& h : hosts_) {
      const auto* r = Derived::replica_of(*h);
      if (r && r->epoch() != lr->epoch()) return std::nullopt;
    }
    return leader;
  }

  std::optional<ServerId> run_until_serving(Duration limit = std::chrono::seconds(120)) {
    this->run_until([&] { return serving_leader().has_value(); }, limit);
    return serving_leader();
  }

 protected:
  HostedCluster(std::uint64_t seed, LinkFaults faults, std::size_t servers, Duration disk_min,
                Duration disk_max)
      : network_(seed, faults),
        disk_prng_(Prng(seed).fork("disk")),
        disk_min_(disk_min),
        disk_max_(disk_max) {
    QUORUM_ASSERT(servers >= 1 && servers <= 255, "1..255 servers");
    for (std::size_t i = 1; i <= servers; ++i) {
      const auto id = static_cast<ServerId>(i);
      voters_.push_back(id);
      hosts_.push_back(std::make_unique<Host>(network_, id));
      hosts_.back()->storage.set_durability(MemoryStorage::Durability::manual);
      network_.set_up(id, false);
    }
  }

  Host& host(ServerId id) {
    QUORUM_ASSERT(id >= 1 && static_cast<std::size_t>(id) <= hosts_.size(), "no such member");
    return *hosts_[static_cast<std::size_t>(id - 1)];
  }

  // After any step of a member: start a group commit if appends wait for one.
  void after_step(Host& h) {
    if (!Derived::member_of(h) || h.fsync) return;
    if (h.storage.last_logged_zxid() > h.storage.durable_zxid()) {
      const Duration latency =
          disk_min_ + Duration(disk_prng_.between(0, (disk_max_ - disk_min_).count()));
      h.fsync = std::pair{now() + latency, h.storage.last_logged_zxid()};
    }
  }

  // One message delivered, or time moved to the next deadline or group commit.
  bool step(Instant end) {
    if (auto d = network_.pop_due()) {
      Host& h = host(d->to);
      if (auto* m = Derived::member_of(h)) {
        m->receive(d->from, d->message, now());
        after_step(h);
      }
      return true;
    }
    std::optional<Instant> next = network_.next_delivery_time();
    const auto consider = [&](std::optional<Instant> t) {
      if (t && (!next || *t < *next)) next = t;
    };
    for (auto& h : hosts_) {
      auto* m = Derived::member_of(*h);
      if (!m) continue;
      consider(m->next_deadline());
      if (h->fsync) consider(h->fsync->first);
    }
    if (!next || *next > end) {
      network_.advance_to(std::max(end, now()));
      return false;
    }
    network_.advance_to(std::max(*next, now()));
    for (auto& h : hosts_) {
      if (!Derived::member_of(*h)) continue;
      if (h->fsync && h->fsync->first <= now()) {
        h->storage.make_durable(h->fsync->second);
        h->fsync.reset();
        Derived::member_of(*h)->log_durable(now());
      }
      auto* m = Derived::member_of(*h);
      auto deadline = m ? m->next_deadline() : std::nullopt;
      if (m && deadline && *deadline <= now()) m->tick(now());
      after_step(*h);
    }
    return true;
  }

  Network network_;
  Prng disk_prng_;
  Duration disk_min_;
  Duration disk_max_;
  std::vector<ServerId> voters_;
  std::vector<std::unique_ptr<Host>> hosts_;
};

}  // namespace quorum::sim
