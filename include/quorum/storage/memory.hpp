// Storage that lives in memory: the epochs, the log and snapshots of one member.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "quorum/concepts.hpp"
#include "quorum/config.hpp"
#include "quorum/error.hpp"
#include "quorum/types.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum {

/// Keeps a member's durable state in memory. A simulated crash keeps the object (the "disk")
/// and rebuilds the member around it.
///
/// By default every append is durable at once. In manual mode appends stay pending until
/// `make_durable()`, and `lose_pending()` drops what was never made durable, as a power loss
/// would: the simulator uses it to model fsync latency and crashes.
class MemoryStorage {
 public:
  enum class Durability { immediate, manual };

  MemoryStorage() = default;
  /// Storage that already holds history, as a member restarting with data would: the log
  /// holds no txns but reports `last_logged_zxid` as its position (a snapshot's zxid).
  MemoryStorage(Epoch current_epoch, Zxid last_logged_zxid) {
    set_current_epoch(current_epoch);
    set_accepted_epoch(current_epoch);
    set_last_logged_zxid(last_logged_zxid);
  }

  // ---- epochs ----------------------------------------------------------------------------
  Epoch accepted_epoch() const noexcept { return accepted_epoch_; }
  Epoch current_epoch() const noexcept { return current_epoch_; }
  void set_accepted_epoch(Epoch epoch) noexcept { accepted_epoch_ = epoch; }
  void set_current_epoch(Epoch epoch) noexcept {
    superseded_.clear();  // the history is settled before the epoch is recorded
    current_epoch_ = epoch;
  }

  // ---- the log ---------------------------------------------------------------------------
  Zxid last_logged_zxid() const noexcept { return log_.empty() ? base_ : log_.back().zxid; }
  /// The log holds every txn after this zxid.
  Zxid log_start_zxid() const noexcept { return base_; }
  Zxid durable_zxid() const noexcept { return durable_; }

  /// Starts an empty log at `zxid`, as if everything up to it were in a snapshot.
  void reset_log(Zxid zxid) noexcept {
    log_.clear();
    superseded_.clear();
    base_ = durable_ = zxid;
    last_committed_ = std::min(last_committed_, zxid);
  }
  /// The same, for a member that starts with history (tests, the demo).
  void set_last_logged_zxid(Zxid zxid) noexcept { reset_log(zxid); }

  void set_durability(Durability mode) noexcept { mode_ = mode; }

  /// Appends txns that follow the log without a gap (asserted: a hole in the log loses data,
  /// ZOOKEEPER-4925).
  void append(std::span<const Txn> txns) {
    for (const Txn& txn : txns) {
      QUORUM_ASSERT(follows(last_logged_zxid(), txn.zxid),
                    "log appends must be in zxid order without gaps in an epoch");
      if (!superseded_.empty() && superseded_.front().zxid == txn.zxid) {
        // Repeated by the leader after a SNAP: already durable.
        QUORUM_ASSERT(superseded_.front().type == txn.type && superseded_.front().data == txn.data,
                      "two different txns with one zxid");
        superseded_.pop_front();
        log_.push_back(txn);
        durable_ = txn.zxid;
        continue;
      }
      superseded_.clear();
      log_.push_back(txn);
    }
    if (mode_ == Durability::immediate) durable_ = last_logged_zxid();
  }

  /// Manual mode: everything up to `zxid` (at most the last logged) is now durable.
  void make_durable(Zxid zxid) noexcept {
    durable_ = std::max(durable_, std::min(zxid, last_logged_zxid()));
  }

  /// A power loss: what was appended but never made durable is gone.
  void lose_pending() {
    while (!log_.empty() && log_.back().zxid > durable_) log_.pop_back();
    // The old log after an installed snapshot is still on the disk.
    for (Txn& txn : superseded_) log_.push_back(std::move(txn));
    superseded_.clear();
    durable_ = last_logged_zxid();
  }

