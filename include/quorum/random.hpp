// A small seeded PRNG of our own, so a seed reproduces a run on every standard library.
#pragma once

#include <cstdint>
#include <string_view>

#include "quorum/config.hpp"

namespace quorum {

/// xoshiro256** seeded through splitmix64. Draws never go through std:: distributions, whose
/// results differ between libstdc++ and libc++.
class Prng {
 public:
  explicit Prng(std::uint64_t seed) noexcept {
    for (auto& word : state_) word = splitmix64(seed);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, bound), without modulo bias (Lemire's method with rejection).
  std::uint64_t below(std::uint64_t bound) noexcept {
    QUORUM_ASSERT(bound > 0, "Prng::below needs a positive bound");
    for (;;) {
      const uint128 product = static_cast<uint128>(next()) * bound;
      const auto low = static_cast<std::uint64_t>(product);
      if (low >= bound || low >= (-bound) % bound) return static_cast<std::uint64_t>(product >> 64);
    }
  }

  /// Uniform in [lo, hi] (inclusive).
  std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {
    QUORUM_ASSERT(lo <= hi, "Prng::between needs lo <= hi");
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

  /// Uniform in [0, 1) with 53 bits.
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// True with probability p.
  bool chance(double p) noexcept { return unit() < p; }

  /// A separate stream for a subsystem, so its draws do not shift the parent's sequence
  /// when that subsystem changes (FoundationDB keeps debug draws apart the same way).
  Prng fork(std::string_view label) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the label
    for (char c : label) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return Prng(next() ^ h);
  }

 private:
  __extension__ typedef unsigned __int128 uint128;  // GCC and Clang both have it

  static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }

  std::uint64_t state_[4];
};

}  // namespace quorum
