// Session ids, passwords and the leader's expiry tracking (zk-reference §4).
#include "support/catch.hpp"

#include <chrono>

#include "quorum/tree/session_ids.hpp"
#include "quorum/tree/session_tracker.hpp"

using namespace std::chrono_literals;
using namespace quorum;
using namespace quorum::tree;

TEST_CASE("session passwords match java.util.Random as ZooKeeper seeds it") {
  // Expected bytes printed by OpenJDK 17: new Random(id ^ 0xB3415C00L).nextBytes(16).
  CHECK(session_password(0x0100000755bf0000) == SessionPassword{0xf3, 0x15, 0x62, 0x92, 0x04, 0xdc,
                                                                0x14, 0x36, 0x89, 0x11, 0x3e, 0xb8,
                                                                0xed, 0xd5, 0x1c, 0xc4});
  CHECK(session_password(0x0200000755da0001) == SessionPassword{0x07, 0x20, 0xd3, 0x85, 0x11, 0x43,
                                                                0xd8, 0xa4, 0xe7, 0xef, 0xe4, 0x78,
                                                                0x76, 0xe0, 0xb2, 0x95});
  CHECK(session_password(42) == SessionPassword{0xc8, 0x13, 0xee, 0x49, 0x56, 0x20, 0xc3, 0xa6,
                                                0x87, 0x94, 0xef, 0x27, 0xa2, 0x39, 0xe8, 0xa9});
}

TEST_CASE("session ids carry the server id - a clock reading and a counter") {
  // ZooKeeper: ((ms << 24) >>> 8) | (sid << 56); the observed 0x0100000755bf0000 had ms with
  // low 40 bits 0x0755bf.
  SessionIdGenerator ids(1, 0x0755bf);
  CHECK(ids.next() == 0x0100000755bf0000);
  CHECK(ids.next() == 0x0100000755bf0001);
  SessionIdGenerator other(2, 0x0755da);
  CHECK(other.next() == 0x0200000755da0000);
}

TEST_CASE("sessions expire on the tick after their timeout - touches push it back") {
  SessionTracker t(100ms);
  const Instant zero{};
  t.add(7, 250, 1, zero + 10ms);  // 260 ms rounds up to 300 ms
  CHECK(t.expire(zero + 299ms).empty());
  CHECK(t.touch(7, 1, false, zero + 200ms));  // 450 ms -> 500 ms
  CHECK(t.expire(zero + 300ms).empty());
  CHECK(t.expire(zero + 499ms).empty());
  CHECK(t.expire(zero + 500ms) == std::vector<std::int64_t>{7});
  CHECK(t.expire(zero + 600ms).empty());  // reported once; it is closing now
  CHECK(t.check(7, 0) == errc::session_expired);
  CHECK_FALSE(t.touch(7, 1, false, zero + 600ms));
  t.remove(7);
  CHECK_FALSE(t.contains(7));
}

TEST_CASE("a session's owner moves only by revalidation") {
  SessionTracker t(100ms);
  t.add(9, 1000, 1, Instant{});
  CHECK(t.check(9, 1) == errc::ok);
  CHECK(t.check(9, 2) == errc::session_moved);
  CHECK(t.touch(9, 2, false, Instant{}));
  CHECK(t.check(9, 2) == errc::session_moved);
  CHECK(t.touch(9, 2, true, Instant{}));
  CHECK(t.check(9, 2) == errc::ok);
  CHECK(t.check(9, 1) == errc::session_moved);
  CHECK(t.check(10, 1) == errc::session_expired);
}

TEST_CASE("a new leader adopts every session with a full timeout and no owner") {
  struct Record {
    std::int32_t timeout_ms;
  };
  std::map<std::int64_t, Record> sessions{{1, {200}}, {2, {1000}}};
  SessionTracker t(100ms);
  t.adopt(sessions, Instant{} + 1s);
  CHECK(t.size() == 2);
  CHECK(t.check(1, 3) == errc::ok);  // owner unknown until a member touches it
  CHECK(t.expire(Instant{} + 1199ms).empty());
  CHECK(t.expire(Instant{} + 1200ms) == std::vector<std::int64_t>{1});
}
