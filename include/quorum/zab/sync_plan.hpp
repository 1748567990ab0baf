// How the leader brings one learner to its history: DIFF, TRUNC or SNAP, as ZooKeeper chooses.
#pragma once

#include <deque>

#include "quorum/zab/packets.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum {

/// The leader's choice for one learner: the mode packet (DIFF, TRUNC or SNAP with its zxid),
/// and from which zxid on the committed txns follow it as PROPOSAL + COMMIT.
struct SyncPlan {
  PacketType mode = PacketType::snap;
  Zxid mode_zxid;   ///< DIFF: the leader's last committed; TRUNC: truncate-to; SNAP: image zxid
  Zxid send_after;  ///< the leader's txns with a larger zxid follow as PROPOSAL + COMMIT
  /// DIFF whose start is older than the window: the txns between `send_after` and the window
  /// come from the on-disk log first (the driver reads them, within the snapshot-size budget,
  /// and falls back to SNAP if it cannot).
  bool from_disk = false;
};

/// ZooKeeper's LearnerHandler.syncFollower decision over the leader's in-memory committed log
/// `window` (contiguous, oldest first) ending at `last_processed`. A learner older than the
/// window gets a DIFF from the on-disk log when `disk_sync` is on and the log starts at or
/// before the learner (`disk_log_start`), otherwise SNAP: an image at
/// `snapshot_zxid` (always a committed point) followed by the txns after it.
inline SyncPlan plan_sync(Zxid peer_last, Zxid last_processed, const std::deque<Txn>& window,
                          Zxid snapshot_zxid, bool disk_sync = false, Zxid disk_log_start = {}) {
  const Zxid min_committed = window.empty() ? last_processed : window.front().zxid;
  const Zxid max_committed = window.empty() ? last_processed : window.back().zxid;
  const bool peer_new_epoch = peer_last.counter() == 0;

  if (peer_last == last_processed) return {PacketType::diff, peer_last, peer_last};
  if (peer_last > max_committed && !peer_new_epoch)
    return {PacketType::trunc, max_committed, max_committed};
  if (!window.empty() && min_committed <= peer_last && peer_last <= max_committed) {
    for (std::size_t i = 0; i < window.size(); ++i) {
      const Zxid z = window[i].zxid;
      if (z < peer_last) continue;
      if (z == peer_last) return {PacketType::diff, max_committed, peer_last};
      if (peer_new_epoch) return {PacketType::diff, max_committed, peer_last};
      // The learner holds a zxid the leader never had. Truncate back within its epoch only;
      // never TRUNC across an epoch boundary.
      if (z.epoch() == peer_last.epoch() && i > 0)
        return {PacketType::trunc, window[i - 1].zxid, window[i - 1].zxid};
      break;
    }
  }
  if (disk_sync && peer_last < min_committed && disk_log_start <= peer_last)
    return {PacketType::diff, max_committed, peer_last, true};
  return {PacketType::snap, snapshot_zxid, snapshot_zxid};
}

}  // namespace quorum
