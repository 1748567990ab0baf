// A whole ensemble of replicas (election + ZAB + a key-value state machine) in one thread and
// virtual time, with a simulated disk: appends become durable after a latency, and a crash
// loses what was not yet durable. The disk is a MemoryStorage (ReplicaCluster) or real log and
// snapshot files on a simulated file system (BasicReplicaCluster<FileDisk>).
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
#include "quorum/sim/hosted_cluster.hpp"
#include "quorum/sim/memory_disk.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/state_machine/kv_state_machine.hpp"
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

/// One member's machine: its disk, network endpoint, state machine and (when up) replica.
template <class Disk>
struct ReplicaHost {
  using Member = Replica<SimTransport, typename Disk::Storage, RecordingKv>;
  ReplicaHost(Network& network, ServerId self, std::unique_ptr<Disk> d)
      : id(self), disk(std::move(d)), transport(network, self) {}
  ServerId id;
  std::unique_ptr<Disk> disk;
  SimTransport transport;
  RecordingKv machine;
  std::optional<Member> replica;
  std::optional<std::pair<Instant, Zxid>> fsync;  // a group commit in progress: ends at, covers
};

/// Members 1..N running `Replica<SimTransport, Disk::Storage, RecordingKv>`.
template <class Disk>
class BasicReplicaCluster : public HostedCluster<BasicReplicaCluster<Disk>, ReplicaHost<Disk>> {
  using Host = ReplicaHost<Disk>;
  using Base = HostedCluster<BasicReplicaCluster<Disk>, Host>;
  friend Base;
  friend class Stepper<BasicReplicaCluster<Disk>>;
  using Base::host;
  using Base::network_;
  using Base::voters_;

 public:
  using Member = typename Host::Member;
  using RoleTracer = std::function<void(ServerId member, const RoleEvent& event)>;
  using MakeDisk = std::function<std::unique_ptr<Disk>(ServerId)>;

  explicit BasicReplicaCluster(
      ReplicaClusterOptions options,
      MakeDisk make_disk = [](ServerId) { return std::make_unique<Disk>(); })
      : Base(options.seed, options.faults, options.servers, options.disk_latency_min,
             options.disk_latency_max,
             [&](Network& network, ServerId id) {
               return std::make_unique<Host>(network, id, make_disk(id));
             }),
        options_(std::move(options)) {}

  // ---- the ensemble ----------------------------------------------------------------------

  /// The member's storage; with a FileDisk, only while it is up.
  typename Disk::Storage& storage(ServerId id) { return host(id).disk->storage(); }
  Disk& disk(ServerId id) { return *host(id).disk; }
  const KvStateMachine& machine(ServerId id) { return host(id).machine.kv(); }
  const RecordingKv& recording(ServerId id) { return host(id).machine; }

  /// Boots (or reboots) a member over its storage; its state machine is rebuilt from it.
  /// A member whose disk does not open stays down (see boot_failures()).
  void start(ServerId id) {
    Host& n = host(id);
    n.fsync.reset();
    if (!this->boot_disk(n)) return;
    network_.set_up(id, true);
    n.machine = RecordingKv{};
    ReplicaConfig config = options_.replica;
    config.self = id;
    config.voters = voters_;
    n.replica.emplace(config, n.transport, n.disk->storage(), n.machine);
    n.replica->set_role_observer([this, id](const RoleEvent& e) {
      if (tracer_) tracer_(id, e);
    });
    if (election_tracer_)
      n.replica->set_election_observer(
          [this, id](const ElectionEvent& e) { election_tracer_(id, e); });
    n.replica->start(this->now());
    this->after_step(n);
  }

  /// Power loss: the member stops at once and what its disk had not made durable is gone.
  void crash(ServerId id) {
    Host& n = host(id);
    n.replica.reset();
    n.fsync.reset();
    n.disk->power_loss();
    network_.set_up(id, false);
  }

  /// The member saves a snapshot of its state machine (a crash point may fire in it).
  void save_snapshot(ServerId id) {
    Host& n = host(id);
    if (!n.replica) return;
    n.disk->storage().save_snapshot(n.machine.snapshot());
    this->after_step(n);
  }

  bool is_up(ServerId id) { return host(id).replica.has_value(); }
  Member& replica(ServerId id) {
    Host& n = host(id);
    QUORUM_ASSERT(n.replica.has_value(), "member is down");
    return *n.replica;
  }

  /// A client write at member `id`; false when it has no leader to take it.
  bool submit(ServerId id, std::vector<Txn> txns) {
    Host& n = host(id);
    if (!n.replica) return false;
    const bool taken = n.replica->submit(std::move(txns), this->now());
    this->after_step(n);
    return taken;
  }

  void set_tracer(RoleTracer tracer) { tracer_ = std::move(tracer); }
  /// Sees every election event of members started after this call.
  void set_election_tracer(std::function<void(ServerId, const ElectionEvent&)> tracer) {
    election_tracer_ = std::move(tracer);
  }

 private:
  static Member* member_of(Host& h) { return h.replica ? &*h.replica : nullptr; }
  static const Member* replica_of(const Host& h) { return h.replica ? &*h.replica : nullptr; }

  ReplicaClusterOptions options_;
  RoleTracer tracer_;
  std::function<void(ServerId, const ElectionEvent&)> election_tracer_;
};

/// The replicated log over MemoryStorage disks.
using ReplicaCluster = BasicReplicaCluster<MemoryDisk>;

}  // namespace quorum::sim
