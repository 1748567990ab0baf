// The follower's side of ZAB as a sans-I/O state machine: discovery, synchronization, broadcast.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/zab/zab_effects.hpp"

namespace quorum {

/// One follower's session with one leader, from FOLLOWERINFO until the leader is lost. Any
/// packet out of order, from another member, or a silence longer than the limits ends it
/// (`effects().failed`): the member then looks for a leader again, as ZooKeeper does when the
/// socket to the leader breaks. Not thread-safe.
class FollowerCore {
 public:
  enum class Phase { discovery, synchronization, broadcast };

  FollowerCore(ZabConfig config, ServerId leader, ZabHistory history, Instant now)
      : config_(std::move(config)),
        leader_(leader),
        accepted_epoch_(history.accepted_epoch),
        current_epoch_(history.current_epoch),
        last_logged_(history.last_logged),
        durable_(history.last_logged),
        committed_(history.last_committed) {
    QUORUM_ASSERT(leader_ != config_.self, "a follower follows someone else");
    deadline_ = now + config_.tick * config_.init_limit;
    sync_deadline_ = deadline_;
    next_retry_ = now + config_.tick / 2;
    send(PacketType::followerinfo, Zxid::make(accepted_epoch_, 0));
  }

  // ---- inputs ----------------------------------------------------------------------------

  void on_packet(ServerId from, const QuorumPacket& p, Instant now) {
    if (failed()) return;
    if (from != leader_) return;  // only our leader speaks to us on this channel
    deadline_ =
        now + config_.tick * (phase_ == Phase::broadcast || newleader_seen_ ? config_.sync_limit
                                                                            : config_.init_limit);
    switch (p.type) {
      case PacketType::leaderinfo:
        return on_leaderinfo(p);
      case PacketType::diff:
      case PacketType::trunc:
      case PacketType::snap:
        return on_sync_mode(p);
      case PacketType::proposal:
        return on_proposal(p);
      case PacketType::commit:
        return on_commit(p);
      case PacketType::newleader:
        return on_newleader(p);
      case PacketType::uptodate:
        return on_uptodate();
      case PacketType::ping: {
        QuorumPacket reply{PacketType::ping, p.zxid, 0, {}, ping_payload_ ? ping_payload_() : ""};
        effects_.messages.push_back({leader_, std::move(reply)});
        return;
      }
      case PacketType::sync:
        effects_.syncs.push_back(p.data);
        return;
      case PacketType::revalidate:
        effects_.revalidated.push_back(p.data);
        return;
      default:
        return fail(std::string("unexpected ") + std::string(to_string(p.type)));
    }
  }

  /// The log is durable up to `zxid`: acknowledge what waited for it.
  void on_log_durable(Zxid zxid) {
    if (failed() || zxid <= durable_) return;
    durable_ = std::min(zxid, last_logged_);
    if (newleader_pending_ && durable_ >= last_logged_) ack_newleader();
    ack_durable_proposals();
  }

  void on_tick(Instant now) {
    if (failed()) return;
    if (now >= deadline_)
      return fail("no packet from leader " + std::to_string(leader_) + " in time");
    if (phase_ != Phase::broadcast && now >= sync_deadline_)
      return fail("not synchronized with leader " + std::to_string(leader_) + " within initLimit");
    // The leader may not have been leading yet when FOLLOWERINFO arrived: try again, as
    // ZooKeeper's learner retries its connection.
    if (phase_ == Phase::discovery && now >= next_retry_) {
      next_retry_ = now + config_.tick / 2;
      send(PacketType::followerinfo, Zxid::make(accepted_epoch_, 0));
    }
  }

  /// Forwards writes to the leader (ZooKeeper's REQUEST); the leader assigns their zxids.
  void submit(std::vector<Txn> txns) {
    if (failed() || txns.empty()) return;
    QuorumPacket p{PacketType::request, Zxid::none(), 0, std::move(txns), {}};
    effects_.messages.push_back({leader_, std::move(p)});
  }

