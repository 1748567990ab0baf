// The leader's side of ZAB as a sans-I/O state machine: a new epoch from a quorum, each
// learner synchronized, then pipelined and batched broadcast with cumulative acks and commits.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/election/quorum_verifier.hpp"
#include "quorum/zab/sync_plan.hpp"
#include "quorum/zab/zab_effects.hpp"

namespace quorum {

/// One leadership, from the election's decision until it is lost. It fails (`effects().failed`)
/// when a quorum does not join within initLimit, or stops staying in touch within syncLimit;
/// the member then looks for a leader again. Not thread-safe.
///
/// The state machine stays at `history.last_committed` until the leadership is established;
/// a SNAP image is taken there (a committed point) and the rest of the history follows it.
class LeaderCore {
 public:
  enum class Phase { discovery, synchronization, broadcast };

  LeaderCore(ZabConfig config, ZabHistory history, Instant now)
      : config_(std::move(config)),
        verifier_(config_.voters),
        accepted_epoch_(history.accepted_epoch),
        current_epoch_(history.current_epoch),
        last_processed_(history.last_logged),
        committed_(history.last_logged),
        durable_(history.last_logged),
        applied_(history.last_committed),
        log_start_(history.log_start),
        started_(now),
        now_(now) {
    for (Txn& txn : history.recent) committed_log_.push_back(std::move(txn));
    QUORUM_ASSERT(committed_log_.empty() || committed_log_.back().zxid == last_processed_,
                  "the recent txns must end at the last logged zxid");
    QUORUM_ASSERT(applied_ == last_processed_ ||
                      (!committed_log_.empty() && (committed_log_.front().zxid <= applied_ ||
                                                   follows(applied_, committed_log_.front().zxid))),
                  "the recent txns must reach back to what is known committed");
    max_accepted_ = accepted_epoch_;
    next_ping_ = now + config_.tick / 2;
    maybe_freeze_epoch();
  }

  // ---- inputs ----------------------------------------------------------------------------

  void on_packet(ServerId from, const QuorumPacket& p, Instant now) {
    now_ = now;
    if (failed() || !verifier_.is_voter(from) || from == config_.self) return;
    if (p.type == PacketType::followerinfo) return on_followerinfo(from, p, now);
    auto it = learners_.find(from);
    if (it == learners_.end()) return;  // not connected: it must start with FOLLOWERINFO
    Learner& l = it->second;
    l.deadline = now + config_.tick * config_.sync_limit;
    switch (p.type) {
      case PacketType::ackepoch:
        return on_ackepoch(from, l, p);
      case PacketType::ack:
        return on_ack(from, l, p);
      case PacketType::request:
        return propose(p.txns, now, from);
      case PacketType::ping:
        if (!p.data.empty()) effects_.learner_pings.push_back({from, p.data});
        return;
      case PacketType::revalidate:
        effects_.revalidations.push_back({from, p.data});
        return;
      default:
        return drop(from, "unexpected " + std::string(to_string(p.type)));
    }
  }

  /// Our own log is durable up to `zxid`: the leader's ack counts towards commits.
  void on_log_durable(Zxid zxid) {
    if (failed() || zxid <= durable_) return;
    durable_ = zxid;
    try_commit();
  }

  /// Proposes client writes that came through member `via` (0: this one). Each gets the next
  /// zxid; those beyond the in-flight window wait, and so do writes before the leader is
  /// established. Sync markers are answered once what was proposed before them commits.
  void propose(std::vector<Txn> txns, Instant now, ServerId via = 0) {
    now_ = now;
    if (failed()) return;
    for (Txn& txn : txns) waiting_.push_back({std::move(txn), via == 0 ? config_.self : via});
    send_waiting();
  }

  /// Turns a request into the txn to propose, once its zxid is known (the data tree's prep
  /// stage). With one set, nothing is proposed before the host has applied every txn this
  /// leadership committed on establishment (`on_applied`), since prep reads the applied state.
  using Preparer = std::function<void(Txn&, ServerId via)>;
  void set_preparer(Preparer preparer) { preparer_ = std::move(preparer); }

