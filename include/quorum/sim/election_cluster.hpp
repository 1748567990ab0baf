// A whole ensemble's elections in one thread and virtual time, for scenarios and simulation.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/election/describe.hpp"
#include "quorum/election/election.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/sim/stepper.hpp"
#include "quorum/storage/memory.hpp"
#include "quorum/transport/sim.hpp"

namespace quorum::sim {

/// Stands in for ZAB's liveness duties until ZAB exists: a follower whose leader is down, cut
/// off or no longer LEADING for `follower_timeout` goes LOOKING (ZAB: no ping within
/// syncLimit); a leader without a connected quorum of followers for `leader_timeout` goes
/// LOOKING (ZAB: no quorum within initLimit/syncLimit). It looks at the simulated world, so
/// it decides exactly what ZAB's pings would tell each member.
struct LeaderLiveness {
  Duration follower_timeout = std::chrono::milliseconds(400);
  Duration leader_timeout = std::chrono::milliseconds(1000);
  Duration check_period = std::chrono::milliseconds(50);
};

struct ClusterOptions {
  std::size_t servers = 3;  ///< members 1..servers, all voters
  std::uint64_t seed = 1;
  LinkFaults faults{};
  Duration finalize_wait = std::chrono::milliseconds(200);
  Duration min_notification_interval = std::chrono::milliseconds(200);
  Duration max_notification_interval = std::chrono::seconds(60);
  std::optional<LeaderLiveness> liveness;  ///< off: only explicit leader_lost() calls
};

/// A decision some member made, with when and how.
struct DecisionRecord {
  ServerId member = 0;
  Decided decision;
};

/// Members 1..N running `Election<SimTransport, MemoryStorage>` over one `Network`.
/// Storage survives crashes; a restarted member starts a fresh Election on it.
class ElectionCluster : public Stepper<ElectionCluster> {
  friend class Stepper<ElectionCluster>;

 public:
  using Elect = Election<SimTransport, MemoryStorage>;
  using Tracer = std::function<void(ServerId member, const ElectionEvent& event)>;

  explicit ElectionCluster(ClusterOptions options)
      : options_(std::move(options)), network_(options_.seed, options_.faults) {
    QUORUM_ASSERT(options_.servers >= 1 && options_.servers <= 255, "1..255 servers");
    for (std::size_t i = 1; i <= options_.servers; ++i) {
      const auto id = static_cast<ServerId>(i);
      voters_.push_back(id);
      members_.push_back(std::make_unique<Member>(network_, id));
      network_.set_up(id, false);
    }
  }

  // ---- the ensemble ----------------------------------------------------------------------

  /// The member's durable state; set its history before `start`.
  MemoryStorage& storage(ServerId id) { return member(id).storage; }

  /// Boots (or reboots) a member: a fresh Election over its storage enters LOOKING.
  void start(ServerId id) {
    Member& m = member(id);
    network_.set_up(id, true);
    ElectionConfig config{.self = id,
                          .voters = voters_,
                          .finalize_wait = options_.finalize_wait,
                          .min_notification_interval = options_.min_notification_interval,
                          .max_notification_interval = options_.max_notification_interval,
                          .quorum_config_text = {}};
    m.election.emplace(std::move(config), m.transport, m.storage);
    m.election->set_observer([this, id](const ElectionEvent& e) { observe(id, e); });
    m.unhealthy_since.reset();
    m.election->start(now());
  }

  /// Stops a member at once; what it sent is still in flight, its storage survives.
  void crash(ServerId id) {
    member(id).election.reset();
    network_.set_up(id, false);
  }

  /// Tells a running member its leader is gone, as ZAB would.
  void leader_lost(ServerId id) {
    Member& m = member(id);
    QUORUM_ASSERT(m.election.has_value(), "leader_lost on a member that is down");
    m.unhealthy_since.reset();
    m.election->leader_lost(now());
  }

  bool is_up(ServerId id) { return member(id).election.has_value(); }
  PeerState state(ServerId id) {
    Member& m = member(id);
    QUORUM_ASSERT(m.election.has_value(), "state of a member that is down");
    return m.election->state();
  }
  Vote vote(ServerId id) {
    Member& m = member(id);
    QUORUM_ASSERT(m.election.has_value(), "vote of a member that is down");
    return m.election->vote();
  }
  const std::vector<ServerId>& voters() const noexcept { return voters_; }
  std::size_t size() const noexcept { return voters_.size(); }

  Network& network() noexcept { return network_; }
  Instant now() const noexcept { return network_.now(); }

  /// Every decision made so far, in order.
  const std::vector<DecisionRecord>& decisions() const noexcept { return decisions_; }
  /// Sees every event of every member (notifications included).
  void set_tracer(Tracer tracer) { tracer_ = std::move(tracer); }
  /// A hash of every event so far: equal seeds must give equal hashes.
  std::uint64_t trace_hash() const noexcept { return trace_hash_; }
  std::uint64_t events() const noexcept { return events_; }

