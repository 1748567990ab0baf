// What a ZAB role asks its driver to do, in the order the protocol needs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quorum/concepts.hpp"
#include "quorum/types.hpp"
#include "quorum/zab/packets.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum {

/// ZAB's settings (zoo.cfg's tickTime, initLimit, syncLimit, plus pipelining and batching).
struct ZabConfig {
  ServerId self = 0;
  std::vector<ServerId> voters;
  Duration tick = std::chrono::milliseconds(2000);  ///< tickTime
  int init_limit = 10;  ///< ticks allowed for discovery and synchronization
  int sync_limit = 5;   ///< ticks a learner may go silent once synced
  /// Proposals outstanding (proposed, not yet committed) at most; more wait their turn.
  std::size_t max_in_flight = 10'000;
  /// Committed txns the leader keeps in memory to DIFF-sync learners (zookeeper.commitLogCount).
  std::size_t commit_log_count = 500;
  /// The leader steps down before a zxid counter would pass this (ZOOKEEPER-1277); lower only
  /// to test the rollover.
  std::uint32_t zxid_counter_limit = 0xfffffffeu;
  /// A learner older than the in-memory window is DIFF-synced from the on-disk log while the
  /// txns to send stay under this fraction of the latest snapshot's size
  /// (zookeeper.snapshotSizeFactor); negative turns on-disk sync off (always SNAP).
  double snapshot_size_factor = 0.33;
};

/// Why `config` cannot run ZAB, or an empty string when it can.
inline std::string validate(const ZabConfig& config) {
  if (config.tick <= Duration::zero()) return "tick must be positive";
  if (config.init_limit < 1) return "init_limit must be at least 1 tick";
  if (config.sync_limit < 1) return "sync_limit must be at least 1 tick";
  if (config.max_in_flight < 1) return "max_in_flight must be at least 1";
  if (config.zxid_counter_limit < 1) return "zxid_counter_limit must be at least 1";
  return {};
}

/// One storage step. The driver performs these in order before sending anything.
struct StorageStep {
  enum class Kind {
    set_accepted_epoch,  ///< durable before returning
    set_current_epoch,   ///< durable before returning
    append,              ///< durability is reported later (on_log_durable)
    truncate_after,      ///< TRUNC; failure is fatal for the member
    install_snapshot,    ///< SNAP: state machine restored, snapshot saved, log restarted after it
  };
  Kind kind = Kind::append;
  Epoch epoch = 0;
  Zxid zxid;
  std::vector<Txn> txns;
  Snapshot snapshot;
};

/// A packet for one learner or the leader.
struct OutboundPacket {
  ServerId to = 0;
  QuorumPacket packet;
};

/// The output of one ZAB step. Contract for the driver, in this order:
///  1. perform `storage` steps in order (appends become durable later);
///  2. apply committed txns up to `commit_through` to the state machine, from the log;
///  3. serve `disk_syncs` from the log, fill SNAP packets from the state machine
///     (`snapshot_requests`), then send `messages`;
///  4. if `failed`, the role is over: drop it and look for a leader again.
/// ACKs are only ever produced after `on_log_durable` reports the txns durable.
struct ZabEffects {
  std::vector<StorageStep> storage;
  std::optional<Zxid> commit_through;
  std::vector<OutboundPacket> messages;
  /// Indexes into `messages` of SNAP packets: the driver sets their `data` to the state
  /// machine's snapshot and their zxid to its last applied zxid.
  std::vector<std::size_t> snapshot_requests;
  /// DIFFs that start on disk: the driver reads the txns in (after, before) from the log and
  /// sends them right after the DIFF at `index`; if it cannot (a gap, or more bytes than the
  /// snapshot-size budget), it turns that DIFF into a SNAP instead. Done before SNAP images.
  struct DiskSync {
    std::size_t index = 0;
    Zxid after;
    Zxid before;
  };
  std::vector<DiskSync> disk_syncs;
  /// Answered sync() markers (their `data`), for this member's clients, after the commits
  /// that precede them were applied.
  std::vector<std::string> syncs;
  /// Data learners attached to their PINGs (the leader hears session touches this way).
  struct LearnerPing {
    ServerId from = 0;
    std::string data;
  };
  std::vector<LearnerPing> learner_pings;
  /// Leader: learners asking to own a reattached session (REVALIDATE); the driver answers each.
  std::vector<LearnerPing> revalidations;
  /// Follower: the leader's answers to this member's REVALIDATEs.
  std::vector<std::string> revalidated;
  std::optional<PacketType> sync_mode;  ///< a follower learned how it syncs: DIFF, TRUNC or SNAP
  std::optional<Epoch> established;     ///< the role reached BROADCAST in this epoch
  std::optional<std::string> failed;

  void clear() {
    storage.clear();
    snapshot_requests.clear();
    disk_syncs.clear();
    syncs.clear();
    learner_pings.clear();
    revalidations.clear();
    revalidated.clear();
    sync_mode.reset();
    commit_through.reset();
    messages.clear();
    established.reset();
    failed.reset();
  }
};

/// What a role knows of its member's durable history when it starts.
struct ZabHistory {
  Epoch accepted_epoch = 0;
  Epoch current_epoch = 0;
  Zxid last_logged;
  Zxid last_committed;  ///< committed for sure (applied to the state machine)
  Zxid log_start;       ///< the log holds every txn after this zxid
  /// The newest logged txns (up to commit_log_count), oldest first, ending at last_logged.
  std::vector<Txn> recent;
};

}  // namespace quorum
