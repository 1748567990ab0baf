// ZAB end to end on the simulator: writes through a follower, failover, catch-up.
#include "support/catch.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "quorum/sim/replica_cluster.hpp"

using namespace std::chrono_literals;
using quorum::KvStateMachine;
using quorum::PeerState;
using quorum::ServerId;
using quorum::Txn;
using quorum::Zxid;
using quorum::sim::ReplicaCluster;

namespace {

std::vector<Txn> writes(const std::string& prefix, int count) {
  std::vector<Txn> out;
  for (int i = 0; i < count; ++i) out.push_back(KvStateMachine::set(prefix + std::to_string(i), "v"));
  return out;
}

bool all_committed(ReplicaCluster& c, std::vector<ServerId> ids, Zxid zxid) {
  for (ServerId id : ids)
    if (!c.is_up(id) || c.machine(id).last_applied_zxid() < zxid) return false;
  return true;
}

}  // namespace

TEST_CASE("writes through a follower commit on all three in zxid order", "[scenario]") {
  ReplicaCluster c({.servers = 3, .seed = 1});
  for (ServerId id : {1, 2, 3}) c.start(id);
  const auto leader = c.run_until_serving();
  REQUIRE(leader == 3);
  CHECK(c.replica(3).epoch() == 1);

  REQUIRE(c.submit(1, writes("k", 10)));
  REQUIRE(c.run_until([&] { return all_committed(c, {1, 2, 3}, Zxid::make(1, 10)); }, 10s));
  for (ServerId id : {1, 2, 3}) {
    CHECK(c.machine(id).size() == 10);
    CHECK(c.storage(id).current_epoch() == 1);
    CHECK(c.storage(id).accepted_epoch() == 1);
  }
}

TEST_CASE("the leader fails - a new epoch begins and writes continue - it returns and catches up",
          "[scenario]") {
  ReplicaCluster c({.servers = 3, .seed = 2});
  for (ServerId id : {1, 2, 3}) c.start(id);
  REQUIRE(c.run_until_serving() == 3);
  REQUIRE(c.submit(2, writes("a", 5)));
  REQUIRE(c.run_until([&] { return all_committed(c, {1, 2, 3}, Zxid::make(1, 5)); }, 10s));

  c.crash(3);
  // 1 and 2 hear nothing from 3 for syncLimit, look for a leader, and 2 wins (equal history).
  REQUIRE(c.run_until([&] { return c.serving_leader() == ServerId{2}; }, 30s));
  CHECK(c.replica(2).epoch() == 2);
  REQUIRE(c.submit(1, writes("b", 5)));
  REQUIRE(c.run_until([&] { return all_committed(c, {1, 2}, Zxid::make(2, 5)); }, 10s));

  c.start(3);
  REQUIRE(c.run_until(
      [&] { return all_committed(c, {1, 2, 3}, Zxid::make(2, 5)) && c.replica(3).serving(); }, 30s));
  CHECK(c.machine(3).size() == 10);
  CHECK(c.storage(3).current_epoch() == 2);
}
