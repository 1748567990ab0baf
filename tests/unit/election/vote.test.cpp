// The vote order, one rule at a time and combined (zk-reference §1.3).
#include "support/catch.hpp"

#include "quorum/election/vote.hpp"

using quorum::better_candidate;
using quorum::PeerState;
using quorum::QuorumVerifier;
using quorum::Vote;
using quorum::Zxid;

namespace {
const QuorumVerifier voters({1, 2, 3, 4, 5});
bool better(quorum::ServerId new_sid, Zxid new_zxid, quorum::Epoch new_epoch,
            quorum::ServerId cur_sid, Zxid cur_zxid, quorum::Epoch cur_epoch) {
  return better_candidate(voters, new_sid, new_zxid, new_epoch, cur_sid, cur_zxid, cur_epoch);
}
}  // namespace

TEST_CASE("a larger epoch wins", "[unit]") {
  CHECK(better(1, Zxid::make(2, 1), 2, 1, Zxid::make(1, 1), 1));
  CHECK_FALSE(better(1, Zxid::make(1, 1), 1, 1, Zxid::make(2, 1), 2));
}

TEST_CASE("with equal epochs a larger zxid wins", "[unit]") {
  CHECK(better(1, Zxid::make(1, 8), 1, 1, Zxid::make(1, 7), 1));
  CHECK_FALSE(better(1, Zxid::make(1, 7), 1, 1, Zxid::make(1, 8), 1));
}

TEST_CASE("with equal epochs and zxids a larger sid wins", "[unit]") {
  CHECK(better(2, Zxid::make(1, 8), 1, 1, Zxid::make(1, 8), 1));
  CHECK_FALSE(better(1, Zxid::make(1, 8), 1, 2, Zxid::make(1, 8), 1));
  CHECK_FALSE(better(2, Zxid::make(1, 8), 1, 2, Zxid::make(1, 8), 1));  // equal is not better
}

TEST_CASE("the rules apply in order: epoch over zxid over sid", "[unit]") {
  // Larger epoch beats a larger zxid and a larger sid.
  CHECK(better(1, Zxid::make(1, 1), 2, 5, Zxid::make(1, 99), 1));
  // Larger zxid beats a larger sid.
  CHECK(better(1, Zxid::make(1, 9), 1, 5, Zxid::make(1, 8), 1));
  // The seed's restart table: (2, 8) beats (1, 8) and (4, 7); nothing beats (2, 8) but (3, 8).
  CHECK(better(2, Zxid::make(1, 8), 1, 4, Zxid::make(1, 7), 1));
  CHECK(better(2, Zxid::make(1, 8), 1, 1, Zxid::make(1, 8), 1));
  CHECK(better(3, Zxid::make(1, 8), 1, 2, Zxid::make(1, 8), 1));
  CHECK_FALSE(better(5, Zxid::make(1, 7), 1, 2, Zxid::make(1, 8), 1));
}

TEST_CASE("a candidate that cannot be elected is never better", "[unit]") {
  CHECK_FALSE(better(9, Zxid::make(9, 9), 9, 1, Zxid::make(1, 1), 1));
}

TEST_CASE("LOOKING votes agree only within the same round", "[unit]") {
  const Vote a{2, Zxid::make(1, 8), 3, 1, PeerState::looking, 2};
  Vote b = a;
  CHECK(same_vote(a, b));
  b.election_epoch = 4;
  CHECK_FALSE(same_vote(a, b));
  b = a;
  b.zxid = Zxid::make(1, 7);
  CHECK_FALSE(same_vote(a, b));
  b = a;
  b.state = PeerState::following;  // one side LOOKING: every field counts
  CHECK(same_vote(a, b));
  b.election_epoch = 1;
  CHECK_FALSE(same_vote(a, b));
}

TEST_CASE("FOLLOWING/LEADING votes agree on leader and peerEpoch alone", "[unit]") {
  const Vote a{2, Zxid::make(1, 8), 3, 1, PeerState::following, 2};
  Vote b{2, Zxid::make(1, 2), 1, 1, PeerState::leading, 2};  // other round, other zxid
  CHECK(same_vote(a, b));
  b.peer_epoch = 2;
  CHECK_FALSE(same_vote(a, b));
  b.version = 0;  // an old peer is compared by leader only
  CHECK(same_vote(a, b));
  b.leader = 3;
  CHECK_FALSE(same_vote(a, b));
}
