// ZooKeeper's Fast Leader Election as a sans-I/O state machine.
//
// FastLeaderElection.lookForLeader() blocks on a queue fed by receiver and sender threads; here
// the same rules are step functions. Inputs are calls (`start_looking`, `on_notification`,
// `on_tick`), time is a value, and every effect (notifications to send, events) is appended to an
// `ElectionEffects` batch that the driver drains. Nothing here reads a clock, sleeps, locks or
// does I/O, so the simulator can run it deterministically.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/election/election_config.hpp"
#include "quorum/election/election_events.hpp"
#include "quorum/election/quorum_verifier.hpp"
#include "quorum/election/vote.hpp"
#include "quorum/types.hpp"

namespace quorum {

/// What this member knows of its own history when an election instance starts.
struct PeerHistory {
  Zxid last_logged_zxid;    ///< the last zxid in its log
  Epoch current_epoch = 0;  ///< the epoch it last synced with (ZooKeeper's currentEpoch)
};

/// A notification the driver must send.
struct OutboundNotification {
  ServerId to = 0;
  Notification notification;
};

/// The output of one step: send `messages` (in order), report `events`. Election produces no
/// durable state, so there is nothing to persist before sending.
struct ElectionEffects {
  std::vector<OutboundNotification> messages;
  std::vector<ElectionEvent> events;

  bool empty() const noexcept { return messages.empty() && events.empty(); }
  void clear() noexcept {
    messages.clear();
    events.clear();
  }
};

/// One member's Fast Leader Election. Not thread-safe: drive it from one thread or strand.
class ElectionCore {
 public:
  /// Throws std::invalid_argument when `config` fails `validate()`.
  explicit ElectionCore(ElectionConfig config)
      : config_(std::move(config)), verifier_(config_.voters) {
    if (auto why = validate(config_); !why.empty())
      throw std::invalid_argument("quorum: bad election config: " + why);
    not_timeout_ = config_.min_notification_interval;
  }

  // ---- inputs ----------------------------------------------------------------------------

  /// Enters LOOKING and starts a new election instance: the logical clock advances, the
  /// proposal is this member itself, and it is sent to every voter. Called at start and when
  /// the leader is lost.
  void start_looking(Instant now, PeerHistory history) {
    state_ = PeerState::looking;
    ++logical_clock_;
    initial_ = Vote{config_.self,          history.last_logged_zxid, logical_clock_,
                    history.current_epoch, PeerState::looking,       2};
    proposal_ = initial_;
    recvset_.clear();
    outofelection_.clear();
    finalizing_ = false;
    not_timeout_ = config_.min_notification_interval;
    resend_deadline_ = now + not_timeout_;
    effects_.events.emplace_back(RoundStarted{now, logical_clock_, initial_});
    send_notifications();
    check_looking_quorum(now);
  }

  /// A notification from `from`. Applies first what ZooKeeper's receiver thread does (answers
  /// peers that are behind), then what lookForLeader does with it.
  void on_notification(ServerId from, const Notification& n, Instant now) {
    if (logical_clock_ == 0) return;  // not started: nothing to answer with yet
    if (!verifier_.is_voter(from)) {
      // A non-voter only learns our current vote; it never takes part.
      reply(from, state_ == PeerState::looking ? proposal_as_notification() : final_notification());
      return;
    }
    if (state_ != PeerState::looking) {
      if (n.state == PeerState::looking) reply(from, final_notification());
      return;
    }
    if (n.state == PeerState::looking && n.election_epoch < logical_clock_)
      reply(from, proposal_as_notification());

    if (finalizing_) {
      // Only a better vote reopens the election; anything else is dropped and the finalize
      // wait starts over, as ZooKeeper's finalize poll does.
      if (!better_candidate(verifier_, n.leader, n.zxid, n.peer_epoch, proposal_.leader,
                            proposal_.zxid, proposal_.peer_epoch)) {
        finalize_deadline_ = now + config_.finalize_wait;
        return;
      }
      finalizing_ = false;
    }
    resend_deadline_ = now + not_timeout_;
    if (!verifier_.is_voter(n.leader)) return;
    switch (n.state) {
      case PeerState::looking:
        on_looking_vote(from, n, now);
        break;
      case PeerState::following:
      case PeerState::leading:
        on_established_vote(from, n, now);
        break;
      case PeerState::observing:
        break;
    }
  }