  /// A client reattaches its session here (ZooKeeper's REVALIDATE): the leader checks the
  /// session and makes this member its owner, and answers with a REVALIDATE of its own.
  bool revalidate(std::string payload) {
    if (failed() || phase_ != Phase::broadcast) return false;
    effects_.messages.push_back(
        {leader_, QuorumPacket{PacketType::revalidate, Zxid::none(), 0, {}, std::move(payload)}});
    return true;
  }

  /// What to attach to each PING reply (the sessions this member's clients kept alive).
  void set_ping_payload(std::function<std::string()> payload) {
    ping_payload_ = std::move(payload);
  }

  // ---- outputs and queries ---------------------------------------------------------------

  ZabEffects& effects() noexcept { return effects_; }
  Phase phase() const noexcept { return phase_; }
  bool failed() const noexcept { return failed_; }
  ServerId leader() const noexcept { return leader_; }
  Epoch epoch() const noexcept { return new_epoch_; }
  Zxid committed() const noexcept { return committed_; }
  Instant next_deadline() const noexcept {
    if (phase_ == Phase::broadcast) return deadline_;
    const Instant limit = std::min(deadline_, sync_deadline_);
    return phase_ == Phase::discovery ? std::min(limit, next_retry_) : limit;
  }

 private:
  void on_leaderinfo(const QuorumPacket& p) {
    // The answer to a retried FOLLOWERINFO: already handled.
    if (phase_ == Phase::synchronization && !sync_mode_seen_ && p.zxid.epoch() == new_epoch_)
      return;
    if (phase_ != Phase::discovery || new_epoch_ != 0) return fail("LEADERINFO out of order");
    const Epoch proposed = p.zxid.epoch();
    if (proposed < accepted_epoch_)
      return fail("leader's epoch " + std::to_string(proposed) + " is below our accepted epoch " +
                  std::to_string(accepted_epoch_));
    new_epoch_ = proposed;
    Epoch reported = current_epoch_;
    if (proposed > accepted_epoch_) {
      accepted_epoch_ = proposed;
      effects_.storage.push_back({StorageStep::Kind::set_accepted_epoch, proposed, {}, {}, {}});
    } else {
      reported = -1;  // already promised this epoch: the ack carries our zxid but is not counted
    }
    QuorumPacket ack{PacketType::ackepoch, last_logged_, reported, {}, {}};
    effects_.messages.push_back({leader_, std::move(ack)});
    phase_ = Phase::synchronization;
  }

  void on_sync_mode(const QuorumPacket& p) {
    if (phase_ != Phase::synchronization || sync_mode_seen_) return fail("sync mode out of order");
    sync_mode_seen_ = true;
    effects_.sync_mode = p.type;
    if (p.type == PacketType::trunc) {
      if (p.zxid < committed_) return fail("TRUNC below what this member committed");
      effects_.storage.push_back({StorageStep::Kind::truncate_after, 0, p.zxid, {}, {}});
      last_logged_ = p.zxid;
      durable_ = std::min(durable_, p.zxid);
    } else if (p.type == PacketType::snap) {
      // The image is at a committed point, so no later leader can ask to truncate into it.
      Snapshot image{p.zxid, p.data};
      effects_.storage.push_back(
          {StorageStep::Kind::install_snapshot, 0, p.zxid, {}, std::move(image)});
      last_logged_ = durable_ = committed_ = p.zxid;
    }
    // DIFF: our log is a prefix of the leader's; what follows comes as PROPOSAL/COMMIT. The
    // leader's history up to the mode zxid is committed once its leadership is established.
    history_end_ = std::max(history_end_, std::min(p.zxid, last_logged_));
  }