  /// TRUNC: drops every txn after `zxid`. Refuses to cut into what a snapshot already holds.
  std::error_code truncate_after(Zxid zxid) {
    if (zxid < base_) return make_error_code(errc::data_inconsistency);
    superseded_.clear();
    while (!log_.empty() && log_.back().zxid > zxid) log_.pop_back();
    durable_ = std::min(durable_, last_logged_zxid());
    last_committed_ = std::min(last_committed_, last_logged_zxid());
    return {};
  }

  /// Up to `max` txns with zxid > `after`, in order. An `after` older than the log's start
  /// (the txns are only in a snapshot now) is an error: the caller must send a snapshot.
  std::error_code read_after(Zxid after, std::size_t max, std::vector<Txn>& out) const {
    if (after < base_) return make_error_code(errc::data_inconsistency);
    auto it = std::upper_bound(log_.begin(), log_.end(), after,
                               [](Zxid z, const Txn& t) { return z < t.zxid; });
    for (; it != log_.end() && max > 0; ++it, --max) out.push_back(*it);
    return {};
  }

  /// The highest zxid known committed (a hint for recovery; ZooKeeper's log has no commit
  /// records, so this is never required for safety).
  Zxid last_committed_zxid() const noexcept { return last_committed_; }
  void set_last_committed_zxid(Zxid zxid) noexcept { last_committed_ = zxid; }

  // ---- snapshots -------------------------------------------------------------------------
  /// Keeps the snapshot (one at a time). The log keeps its txns: DIFF needs them.
  void save_snapshot(Snapshot snapshot) {
    QUORUM_ASSERT(snapshot.last_zxid <= durable_, "a snapshot must not hold undurable txns");
    snapshot_ = std::move(snapshot);
  }
  void abandon_sync() {
    for (Txn& txn : superseded_) log_.push_back(std::move(txn));
    superseded_.clear();
    durable_ = std::max(durable_, last_logged_zxid());
  }
  /// What a power loss now would leave in the log: the durable txns, and the old log an
  /// installed snapshot has not yet replaced (for the simulator's durability checks).
  Zxid held_zxid() const noexcept {
    return superseded_.empty() ? durable_ : std::max(durable_, superseded_.back().zxid);
  }
  void install_snapshot(Snapshot snapshot) {
    const Zxid zxid = snapshot.last_zxid;
    std::deque<Txn> after;  // the durable part of the old log past the image
    for (const Txn& txn : log_)
      if (txn.zxid > zxid && txn.zxid <= durable_) after.push_back(txn);
    for (const Txn& txn : superseded_)
      if (txn.zxid > zxid) after.push_back(txn);
    reset_log(zxid);
    superseded_ = std::move(after);
    snapshot_ = std::move(snapshot);
  }
  /// Drops log txns up to `zxid`, which the latest snapshot must cover (purge).
  void compact_through(Zxid zxid) {
    QUORUM_ASSERT(snapshot_ && snapshot_->last_zxid >= zxid, "compacting txns no snapshot holds");
    while (!log_.empty() && log_.front().zxid <= zxid) {
      base_ = log_.front().zxid;
      log_.pop_front();
    }
  }
  std::optional<Snapshot> latest_snapshot() const { return snapshot_; }
  /// After TRUNC, a snapshot newer than the truncation point must go (zk-reference §10 item 8).
  void remove_snapshots_after(Zxid zxid) {
    if (snapshot_ && snapshot_->last_zxid > zxid) snapshot_.reset();
  }

  /// The txns in the log, oldest first (for tests and tools).
  const std::deque<Txn>& txns() const noexcept { return log_; }

 private:
  Epoch accepted_epoch_ = 0;
  Epoch current_epoch_ = 0;
  std::deque<Txn> log_;
  std::deque<Txn> superseded_;  // the old log after an installed snapshot, still on "disk"
  Zxid base_{};                 // the zxid just before the first txn in log_
  Zxid durable_{};              // everything up to here survives a crash
  Zxid last_committed_{};
  Durability mode_ = Durability::immediate;
  std::optional<Snapshot> snapshot_;
};

static_assert(Storage<MemoryStorage>, "MemoryStorage must satisfy quorum::Storage");

}  // namespace quorum