  // ---- running ---------------------------------------------------------------------------

  /// The leader every running member agrees on, when all of them have decided, all follow
  /// the same member and that member is LEADING.
  std::optional<ServerId> settled_leader() {
    std::optional<ServerId> leader;
    for (auto& m : members_) {
      if (!m->election) continue;
      if (m->election->state() == PeerState::looking) return std::nullopt;
      const ServerId l = m->election->vote().leader;
      if (leader && *leader != l) return std::nullopt;
      leader = l;
    }
    if (!leader || !member(*leader).election ||
        member(*leader).election->state() != PeerState::leading)
      return std::nullopt;
    return leader;
  }

  /// Runs until the running members settle on one leader (see settled_leader).
  std::optional<ServerId> run_until_settled(Duration limit = std::chrono::seconds(120)) {
    run_until([&] { return settled_leader().has_value(); }, limit);
    return settled_leader();
  }

 private:
  struct Member {
    Member(Network& network, ServerId id) : transport(network, id) {}
    MemoryStorage storage;
    SimTransport transport;
    std::optional<Elect> election;
    std::optional<Instant> unhealthy_since;  // for LeaderLiveness
  };

  Member& member(ServerId id) {
    QUORUM_ASSERT(id >= 1 && static_cast<std::size_t>(id) <= members_.size(), "no such member");
    return *members_[static_cast<std::size_t>(id - 1)];
  }

  // One step: deliver the next message, or move time to the next deadline and tick.
  // Returns false when nothing can happen before `end` (time then stands at `end`).
  bool step(Instant end) {
    if (auto d = network_.pop_due()) {
      if (auto& e = member(d->to).election) e->receive(d->from, d->message, now());
      return true;
    }
    std::optional<Instant> next = network_.next_delivery_time();
    const auto consider = [&](std::optional<Instant> t) {
      if (t && (!next || *t < next)) next = t;
    };
    for (auto& m : members_)
      if (m->election) consider(m->election->next_deadline());
    if (options_.liveness) consider(next_liveness_check_);
    if (!next || *next > end) {
      network_.advance_to(std::max(end, now()));
      return false;
    }
    network_.advance_to(std::max(*next, now()));
    for (auto& m : members_)
      if (m->election) {
        auto deadline = m->election->next_deadline();
        if (deadline && *deadline <= now()) m->election->tick(now());
      }
    if (options_.liveness && now() >= next_liveness_check_) check_liveness();
    return true;
  }

  void check_liveness() {
    const LeaderLiveness& cfg = *options_.liveness;
    next_liveness_check_ = now() + cfg.check_period;
    const QuorumVerifier verifier(voters_);
    for (auto& m : members_) {
      if (!m->election || m->election->state() == PeerState::looking) continue;
      const ServerId self = m->election->config().self;
      const ServerId leader = m->election->vote().leader;
      bool healthy = false;
      Duration timeout{};
      if (m->election->state() == PeerState::following) {
        Member& l = member(leader);
        healthy = l.election && network_.connected(self, leader) &&
                  l.election->state() == PeerState::leading;
        timeout = cfg.follower_timeout;
      } else {
        std::vector<ServerId> synced{self};
        for (auto& f : members_)
          if (f->election && f->election->state() == PeerState::following &&
              f->election->vote().leader == self &&
              network_.connected(self, f->election->config().self))
            synced.push_back(f->election->config().self);
        healthy = verifier.contains_quorum(synced);
        timeout = cfg.leader_timeout;
      }
      if (healthy) {
        m->unhealthy_since.reset();
      } else if (!m->unhealthy_since) {
        m->unhealthy_since = now();
      } else if (now() - *m->unhealthy_since >= timeout) {
        m->unhealthy_since.reset();
        m->election->leader_lost(now());
      }
    }
  }

  void observe(ServerId id, const ElectionEvent& event) {
    ++events_;
    if (const auto* d = std::get_if<Decided>(&event)) decisions_.push_back({id, *d});
    // FNV-1a over (member, time, text): any divergence between equal seeds changes it.
    const auto mix = [&](std::uint64_t v) {
      for (int i = 0; i < 8; ++i)
        trace_hash_ = (trace_hash_ ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    };
    mix(static_cast<std::uint64_t>(id));
    mix(static_cast<std::uint64_t>(event_time(event).time_since_epoch().count()));
    for (char c : describe(event))
      trace_hash_ = (trace_hash_ ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    if (tracer_) tracer_(id, event);
  }

  ClusterOptions options_;
  Network network_;
  std::vector<ServerId> voters_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<DecisionRecord> decisions_;
  Tracer tracer_;
  std::uint64_t trace_hash_ = 0xcbf29ce484222325ull;
  std::uint64_t events_ = 0;
  Instant next_liveness_check_{};
};

}  // namespace quorum::sim
