// The follower's rules, each sharp edge of zk-reference §10 that concerns it by name.
#include "support/catch.hpp"

#include <chrono>
#include <vector>

#include "quorum/zab/follower.hpp"

using namespace std::chrono_literals;
using quorum::FollowerCore;
using quorum::Instant;
using quorum::PacketType;
using quorum::QuorumPacket;
using quorum::StorageStep;
using quorum::Txn;
using quorum::Zxid;

namespace {

constexpr quorum::ServerId leader = 3;

QuorumPacket packet(PacketType type, Zxid zxid, std::vector<Txn> txns = {}) {
  return QuorumPacket{type, zxid, 0, std::move(txns), {}};
}
std::vector<Txn> txns(quorum::Epoch epoch, std::uint32_t first, std::uint32_t last) {
  std::vector<Txn> out;
  for (auto c = first; c <= last; ++c) out.push_back(Txn{Zxid::make(epoch, c), 1, "x"});
  return out;
}

struct Follower {
  explicit Follower(quorum::ZabHistory history = {1, 1, Zxid::make(1, 5), Zxid::make(1, 5), {}})
      : core(quorum::ZabConfig{.self = 1, .voters = {1, 2, 3}, .tick = 100ms}, leader, history,
             Instant{}) {}
  void receive(const QuorumPacket& p) { core.on_packet(leader, p, now); }
  std::vector<QuorumPacket> sent() {
    std::vector<QuorumPacket> out;
    for (auto& m : core.effects().messages) out.push_back(m.packet);
    core.effects().messages.clear();
    return out;
  }
  // Up to the moment NEWLEADER arrives: a DIFF of the leader's history (1,6)..(1,8) with its
  // COMMIT, then the new epoch's outstanding proposal (2,1), then NEWLEADER.
  void synced_to_newleader() {
    receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
    receive(packet(PacketType::diff, Zxid::make(1, 8)));
    receive(packet(PacketType::proposal, Zxid::make(1, 8), txns(1, 6, 8)));
    receive(packet(PacketType::commit, Zxid::make(1, 8)));
    receive(packet(PacketType::proposal, Zxid::make(2, 1), txns(2, 1, 1)));
    receive(packet(PacketType::newleader, Zxid::make(2, 0)));
    sent();
  }
  FollowerCore core;
  Instant now{};
};

}  // namespace

TEST_CASE("discovery: FOLLOWERINFO carries acceptedEpoch - a newer epoch is accepted and acked",
          "[unit]") {
  Follower f;
  auto out = f.sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == PacketType::followerinfo);
  CHECK(out[0].zxid == Zxid::make(1, 0));
  f.receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
  REQUIRE(f.core.effects().storage.size() == 1);
  CHECK(f.core.effects().storage[0].kind == StorageStep::Kind::set_accepted_epoch);
  CHECK(f.core.effects().storage[0].epoch == 2);
  out = f.sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == PacketType::ackepoch);
  CHECK(out[0].zxid == Zxid::make(1, 5));  // last logged
  CHECK(out[0].epoch == 1);                // currentEpoch
}

TEST_CASE("discovery: an epoch already accepted is acked with -1 - a lower one is refused",
          "[unit]") {
  Follower same({2, 1, Zxid::make(1, 5), Zxid::make(1, 5), {}});
  same.sent();
  same.receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
  CHECK(same.core.effects().storage.empty());
  CHECK(same.sent()[0].epoch == -1);

  Follower lower({3, 1, Zxid::make(1, 5), Zxid::make(1, 5), {}});
  lower.receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
  CHECK(lower.core.failed());
}

TEST_CASE("ZOOKEEPER-3911 - NEWLEADER is acked only after the synced txns are durable", "[unit]") {
  Follower f;
  f.synced_to_newleader();
  f.core.on_log_durable(Zxid::make(1, 8));  // not all of it yet
  for (const auto& p : f.sent()) CHECK(p.type != PacketType::ack);
  f.core.on_log_durable(Zxid::make(2, 1));
  const auto out = f.sent();
  REQUIRE_FALSE(out.empty());
  CHECK(out[0].type == PacketType::ack);
  CHECK(out[0].zxid == Zxid::make(2, 0));
}

TEST_CASE("ZOOKEEPER-4643 - history durable - then currentEpoch - then the ACK", "[unit]") {
  Follower f;
  f.synced_to_newleader();
  f.core.effects().storage.clear();  // the appends
  f.core.on_log_durable(Zxid::make(2, 1));
  const auto& steps = f.core.effects().storage;
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].kind == StorageStep::Kind::set_current_epoch);
  CHECK(steps[0].epoch == 2);
  // The driver performs storage steps before it sends (ZabEffects' contract).
  CHECK(f.sent()[0].zxid == Zxid::make(2, 0));
}