  /// Time passed: decide when the finalize wait is over, re-send when nothing was heard.
  void on_tick(Instant now) {
    if (state_ != PeerState::looking) return;
    if (finalizing_) {
      if (now >= finalize_deadline_) decide_on_proposal(now);
      return;
    }
    if (now >= resend_deadline_) {
      send_notifications();
      not_timeout_ = std::min(not_timeout_ * 2, config_.max_notification_interval);
      resend_deadline_ = now + not_timeout_;
      effects_.events.emplace_back(NotificationsResent{now, logical_clock_, not_timeout_});
    }
  }

  /// After synchronization the new epoch is established: answer late joiners with it, so all
  /// members report identical (leader, peerEpoch) votes (ZOOKEEPER-1732).
  void on_epoch_established(Epoch epoch) noexcept {
    QUORUM_ASSERT(state_ != PeerState::looking, "an epoch is established only after deciding");
    vote_.peer_epoch = epoch;
  }

  // ---- outputs and queries ---------------------------------------------------------------

  /// The effects accumulated since the last `clear()`; the driver sends and reports them.
  ElectionEffects& effects() noexcept { return effects_; }

  PeerState state() const noexcept { return state_; }
  /// The final vote while FOLLOWING/LEADING, the current proposal while LOOKING.
  Vote current_vote() const noexcept { return state_ == PeerState::looking ? proposal_ : vote_; }
  /// The election round (ZooKeeper's logicalclock).
  std::int64_t logical_clock() const noexcept { return logical_clock_; }
  /// When `on_tick` next has work to do; nothing when not LOOKING.
  std::optional<Instant> next_deadline() const noexcept {
    if (state_ != PeerState::looking || logical_clock_ == 0) return std::nullopt;
    return finalizing_ ? finalize_deadline_ : resend_deadline_;
  }
  const ElectionConfig& config() const noexcept { return config_; }
  const QuorumVerifier& verifier() const noexcept { return verifier_; }

 private:
  using VoteMap = std::map<ServerId, Vote>;

  void on_looking_vote(ServerId from, const Notification& n, Instant now) {
    // A -1 zxid means "no usable history" and takes no part.
    if (initial_.zxid == Zxid::none() || n.zxid == Zxid::none()) return;
    if (n.election_epoch > logical_clock_) {
      // We are behind: join the newer round, compare against our *initial* vote.
      logical_clock_ = n.election_epoch;
      recvset_.clear();
      const bool theirs = better_candidate(verifier_, n.leader, n.zxid, n.peer_epoch,
                                           initial_.leader, initial_.zxid, initial_.peer_epoch);
      set_proposal(theirs ? n.leader : initial_.leader, theirs ? n.zxid : initial_.zxid,
                   theirs ? n.peer_epoch : initial_.peer_epoch, from, now);
      send_notifications();
    } else if (n.election_epoch < logical_clock_) {
      return;  // stale round; the receiver rule above already answered it
    } else if (better_candidate(verifier_, n.leader, n.zxid, n.peer_epoch, proposal_.leader,
                                proposal_.zxid, proposal_.peer_epoch)) {
      set_proposal(n.leader, n.zxid, n.peer_epoch, from, now);
      send_notifications();
    }
    recvset_[from] =
        Vote{n.leader, n.zxid, n.election_epoch, n.peer_epoch, PeerState::looking, n.version};
    check_looking_quorum(now);
  }

  void on_established_vote(ServerId from, const Notification& n, Instant now) {
    const Vote theirs = Vote::from(n);
    if (n.election_epoch == logical_clock_) {
      // Same round: their vote counts with this round's (ZOOKEEPER-3537 keeps the state).
      recvset_[from] = theirs;
      auto supporters = agreeing(recvset_, theirs);
      if (verifier_.contains_quorum(supporters) &&
          leader_confirmed(recvset_, n.leader, n.election_epoch)) {
        decide(now, theirs, std::move(supporters), DecisionPath::joined_leader);
        return;
      }
    }
    // Any round: a quorum already follows a leader that says it leads (the late joiner).
    outofelection_[from] = theirs;
    auto supporters = agreeing(outofelection_, theirs);
    if (verifier_.contains_quorum(supporters) &&
        leader_confirmed(outofelection_, n.leader, n.election_epoch)) {
      logical_clock_ = n.election_epoch;
      decide(now, theirs, std::move(supporters), DecisionPath::joined_leader);
    }
  }