  /// The host's state machine has applied everything up to `zxid`.
  void on_applied(Zxid zxid) {
    if (zxid <= host_applied_) return;
    host_applied_ = zxid;
    send_waiting();
  }

  void on_tick(Instant now) {
    now_ = now;
    if (failed()) return;
    if (phase_ != Phase::broadcast) {
      if (now - started_ > config_.tick * config_.init_limit)
        return fail("no quorum joined epoch " + std::to_string(new_epoch_) + " within initLimit");
    }
    if (now < next_ping_) return;
    next_ping_ = now + config_.tick / 2;
    // Half a tick: ping every learner. Each tick: is a quorum still in touch?
    for (auto& [sid, l] : learners_)
      effects_.messages.push_back(
          {sid, QuorumPacket{PacketType::ping, last_proposed(), 0, {}, {}}});
    drop_stuck_learners(now);
    std::vector<ServerId> synced{config_.self};
    for (auto& [sid, l] : learners_)
      if (l.forwarding && now <= l.deadline) synced.push_back(sid);
    if (phase_ == Phase::broadcast && !verifier_.contains_quorum(synced))
      return fail("not sufficient followers synced, only " + std::to_string(synced.size()) +
                  " of " + std::to_string(verifier_.voters().size()));
  }

  // ---- outputs and queries ---------------------------------------------------------------

  ZabEffects& effects() noexcept { return effects_; }
  Phase phase() const noexcept { return phase_; }
  /// Followers connected (mntr's zk_learners), and those receiving the broadcast
  /// (zk_synced_followers).
  std::size_t learners() const noexcept { return learners_.size(); }
  std::size_t synced_learners() const noexcept {
    std::size_t n = 0;
    for (const auto& entry : learners_) n += entry.second.forwarding ? 1 : 0;
    return n;
  }
  bool failed() const noexcept { return failed_; }
  Epoch epoch() const noexcept { return new_epoch_; }
  Zxid committed() const noexcept { return committed_; }
  Zxid last_proposed() const noexcept {
    return outstanding_.empty() ? committed_ : outstanding_.back().zxid;
  }
  std::size_t outstanding() const noexcept { return outstanding_.size(); }
  Instant next_deadline() const noexcept { return next_ping_; }

 private:
  struct Learner {
    Epoch accepted_epoch = 0;
    bool acked_epoch = false;  // sent ACKEPOCH
    Zxid peer_last;
    bool forwarding = false;  // receives live PROPOSAL/COMMIT
    bool newleader_acked = false;
    bool uptodate_sent = false;
    Zxid acked;  // cumulative: everything up to here is durable there
    Instant deadline{};
    Zxid last_sent;                        // the newest proposal sent to it
    std::optional<Instant> waiting_since;  // since when it owes an ACK without progress
  };
  struct Waiting {
    Txn txn;
    ServerId via = 0;
  };
  struct PendingSync {
    Zxid after;  // answered once this is committed
    ServerId via = 0;
    std::string data;
  };

  void on_followerinfo(ServerId from, const QuorumPacket& p, Instant now) {
    // A retried FOLLOWERINFO (it came before LEADERINFO reached the learner): answer again.
    if (auto it = learners_.find(from); it != learners_.end() && !it->second.acked_epoch &&
                                        it->second.accepted_epoch == p.zxid.epoch()) {
      if (epoch_frozen_) send_leaderinfo(from);
      return;
    }
    // A learner (re)connects: whatever we knew of it is gone, as a new LearnerHandler.
    Learner l;
    l.accepted_epoch = p.zxid.epoch();
    l.deadline = now + config_.tick * (config_.init_limit + config_.sync_limit);
    learners_[from] = l;
    if (!epoch_frozen_) {
      max_accepted_ = std::max(max_accepted_, l.accepted_epoch);
      maybe_freeze_epoch();
    } else {
      send_leaderinfo(from);
    }
  }

