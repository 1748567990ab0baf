// What an election does, as structured events for observers, logs and tests.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "quorum/election/vote.hpp"
#include "quorum/types.hpp"

namespace quorum {

/// How a member reached its decision.
enum class DecisionPath {
  /// A quorum of this round's votes agreed on the proposal and the finalize wait passed.
  looking_quorum,
  /// A quorum of FOLLOWING/LEADING members reported the same leader, and the leader itself
  /// said LEADING: the member joined an established leader (the seed's server 3).
  joined_leader,
};

/// A new election instance began: the logical clock moved to `round`.
struct RoundStarted {
  Instant at;
  std::int64_t round = 0;
  Vote initial_vote;
};

/// The member changed the leader it proposes.
struct ProposalChanged {
  Instant at;
  std::int64_t round = 0;
  Vote proposal;
  ServerId because_of = 0;  ///< the member whose notification caused the change
};

/// A quorum of this round's votes matches the proposal; the finalize wait begins.
struct QuorumReached {
  Instant at;
  std::int64_t round = 0;
  Vote proposal;
  std::vector<ServerId> supporters;
};

/// The member left LOOKING.
struct Decided {
  Instant at;
  PeerState state = PeerState::looking;  ///< LEADING or FOLLOWING
  Vote vote;                             ///< the final vote (leader, zxid, round, peerEpoch)
  std::vector<ServerId> supporters;      ///< the members whose votes made the quorum
  DecisionPath path = DecisionPath::looking_quorum;
};

/// Re-sent the proposal to every peer after hearing nothing for a while.
struct NotificationsResent {
  Instant at;
  std::int64_t round = 0;
  Duration next_interval{};
};

/// A notification went out (reported by the driver).
struct NotificationSent {
  Instant at;
  ServerId to = 0;
  Notification notification;
};

/// A notification came in (reported by the driver).
struct NotificationReceived {
  Instant at;
  ServerId from = 0;
  Notification notification;
};

using ElectionEvent = std::variant<RoundStarted, ProposalChanged, QuorumReached, Decided,
                                   NotificationsResent, NotificationSent, NotificationReceived>;

}  // namespace quorum
