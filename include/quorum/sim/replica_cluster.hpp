// A whole ensemble of replicas (election + ZAB + a key-value state machine) in one thread and
// virtual time, with a simulated disk: appends become durable after a latency, and a crash
// loses what was not yet durable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/replica.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/sim/stepper.hpp"
#include "quorum/state_machine/kv_state_machine.hpp"
#include "quorum/storage/memory.hpp"
#include "quorum/transport/sim.hpp"

namespace quorum::sim {

/// The key-value state machine, recording every txn it applies (zxid and a hash of its
/// contents) since its last restore, so checkers can compare histories across members.
class RecordingKv {
 public:
  struct Applied {
    Zxid zxid;
    std::uint64_t hash = 0;
  };

  void apply(const Txn& txn) {
    kv_.apply(txn);
    std::uint64_t h = 0xcbf29ce484222325ull ^ static_cast<std::uint32_t>(txn.type);
    for (char c : txn.data) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    applied_.push_back({txn.zxid, h});
  }
  Snapshot snapshot() const { return kv_.snapshot(); }
  std::error_code restore(const Snapshot& snapshot) {
    const std::error_code ec = kv_.restore(snapshot);
    if (!ec) {
      applied_.clear();
      restored_at_ = snapshot.last_zxid;
    }
    return ec;
  }
  Zxid last_applied_zxid() const noexcept { return kv_.last_applied_zxid(); }

  const KvStateMachine& kv() const noexcept { return kv_; }
  /// What was applied since the last restore, in order.
  const std::vector<Applied>& applied() const noexcept { return applied_; }
  /// The snapshot the history above starts from.
  Zxid restored_at() const noexcept { return restored_at_; }

 private:
  KvStateMachine kv_;
  std::vector<Applied> applied_;
  Zxid restored_at_;
};

static_assert(StateMachine<RecordingKv>);

struct ReplicaClusterOptions {
  std::size_t servers = 3;
  std::uint64_t seed = 1;
  LinkFaults faults{};
  Duration disk_latency_min = std::chrono::microseconds(100);  ///< one group commit (fsync)
  Duration disk_latency_max = std::chrono::microseconds(2000);
  /// Every member's settings (`self` and `voters` are filled in per member). Faster than
  /// ZooKeeper's defaults, so scenarios read in tenths of seconds.
  ReplicaConfig replica{.finalize_wait = std::chrono::milliseconds(50),
                        .min_notification_interval = std::chrono::milliseconds(50),
                        .max_notification_interval = std::chrono::seconds(2),
                        .tick = std::chrono::milliseconds(100),
                        .max_in_flight = 1000};
};

/// Members 1..N running `Replica<SimTransport, MemoryStorage, RecordingKv>`.
class ReplicaCluster : public Stepper<ReplicaCluster> {
  friend class Stepper<ReplicaCluster>;

 public:
  using Member = Replica<SimTransport, MemoryStorage, RecordingKv>;
  using RoleTracer = std::function<void(ServerId member, const RoleEvent& event)>;

  explicit ReplicaCluster(ReplicaClusterOptions options)
      : options_(std::move(options)),
        network_(options_.seed, options_.faults),
        disk_prng_(Prng(options_.seed).fork("disk")) {
    QUORUM_ASSERT(options_.servers >= 1 && options_.servers <= 255, "1..255 servers");
    for (std::size_t i = 1; i <= options_.servers; ++i) {
      const auto id = static_cast<ServerId>(i);
      voters_.push_back(id);
      nodes_.push_back(std::make_unique<Node>(network_, id));
      nodes_.back()->storage.set_durability(MemoryStorage::Durability::manual);
      network_.set_up(id, false);
    }
  }

  // ---- the ensemble ----------------------------------------------------------------------

  MemoryStorage& storage(ServerId id) { return node(id).storage; }
  const KvStateMachine& machine(ServerId id) { return node(id).machine.kv(); }
  const RecordingKv& recording(ServerId id) { return node(id).machine; }

  /// Boots (or reboots) a member over its storage; its state machine is rebuilt from it.
  void start(ServerId id) {
    Node& n = node(id);
    network_.set_up(id, true);
    n.machine = RecordingKv{};
    ReplicaConfig config = options_.replica;
    config.self = id;
    config.voters = voters_;
    n.replica.emplace(config, n.transport, n.storage, n.machine);
    n.replica->set_role_observer([this, id](const RoleEvent& e) {
      if (tracer_) tracer_(id, e);
    });
    if (election_tracer_)
      n.replica->set_election_observer(
          [this, id](const ElectionEvent& e) { election_tracer_(id, e); });
    n.fsync.reset();
    n.replica->start(now());
    after_step(n);
  }

