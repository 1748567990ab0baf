// The seed's restart election, literally: five servers, the leader and one follower fail.
#include "support/catch.hpp"

#include <chrono>

#include "quorum/sim/election_cluster.hpp"

using namespace std::chrono_literals;
using quorum::PeerState;
using quorum::ServerId;
using quorum::Zxid;
using quorum::sim::ElectionCluster;

namespace {
// (sid, zxid, epoch) from the seed's table.
struct Row {
  ServerId sid;
  std::uint32_t zxid;
  quorum::Epoch epoch;
};
constexpr Row seed_table[] = {{1, 8, 1}, {2, 8, 1}, {3, 8, 1}, {4, 7, 1}, {5, 7, 1}};

void load_seed_table(ElectionCluster& c) {
  for (const Row& row : seed_table) {
    c.storage(row.sid).set_current_epoch(row.epoch);
    c.storage(row.sid).set_accepted_epoch(row.epoch);
    c.storage(row.sid).set_last_logged_zxid(Zxid::make(row.epoch, row.zxid));
  }
}
}  // namespace

TEST_CASE("restart: with the seed's table - 3 leads - when 3 and 5 fail - 1 - 2 and 4 elect 2",
          "[scenario]") {
  ElectionCluster c({.servers = 5, .seed = 42});
  load_seed_table(c);
  for (const Row& row : seed_table) c.start(row.sid);

  // Before: equal epochs, zxid 8 beats 7, and among zxid 8 the larger sid wins.
  REQUIRE(c.run_until_settled() == 3);

  // Servers 3 and 5 fail; the others notice the leader is gone and go LOOKING.
  c.crash(3);
  c.crash(5);
  for (ServerId id : {1, 2, 4}) c.leader_lost(id);

  // Epoch 1 everywhere, so zxid decides (8 beats 7); among zxid 8, sid 2 beats sid 1.
  REQUIRE(c.run_until_settled() == 2);
  CHECK(c.state(1) == PeerState::following);
  CHECK(c.state(2) == PeerState::leading);
  CHECK(c.state(4) == PeerState::following);
  CHECK(c.vote(4).zxid == Zxid::make(1, 8));  // 4 follows a leader holding txn 8
}

TEST_CASE("restart: a larger epoch beats a larger zxid", "[scenario]") {
  ElectionCluster c({.servers = 3, .seed = 5});
  // 1 synced with epoch 2 before any txn of it: its zxid is smaller, its epoch larger.
  c.storage(1).set_current_epoch(2);
  c.storage(1).set_last_logged_zxid(Zxid::make(1, 5));
  c.storage(2).set_current_epoch(1);
  c.storage(2).set_last_logged_zxid(Zxid::make(1, 90));
  c.storage(3).set_current_epoch(1);
  c.storage(3).set_last_logged_zxid(Zxid::make(1, 90));
  for (ServerId id : {1, 2, 3}) c.start(id);
  REQUIRE(c.run_until_settled() == 1);
}

TEST_CASE("restart: without a quorum the survivors stay LOOKING", "[scenario]") {
  ElectionCluster c({.servers = 5, .seed = 9});
  load_seed_table(c);
  for (const Row& row : seed_table) c.start(row.sid);
  REQUIRE(c.run_until_settled() == 3);
  for (ServerId id : {3, 4, 5}) c.crash(id);
  for (ServerId id : {1, 2}) c.leader_lost(id);
  c.run_for(120s);
  CHECK(c.state(1) == PeerState::looking);
  CHECK(c.state(2) == PeerState::looking);
  // When 4 comes back there is a quorum again, and 2 still wins.
  c.start(4);
  REQUIRE(c.run_until_settled() == 2);
}
