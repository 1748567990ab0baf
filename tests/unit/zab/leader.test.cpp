// The leader's rules: the new epoch, refusing a follower ahead, sync choice, commit rule.
#include "support/catch.hpp"

#include <chrono>
#include <vector>

#include "quorum/zab/leader.hpp"

using namespace std::chrono_literals;
using quorum::Instant;
using quorum::LeaderCore;
using quorum::PacketType;
using quorum::QuorumPacket;
using quorum::ServerId;
using quorum::StorageStep;
using quorum::Txn;
using quorum::Zxid;

namespace {

QuorumPacket packet(PacketType type, Zxid zxid, std::int64_t epoch = 0) {
  return QuorumPacket{type, zxid, epoch, {}, {}};
}
std::vector<Txn> txns(quorum::Epoch epoch, std::uint32_t first, std::uint32_t last) {
  std::vector<Txn> out;
  for (auto c = first; c <= last; ++c) out.push_back(Txn{Zxid::make(epoch, c), 1, "x"});
  return out;
}

struct Leader {
  explicit Leader(quorum::ZabHistory history = {1, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{},
                                                txns(1, 1, 5)},
                  std::vector<ServerId> voters = {1, 2, 3})
      : core(quorum::ZabConfig{.self = 1, .voters = std::move(voters), .tick = 100ms}, history,
             Instant{}) {}
  void from(ServerId sid, const QuorumPacket& p) { core.on_packet(sid, p, now); }
  std::vector<QuorumPacket> sent_to(ServerId sid) {
    std::vector<QuorumPacket> out;
    for (auto& m : core.effects().messages)
      if (m.to == sid) out.push_back(m.packet);
    return out;
  }
  // Learner `sid` joins: FOLLOWERINFO, then ACKEPOCH with its history, then NEWLEADER's ACK.
  void join(ServerId sid, quorum::Epoch accepted, quorum::Epoch current, Zxid last) {
    from(sid, packet(PacketType::followerinfo, Zxid::make(accepted, 0)));
    from(sid, packet(PacketType::ackepoch, last, current));
  }
  LeaderCore core;
  Instant now{};
};

}  // namespace

TEST_CASE("the new epoch is one more than the largest acceptedEpoch of the first quorum",
          "[unit]") {
  Leader l({3, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{}, txns(1, 1, 5)}, {1, 2, 3, 4, 5});
  l.from(2, packet(PacketType::followerinfo, Zxid::make(6, 0)));
  CHECK(l.core.effects().storage.empty());  // 2 of 5: no quorum yet
  l.from(4, packet(PacketType::followerinfo, Zxid::make(2, 0)));
  CHECK(l.core.epoch() == 7);
  REQUIRE(l.core.effects().storage.size() == 1);
  CHECK(l.core.effects().storage[0].kind == StorageStep::Kind::set_accepted_epoch);
  CHECK(l.core.effects().storage[0].epoch == 7);
  CHECK(l.sent_to(2).back().type == PacketType::leaderinfo);
  CHECK(l.sent_to(4).back().zxid == Zxid::make(7, 0));
  // A late joiner with a larger acceptedEpoch does not change the frozen epoch.
  l.from(5, packet(PacketType::followerinfo, Zxid::make(9, 0)));
  CHECK(l.core.epoch() == 7);
}

TEST_CASE("currentEpoch is written once a quorum acked the epoch - -1 does not count", "[unit]") {
  Leader l({1, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{}, txns(1, 1, 5)}, {1, 2, 3, 4, 5});
  l.from(2, packet(PacketType::followerinfo, Zxid::make(1, 0)));
  l.from(3, packet(PacketType::followerinfo, Zxid::make(1, 0)));
  l.core.effects().storage.clear();
  l.from(2, packet(PacketType::ackepoch, Zxid::make(1, 5), -1));  // already accepted epoch 2
  CHECK(l.core.effects().storage.empty());
  l.from(3, packet(PacketType::ackepoch, Zxid::make(1, 5), 1));
  CHECK(l.core.effects().storage.empty());  // {1, 3} of 5
  l.from(4, packet(PacketType::followerinfo, Zxid::make(1, 0)));
  l.from(4, packet(PacketType::ackepoch, Zxid::make(1, 4), 1));
  REQUIRE(l.core.effects().storage.size() == 1);
  CHECK(l.core.effects().storage[0].kind == StorageStep::Kind::set_current_epoch);
}