  /// Power loss: the member stops at once and what its disk had not made durable is gone.
  void crash(ServerId id) {
    Node& n = node(id);
    n.replica.reset();
    n.fsync.reset();
    n.storage.lose_pending();
    network_.set_up(id, false);
  }

  bool is_up(ServerId id) { return node(id).replica.has_value(); }
  Member& replica(ServerId id) {
    Node& n = node(id);
    QUORUM_ASSERT(n.replica.has_value(), "member is down");
    return *n.replica;
  }

  /// A client write at member `id`; false when it has no leader to take it.
  bool submit(ServerId id, std::vector<Txn> txns) {
    Node& n = node(id);
    if (!n.replica) return false;
    const bool taken = n.replica->submit(std::move(txns), now());
    after_step(n);
    return taken;
  }

  const std::vector<ServerId>& voters() const noexcept { return voters_; }
  Network& network() noexcept { return network_; }
  Instant now() const noexcept { return network_.now(); }
  void set_tracer(RoleTracer tracer) { tracer_ = std::move(tracer); }
  /// Sees every election event of members started after this call.
  void set_election_tracer(std::function<void(ServerId, const ElectionEvent&)> tracer) {
    election_tracer_ = std::move(tracer);
  }

  /// The member every running member follows or is, when all serve the same running leader.
  std::optional<ServerId> serving_leader() {
    std::optional<ServerId> leader;
    for (auto& n : nodes_) {
      if (!n->replica) continue;
      if (!n->replica->serving()) return std::nullopt;
      const ServerId l = n->replica->leader();
      if (leader && *leader != l) return std::nullopt;
      leader = l;
    }
    // Followers keep "serving" a crashed leader, or an earlier leadership of the same member,
    // until they miss its pings; that is not it.
    if (!leader || !node(*leader).replica || node(*leader).replica->state() != PeerState::leading)
      return std::nullopt;
    const Epoch epoch = node(*leader).replica->epoch();
    for (auto& n : nodes_)
      if (n->replica && n->replica->epoch() != epoch) return std::nullopt;
    return leader;
  }

  // ---- running ---------------------------------------------------------------------------

  std::optional<ServerId> run_until_serving(Duration limit = std::chrono::seconds(120)) {
    run_until([&] { return serving_leader().has_value(); }, limit);
    return serving_leader();
  }

 private:
  struct Node {
    Node(Network& network, ServerId id) : transport(network, id) {}
    MemoryStorage storage;
    SimTransport transport;
    RecordingKv machine;
    std::optional<Member> replica;
    std::optional<std::pair<Instant, Zxid>> fsync;  // a group commit in progress: ends at, covers
  };

  Node& node(ServerId id) {
    QUORUM_ASSERT(id >= 1 && static_cast<std::size_t>(id) <= nodes_.size(), "no such member");
    return *nodes_[static_cast<std::size_t>(id - 1)];
  }

  // After any step of a member: start a group commit if appends wait for one.
  void after_step(Node& n) {
    if (!n.replica || n.fsync) return;
    if (n.storage.last_logged_zxid() > n.storage.durable_zxid()) {
      const Duration latency =
          options_.disk_latency_min +
          Duration(disk_prng_.between(
              0, (options_.disk_latency_max - options_.disk_latency_min).count()));
      n.fsync = std::pair{now() + latency, n.storage.last_logged_zxid()};
    }
  }

  bool step(Instant end) {
    if (auto d = network_.pop_due()) {
      Node& n = node(d->to);
      if (n.replica) {
        n.replica->receive(d->from, d->message, now());
        after_step(n);
      }
      return true;
    }
    std::optional<Instant> next = network_.next_delivery_time();
    const auto consider = [&](std::optional<Instant> t) {
      if (t && (!next || *t < *next)) next = t;
    };
    for (auto& n : nodes_) {
      if (!n->replica) continue;
      consider(n->replica->next_deadline());
      if (n->fsync) consider(n->fsync->first);
    }
    if (!next || *next > end) {
      network_.advance_to(std::max(end, now()));
      return false;
    }
    network_.advance_to(std::max(*next, now()));
    for (auto& n : nodes_) {
      if (!n->replica) continue;
      if (n->fsync && n->fsync->first <= now()) {
        n->storage.make_durable(n->fsync->second);
        n->fsync.reset();
        n->replica->log_durable(now());
      }
      auto deadline = n->replica ? n->replica->next_deadline() : std::nullopt;
      if (n->replica && deadline && *deadline <= now()) n->replica->tick(now());
      after_step(*n);
    }
    return true;
  }

  ReplicaClusterOptions options_;
  Network network_;
  Prng disk_prng_;
  std::vector<ServerId> voters_;
  std::vector<std::unique_ptr<Node>> nodes_;
  RoleTracer tracer_;
  std::function<void(ServerId, const ElectionEvent&)> election_tracer_;
};

}  // namespace quorum::sim
