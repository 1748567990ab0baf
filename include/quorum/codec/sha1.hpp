// SHA-1 and base64, just enough for ZooKeeper's digest ACL ids (user:BASE64(SHA1(user:pass))).
// SHA-1 is broken for collision resistance; ZooKeeper's digest scheme uses it anyway, and
// matching its ids byte for byte is the point here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace quorum::codec {

inline std::array<std::uint8_t, 20> sha1(std::string_view message) {
  std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  std::string padded(message);
  const std::uint64_t bit_length = static_cast<std::uint64_t>(message.size()) * 8u;
  padded.push_back(static_cast<char>(0x80));
  while (padded.size() % 64 != 56) padded.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8)
    padded.push_back(static_cast<char>((bit_length >> shift) & 0xffu));
  const auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (std::size_t block = 0; block < padded.size(); block += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int b = 0; b < 4; ++b)
        w[i] = (w[i] << 8) |
               static_cast<std::uint8_t>(padded[block + static_cast<std::size_t>(4 * i + b)]);
    }
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d), k = 0x5A827999u;
      } else if (i < 40) {
        f = b ^ c ^ d, k = 0x6ED9EBA1u;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
      } else {
        f = b ^ c ^ d, k = 0xCA62C1D6u;
      }
      const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rotl(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  std::array<std::uint8_t, 20> out{};
  for (std::size_t i = 0; i < 20; ++i)
    out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * static_cast<int>(i % 4)));
  return out;
}

/// Standard base64 with padding (RFC 4648 §4), as java.util.Base64's basic encoder.
template <class Bytes>
std::string base64(const Bytes& bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto byte = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at]));
  };
  std::string out;
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  for (; i + 2 < n; i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63u]);
  }
  if (i + 1 == n) {
    const std::uint32_t v = byte(i) << 16;
    out += {alphabet[(v >> 18) & 63u], alphabet[(v >> 12) & 63u], '=', '='};
  } else if (i + 2 == n) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += {alphabet[(v >> 18) & 63u], alphabet[(v >> 12) & 63u], alphabet[(v >> 6) & 63u], '='};
  }
  return out;
}

}  // namespace quorum::codec