TEST_CASE("a follower ahead of the leader is refused", "[unit]") {
  Leader l;
  l.join(2, 1, 1, Zxid::make(1, 9));  // same epoch, larger zxid than the leader's (1,5)
  l.join(3, 1, 2, Zxid::make(2, 1));  // larger currentEpoch
  for (ServerId sid : {2, 3})
    for (const auto& p : l.sent_to(sid)) CHECK(p.type != PacketType::newleader);
  CHECK(l.core.phase() == LeaderCore::Phase::discovery);
}

TEST_CASE("sync: DIFF from a zxid in the window - then proposals - commits - NEWLEADER", "[unit]") {
  Leader l;
  l.join(2, 1, 1, Zxid::make(1, 3));
  const auto out = l.sent_to(2);
  REQUIRE(out.size() == 5);
  CHECK(out[0].type == PacketType::leaderinfo);
  CHECK(out[1].type == PacketType::diff);
  CHECK(out[1].zxid == Zxid::make(1, 5));  // the leader's last committed, not the peer's
  CHECK(out[2].type == PacketType::proposal);
  REQUIRE(out[2].txns.size() == 2);
  CHECK(out[2].txns[0].zxid == Zxid::make(1, 4));
  CHECK(out[3].type == PacketType::commit);
  CHECK(out[4].type == PacketType::newleader);
  CHECK(out[4].zxid == Zxid::make(2, 0));
}

TEST_CASE("plan_sync chooses as ZooKeeper does", "[unit]") {
  const auto window = [] {
    std::deque<Txn> w;
    for (auto& t : txns(1, 3, 6)) w.push_back(t);
    for (auto& t : txns(2, 1, 2)) w.push_back(t);
    return w;
  }();
  const Zxid last = Zxid::make(2, 2);
  const Zxid snap_at = Zxid::make(1, 2);
  using quorum::plan_sync;
  // Equal: an empty DIFF.
  CHECK(plan_sync(last, last, window, snap_at).mode == PacketType::diff);
  // Ahead of everything (not a new-epoch zxid): TRUNC to the leader's last.
  auto p = plan_sync(Zxid::make(2, 7), last, window, snap_at);
  CHECK(p.mode == PacketType::trunc);
  CHECK(p.mode_zxid == last);
  // Inside the window on a known zxid: DIFF.
  p = plan_sync(Zxid::make(1, 4), last, window, snap_at);
  CHECK(p.mode == PacketType::diff);
  CHECK(p.send_after == Zxid::make(1, 4));
  // A zxid the leader never had, same epoch as the next one: TRUNC to the one before.
  std::deque<Txn> holes = window;
  holes.erase(holes.begin() + 2);  // the leader has (1,3),(1,4),(1,6): say the peer has (1,5)
  holes[2].zxid = Zxid::make(1, 6);
  p = plan_sync(Zxid::make(1, 5), last, holes, snap_at);
  CHECK(p.mode == PacketType::trunc);
  CHECK(p.mode_zxid == Zxid::make(1, 4));
  // Never TRUNC across an epoch boundary: the peer's (1,7) is followed by (2,1) here.
  p = plan_sync(Zxid::make(1, 7), last, window, snap_at);
  CHECK(p.mode == PacketType::snap);
  // A new-epoch zxid inside the window: DIFF from there.
  p = plan_sync(Zxid::make(2, 0), last, window, snap_at);
  CHECK(p.mode == PacketType::diff);
  // Older than the window: SNAP, at a committed point.
  p = plan_sync(Zxid::make(1, 1), last, window, snap_at);
  CHECK(p.mode == PacketType::snap);
  CHECK(p.mode_zxid == snap_at);
  // ... unless the on-disk log reaches back to the learner: DIFF, starting on disk.
  p = plan_sync(Zxid::make(1, 1), last, window, snap_at, true, Zxid::make(1, 0));
  CHECK(p.mode == PacketType::diff);
  CHECK(p.from_disk);
  CHECK(p.mode_zxid == last);
  CHECK(p.send_after == Zxid::make(1, 1));
  p = plan_sync(Zxid::make(1, 1), last, window, snap_at, true, Zxid::make(1, 2));  // too short
  CHECK(p.mode == PacketType::snap);
}

