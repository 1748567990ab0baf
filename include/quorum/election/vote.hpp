// Votes and notifications of Fast Leader Election, and ZooKeeper's rules for comparing them.
#pragma once

#include <cstdint>
#include <string>

#include "quorum/election/quorum_verifier.hpp"
#include "quorum/types.hpp"

namespace quorum {

/// The election's notification, as it travels between members (ZooKeeper's "version 2"
/// layout; the sender's id comes from the connection, not from the message).
struct Notification {
  PeerState state = PeerState::looking;  ///< the sender's state
  ServerId leader = 0;                   ///< the leader the sender proposes (or follows)
  Zxid zxid;                             ///< that leader's last logged zxid, as the sender knows it
  std::int64_t election_epoch = 0;       ///< the sender's logical clock (election round)
  Epoch peer_epoch = 0;                  ///< that leader's currentEpoch
  std::int32_t version = 2;              ///< notification format version
  std::string config;                    ///< the sender's quorum config as text (may be empty)

  friend bool operator==(const Notification&, const Notification&) = default;
};

/// A vote: a proposed (or elected) leader with its history, the round it was cast in, and the
/// state of the member casting it.
struct Vote {
  ServerId leader = 0;
  Zxid zxid;
  std::int64_t election_epoch = 0;
  Epoch peer_epoch = 0;
  PeerState state = PeerState::looking;
  std::int32_t version = 2;

  /// The vote a notification carries.
  static Vote from(const Notification& n) noexcept {
    return Vote{n.leader, n.zxid, n.election_epoch, n.peer_epoch, n.state, n.version};
  }
};

/// ZooKeeper's total order on candidates (totalOrderPredicate): is the candidate
/// (new_leader, new_zxid, new_epoch) better than (cur_leader, cur_zxid, cur_epoch)? Larger
/// peerEpoch wins, then larger zxid, then larger sid. A candidate that cannot be elected
/// (weight 0: an observer or an unknown id) is never better.
inline bool better_candidate(const QuorumVerifier& verifier, ServerId new_leader, Zxid new_zxid,
                             Epoch new_epoch, ServerId cur_leader, Zxid cur_zxid,
                             Epoch cur_epoch) noexcept {
  if (verifier.weight(new_leader) == 0) return false;
  if (new_epoch != cur_epoch) return new_epoch > cur_epoch;
  if (new_zxid != cur_zxid) return new_zxid > cur_zxid;
  return new_leader > cur_leader;
}

/// better_candidate on two votes.
inline bool better_vote(const QuorumVerifier& verifier, const Vote& candidate,
                        const Vote& current) noexcept {
  return better_candidate(verifier, candidate.leader, candidate.zxid, candidate.peer_epoch,
                          current.leader, current.zxid, current.peer_epoch);
}

/// Vote equality as ZooKeeper counts agreement (Vote.equals). If either vote is LOOKING, the
/// round matters: leader, zxid, election epoch and peer epoch must all match. Between
/// FOLLOWING/LEADING votes only (leader, peerEpoch) matter, so members that joined a leader
/// in different rounds still agree on it (ZOOKEEPER-1732/1818); a version-0 peer is compared
/// by leader only.
inline bool same_vote(const Vote& a, const Vote& b) noexcept {
  if (a.state == PeerState::looking || b.state == PeerState::looking)
    return a.leader == b.leader && a.zxid == b.zxid && a.election_epoch == b.election_epoch &&
           a.peer_epoch == b.peer_epoch;
  if ((a.version > 0) != (b.version > 0)) return a.leader == b.leader;
  return a.leader == b.leader && a.peer_epoch == b.peer_epoch;
}

}  // namespace quorum
