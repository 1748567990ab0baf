// Fast Leader Election's rules, one at a time, on the sans-I/O core (zk-reference §1.4-1.5).
#include "support/catch.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "quorum/election/election_core.hpp"

using namespace std::chrono_literals;
using quorum::DecisionPath;
using quorum::Duration;
using quorum::ElectionConfig;
using quorum::ElectionCore;
using quorum::Epoch;
using quorum::Instant;
using quorum::Notification;
using quorum::OutboundNotification;
using quorum::PeerState;
using quorum::ServerId;
using quorum::Zxid;

namespace {

Notification note(PeerState state, ServerId leader, Zxid zxid, std::int64_t round, Epoch epoch) {
  return Notification{state, leader, zxid, round, epoch, 2, {}};
}
Notification looking(ServerId leader, std::int64_t round, Zxid zxid = {}, Epoch epoch = 0) {
  return note(PeerState::looking, leader, zxid, round, epoch);
}

struct Member {
  explicit Member(ServerId self, std::vector<ServerId> voters = {1, 2, 3},
                  Duration finalize = 200ms)
      : core(ElectionConfig{.self = self,
                            .voters = std::move(voters),
                            .finalize_wait = finalize,
                            .min_notification_interval = 200ms,
                            .max_notification_interval = 1s,
                            .quorum_config_text = {}}) {}

  // Takes the notifications to send; events stay for the tests that read them.
  std::vector<OutboundNotification> sent() {
    auto out = std::move(core.effects().messages);
    core.effects().messages.clear();
    return out;
  }
  std::vector<OutboundNotification> start(Zxid zxid = {}, Epoch epoch = 0) {
    core.start_looking(now, {zxid, epoch});
    return sent();
  }
  std::vector<OutboundNotification> receive(ServerId from, const Notification& n) {
    core.on_notification(from, n, now);
    return sent();
  }
  std::vector<OutboundNotification> advance(Duration d) {
    now += d;
    core.on_tick(now);
    return sent();
  }
  // Brings this member to FOLLOWING/LEADING through a same-round quorum.
  void decide_with(ServerId peer, ServerId leader) {
    start();
    receive(peer, looking(leader, core.logical_clock()));
    advance(200ms);
  }