TEST_CASE("established on a quorum of NEWLEADER ACKs - then UPTODATE", "[unit]") {
  Leader l;
  l.join(2, 1, 1, Zxid::make(1, 5));
  CHECK(l.core.phase() == LeaderCore::Phase::synchronization);
  l.core.effects().clear();
  l.from(2, packet(PacketType::ack, Zxid::make(2, 0)));
  CHECK(l.core.phase() == LeaderCore::Phase::broadcast);
  CHECK(l.core.effects().established == 2);
  CHECK(l.sent_to(2).back().type == PacketType::uptodate);
}

TEST_CASE("ZOOKEEPER-4685 - a proposal ACK before the NEWLEADER ACK is not counted", "[unit]") {
  Leader l;
  l.join(2, 1, 1, Zxid::make(1, 5));
  l.from(2, packet(PacketType::ack, Zxid::make(2, 1)));
  CHECK(l.core.phase() == LeaderCore::Phase::synchronization);
}

TEST_CASE("commit needs a quorum with the leader durable - acks and commits are cumulative",
          "[unit]") {
  Leader l({1, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{}, txns(1, 1, 5)}, {1, 2, 3, 4, 5});
  // Learners send ACKEPOCH only after LEADERINFO, which comes once a quorum connected.
  for (ServerId sid : {2, 3}) l.from(sid, packet(PacketType::followerinfo, Zxid::make(1, 0)));
  for (ServerId sid : {2, 3}) l.from(sid, packet(PacketType::ackepoch, Zxid::make(1, 5), 1));
  for (ServerId sid : {2, 3}) l.from(sid, packet(PacketType::ack, Zxid::make(2, 0)));
  REQUIRE(l.core.phase() == LeaderCore::Phase::broadcast);
  l.core.effects().clear();
  l.core.propose(txns(0, 1, 4), l.now);  // the leader assigns (2,1)..(2,4)
  REQUIRE(l.core.effects().storage.size() == 1);
  CHECK(l.core.effects().storage[0].txns.back().zxid == Zxid::make(2, 4));
  CHECK(l.sent_to(2).back().txns.size() == 4);  // one batched PROPOSAL
  l.core.effects().clear();
  l.from(2, packet(PacketType::ack, Zxid::make(2, 4)));
  l.from(3, packet(PacketType::ack, Zxid::make(2, 2)));
  CHECK(l.core.committed() == Zxid::make(1, 5));  // the leader's own log is not durable yet
  l.core.on_log_durable(Zxid::make(2, 3));
  CHECK(l.core.committed() == Zxid::make(2, 2));  // {1, 2, 3} all hold (2,2)
  CHECK(l.sent_to(2).back().type == PacketType::commit);
  l.from(3, packet(PacketType::ack, Zxid::make(2, 4)));
  CHECK(l.core.committed() == Zxid::make(2, 3));  // the leader is durable to (2,3) only
}

TEST_CASE("the in-flight window holds writes back until commits free it", "[unit]") {
  Leader l({1, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{}, txns(1, 1, 5)});
  quorum::ZabConfig config{.self = 1, .voters = {1, 2, 3}, .tick = 100ms, .max_in_flight = 2};
  LeaderCore core(config, {1, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{}, txns(1, 1, 5)},
                  Instant{});
  core.on_packet(2, packet(PacketType::followerinfo, Zxid::make(1, 0)), Instant{});
  core.on_packet(2, packet(PacketType::ackepoch, Zxid::make(1, 5), 1), Instant{});
  core.on_packet(2, packet(PacketType::ack, Zxid::make(2, 0)), Instant{});
  core.propose(txns(0, 1, 5), Instant{});
  CHECK(core.outstanding() == 2);
  core.on_log_durable(Zxid::make(2, 2));
  core.on_packet(2, packet(PacketType::ack, Zxid::make(2, 2)), Instant{});
  CHECK(core.committed() == Zxid::make(2, 2));
  CHECK(core.outstanding() == 2);  // (2,3) and (2,4) now in flight
  CHECK(core.last_proposed() == Zxid::make(2, 4));
}

