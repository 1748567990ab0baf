// The seed's first start, literally: three servers started one by one.
#include "support/catch.hpp"

#include <chrono>

#include "quorum/sim/election_cluster.hpp"

using namespace std::chrono_literals;
using quorum::PeerState;
using quorum::sim::ElectionCluster;

TEST_CASE("first start: 1 stays LOOKING - 2 is elected - 3 follows 2 though its id is larger",
          "[scenario]") {
  ElectionCluster c({.servers = 3, .seed = 7});

  // Server 1 starts and votes for itself: 1 vote of 3 is not a majority.
  c.start(1);
  c.run_for(10s);
  REQUIRE(c.state(1) == PeerState::looking);
  REQUIRE(c.vote(1).leader == 1);

  // Server 2 starts; both vote, each gives its vote to the larger id: 2 has a majority.
  c.start(2);
  REQUIRE(c.run_until_settled() == 2);
  CHECK(c.state(2) == PeerState::leading);
  CHECK(c.state(1) == PeerState::following);
  CHECK(c.vote(1).leader == 2);

  // Server 3 starts, finds a leader already elected and joins it.
  c.start(3);
  REQUIRE(c.run_until_settled() == 2);
  CHECK(c.state(3) == PeerState::following);
  CHECK(c.vote(3).leader == 2);
  CHECK(c.decisions().back().member == 3);
  CHECK(c.decisions().back().decision.path == quorum::DecisionPath::joined_leader);
}

TEST_CASE("first start: the finalize wait decides - not the first quorum seen", "[scenario]") {
  // With 1 and 2 up, both reach a quorum for 2 and decide only after finalize_wait.
  ElectionCluster c({.servers = 3, .seed = 3, .finalize_wait = 200ms});
  c.start(1);
  c.start(2);
  REQUIRE(c.run_until_settled() == 2);
  const auto& decided = c.decisions();
  REQUIRE(decided.size() == 2);
  for (const auto& record : decided) {
    CHECK(record.decision.path == quorum::DecisionPath::looking_quorum);
    CHECK(record.decision.at.time_since_epoch() >= 200ms);
  }
}

TEST_CASE("first start with all three at once elects the largest id", "[scenario]") {
  ElectionCluster c({.servers = 3, .seed = 11});
  for (quorum::ServerId id : {1, 2, 3}) c.start(id);
  REQUIRE(c.run_until_settled() == 3);
}
