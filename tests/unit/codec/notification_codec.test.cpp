// Notifications on the wire: ZooKeeper's layouts, and garbage rejected with a reason.
#include "support/catch.hpp"

#include <cstdint>
#include <vector>

#include "quorum/codec/big_endian.hpp"
#include "quorum/codec/notification_codec.hpp"
#include "quorum/random.hpp"

using quorum::Notification;
using quorum::PeerState;
using quorum::Zxid;
using quorum::codec::decode_notification;
using quorum::codec::encode_notification;

namespace {
std::vector<std::uint8_t> header(std::int32_t state, std::int64_t leader, std::int64_t zxid,
                                 std::int64_t round) {
  std::vector<std::uint8_t> out;
  quorum::codec::Writer w(out);
  w.put(state);
  w.put(leader);
  w.put(zxid);
  w.put(round);
  return out;
}
}  // namespace

TEST_CASE("a notification round-trips in the version-2 layout", "[unit]") {
  const Notification n{PeerState::following,
                       2,
                       Zxid::make(1, 8),
                       3,
                       1,
                       2,
                       "server.1=127.0.0.1:2888:3888:participant\nversion=0"};
  const auto bytes = encode_notification(n);
  CHECK(bytes.size() == 44 + n.config.size());
  CHECK(bytes[3] == 1);   // int32 state, big-endian
  CHECK(bytes[11] == 2);  // int64 leader
  CHECK(bytes[15] == 1);  // zxid high word = epoch 1
  CHECK(bytes[19] == 8);  // zxid counter 8
  const auto decoded = decode_notification(bytes);
  REQUIRE(decoded);
  CHECK(*decoded.value == n);
}

TEST_CASE("28 bytes is the pre-3.4 layout: peerEpoch comes from the zxid", "[unit]") {
  const auto decoded = decode_notification(header(0, 3, Zxid::make(4, 2).value, 7));
  REQUIRE(decoded);
  CHECK(decoded.value->peer_epoch == 4);
  CHECK(decoded.value->version == 0);
  CHECK(decoded.value->election_epoch == 7);
}

TEST_CASE("40 bytes is the 3.4 layout: its version field is not read (version 0)", "[unit]") {
  auto bytes = header(2, 3, 5, 1);
  quorum::codec::Writer(bytes).put(std::int64_t{9});
  quorum::codec::Writer(bytes).put(std::int32_t{1});  // 3.4 sent version 1 here; 3.8 ignores it
  REQUIRE(bytes.size() == 40);
  const auto decoded = decode_notification(bytes);
  REQUIRE(decoded);
  CHECK(decoded.value->state == PeerState::leading);
  CHECK(decoded.value->peer_epoch == 9);
  CHECK(decoded.value->version == 0);
}

TEST_CASE("version 1 carries no config", "[unit]") {
  auto bytes = header(0, 3, 5, 1);
  quorum::codec::Writer w(bytes);
  w.put(std::int64_t{1});
  w.put(std::int32_t{1});
  w.put(std::int32_t{0});  // past 40 bytes, so the version is read
  const auto decoded = decode_notification(bytes);
  REQUIRE(decoded);
  CHECK(decoded.value->version == 1);
  CHECK(decoded.value->config.empty());
}

TEST_CASE("short - truncated and inconsistent notifications are rejected with a reason", "[unit]") {
  SECTION("shorter than 28 bytes") {
    const auto d = decode_notification(std::vector<std::uint8_t>(27, 0));
    CHECK_FALSE(d);
    CHECK(d.error == quorum::errc::marshalling_error);
    CHECK(d.why == "notification: 27 bytes is shorter than the 28-byte minimum");
  }
  SECTION("cut inside peerEpoch") {
    auto bytes = header(0, 1, 0, 1);
    bytes.resize(33);
    const auto d = decode_notification(bytes);
    CHECK_FALSE(d);
    CHECK(d.why.find("while reading peerEpoch") != std::string::npos);
  }
  SECTION("cut inside the version") {
    auto bytes = header(0, 1, 0, 1);
    bytes.resize(38);
    CHECK(decode_notification(bytes).why.find("while reading version") != std::string::npos);
  }
  SECTION("an unknown state") {
    const auto d = decode_notification(header(7, 1, 0, 1));
    CHECK(d.why.find("unknown peer state 7") != std::string::npos);
  }
  SECTION("a negative config length") {
    auto bytes = encode_notification(Notification{});
    bytes[43] = 0xff;
    bytes[40] = 0xff;
    CHECK(decode_notification(bytes).why.find("config length -") != std::string::npos);
  }
  SECTION("a config length past the end") {
    auto bytes = encode_notification(Notification{.config = "abc"});
    bytes[43] = 4;
    const auto d = decode_notification(bytes);
    CHECK_FALSE(d);
    CHECK(d.why.find("config length 4") != std::string::npos);
  }
  SECTION("no config length at all") {
    auto bytes = encode_notification(Notification{});
    bytes.resize(42);
    CHECK(decode_notification(bytes).why.find("configLength") != std::string::npos);
  }
}

TEST_CASE("random and mutated bytes never crash the decoder", "[unit]") {
  quorum::Prng prng(2024);
  const auto valid = encode_notification(Notification{.leader = 3, .config = "version=0"});
  int decoded = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> bytes;
    if (prng.chance(0.5)) {
      bytes.resize(prng.below(80));
      for (auto& b : bytes) b = static_cast<std::uint8_t>(prng.below(256));
    } else {
      bytes = valid;
      for (int flips = 0; flips < 3; ++flips)
        bytes[prng.below(bytes.size())] = static_cast<std::uint8_t>(prng.below(256));
      bytes.resize(prng.below(bytes.size() + 1));
    }
    const auto d = decode_notification(bytes);
    if (d) {
      ++decoded;
      CHECK(d.value->config.size() <= bytes.size());
    } else {
      ++rejected;
      CHECK_FALSE(d.why.empty());
    }
  }
  CHECK(decoded > 0);
  CHECK(rejected > 0);
}
