// The seed's two elections again, with members on real threads (InProcTransport).
// Waits are bounded by events, never by sleeping; the bound only stops a broken run.
#include "support/catch.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>

#include "quorum/inproc_member.hpp"

using namespace std::chrono_literals;
using quorum::InProcHub;
using quorum::InProcMember;
using quorum::MemoryStorage;
using quorum::PeerState;
using quorum::ServerId;
using quorum::Vote;
using quorum::Zxid;

namespace {

constexpr auto bound = 30s;  // generous: a failure, not a timing, ends a wait this long

class Ensemble {
 public:
  explicit Ensemble(std::vector<ServerId> ids) {
    for (ServerId id : ids) {
      storage[id];
      resends[id] = 0;  // every key exists before member threads run
      quorum::ElectionConfig config{.self = id,
                                    .voters = ids,
                                    .finalize_wait = 50ms,
                                    .min_notification_interval = 50ms,
                                    .max_notification_interval = 400ms,
                                    .quorum_config_text = {}};
      auto m = std::make_unique<InProcMember>(hub, config, storage[id]);
      m->set_observer([this, id](const quorum::ElectionEvent& e) {
        if (std::holds_alternative<quorum::NotificationsResent>(e)) ++resends[id];
      });
      members[id] = std::move(m);
    }
  }

  InProcMember& operator[](ServerId id) { return *members.at(id); }

  bool wait_state(ServerId id, PeerState state, ServerId leader) {
    return members.at(id)->wait_until(
        [&](PeerState s, const Vote& v) { return s == state && v.leader == leader; }, bound);
  }

  InProcHub hub;
  std::map<ServerId, MemoryStorage> storage;
  std::map<ServerId, std::atomic<int>> resends;
  std::map<ServerId, std::unique_ptr<InProcMember>> members;  // destroyed first
};

}  // namespace

TEST_CASE("in process - first start: 1 stays LOOKING - 2 leads - 3 follows 2", "[scenario]") {
  Ensemble e({1, 2, 3});
  e[1].start();
  // Server 1 alone keeps re-sending its vote and stays LOOKING: one vote is not a majority.
  REQUIRE(e[1].wait_until([&](PeerState, const Vote&) { return e.resends[1] >= 3; }, bound));
  CHECK(e[1].state() == PeerState::looking);

  e[2].start();
  REQUIRE(e.wait_state(2, PeerState::leading, 2));
  REQUIRE(e.wait_state(1, PeerState::following, 2));

  e[3].start();
  REQUIRE(e.wait_state(3, PeerState::following, 2));
  CHECK(e[2].state() == PeerState::leading);
}

TEST_CASE("in process - restart: 3 leads - 3 and 5 fail - 1 - 2 and 4 elect 2", "[scenario]") {
  Ensemble e({1, 2, 3, 4, 5});
  const std::map<ServerId, std::uint32_t> zxid_counter{{1, 8}, {2, 8}, {3, 8}, {4, 7}, {5, 7}};
  for (auto [id, counter] : zxid_counter) {
    e.storage[id].set_current_epoch(1);
    e.storage[id].set_accepted_epoch(1);
    e.storage[id].set_last_logged_zxid(Zxid::make(1, counter));
  }
  for (ServerId id : {1, 2, 3, 4, 5}) e[id].start();
  REQUIRE(e.wait_state(3, PeerState::leading, 3));
  for (ServerId id : {1, 2, 4, 5}) REQUIRE(e.wait_state(id, PeerState::following, 3));

  e[3].stop();
  e[5].stop();
  for (ServerId id : {1, 2, 4}) e[id].leader_lost();

  REQUIRE(e.wait_state(2, PeerState::leading, 2));
  REQUIRE(e.wait_state(1, PeerState::following, 2));
  REQUIRE(e.wait_state(4, PeerState::following, 2));
}