TEST_CASE("ZOOKEEPER-1277 - the zxid counter never wraps: the leader steps down", "[unit]") {
  quorum::ZabConfig config{.self = 1, .voters = {1}, .tick = 100ms, .zxid_counter_limit = 3};
  LeaderCore core(config, {1, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{}, txns(1, 1, 5)},
                  Instant{});
  REQUIRE(core.phase() == LeaderCore::Phase::broadcast);  // a single voter leads alone
  core.propose(txns(0, 1, 3), Instant{});  // (2,1)..(2,3): the last usable counter is 3
  CHECK_FALSE(core.failed());
  CHECK(core.last_proposed() == Zxid::make(2, 3));
  core.propose(txns(0, 4, 4), Instant{});
  CHECK(core.failed());
  CHECK(core.effects().failed->find("zxid counter exhausted") != std::string::npos);
}

TEST_CASE("a leader that cannot keep a quorum synced steps down", "[unit]") {
  Leader l;
  l.join(2, 1, 1, Zxid::make(1, 5));
  l.from(2, packet(PacketType::ack, Zxid::make(2, 0)));
  REQUIRE(l.core.phase() == LeaderCore::Phase::broadcast);
  // syncLimit = 5 ticks of 100 ms: learner 2 is silent from t=0.
  for (auto t = 50ms; t <= 500ms; t += 50ms) l.core.on_tick(Instant(t));
  CHECK_FALSE(l.core.failed());
  l.core.on_tick(Instant(550ms));
  CHECK(l.core.failed());
}

TEST_CASE("a quorum that never joins ends the leadership after initLimit", "[unit]") {
  Leader l;
  l.core.on_tick(Instant(1000ms));
  CHECK_FALSE(l.core.failed());
  l.core.on_tick(Instant(1050ms));
  CHECK(l.core.failed());
}

TEST_CASE("dirty snapshots - a SNAP image is taken at a committed point - the rest follows it",
          "[unit]") {
  // The leader logged (1,1)..(1,5) but only knows (1,1)..(1,3) committed: its state machine
  // holds (1,3), so the image must be taken there and (1,4),(1,5) follow as proposals.
  auto recent = txns(1, 1, 5);
  // The log starts after (1,0), so an empty learner cannot be DIFF-synced from disk either.
  Leader l({1, 1, Zxid::make(1, 5), Zxid::make(1, 3), Zxid::make(1, 0), recent});
  l.join(2, 1, 1, Zxid{});
  auto out = l.sent_to(2);
  // (0,0) is below the window and the log: SNAP at the committed point.
  REQUIRE(out.size() >= 4);
  CHECK(out[1].type == PacketType::snap);
  CHECK(out[1].zxid == Zxid::make(1, 3));
  REQUIRE(l.core.effects().snapshot_requests.size() == 1);
  CHECK(out[2].type == PacketType::proposal);
  REQUIRE(out[2].txns.size() == 2);
  CHECK(out[2].txns.front().zxid == Zxid::make(1, 4));
}

TEST_CASE("a learner that leaves a proposal unacknowledged for syncLimit is dropped", "[unit]") {
  Leader l({1, 1, Zxid::make(1, 5), Zxid::make(1, 5), Zxid{}, txns(1, 1, 5)}, {1, 2, 3, 4, 5});
  for (ServerId sid : {2, 3, 4}) l.from(sid, packet(PacketType::followerinfo, Zxid::make(1, 0)));
  for (ServerId sid : {2, 3, 4}) l.from(sid, packet(PacketType::ackepoch, Zxid::make(1, 5), 1));
  for (ServerId sid : {2, 3, 4}) l.from(sid, packet(PacketType::ack, Zxid::make(2, 0)));
  REQUIRE(l.core.phase() == LeaderCore::Phase::broadcast);
  l.core.propose(txns(0, 1, 1), Instant{});
  l.core.on_log_durable(Zxid::make(2, 1));
  // 2 and 3 keep acking and pinging; 4 pings but never acks (a stalled disk).
  for (auto t = 50ms; t <= 600ms; t += 50ms) {
    l.now = Instant(t);
    for (ServerId sid : {2, 3}) l.from(sid, packet(PacketType::ack, Zxid::make(2, 1)));
    l.from(4, packet(PacketType::ping, Zxid::make(2, 1)));
    l.core.effects().clear();
    l.core.on_tick(l.now);
  }
  CHECK_FALSE(l.core.failed());
  l.core.effects().clear();
  l.core.propose(txns(0, 2, 2), l.now);
  CHECK(l.sent_to(4).empty());  // no longer a learner of this leader
  CHECK(l.sent_to(2).size() == 1);
}

