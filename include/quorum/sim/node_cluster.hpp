// An ensemble of members serving the data tree (NodeCore) in one thread and virtual time, with
// the simulated network and disk of ReplicaCluster; clients call members directly.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/node/node_core.hpp"
#include "quorum/sim/hosted_cluster.hpp"
#include "quorum/sim/memory_disk.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/transport/sim.hpp"

namespace quorum::sim {

struct NodeClusterOptions {
  std::size_t servers = 3;
  std::uint64_t seed = 1;
  LinkFaults faults{};
  Duration disk_latency_min = std::chrono::microseconds(100);
  Duration disk_latency_max = std::chrono::microseconds(2000);
  /// Every member's settings (`self` and `voters` are filled in per member).
  NodeConfig node{.replica = {.finalize_wait = std::chrono::milliseconds(50),
                              .min_notification_interval = std::chrono::milliseconds(50),
                              .max_notification_interval = std::chrono::seconds(2),
                              .tick = std::chrono::milliseconds(100),
                              .max_in_flight = 1000},
                  .wall_clock_offset_ms = 1'700'000'000'000};
};

/// One member's machine: its disk, network endpoint and (when up) member.
struct NodeHost {
  using Member = NodeCore<SimTransport, MemoryStorage>;
  NodeHost(Network& network, ServerId self)
      : id(self), disk(std::make_unique<MemoryDisk>()), transport(network, self) {}
  ServerId id;
  std::unique_ptr<MemoryDisk> disk;
  SimTransport transport;
  std::unique_ptr<Member> member;
  std::optional<std::pair<Instant, Zxid>> fsync;  // a group commit in progress
};

class NodeCluster : public HostedCluster<NodeCluster, NodeHost> {
  friend class HostedCluster<NodeCluster, NodeHost>;
  friend class Stepper<NodeCluster>;

 public:
  using Member = NodeHost::Member;
  using RoleTracer = std::function<void(ServerId member, const RoleEvent& event)>;

  explicit NodeCluster(NodeClusterOptions options)
      : HostedCluster(
            options.seed, options.faults, options.servers, options.disk_latency_min,
            options.disk_latency_max,
            [](Network& network, ServerId id) { return std::make_unique<NodeHost>(network, id); }),
        options_(std::move(options)) {}

  /// Boots (or reboots) a member over its storage.
  void start(ServerId id) {
    NodeHost& h = host(id);
    h.fsync.reset();
    if (!boot_disk(h)) return;
    network_.set_up(id, true);
    NodeConfig config = options_.node;
    config.replica.self = id;
    config.replica.voters = voters_;
    // Session ids must differ across a member's lives: a new clock reading per boot.
    config.session_id_clock_ms = ++boots_ * 1000;
    h.member = std::make_unique<Member>(config, h.transport, h.disk->storage());
    if (tracer_) h.member->set_role_observer([this, id](const RoleEvent& e) { tracer_(id, e); });
    if (tap_) h.member->set_txn_tap([this, id](const Txn& txn) { tap_(id, txn); });
    h.member->start(now());
    after_step(h);
  }

  /// Power loss: the member stops at once and what its disk had not made durable is gone.
  /// Its clients' callbacks are dropped unanswered, as a dead server's are.
  void crash(ServerId id) {
    NodeHost& h = host(id);
    h.member.reset();
    h.fsync.reset();
    h.disk->power_loss();
    network_.set_up(id, false);
  }

  bool is_up(ServerId id) { return host(id).member != nullptr; }
  Member& member(ServerId id) {
    QUORUM_ASSERT(is_up(id), "member is down");
    return *host(id).member;
  }
  MemoryStorage& storage(ServerId id) { return host(id).disk->storage(); }

  /// Runs `call(member, now)` at member `id` as one of its steps (a client's call).
  template <class Call>
  void at(ServerId id, Call&& call) {
    NodeHost& h = host(id);
    if (!h.member) return;
    call(*h.member, now());
    after_step(h);
  }

  void set_tracer(RoleTracer tracer) { tracer_ = std::move(tracer); }
  /// Sees every txn each member started after this call applies.
  void set_txn_tap(std::function<void(ServerId, const Txn&)> tap) { tap_ = std::move(tap); }

 private:
  static Member* member_of(NodeHost& h) { return h.member.get(); }
  static const auto* replica_of(const NodeHost& h) {
    return h.member ? &h.member->replica() : nullptr;
  }

  NodeClusterOptions options_;
  RoleTracer tracer_;
  std::function<void(ServerId, const Txn&)> tap_;
  std::int64_t boots_ = 0;
};

}  // namespace quorum::sim
