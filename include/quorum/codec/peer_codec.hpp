// What members send each other over TCP: a hello when a connection opens, then frames
// (uint32 length, then that many bytes: one Message). Election notifications keep ZooKeeper
// 3.8's layout; ZAB packets are ZooKeeper's QuorumPacket{type, zxid, data} plus our batch of
// txns. Every decoder checks lengths against what is there and never reads past the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "quorum/codec/notification_codec.hpp"
#include "quorum/config.hpp"
#include "quorum/message.hpp"

namespace quorum::codec {

/// The two connections between a pair of members: ZooKeeper's election port and quorum port.
enum class Channel : std::uint8_t { election = 1, quorum = 2 };

inline const char* to_string(Channel c) noexcept {
  return c == Channel::election ? "election" : "quorum";
}

/// Which channel a message travels on.
inline Channel channel_of(const Message& m) noexcept {
  return std::holds_alternative<Notification>(m) ? Channel::election : Channel::quorum;
}

/// The first bytes each side of a connection sends: who it is and which ensemble it belongs to.
struct Hello {
  static constexpr std::uint32_t magic_value = 0x51524d50;  // "QRMP"
  static constexpr std::uint32_t current_version = 1;
  static constexpr std::size_t size = 4 + 4 + 8 + 8 + 1;

  std::uint32_t magic = magic_value;
  std::uint32_t version = current_version;
  std::uint64_t ensemble = 0;  ///< config::ensemble_identity of the sender's zoo.cfg
  ServerId id = 0;
  Channel channel = Channel::election;

  friend bool operator==(const Hello&, const Hello&) = default;
};

QUORUM_API std::string encode_hello(const Hello& hello);
/// Decodes exactly Hello::size bytes; says what is wrong for anything else (bad magic: not a
/// quorum peer; unknown channel).
QUORUM_API Decoded<Hello> decode_hello(std::span<const std::uint8_t> bytes);

/// Bytes of the length prefix in front of every frame.
inline constexpr std::size_t frame_header_size = 4;

/// A whole frame: the length prefix and the message (a kind byte, then its body).
QUORUM_API std::string encode_frame(const Message& message);
/// The length in a frame's prefix.
QUORUM_API std::uint32_t frame_length(std::span<const std::uint8_t, frame_header_size> header);
/// Decodes a frame's body (what follows the prefix).
QUORUM_API Decoded<Message> decode_frame_body(std::span<const std::uint8_t> body);

}  // namespace quorum::codec