TEST_CASE("ZAB settings that cannot work are refused with the reason", "[unit]") {
  quorum::ZabConfig ok{.self = 1, .voters = {1}};
  CHECK(validate(ok).empty());
  auto bad = ok;
  bad.tick = 0ms;
  CHECK(validate(bad) == "tick must be positive");
  bad = ok;
  bad.init_limit = 0;
  CHECK(validate(bad).find("init_limit") != std::string::npos);
  bad = ok;
  bad.sync_limit = 0;
  CHECK(validate(bad).find("sync_limit") != std::string::npos);
  bad = ok;
  bad.max_in_flight = 0;
  CHECK(validate(bad).find("max_in_flight") != std::string::npos);
}

TEST_CASE("a preparer sees each request after its zxid - once the host applied the establishment",
          "[unit]") {
  Leader l;
  std::vector<std::pair<Zxid, ServerId>> prepared;
  l.core.set_preparer([&](Txn& t, ServerId via) {
    prepared.push_back({t.zxid, via});
    t.data = "prepared";
  });
  l.core.propose({Txn{{}, 1, "request"}}, l.now);  // waits: not established yet
  l.join(2, 1, 1, Zxid::make(1, 5));
  l.from(2, packet(PacketType::ack, Zxid::make(2, 0)));
  REQUIRE(l.core.phase() == LeaderCore::Phase::broadcast);
  CHECK(prepared.empty());  // prep reads the applied tree: (1,5) is not applied yet
  l.core.on_applied(Zxid::make(1, 5));
  REQUIRE(prepared.size() == 1);
  CHECK(prepared[0].first == Zxid::make(2, 1));
  CHECK(prepared[0].second == 1);  // submitted at the leader itself
  l.from(2, QuorumPacket{PacketType::request, Zxid::none(), 0, {Txn{{}, 1, "from 2"}}, {}});
  REQUIRE(prepared.size() == 2);
  CHECK(prepared[1] == std::pair<Zxid, ServerId>{Zxid::make(2, 2), 2});
  CHECK(l.core.effects().storage.back().txns.back().data == "prepared");
}

TEST_CASE("a sync marker takes no zxid and is answered once what preceded it commits", "[unit]") {
  Leader l;
  l.join(2, 1, 1, Zxid::make(1, 5));
  l.from(2, packet(PacketType::ack, Zxid::make(2, 0)));
  REQUIRE(l.core.phase() == LeaderCore::Phase::broadcast);
  l.core.on_log_durable(Zxid::make(1, 5));
  l.core.effects().clear();
  l.core.propose({Txn{{}, 1, "write"}}, l.now);  // (2,1)
  l.from(2, QuorumPacket{PacketType::request,
                         Zxid::none(),
                         0,
                         {Txn{{}, quorum::txn_type_sync_marker, "from 2"}},
                         {}});
  l.core.propose({Txn{{}, quorum::txn_type_sync_marker, "mine"}}, l.now);
  CHECK(l.core.last_proposed() == Zxid::make(2, 1));
  CHECK(l.core.effects().syncs.empty());
  for (const auto& p : l.sent_to(2)) CHECK(p.type != PacketType::sync);
  l.core.on_log_durable(Zxid::make(2, 1));
  l.from(2, packet(PacketType::ack, Zxid::make(2, 1)));
  CHECK(l.core.effects().syncs == std::vector<std::string>{"mine"});
  const auto out = l.sent_to(2);
  REQUIRE(out.size() >= 2);
  CHECK(out[out.size() - 2].type == PacketType::commit);  // the COMMIT first, then the answer
  CHECK(out.back().type == PacketType::sync);
  CHECK(out.back().data == "from 2");
  // With nothing outstanding, a marker is answered at once.
  l.core.effects().clear();
  l.core.propose({Txn{{}, quorum::txn_type_sync_marker, "now"}}, l.now);
  CHECK(l.core.effects().syncs == std::vector<std::string>{"now"});
}