  void on_proposal(const QuorumPacket& p) {
    if (phase_ == Phase::discovery || !sync_mode_seen_) return fail("PROPOSAL before sync");
    std::vector<Txn> fresh;
    for (const Txn& txn : p.txns) {
      if (txn.zxid <= last_logged_) continue;  // a duplicate we already hold
      // A hole would lose data (ZOOKEEPER-4925): treat it as a broken connection.
      if (!follows(last_logged_, txn.zxid))
        return fail("gap in the proposal stream at " + to_string(txn.zxid));
      last_logged_ = txn.zxid;
      fresh.push_back(txn);
    }
    if (!fresh.empty())
      effects_.storage.push_back({StorageStep::Kind::append, 0, {}, std::move(fresh), {}});
  }

  void on_commit(const QuorumPacket& p) {
    if (phase_ == Phase::discovery || !sync_mode_seen_) return fail("COMMIT before sync");
    if (p.zxid > last_logged_) return fail("COMMIT of " + to_string(p.zxid) + " never proposed");
    if (p.zxid.epoch() != new_epoch_) {
      // The sync payload: the leader's history, committed only once its leadership is
      // established (a quorum acked NEWLEADER). Until then it is not ours to apply.
      history_end_ = std::max(history_end_, p.zxid);
      return;
    }
    // A COMMIT of this epoch means the leadership is established: the history is committed.
    commit(std::max(p.zxid, history_end_));
  }

  void commit(Zxid zxid) {
    if (zxid <= committed_) return;
    committed_ = zxid;
    effects_.commit_through = committed_;
  }

  void on_newleader(const QuorumPacket& p) {
    if (phase_ != Phase::synchronization || !sync_mode_seen_ || newleader_seen_ ||
        p.zxid != Zxid::make(new_epoch_, 0))
      return fail("NEWLEADER out of order");
    newleader_seen_ = true;
    // History first, then currentEpoch, then the ACK (ZOOKEEPER-4643/4785, 3911).
    newleader_pending_ = true;
    if (durable_ >= last_logged_) ack_newleader();
  }

  void ack_newleader() {
    newleader_pending_ = false;
    newleader_acked_ = true;
    current_epoch_ = new_epoch_;
    effects_.storage.push_back({StorageStep::Kind::set_current_epoch, new_epoch_, {}, {}, {}});
    // The first ACK after NEWLEADER is the NEWLEADER ACK (ZOOKEEPER-4685); proposals of the
    // new epoch that came with the sync are acknowledged right after it.
    acked_ = Zxid::make(new_epoch_, 0);
    send(PacketType::ack, acked_);
    ack_durable_proposals();
  }

  // Proposals are acknowledged only once durable; one cumulative ACK covers all of them.
  void ack_durable_proposals() {
    if (!newleader_acked_) return;
    if (durable_ > acked_ && durable_.epoch() == new_epoch_) {
      acked_ = durable_;
      send(PacketType::ack, durable_);
    }
  }

  void on_uptodate() {
    if (!newleader_seen_ || newleader_pending_ || phase_ != Phase::synchronization)
      return fail("UPTODATE out of order");
    phase_ = Phase::broadcast;
    commit(history_end_);
    effects_.established = new_epoch_;
  }

  void send(PacketType type, Zxid zxid) {
    effects_.messages.push_back({leader_, QuorumPacket{type, zxid, 0, {}, {}}});
  }

  void fail(std::string why) {
    failed_ = true;
    effects_.failed = std::move(why);
  }

  ZabConfig config_;
  ServerId leader_;
  ZabEffects effects_;
  Phase phase_ = Phase::discovery;
  Epoch accepted_epoch_;
  Epoch current_epoch_;
  Epoch new_epoch_ = 0;
  Zxid last_logged_;
  Zxid durable_;
  Zxid committed_;
  Zxid acked_;
  Zxid history_end_;  // the leader's history as sent in the sync, committed on establishment
  bool sync_mode_seen_ = false;
  bool newleader_seen_ = false;
  bool newleader_pending_ = false;
  bool newleader_acked_ = false;
  std::function<std::string()> ping_payload_;
  bool failed_ = false;
  Instant deadline_{};
  Instant sync_deadline_{};  // discovery and synchronization must end by then
  Instant next_retry_{};     // re-send FOLLOWERINFO until LEADERINFO comes
};

}  // namespace quorum