TEST_CASE("ZOOKEEPER-4685 - the first ACK after NEWLEADER is the NEWLEADER ACK", "[unit]") {
  Follower f;
  f.synced_to_newleader();
  f.core.on_log_durable(Zxid::make(2, 1));
  const auto out = f.sent();
  REQUIRE(out.size() >= 2);
  CHECK(out[0].zxid == Zxid::make(2, 0));  // NEWLEADER's
  CHECK(out[1].zxid == Zxid::make(2, 1));  // then the proposal that came with the sync
}

TEST_CASE("ZOOKEEPER-4394 - commits after NEWLEADER apply - the sync payload only once established",
          "[unit]") {
  Follower f;
  f.synced_to_newleader();
  CHECK_FALSE(f.core.effects().commit_through.has_value());  // payload waits for UPTODATE
  f.core.on_log_durable(Zxid::make(2, 1));
  f.receive(packet(PacketType::uptodate, Zxid::none()));
  REQUIRE(f.core.effects().commit_through.has_value());
  CHECK(*f.core.effects().commit_through == Zxid::make(1, 8));
  CHECK(f.core.phase() == FollowerCore::Phase::broadcast);
  f.core.effects().commit_through.reset();
  f.receive(packet(PacketType::proposal, Zxid::make(2, 2), txns(2, 2, 2)));
  f.receive(packet(PacketType::commit, Zxid::make(2, 2)));
  CHECK(*f.core.effects().commit_through == Zxid::make(2, 2));
}

TEST_CASE("ZOOKEEPER-4925 - a gap in the proposal stream ends the session", "[unit]") {
  Follower f;
  f.sent();
  f.receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
  f.receive(packet(PacketType::diff, Zxid::make(1, 5)));
  f.receive(packet(PacketType::proposal, Zxid::make(1, 7), {Txn{Zxid::make(1, 7), 1, "x"}}));
  CHECK(f.core.failed());
  Follower epoch_start;
  epoch_start.receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
  epoch_start.receive(packet(PacketType::diff, Zxid::make(1, 5)));
  epoch_start.receive(
      packet(PacketType::proposal, Zxid::make(2, 2), {Txn{Zxid::make(2, 2), 1, "x"}}));
  CHECK(epoch_start.core.failed());  // (2,1) is missing
}

TEST_CASE("duplicate proposals are tolerated (the TLA+ finding)", "[unit]") {
  Follower f;
  f.synced_to_newleader();
  f.core.effects().storage.clear();
  f.receive(packet(PacketType::proposal, Zxid::make(2, 1), txns(1, 7, 8)));
  f.receive(packet(PacketType::proposal, Zxid::make(2, 1), txns(2, 1, 1)));
  CHECK_FALSE(f.core.failed());
  CHECK(f.core.effects().storage.empty());
}

TEST_CASE("TRUNC truncates - but never below what this member committed", "[unit]") {
  Follower f({1, 1, Zxid::make(1, 9), Zxid::make(1, 5), {}});
  f.receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
  f.core.effects().storage.clear();
  f.receive(packet(PacketType::trunc, Zxid::make(1, 7)));
  REQUIRE(f.core.effects().storage.size() == 1);
  CHECK(f.core.effects().storage[0].kind == StorageStep::Kind::truncate_after);
  CHECK(f.core.effects().storage[0].zxid == Zxid::make(1, 7));

  Follower g({1, 1, Zxid::make(1, 9), Zxid::make(1, 8), {}});
  g.receive(packet(PacketType::leaderinfo, Zxid::make(2, 0)));
  g.receive(packet(PacketType::trunc, Zxid::make(1, 7)));
  CHECK(g.core.failed());
}

TEST_CASE("silence from the leader ends the session after initLimit - then syncLimit", "[unit]") {
  Follower f;  // tick 100 ms, initLimit 10, syncLimit 5
  f.core.on_tick(Instant(999ms));
  CHECK_FALSE(f.core.failed());
  f.core.on_tick(Instant(1000ms));
  CHECK(f.core.failed());

  Follower g;
  g.synced_to_newleader();
  g.core.on_log_durable(Zxid::make(2, 1));
  g.receive(packet(PacketType::uptodate, Zxid::none()));
  g.now = Instant(300ms);
  g.receive(packet(PacketType::ping, Zxid::make(2, 1)));
  g.core.on_tick(Instant(799ms));
  CHECK_FALSE(g.core.failed());
  g.core.on_tick(Instant(800ms));
  CHECK(g.core.failed());
}

TEST_CASE("packets from anyone but the leader are ignored - a ping is echoed", "[unit]") {
  Follower f;
  f.sent();  // FOLLOWERINFO
  f.core.on_packet(2, packet(PacketType::leaderinfo, Zxid::make(9, 0)), Instant{});
  CHECK(f.core.phase() == FollowerCore::Phase::discovery);
  f.receive(packet(PacketType::ping, Zxid::make(1, 5)));
  const auto out = f.sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == PacketType::ping);
}
