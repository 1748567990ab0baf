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
  for (int i = 0; i < count; ++i)
    out.push_back(KvStateMachine::set(prefix + std::to_string(i), "v"));
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
      [&] {
        return all_committed(c, {1, 2, 3}, Zxid::make(2, 5)) && c.replica(3).serving();
      },
      30s));
  CHECK(c.machine(3).size() == 10);
  CHECK(c.storage(3).current_epoch() == 2);
}

TEST_CASE("a follower told its connection to the leader broke looks for a leader at once",
          "[scenario]") {
  ReplicaCluster c({.servers = 3, .seed = 1});
  for (ServerId id : {1, 2, 3}) c.start(id);
  REQUIRE(c.run_until_serving() == 3);
  // Another peer's connection, or the leader's own view of a follower: nothing changes.
  c.replica(1).connection_lost(2, c.now());
  c.replica(3).connection_lost(1, c.now());
  CHECK(c.replica(1).serving());
  CHECK(c.replica(3).serving());
  // Its leader's: LOOKING now, not syncLimit ticks later.
  c.replica(1).connection_lost(3, c.now());
  CHECK_FALSE(c.replica(1).serving());
  CHECK(c.replica(1).state() == PeerState::looking);
  // It finds the same leader again (3 still leads 2), and writes go on.
  REQUIRE(c.run_until([&] { return c.replica(1).serving(); }, 10s));
  CHECK(c.replica(1).leader() == 3);
  REQUIRE(c.submit(1, writes("x", 3)));
  REQUIRE(c.run_until([&] { return all_committed(c, {1, 2, 3}, Zxid::make(1, 3)); }, 10s));
}

TEST_CASE("ZOOKEEPER-3642 - an interrupted sync leaves only durable - committed state applied",
          "[scenario]") {
  ReplicaCluster c({.servers = 3, .seed = 4});
  // 3 logged (1,1)..(1,5) but knows only (1,1)..(1,3) committed; 1 and 2 hold (1,1)..(1,3).
  for (ServerId id : {1, 2, 3}) {
    auto& s = c.storage(id);
    s.set_durability(quorum::MemoryStorage::Durability::immediate);
    s.set_accepted_epoch(1);
    s.set_current_epoch(1);
    std::vector<Txn> log;
    for (std::uint32_t i = 1; i <= (id == 3 ? 5u : 3u); ++i) {
      Txn t = KvStateMachine::set("k" + std::to_string(i), "v");
      t.zxid = Zxid::make(1, i);
      log.push_back(t);
    }
    s.append(log);
    s.set_last_committed_zxid(Zxid::make(1, 3));
    s.set_durability(quorum::MemoryStorage::Durability::manual);
  }
  for (ServerId id : {1, 2, 3}) c.start(id);
  // 3 leads and sends 1 its history; it dies before a quorum acks NEWLEADER.
  REQUIRE(c.run_until([&] { return c.storage(1).last_logged_zxid() == Zxid::make(1, 5); }, 10s));
  REQUIRE_FALSE(c.replica(1).serving());
  c.crash(3);
  // Until a leadership is established, nothing beyond (1,3) is applied anywhere.
  CHECK(c.machine(1).last_applied_zxid() == Zxid::make(1, 3));
  CHECK(c.machine(2).last_applied_zxid() == Zxid::make(1, 3));
  // 1 and 2 go on; whatever they elect, every member applies one history.
  REQUIRE(c.run_until([&] { return c.serving_leader().has_value(); }, 30s));
  const auto leader = *c.serving_leader();
  const Zxid end = c.replica(leader).committed();
  CHECK(end >= Zxid::make(1, 3));
  REQUIRE(c.run_until(
      [&] {
        return c.machine(1).last_applied_zxid() == end && c.machine(2).last_applied_zxid() == end;
      },
      10s));
  CHECK(c.machine(1).size() == c.machine(2).size());
}

namespace {
// A member falls behind by more than the in-memory window while the leader holds a snapshot;
// returns how it synchronized when it came back.
quorum::PacketType catch_up_mode(double snapshot_size_factor) {
  quorum::sim::ReplicaClusterOptions options{.servers = 3, .seed = 6};
  options.replica.commit_log_count = 5;
  options.replica.snapshot_size_factor = snapshot_size_factor;
  ReplicaCluster c(options);
  std::optional<quorum::PacketType> mode;
  c.set_tracer([&](ServerId id, const quorum::RoleEvent& e) {
    if (id == 1 && e.kind == quorum::RoleEvent::Kind::synced) mode = e.sync_mode;
  });
  for (ServerId id : {1, 2, 3}) c.start(id);
  REQUIRE(c.run_until_serving() == 3);
  REQUIRE(c.submit(2, writes("early", 20)));
  REQUIRE(c.run_until([&] { return all_committed(c, {1, 2, 3}, Zxid::make(1, 20)); }, 10s));
  // The leader snapshots its state (the data: 20 keys).
  c.storage(3).save_snapshot(c.recording(3).snapshot());
  c.crash(1);
  REQUIRE(c.submit(2, writes("late", 20)));
  REQUIRE(c.run_until([&] { return all_committed(c, {2, 3}, Zxid::make(1, 40)); }, 10s));
  mode.reset();
  c.start(1);
  REQUIRE(c.run_until(
      [&] { return all_committed(c, {1}, Zxid::make(1, 40)) && c.replica(1).serving(); }, 10s));
  CHECK(c.machine(1).size() == 40);
  REQUIRE(mode.has_value());
  return *mode;
}
}  // namespace

TEST_CASE("a learner older than the window is DIFF-synced from the on-disk log within the budget",
          "[scenario]") {
  // 20 missed txns of ~15 bytes against a snapshot of ~20 keys: within 10x its size, not 0x.
  CHECK(catch_up_mode(10.0) == quorum::PacketType::diff);
  CHECK(catch_up_mode(0.0) == quorum::PacketType::snap);
  CHECK(catch_up_mode(-1.0) == quorum::PacketType::snap);  // on-disk sync off
}
