// The vocabulary of the protocol: server ids, epochs, zxids, peer states and time.
#pragma once

#include <array>
#include <charconv>
#include <chrono>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace quorum {

/// A member's id, the number in its `myid` file (ZooKeeper's "sid").
using ServerId = std::int64_t;

/// A leader's term. ZooKeeper stores it as a long; only the low 32 bits fit in a zxid.
using Epoch = std::int64_t;

/// ZooKeeper transaction id: the epoch in the high 32 bits, a counter in the low 32 bits.
/// Compared as a signed 64-bit number, as ZooKeeper does, so `Zxid::none()` (-1) sorts first.
struct Zxid {
  std::int64_t value = 0;

  /// The zxid of `counter` in `epoch`; (e, 0) marks an epoch established with no txn yet.
  static constexpr Zxid make(Epoch epoch, std::uint32_t counter) noexcept {
    return Zxid{static_cast<std::int64_t>((static_cast<std::uint64_t>(epoch) << 32) | counter)};
  }
  /// ZooKeeper's "-1": no usable history (an observer's vote, an unreadable log).
  static constexpr Zxid none() noexcept { return Zxid{-1}; }

  constexpr Epoch epoch() const noexcept {
    return static_cast<Epoch>(static_cast<std::uint64_t>(value) >> 32);
  }
  constexpr std::uint32_t counter() const noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(value) & 0xffffffffu);
  }
  friend constexpr auto operator<=>(const Zxid&, const Zxid&) = default;
};

/// Hex with a 0x prefix, as ZooKeeper logs zxids: Zxid::make(1, 8) prints "0x100000008".
inline std::string to_string(Zxid zxid) {
  std::array<char, 20> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(),
                                 static_cast<std::uint64_t>(zxid.value), 16);
  (void)ec;  // 16 hex digits always fit
  return "0x" + std::string(buf.data(), end);
}

/// A member's role. The ordinals are ZooKeeper's and travel on the election wire.
enum class PeerState : std::int32_t { looking = 0, following = 1, leading = 2, observing = 3 };

/// "LOOKING", "FOLLOWING", … as ZooKeeper prints them.
constexpr std::string_view to_string(PeerState state) noexcept {
  switch (state) {
    case PeerState::looking:
      return "LOOKING";
    case PeerState::following:
      return "FOLLOWING";
    case PeerState::leading:
      return "LEADING";
    case PeerState::observing:
      return "OBSERVING";
  }
  return "UNKNOWN";
}

/// A monotonic clock that cannot be read: protocol code receives `Instant`s as arguments
/// (`tick(now)`), so the same code runs under real time and under the simulator's virtual time.
struct ProtocolClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<ProtocolClock>;
  static constexpr bool is_steady = true;
};

/// A length of time in protocol code.
using Duration = std::chrono::nanoseconds;
/// A point in time in protocol code, measured from an origin the driver chooses.
using Instant = ProtocolClock::time_point;

}  // namespace quorum
