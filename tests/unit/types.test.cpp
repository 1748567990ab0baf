#include "support/catch.hpp"

#include "quorum/types.hpp"

using quorum::PeerState;
using quorum::Zxid;

TEST_CASE("a zxid is the epoch in the high 32 bits and a counter in the low 32", "[unit]") {
  const Zxid z = Zxid::make(1, 8);
  CHECK(z.value == 0x100000008);
  CHECK(z.epoch() == 1);
  CHECK(z.counter() == 8);
  CHECK(Zxid::make(0xfffffffe, 0xffffffff).epoch() == 0xfffffffe);
  CHECK(Zxid::make(0xfffffffe, 0xffffffff).counter() == 0xffffffffu);
}

TEST_CASE("zxids print as ZooKeeper logs them", "[unit]") {
  CHECK(to_string(Zxid::make(1, 8)) == "0x100000008");
  CHECK(to_string(Zxid::make(2, 0)) == "0x200000000");
  CHECK(to_string(Zxid{}) == "0x0");
  CHECK(to_string(Zxid::none()) == "0xffffffffffffffff");
}

TEST_CASE("zxids order as signed numbers: none sorts before every real zxid", "[unit]") {
  CHECK(Zxid::none() < Zxid{});
  CHECK(Zxid::make(1, 8) > Zxid::make(1, 7));
  CHECK(Zxid::make(2, 0) > Zxid::make(1, 0xffffffff));
}

TEST_CASE("peer states carry ZooKeeper's ordinals and names", "[unit]") {
  CHECK(static_cast<int>(PeerState::looking) == 0);
  CHECK(static_cast<int>(PeerState::following) == 1);
  CHECK(static_cast<int>(PeerState::leading) == 2);
  CHECK(static_cast<int>(PeerState::observing) == 3);
  CHECK(to_string(PeerState::looking) == "LOOKING");
  CHECK(to_string(PeerState::following) == "FOLLOWING");
  CHECK(to_string(PeerState::leading) == "LEADING");
  CHECK(to_string(PeerState::observing) == "OBSERVING");
}
