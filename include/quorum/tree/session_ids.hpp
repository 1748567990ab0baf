// Session ids and passwords as ZooKeeper makes them (zk-reference §4): the id's top byte is the
// creating server's id, the next 40 bits a millisecond clock reading taken once, the low 16 a
// counter; the password is 16 bytes of java.util.Random seeded with id ^ 0xB3415C00, so any
// member can check a password a client presents when it reattaches.
#pragma once

#include <array>
#include <cstdint>

#include "quorum/types.hpp"

namespace quorum::tree {

using SessionPassword = std::array<std::uint8_t, 16>;

/// ZooKeeper's password for a session id (java.util.Random's LCG, nextBytes order).
inline SessionPassword session_password(std::int64_t session_id) {
  constexpr std::uint64_t multiplier = 0x5DEECE66Dull;
  constexpr std::uint64_t mask = (1ull << 48) - 1;
  std::uint64_t seed = (static_cast<std::uint64_t>(session_id ^ 0xB3415C00ll) ^ multiplier) & mask;
  SessionPassword out{};
  for (std::size_t i = 0; i < out.size();) {
    seed = (seed * multiplier + 0xBull) & mask;
    auto value = static_cast<std::uint32_t>(seed >> 16);
    for (int n = 0; n < 4 && i < out.size(); ++n, value >>= 8)
      out[i++] = static_cast<std::uint8_t>(value);
  }
  return out;
}

/// Makes the ids of sessions created at one member.
class SessionIdGenerator {
 public:
  SessionIdGenerator(ServerId server, std::int64_t clock_ms)
      : next_(static_cast<std::int64_t>((static_cast<std::uint64_t>(server) << 56) |
                                        ((static_cast<std::uint64_t>(clock_ms) << 24) >> 8))) {}

  std::int64_t next() {
    if (next_ == INT64_MIN) ++next_;  // that value marks containers
    return next_++;
  }

 private:
  std::int64_t next_;
};

}  // namespace quorum::tree