  // ZooKeeper's checkLeader: never follow a leader that has not itself said LEADING, and never
  // lead on the strength of votes from an older round of our own.
  bool leader_confirmed(const VoteMap& votes, ServerId leader, std::int64_t round) const {
    if (leader != config_.self) {
      auto it = votes.find(leader);
      return it != votes.end() && it->second.state == PeerState::leading;
    }
    return logical_clock_ == round;
  }

  std::vector<ServerId> agreeing(const VoteMap& votes, const Vote& target) const {
    std::vector<ServerId> ids;
    for (const auto& [sid, vote] : votes)
      if (same_vote(vote, target)) ids.push_back(sid);
    return ids;
  }

  void check_looking_quorum(Instant now) {
    if (finalizing_ || state_ != PeerState::looking) return;
    auto supporters = agreeing(recvset_, proposal_);
    if (!verifier_.contains_quorum(supporters)) return;
    effects_.events.emplace_back(QuorumReached{now, logical_clock_, proposal_, supporters});
    if (config_.finalize_wait == Duration::zero()) {
      decide_on_proposal(now);
      return;
    }
    finalizing_ = true;
    finalize_deadline_ = now + config_.finalize_wait;
  }

  void decide_on_proposal(Instant now) {
    finalizing_ = false;
    Vote final_vote = proposal_;
    final_vote.election_epoch = logical_clock_;
    decide(now, final_vote, agreeing(recvset_, proposal_), DecisionPath::looking_quorum);
  }

  void decide(Instant now, Vote final_vote, std::vector<ServerId> supporters, DecisionPath path) {
    state_ = final_vote.leader == config_.self ? PeerState::leading : PeerState::following;
    final_vote.state = state_;
    final_vote.version = 2;
    vote_ = final_vote;
    finalizing_ = false;
    recvset_.clear();
    outofelection_.clear();
    effects_.events.emplace_back(Decided{now, state_, vote_, std::move(supporters), path});
  }

  void set_proposal(ServerId leader, Zxid zxid, Epoch peer_epoch, ServerId because_of,
                    Instant now) {
    proposal_ = Vote{leader, zxid, logical_clock_, peer_epoch, PeerState::looking, 2};
    effects_.events.emplace_back(ProposalChanged{now, logical_clock_, proposal_, because_of});
  }

  // Our own vote counts at once; ZooKeeper gets the same by sending to itself.
  void send_notifications() {
    proposal_.election_epoch = logical_clock_;
    recvset_[config_.self] = proposal_;
    const Notification n = proposal_as_notification();
    for (ServerId voter : verifier_.voters())
      if (voter != config_.self) effects_.messages.push_back({voter, n});
  }

  void reply(ServerId to, Notification n) { effects_.messages.push_back({to, std::move(n)}); }

  Notification proposal_as_notification() const {
    return Notification{PeerState::looking,
                        proposal_.leader,
                        proposal_.zxid,
                        logical_clock_,
                        proposal_.peer_epoch,
                        2,
                        config_.quorum_config_text};
  }

  Notification final_notification() const {
    return Notification{state_,
                        vote_.leader,
                        vote_.zxid,
                        vote_.election_epoch,
                        vote_.peer_epoch,
                        2,
                        config_.quorum_config_text};
  }

  ElectionConfig config_;
  QuorumVerifier verifier_;
  ElectionEffects effects_;

  PeerState state_ = PeerState::looking;
  std::int64_t logical_clock_ = 0;
  Vote initial_;           // this instance's own vote
  Vote proposal_;          // the leader proposed now (LOOKING)
  Vote vote_;              // the final vote (FOLLOWING/LEADING)
  VoteMap recvset_;        // this round's votes, by sender
  VoteMap outofelection_;  // FOLLOWING/LEADING votes of any round, by sender
  bool finalizing_ = false;
  Instant finalize_deadline_{};
  Instant resend_deadline_{};
  Duration not_timeout_{};
};

}  // namespace quorum