  ElectionCore core;
  Instant now{};
};

std::vector<ServerId> recipients(const std::vector<OutboundNotification>& out) {
  std::vector<ServerId> ids;
  for (const auto& o : out) ids.push_back(o.to);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

TEST_CASE("starting: the clock advances and the member's own vote goes to every other voter",
          "[unit]") {
  Member m(2);
  const auto out = m.start(Zxid::make(1, 8), 1);
  CHECK(m.core.state() == PeerState::looking);
  CHECK(m.core.logical_clock() == 1);
  CHECK(recipients(out) == std::vector<ServerId>{1, 3});
  for (const auto& o : out) {
    CHECK(o.notification == note(PeerState::looking, 2, Zxid::make(1, 8), 1, 1));
  }
}

TEST_CASE("nothing happens before the election starts", "[unit]") {
  Member m(1);
  CHECK(m.receive(2, looking(2, 1)).empty());
  CHECK_FALSE(m.core.next_deadline().has_value());
}

TEST_CASE("one vote of three is not a quorum: the member stays LOOKING", "[unit]") {
  Member m(1);
  m.start();
  for (int i = 0; i < 10; ++i) m.advance(1s);
  CHECK(m.core.state() == PeerState::looking);
}

TEST_CASE("a single-voter ensemble leads itself after the finalize wait", "[unit]") {
  Member m(1, {1});
  m.start();
  CHECK(m.core.state() == PeerState::looking);
  m.advance(199ms);
  CHECK(m.core.state() == PeerState::looking);
  m.advance(1ms);
  CHECK(m.core.state() == PeerState::leading);
}

TEST_CASE("a better vote in the same round is adopted and re-broadcast - a worse one is not",
          "[unit]") {
  Member m(1);
  m.start();
  auto out = m.receive(2, looking(2, 1));
  CHECK(m.core.current_vote().leader == 2);
  CHECK(recipients(out) == std::vector<ServerId>{2, 3});
  CHECK(out.front().notification.leader == 2);

  Member n(3);
  n.start();
  CHECK(n.receive(2, looking(2, 1)).empty());
  CHECK(n.core.current_vote().leader == 3);
}

TEST_CASE("a newer round: join it - and compare against the initial vote - not the proposal",
          "[unit]") {
  Member m(1, {1, 2, 3, 4, 5});  // five voters: {1, 3} is no quorum, so no finalize wait
  m.start();
  m.receive(3, looking(3, 1));  // proposes 3 in round 1
  REQUIRE(m.core.current_vote().leader == 3);
  // Round 5 proposes 2: worse than 3, but better than 1's own initial vote.
  auto out = m.receive(2, looking(2, 5));
  CHECK(m.core.logical_clock() == 5);
  CHECK(m.core.current_vote().leader == 2);
  REQUIRE(recipients(out) == std::vector<ServerId>{2, 3, 4, 5});
  CHECK(out.front().notification.election_epoch == 5);
}

TEST_CASE("a newer round whose vote is worse than the initial one keeps the initial vote",
          "[unit]") {
  Member m(3);
  m.start(Zxid::make(1, 8), 1);
  m.receive(1, looking(1, 4, Zxid::make(1, 7), 1));
  CHECK(m.core.logical_clock() == 4);
  CHECK(m.core.current_vote().leader == 3);
}

TEST_CASE("a peer in an older round is answered with our proposal and otherwise ignored",
          "[unit]") {
  Member m(1);
  m.start();
  m.receive(3, looking(3, 4));  // now in round 4, proposing 3
  auto out = m.receive(2, looking(2, 2));
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == 2);
  CHECK(out[0].notification == looking(3, 4));
  CHECK(m.core.current_vote().leader == 3);
}

TEST_CASE("a quorum for the proposal decides only after the finalize wait", "[unit]") {
  Member m(1);
  m.start();
  m.receive(2, looking(2, 1));  // adopts 2; {1→2, 2→2} is a quorum
  REQUIRE(m.core.next_deadline() == Instant(200ms));
  m.advance(199ms);
  CHECK(m.core.state() == PeerState::looking);
  m.advance(1ms);
  CHECK(m.core.state() == PeerState::following);
  CHECK(m.core.current_vote().leader == 2);
  CHECK(m.core.current_vote().state == PeerState::following);
}

TEST_CASE("during the finalize wait a not-better vote is dropped and the wait starts over",
          "[unit]") {
  Member m(2);
  m.start();
  m.receive(1, looking(1, 1));  // {1→1, 2→2}: no quorum
  m.receive(1, looking(2, 1));  // {1→2, 2→2}: quorum for 2
  m.advance(150ms);
  m.receive(1, looking(1, 1));  // worse: dropped, not counted, wait restarts
  m.advance(150ms);
  CHECK(m.core.state() == PeerState::looking);
  m.advance(50ms);
  CHECK(m.core.state() == PeerState::leading);
}

TEST_CASE("during the finalize wait a better vote reopens the election", "[unit]") {
  Member m(1);
  m.start();
  m.receive(2, looking(2, 1));  // quorum for 2, finalizing
  m.advance(100ms);
  m.receive(3, looking(3, 1));  // better: adopt 3 and go on looking
  CHECK(m.core.current_vote().leader == 3);
  m.advance(150ms);  // the old deadline passes without a decision for 2
  CHECK(m.core.state() == PeerState::looking);
  m.receive(2, looking(3, 1));  // now {1,2,3}→3
  m.advance(200ms);
  CHECK(m.core.state() == PeerState::following);
  CHECK(m.core.current_vote().leader == 3);
}

TEST_CASE("a duplicated notification changes nothing", "[unit]") {
  Member m(3, {1, 2, 3, 4, 5});
  m.start();
  m.receive(1, looking(1, 1));
  const auto before = m.core.current_vote();
  CHECK(m.receive(1, looking(1, 1)).empty());
  CHECK(m.receive(1, looking(1, 1)).empty());
  const auto after = m.core.current_vote();
  CHECK(after.leader == before.leader);
  CHECK(after.election_epoch == before.election_epoch);
  CHECK(m.core.state() == PeerState::looking);
}

TEST_CASE("with nothing heard the member re-sends with doubling intervals up to the maximum",
          "[unit]") {
  Member m(1);
  m.start();
  std::vector<Duration> gaps;
  Instant last = m.now;
  for (int i = 0; i < 6; ++i) {
    const Instant next = *m.core.next_deadline();
    CHECK(recipients(m.advance(next - m.now)) == std::vector<ServerId>{2, 3});
    gaps.push_back(next - last);
    last = next;
  }
  CHECK(gaps == std::vector<Duration>{200ms, 400ms, 800ms, 1s, 1s, 1s});
}

TEST_CASE("a re-send carries the current proposal to every other voter", "[unit]") {
  Member m(1, {1, 2, 3, 4, 5});
  m.start();
  m.receive(3, looking(3, 1));
  m.advance(100ms);
  const auto out = m.advance(*m.core.next_deadline() - m.now);
  CHECK(recipients(out) == std::vector<ServerId>{2, 3, 4, 5});
  CHECK(out.front().notification == looking(3, 1));
}

TEST_CASE("a notification resets the re-send timer (ZooKeeper polls with a timeout)", "[unit]") {
  Member m(1, {1, 2, 3, 4, 5});
  m.start();
  m.advance(150ms);
  m.receive(2, looking(2, 1));
  CHECK(m.core.next_deadline() == m.now + 200ms);
}

TEST_CASE("joining an established leader: same-round FOLLOWING and LEADING votes", "[unit]") {
  Member m(3);
  m.start();
  m.receive(1, note(PeerState::following, 2, {}, 1, 0));
  CHECK(m.core.state() == PeerState::looking);  // 2 has not said LEADING yet
  m.receive(2, note(PeerState::leading, 2, {}, 1, 0));
  CHECK(m.core.state() == PeerState::following);
  CHECK(m.core.current_vote().leader == 2);
}

TEST_CASE("joining an established leader from another round adopts its round", "[unit]") {
  Member m(3);
  m.start();
  m.receive(1, looking(1, 6));  // we are in round 6
  REQUIRE(m.core.logical_clock() == 6);
  m.receive(1, note(PeerState::following, 2, Zxid::make(1, 0), 2, 1));
  m.receive(2, note(PeerState::leading, 2, Zxid::make(1, 0), 2, 1));
  CHECK(m.core.state() == PeerState::following);
  CHECK(m.core.logical_clock() == 2);
  CHECK(m.core.current_vote().election_epoch == 2);
}

TEST_CASE("never follow a leader that has not itself said LEADING", "[unit]") {
  Member m(3, {1, 2, 3, 4, 5});
  m.start();
  // A quorum of members say they follow 5, but 5 (crashed) never says it leads.
  for (ServerId id : {1, 2, 4}) m.receive(id, note(PeerState::following, 5, {}, 1, 0));
  CHECK(m.core.state() == PeerState::looking);
}

TEST_CASE("a leader back from a crash and LOOKING again is not followed", "[unit]") {
  Member m(3, {1, 2, 3, 4, 5});
  m.start();
  m.receive(5, looking(5, 1));  // 5 is back, LOOKING, and we vote for it
  REQUIRE(m.core.current_vote().leader == 5);
  for (ServerId id : {1, 2, 4}) m.receive(id, note(PeerState::following, 5, {}, 1, 0));
  CHECK(m.core.state() == PeerState::looking);  // a quorum says 5, but 5 never said LEADING
}

TEST_CASE("never lead on FOLLOWING votes from an older round of our own", "[unit]") {
  Member m(2);
  m.start();
  m.receive(1, looking(1, 3));  // now in round 3
  m.receive(1, note(PeerState::following, 2, {}, 1, 0));
  m.receive(3, note(PeerState::following, 2, {}, 1, 0));
  CHECK(m.core.state() == PeerState::looking);
}

TEST_CASE("a decided member answers LOOKING peers with its final vote - not others", "[unit]") {
  Member m(1);
  m.decide_with(2, 2);
  REQUIRE(m.core.state() == PeerState::following);
  auto out = m.receive(3, looking(3, 1));
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == 3);
  CHECK(out[0].notification == note(PeerState::following, 2, {}, 1, 0));
  CHECK(m.receive(2, note(PeerState::leading, 2, {}, 1, 0)).empty());
}

