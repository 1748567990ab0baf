// Frames between members: round trips, and every malformed input refused with a reason.
#include "quorum/codec/peer_codec.hpp"

#include "support/catch.hpp"

#include <cstring>
#include <string>
#include <vector>

using namespace quorum;
using namespace quorum::codec;

namespace {

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

// The body of a frame (what follows the length prefix), checking the prefix on the way.
std::vector<std::uint8_t> body_of(const std::string& frame) {
  REQUIRE(frame.size() >= frame_header_size);
  std::array<std::uint8_t, frame_header_size> header{};
  std::memcpy(header.data(), frame.data(), frame_header_size);
  CHECK(frame_length(header) == frame.size() - frame_header_size);
  return {frame.begin() + frame_header_size, frame.end()};
}

QuorumPacket sample_packet() {
  QuorumPacket p;
  p.type = PacketType::proposal;
  p.zxid = Zxid::make(3, 7);
  p.epoch = 3;
  p.txns.push_back(Txn{Zxid::make(3, 6), 5, std::string("set /a")});
  p.txns.push_back(Txn{Zxid::make(3, 7), 1, std::string()});
  p.data = "image";
  return p;
}

}  // namespace

TEST_CASE("a hello round-trips; bad magic, size or channel is refused", "[codec][peer]") {
  Hello h;
  h.ensemble = 0x0123456789abcdefull;
  h.id = 42;
  h.channel = Channel::quorum;
  const std::string wire = encode_hello(h);
  REQUIRE(wire.size() == Hello::size);
  const auto decoded = decode_hello(bytes_of(wire));
  REQUIRE(decoded);
  CHECK(*decoded.value == h);

  std::vector<std::uint8_t> bad = bytes_of(wire);
  bad[0] = 'G';  // "GET / HTTP..." is not a peer
  CHECK(decode_hello(bad).why == "hello: bad magic 0x47524d50 (not a quorum peer)");
  bad = bytes_of(wire);
  bad.back() = 9;
  CHECK(decode_hello(bad).why == "hello: unknown channel 9");
  bad = bytes_of(wire);
  bad.pop_back();
  CHECK(decode_hello(bad).why == "hello: 24 bytes, expected 25");
}

TEST_CASE("notifications and quorum packets round-trip through frames", "[codec][peer]") {
  Notification n;
  n.state = PeerState::following;
  n.leader = 3;
  n.zxid = Zxid::make(2, 9);
  n.election_epoch = 4;
  n.peer_epoch = 2;
  n.config = "server.1=a:1:2";
  const auto nd = decode_frame_body(body_of(encode_frame(Message{n})));
  REQUIRE(nd);
  CHECK(std::get<Notification>(*nd.value) == n);
  CHECK(channel_of(*nd.value) == Channel::election);

  const QuorumPacket p = sample_packet();
  const auto pd = decode_frame_body(body_of(encode_frame(Message{p})));
  REQUIRE(pd);
  CHECK(std::get<QuorumPacket>(*pd.value) == p);
  CHECK(channel_of(*pd.value) == Channel::quorum);
}

TEST_CASE("every truncation of a packet frame is refused, never read past", "[codec][peer]") {
  const std::vector<std::uint8_t> body = body_of(encode_frame(Message{sample_packet()}));
  for (std::size_t n = 0; n < body.size(); ++n) {
    const auto d = decode_frame_body(std::span(body.data(), n));
    CHECK_FALSE(d);
    CHECK_FALSE(d.why.empty());
  }
  CHECK(decode_frame_body(std::span(body.data(), std::size_t{0})).why == "frame: empty");
  CHECK(decode_frame_body(std::span(body.data(), std::size_t{5})).why ==
        "quorum packet: truncated at byte 5 of 5 while reading the zxid");
}

TEST_CASE("bad kinds, types, counts and trailing bytes are refused", "[codec][peer]") {
  std::vector<std::uint8_t> body = body_of(encode_frame(Message{sample_packet()}));
  auto kind = body;
  kind[0] = 7;
  CHECK(decode_frame_body(kind).why == "frame: unknown message kind 7");
  auto type = body;
  type[4] = 99;  // the low byte of the packet type
  CHECK(decode_frame_body(type).why == "quorum packet: unknown type 99");
  auto count = body;
  count[1 + 4 + 8 + 8] = 0x7f;  // the txn count's high byte: two billion txns
  CHECK(decode_frame_body(count).why.find("txns cannot fit") != std::string::npos);
  auto longer = body;
  longer.push_back(0);
  CHECK(decode_frame_body(longer).why == "quorum packet: 1 bytes left over after the packet");
  auto vote = body_of(encode_frame(Message{Notification{}}));
  vote[4] = 9;  // the state's low byte
  CHECK(decode_frame_body(vote).why == "notification: unknown peer state 9 at byte 0");
}
