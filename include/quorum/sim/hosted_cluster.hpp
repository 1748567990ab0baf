// What the simulator's replicated clusters share: members 1..N on one simulated network, each
// with a simulated disk (MemoryDisk or FileDisk) whose appends become durable one group commit
// (a simulated fsync with a seeded latency) later, stepped in virtual time.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/random.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/sim/stepper.hpp"

namespace quorum::sim {

/// `Host` holds one member's `id`, `disk` (a unique_ptr to a disk as memory_disk.hpp
/// describes), `fsync` (the group commit in progress) and whatever runs the member.
/// `Derived::member_of(Host&)` returns the running member (nullptr when down), which must offer
/// receive(from, message, now), tick(now), log_durable(now) and next_deadline();
/// `Derived::replica_of(Host&)` returns the member's ZAB replica (nullptr when down);
/// `Derived::crash(ServerId)` powers a member off (called when a crash point fires).
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

  /// What a member's disk had made durable at the end of its last complete step: what it may
  /// have told others (acknowledged), so what must survive a power loss. A crash point inside
  /// a step may also leave a TRUNC the leader ordered half done, so after one only the
  /// committed part is owed.
  struct Promise {
    Zxid durable;
    Zxid committed;  ///< applied and durable here
    Epoch accepted_epoch = 0;
    Epoch current_epoch = 0;
    bool mid_step = false;  ///< the member died at a crash point inside a step
  };
  const Promise& promised(ServerId id) { return promised_.at(static_cast<std::size_t>(id - 1)); }

  /// Disks that broke a promise: refused to open (a crash point firing during recovery is not
  /// that — the member is simply powered off again), or reopened without what they had made
  /// durable. Each names the member and what is wrong.
  const std::vector<std::string>& disk_violations() const noexcept { return disk_violations_; }

 protected:
  using MakeHost = std::function<std::unique_ptr<Host>(Network&, ServerId)>;

  HostedCluster(std::uint64_t seed, LinkFaults faults, std::size_t servers, Duration disk_min,
                Duration disk_max, const MakeHost& make_host)
      : network_(seed, faults),
        disk_prng_(Prng(seed).fork("disk")),
        disk_min_(disk_min),
        disk_max_(disk_max) {
    QUORUM_ASSERT(servers >= 1 && servers <= 255, "1..255 servers");
    for (std::size_t i = 1; i <= servers; ++i) {
      const auto id = static_cast<ServerId>(i);
      voters_.push_back(id);
      hosts_.push_back(make_host(network_, id));
      promised_.emplace_back();
      network_.set_up(id, false);
    }
  }

  // Before a member starts: opens its disk. False when it must stay down.
  bool boot_disk(Host& h) {
    std::string error;
    const std::string who = "member " + std::to_string(h.id) + ": ";
    if (!h.disk->boot(error)) {
      if (h.disk->crash_point_hit())
        h.disk->power_loss();
      else
        disk_violations_.push_back(who + error);
      return false;
    }
    const auto& s = h.disk->storage();
    Promise& p = promised_[static_cast<std::size_t>(h.id - 1)];
    const Zxid owed = p.mid_step ? p.committed : p.durable;
    if (s.last_logged_zxid() < owed)
      disk_violations_.push_back(who + "reopened with its log through " +
                                 to_string(s.last_logged_zxid()) + ", having made " +
                                 to_string(owed) + (p.mid_step ? " (committed)" : "") + " durable");
    p.mid_step = false;
    if (s.accepted_epoch() < p.accepted_epoch || s.current_epoch() < p.current_epoch)
      disk_violations_.push_back(
          who + "reopened with epochs " + std::to_string(s.accepted_epoch()) + "/" +
          std::to_string(s.current_epoch()) + " (accepted/current), having recorded " +
          std::to_string(p.accepted_epoch) + "/" + std::to_string(p.current_epoch));
    return true;
  }

  Host& host(ServerId id) {
    QUORUM_ASSERT(id >= 1 && static_cast<std::size_t>(id) <= hosts_.size(), "no such member");
    return *hosts_[static_cast<std::size_t>(id - 1)];
  }

  // After any step of a member: power it off if a crash point fired in the step, else start
  // a group commit if appends wait for one.
  void after_step(Host& h) {
    if (!Derived::member_of(h)) return;
    Promise& p = promised_[static_cast<std::size_t>(h.id - 1)];
    if (h.disk->crash_point_hit()) {
      p.mid_step = true;
      return static_cast<Derived*>(this)->crash(h.id);
    }
    auto& storage = h.disk->storage();
    // What the disk holds: the durable log, and an old log a SNAP install has not replaced yet.
    const Zxid held = storage.held_zxid();
    const Zxid durable = storage.durable_zxid();
    p = {held, std::min(durable, Derived::replica_of(h)->committed()), storage.accepted_epoch(),
         storage.current_epoch(), false};
    if (h.fsync) return;
    if (storage.last_logged_zxid() > storage.durable_zxid()) {
      const Duration latency =
          disk_min_ + Duration(disk_prng_.between(0, (disk_max_ - disk_min_).count()));
      h.fsync = std::pair{now() + latency, storage.last_logged_zxid()};
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
        h->disk->sync(h->fsync->second);
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
  std::vector<Promise> promised_;
  std::vector<std::string> disk_violations_;
};

}  // namespace quorum::sim