  void maybe_freeze_epoch() {
    std::vector<ServerId> connecting{config_.self};
    for (auto& [sid, l] : learners_) connecting.push_back(sid);
    if (!verifier_.contains_quorum(connecting)) return;
    // One more than every acceptedEpoch of the first quorum, so no earlier epoch reappears.
    new_epoch_ = max_accepted_ + 1;
    epoch_frozen_ = true;
    accepted_epoch_ = new_epoch_;
    effects_.storage.push_back({StorageStep::Kind::set_accepted_epoch, new_epoch_, {}, {}, {}});
    for (auto& [sid, l] : learners_) send_leaderinfo(sid);
    maybe_finish_epoch_acks();
  }

  void send_leaderinfo(ServerId to) {
    QuorumPacket p{PacketType::leaderinfo, Zxid::make(new_epoch_, 0), 0, {}, {}};
    effects_.messages.push_back({to, std::move(p)});
  }

  void on_ackepoch(ServerId from, Learner& l, const QuorumPacket& p) {
    if (!epoch_frozen_ || l.acked_epoch) return drop(from, "ACKEPOCH out of order");
    // "Follower is ahead of the leader": FLE should prevent it; refuse rather than lose data.
    if (p.epoch != -1 && (p.epoch > current_epoch_before_ ||
                          (p.epoch == current_epoch_before_ && p.zxid > history_last_)))
      return drop(from, "follower is ahead of the leader");
    l.acked_epoch = true;
    l.peer_last = p.zxid;
    if (p.epoch != -1) epoch_ackers_.push_back(from);
    if (epoch_established_) {
      sync_learner(from, l);
    } else {
      maybe_finish_epoch_acks();
    }
  }

  void maybe_finish_epoch_acks() {
    if (epoch_established_ || !epoch_frozen_) return;
    std::vector<ServerId> ackers = epoch_ackers_;
    ackers.push_back(config_.self);
    if (!verifier_.contains_quorum(ackers)) return;
    epoch_established_ = true;
    current_epoch_ = new_epoch_;
    effects_.storage.push_back({StorageStep::Kind::set_current_epoch, new_epoch_, {}, {}, {}});
    phase_ = Phase::synchronization;
    for (auto& [sid, l] : learners_)
      if (l.acked_epoch) sync_learner(sid, l);
    maybe_establish();
  }

  // Sync payload, then what is outstanding, then NEWLEADER; live traffic follows in order.
  void sync_learner(ServerId to, Learner& l) {
    const SyncPlan plan = plan_sync(l.peer_last, last_processed_, committed_log_, applied_,
                                    config_.snapshot_size_factor >= 0, log_start_);
    QuorumPacket mode{plan.mode, plan.mode_zxid, 0, {}, {}};
    effects_.messages.push_back({to, std::move(mode)});
    const std::size_t index = effects_.messages.size() - 1;
    if (plan.mode == PacketType::snap) effects_.snapshot_requests.push_back(index);
    if (plan.from_disk)
      effects_.disk_syncs.push_back({index, plan.send_after, committed_log_.front().zxid});
    std::vector<Txn> txns;
    for (const Txn& txn : committed_log_)
      if (txn.zxid > plan.send_after) txns.push_back(txn);
    if (!txns.empty()) {
      const Zxid last = txns.back().zxid;
      effects_.messages.push_back(
          {to, QuorumPacket{PacketType::proposal, last, 0, std::move(txns), {}}});
      effects_.messages.push_back({to, QuorumPacket{PacketType::commit, last, 0, {}, {}}});
    }
    if (!outstanding_.empty()) {
      std::vector<Txn> pending;
      for (const Txn& txn : outstanding_) pending.push_back(txn);
      const Zxid last = pending.back().zxid;
      effects_.messages.push_back(
          {to, QuorumPacket{PacketType::proposal, last, 0, std::move(pending), {}}});
      sent_proposal(l, last);
    }
    l.forwarding = true;
    effects_.messages.push_back(
        {to, QuorumPacket{PacketType::newleader, Zxid::make(new_epoch_, 0), 0, {}, {}}});
  }