TEST_CASE("after sync the final vote carries the new epoch (ZOOKEEPER-1732)", "[unit]") {
  Member m(2);
  m.decide_with(1, 2);
  REQUIRE(m.core.state() == PeerState::leading);
  m.core.on_epoch_established(1);
  auto out = m.receive(3, looking(3, 1));
  REQUIRE(out.size() == 1);
  CHECK(out[0].notification.peer_epoch == 1);
  CHECK(out[0].notification.state == PeerState::leading);
}

TEST_CASE("a notification from a non-voter is answered and otherwise ignored", "[unit]") {
  Member m(1);
  m.start();
  auto out = m.receive(9, looking(9, 7));
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == 9);
  CHECK(m.core.logical_clock() == 1);
  CHECK(m.core.current_vote().leader == 1);
}

TEST_CASE("a vote for a non-voter is dropped", "[unit]") {
  Member m(1);
  m.start();
  m.receive(2, looking(9, 1));
  CHECK(m.core.current_vote().leader == 1);
}

TEST_CASE("a -1 zxid (no usable history) takes no part", "[unit]") {
  Member m(1);
  m.start();
  m.receive(2, looking(3, 1, Zxid::none()));
  CHECK(m.core.current_vote().leader == 1);
  Member lost(1);
  lost.start(Zxid::none());
  lost.receive(2, looking(2, 1));
  CHECK(lost.core.current_vote().leader == 1);
}

TEST_CASE("losing the leader starts a new round with the member's own vote", "[unit]") {
  Member m(1);
  m.decide_with(2, 2);
  REQUIRE(m.core.state() == PeerState::following);
  const auto out = m.start(Zxid::make(1, 3), 1);
  CHECK(m.core.state() == PeerState::looking);
  CHECK(m.core.logical_clock() == 2);
  CHECK(m.core.current_vote().leader == 1);
  CHECK(out.front().notification == note(PeerState::looking, 1, Zxid::make(1, 3), 2, 1));
}

TEST_CASE("the decision names its supporters and how it was reached", "[unit]") {
  Member m(1);
  m.start();
  m.receive(2, looking(2, 1));
  m.advance(200ms);
  const auto& events = m.core.effects().events;
  auto decided = std::find_if(events.begin(), events.end(), [](const auto& e) {
    return std::holds_alternative<quorum::Decided>(e);
  });
  REQUIRE(decided != events.end());
  const auto& d = std::get<quorum::Decided>(*decided);
  CHECK(d.path == DecisionPath::looking_quorum);
  CHECK(d.supporters == std::vector<ServerId>{1, 2});
  CHECK(d.state == PeerState::following);
}
