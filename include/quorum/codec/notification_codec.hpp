// Election notifications as bytes, in ZooKeeper 3.8's layout.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/election/vote.hpp"
#include "quorum/error.hpp"

namespace quorum::codec {

/// The result of decoding untrusted bytes: a value, or a code (errc::marshalling_error) and a
/// sentence that says what was wrong and at which byte.
template <class T>
struct Decoded {
  std::optional<T> value;
  std::error_code error;
  std::string why;

  explicit operator bool() const noexcept { return value.has_value(); }
};

/// The shortest notification ZooKeeper accepts (the pre-3.4 layout).
inline constexpr std::size_t min_notification_size = 28;

/// Encodes `n` as ZooKeeper's version-2 notification: int32 state, int64 leader, int64 zxid,
/// int64 electionEpoch, int64 peerEpoch, int32 version, int32 configLength, config bytes.
QUORUM_API std::vector<std::uint8_t> encode_notification(const Notification& n);

/// Decodes a notification the way ZooKeeper's receiver does: 28 bytes is the pre-3.4 layout
/// (peerEpoch taken from the zxid), 40 bytes is the 3.4 layout whose trailing version field is
/// not read (version 0), a version above 1
/// carries a config of checked length. Anything short, truncated, with an unknown state or a
/// bad config length is rejected, never read past its end.
QUORUM_API Decoded<Notification> decode_notification(std::span<const std::uint8_t> bytes);

}  // namespace quorum::codec