  void on_ack(ServerId from, Learner& l, const QuorumPacket& p) {
    if (!l.forwarding) return drop(from, "ACK before synchronization");
    if (p.zxid == Zxid::make(new_epoch_, 0)) {
      if (l.newleader_acked) return;
      l.newleader_acked = true;
      if (phase_ == Phase::broadcast) {
        send_uptodate(from, l);
      } else {
        maybe_establish();
      }
      return;
    }
    if (p.zxid.epoch() != new_epoch_ || p.zxid.counter() == 0) return;  // not ours to count
    if (!l.newleader_acked) return drop(from, "proposal ACK before the NEWLEADER ACK");
    if (p.zxid > l.acked) {
      l.acked = p.zxid;
      if (l.acked >= l.last_sent)
        l.waiting_since.reset();
      else
        l.waiting_since = now_;
    }
    try_commit();
  }

  void maybe_establish() {
    if (phase_ != Phase::synchronization) return;
    std::vector<ServerId> acked{config_.self};
    for (auto& [sid, l] : learners_)
      if (l.newleader_acked) acked.push_back(sid);
    if (!verifier_.contains_quorum(acked)) return;
    // A quorum holds our whole history durably: all of it is committed.
    phase_ = Phase::broadcast;
    applied_ = committed_;
    established_through_ = committed_;
    effects_.commit_through = committed_;
    effects_.established = new_epoch_;
    for (auto& [sid, l] : learners_)
      if (l.newleader_acked) send_uptodate(sid, l);
    send_waiting();
  }

  void send_uptodate(ServerId to, Learner& l) {
    if (l.uptodate_sent) return;
    l.uptodate_sent = true;
    effects_.messages.push_back({to, QuorumPacket{PacketType::uptodate, Zxid::none(), 0, {}, {}}});
  }

  // Moves waiting writes into the pipeline, one PROPOSAL carrying the whole batch.
  void send_waiting() {
    if (phase_ != Phase::broadcast || waiting_.empty()) return;
    if (preparer_ && host_applied_ < established_through_) return;
    std::vector<Txn> batch;
    while (!waiting_.empty() && outstanding_.size() < config_.max_in_flight) {
      if (waiting_.front().txn.type == txn_type_sync_marker) {
        Waiting w = std::move(waiting_.front());
        waiting_.pop_front();
        pending_syncs_.push_back({last_proposed(), w.via, std::move(w.txn.data)});
        continue;
      }
      Zxid next = last_proposed();
      if (next.epoch() != new_epoch_) next = Zxid::make(new_epoch_, 0);
      // Never wrap the counter: a new epoch is the only way on (ZOOKEEPER-1277).
      if (next.counter() >= config_.zxid_counter_limit)
        return fail("zxid counter exhausted in epoch " + std::to_string(new_epoch_));
      Waiting w = std::move(waiting_.front());
      waiting_.pop_front();
      Txn txn = std::move(w.txn);
      txn.zxid = Zxid::make(new_epoch_, next.counter() + 1);
      if (preparer_) preparer_(txn, w.via);
      outstanding_.push_back(txn);
      batch.push_back(std::move(txn));
    }
    answer_syncs();
    if (batch.empty()) return;
    const Zxid last = batch.back().zxid;
    for (auto& [sid, l] : learners_)
      if (l.forwarding) {
        effects_.messages.push_back({sid, QuorumPacket{PacketType::proposal, last, 0, batch, {}}});
        sent_proposal(l, last);
      }
    effects_.storage.push_back({StorageStep::Kind::append, 0, {}, std::move(batch), {}});
  }

