// The replicated-log swarm (zab_swarm.hpp) on FileStorage: every member keeps real log segments,
// snapshots and epoch files on a simulated file system. On top of the swarm's crashes and power
// cuts (each a power loss that keeps a seeded part of the unsynced writes, the last one possibly
// torn), crash points kill a member at its n-th file operation — inside a log append or sync, a
// segment roll, a TRUNC, a snapshot or an epoch update — and it reboots from what is on disk.
// Checked besides (a)-(e): (f) no reopened disk lacks what it had made durable, and none
// refuses to open.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "quorum/random.hpp"
#include "quorum/sim/file_disk.hpp"
#include "support/zab_swarm.hpp"

namespace quorum::testing {

/// Runs one seed; adds what the fault injection did to `counts` when given.
inline ZabSwarmResult run_file_zab_swarm(std::uint64_t seed, const ZabTrace& trace = {},
                                         sim::FileDiskCounts* counts = nullptr) {
  Prng draw = Prng(seed).fork("file-disks");
  storage::FileStorageOptions options;
  options.data_dir = "/data";
  // Small segments and a short in-memory tail, so rolls, purges and reads from disk happen.
  options.log.roll_bytes = static_cast<std::uint64_t>(draw.between(128, 8 << 10));
  options.log.preallocate_bytes = static_cast<std::uint64_t>(draw.between(0, 4 << 10));
  options.memory_txns = static_cast<std::size_t>(draw.between(1, 300));
  options.snapshots_retained = static_cast<std::size_t>(draw.between(1, 3));
  const std::uint64_t disk_seed = draw.next();

  using Cluster = sim::BasicReplicaCluster<sim::FileDisk>;
  auto make_disk = [&](ServerId id) {
    return std::make_unique<sim::FileDisk>(
        disk_seed ^ (static_cast<std::uint64_t>(id) * 0x9e3779b97f4a7c15ull), options);
  };
  DiskFaults<Cluster> faults;
  faults.strike = [](Cluster& c, Prng& d, ServerId id) -> std::string {
    if (!c.is_up(id)) return "";
    const auto n = static_cast<std::uint64_t>(d.between(1, 40));
    c.disk(id).arm_crash_point(n);
    return "crash point: member " + std::to_string(id) + " dies at its file operation #" +
           std::to_string(n) + " from now";
  };
  faults.heal = [](Cluster& c) {
    for (ServerId id : c.voters()) c.disk(id).disarm_crash_point();
  };
  faults.at_end = [&](Cluster& c) {
    if (counts)
      for (ServerId id : c.voters()) *counts += c.disk(id).counts();
  };
  auto result = run_zab_swarm_on<sim::FileDisk>(seed, trace, make_disk, faults);
  result.parameters += ", segments of " + std::to_string(options.log.roll_bytes) +
                       " B, memory tail " + std::to_string(options.memory_txns) + ", keep " +
                       std::to_string(options.snapshots_retained) + " snapshots";
  return result;
}

}  // namespace quorum::testing
