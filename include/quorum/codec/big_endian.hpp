// Bounds-checked big-endian reading and writing, the byte order of every ZooKeeper format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace quorum::codec {

/// Appends big-endian integers and raw bytes to a buffer.
class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  template <class Int>
  requires std::is_integral_v<Int>
  void put(Int value) {
    using U = std::make_unsigned_t<Int>;
    const auto u = static_cast<U>(value);
    for (int shift = 8 * (static_cast<int>(sizeof(U)) - 1); shift >= 0; shift -= 8)
      out_.push_back(static_cast<std::uint8_t>(u >> shift));
  }
  void put_bytes(std::span<const std::uint8_t> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }

 private:
  std::vector<std::uint8_t>& out_;
};

/// Reads big-endian integers from a byte span. Every read checks the bounds first and
/// reports failure instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

  template <class Int>
  requires std::is_integral_v<Int>
  [[nodiscard]] bool get(Int& value) noexcept {
    if (remaining() < sizeof(Int)) return false;
    std::make_unsigned_t<Int> u = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i)
      u = static_cast<std::make_unsigned_t<Int>>((u << 8) | bytes_[offset_ + i]);
    value = static_cast<Int>(u);
    offset_ += sizeof(Int);
    return true;
  }
  [[nodiscard]] bool get_string(std::size_t length, std::string& out) {
    if (remaining() < length) return false;
    out.assign(reinterpret_cast<const char*>(bytes_.data() + offset_), length);
    offset_ += length;
    return true;
  }

  std::size_t offset() const noexcept { return offset_; }
  std::size_t remaining() const noexcept { return bytes_.size() - offset_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
};

}  // namespace quorum::codec