  // Commits the longest prefix of outstanding proposals a quorum (the leader included) holds
  // durably. Acks are cumulative, so that prefix ends at the quorum-th highest ack.
  void try_commit() {
    if (phase_ != Phase::broadcast || outstanding_.empty()) return;
    std::vector<Zxid> acks{durable_};
    for (auto& [sid, l] : learners_)
      if (l.forwarding && l.newleader_acked) acks.push_back(l.acked);
    if (acks.size() < verifier_.quorum_size()) return;
    std::sort(acks.begin(), acks.end(), std::greater<>());
    const Zxid point = std::min(acks[verifier_.quorum_size() - 1], last_proposed());
    if (point <= committed_) return;
    committed_ = point;
    while (!outstanding_.empty() && outstanding_.front().zxid <= point) {
      committed_log_.push_back(std::move(outstanding_.front()));
      outstanding_.pop_front();
    }
    trim_committed_log();
    last_processed_ = applied_ = committed_;
    effects_.commit_through = committed_;
    for (auto& [sid, l] : learners_)
      if (l.forwarding)
        effects_.messages.push_back({sid, QuorumPacket{PacketType::commit, committed_, 0, {}, {}}});
    answer_syncs();
    send_waiting();
  }

  // SYNC for every marker whose predecessors have committed: after their COMMIT on the same
  // channel, so the learner has applied them when it answers its client.
  void answer_syncs() {
    while (!pending_syncs_.empty() && pending_syncs_.front().after <= committed_) {
      PendingSync s = std::move(pending_syncs_.front());
      pending_syncs_.pop_front();
      if (s.via == config_.self) {
        effects_.syncs.push_back(std::move(s.data));
      } else if (auto it = learners_.find(s.via); it != learners_.end() && it->second.forwarding) {
        effects_.messages.push_back(
            {s.via, QuorumPacket{PacketType::sync, s.after, 0, {}, std::move(s.data)}});
      }
    }
  }

  void sent_proposal(Learner& l, Zxid last) {
    l.last_sent = last;
    if (!l.waiting_since) l.waiting_since = now_;
  }

  // A learner that owes an ACK and makes no progress for syncLimit is dropped (ZooKeeper's
  // per-learner check), so one stalled disk cannot hold every write hostage and is not
  // counted as synced by pings alone.
  void drop_stuck_learners(Instant now) {
    std::vector<ServerId> stuck;
    for (auto& [sid, l] : learners_)
      if (l.newleader_acked && l.waiting_since &&
          now - *l.waiting_since > config_.tick * config_.sync_limit)
        stuck.push_back(sid);
    for (ServerId sid : stuck) drop(sid, "proposal unacknowledged for syncLimit");
  }

  void drop(ServerId sid, const std::string& why) {
    (void)why;
    learners_.erase(sid);
  }

  void trim_committed_log() {
    while (committed_log_.size() > config_.commit_log_count) committed_log_.pop_front();
  }

  void fail(std::string why) {
    failed_ = true;
    effects_.failed = std::move(why);
  }

  ZabConfig config_;
  QuorumVerifier verifier_;
  ZabEffects effects_;
  Phase phase_ = Phase::discovery;

  Epoch accepted_epoch_;
  Epoch current_epoch_;
  const Epoch current_epoch_before_ = current_epoch_;  // what ACKEPOCHs are compared with
  Epoch max_accepted_ = 0;
  Epoch new_epoch_ = 0;
  bool epoch_frozen_ = false;
  bool epoch_established_ = false;
  std::vector<ServerId> epoch_ackers_;

  Zxid last_processed_;  // the end of the committed history (the window's end)
  const Zxid history_last_ = last_processed_;
  Zxid committed_;
  Zxid durable_;
  Zxid applied_;    // where the state machine is: a SNAP image is taken here
  Zxid log_start_;  // the on-disk log holds every txn after this
  std::deque<Txn> committed_log_;
  std::deque<Txn> outstanding_;  // proposed in this epoch, not yet committed
  std::deque<Waiting> waiting_;
  std::deque<PendingSync> pending_syncs_;
  Preparer preparer_;
  Zxid host_applied_ = Zxid::none();
  Zxid established_through_ = Zxid::none();
  std::map<ServerId, Learner> learners_;

  Instant started_;
  Instant now_;
  Instant next_ping_{};
  bool failed_ = false;
};

}  // namespace quorum
