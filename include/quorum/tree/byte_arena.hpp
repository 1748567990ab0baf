// Where znodes' names and data live: small blocks carved from 1 MiB pages in 8-byte size
// classes with a free list per class, addressed by 32-bit handles. A million small znodes then
// cost their bytes rounded up to 8, not a malloc chunk each (16 bytes of header and rounding)
// plus an 8-byte pointer. Blocks above 512 bytes are rare and simply malloc'ed.
//
// Freed small blocks are reused only by blocks of the same class, so memory is bounded by the
// peak use of each class, as in slab allocators.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "quorum/config.hpp"

namespace quorum::tree {

using BlockRef = std::uint32_t;
inline constexpr BlockRef no_block = UINT32_MAX;

class ByteArena {
 public:
  static constexpr std::size_t unit = 8;
  static constexpr std::size_t largest_small = 512;

  ByteArena() = default;
  ByteArena(ByteArena&&) noexcept = default;
  ByteArena& operator=(ByteArena&&) noexcept = default;
  /// A deep copy: page by page (a background snapshot copies the tree, then serializes it).
  ByteArena(const ByteArena& other)
      : bump_(other.bump_),
        free_(other.free_),
        large_sizes_(other.large_sizes_),
        free_large_(other.free_large_) {
    pages_.reserve(other.pages_.size());
    for (std::size_t i = 0; i < other.pages_.size(); ++i) {
      pages_.push_back(std::make_unique_for_overwrite<char[]>(page_units * unit));
      const std::size_t used = i + 1 == other.pages_.size() ? bump_ : page_units;
      std::memcpy(pages_.back().get(), other.pages_[i].get(), used * unit);
    }
    large_.reserve(other.large_.size());
    for (std::size_t i = 0; i < other.large_.size(); ++i) {
      large_.emplace_back();
      if (!other.large_[i]) continue;
      large_[i] = std::make_unique_for_overwrite<char[]>(large_sizes_[i]);
      std::memcpy(large_[i].get(), other.large_[i].get(), large_sizes_[i]);
    }
  }
  ByteArena& operator=(const ByteArena& other) {
    if (this != &other) *this = ByteArena(other);
    return *this;
  }

  /// A block of `size` (> 0) bytes, uninitialised.
  BlockRef allocate(std::size_t size) {
    QUORUM_ASSERT(size > 0, "empty blocks are no_block");
    if (size > largest_small) return allocate_large(size);
    const std::size_t units = units_for(size);
    BlockRef& head = free_[units];
    if (head != no_block) {
      const BlockRef b = head;
      std::memcpy(&head, at(b), sizeof(BlockRef));
      return b;
    }
    if (pages_.empty() || bump_ + units > page_units) {
      QUORUM_ASSERT(pages_.size() < max_pages, "the byte arena is full");
      pages_.push_back(std::make_unique_for_overwrite<char[]>(page_units * unit));
      bump_ = 0;
    }
    const auto b = static_cast<BlockRef>(((pages_.size() - 1) << page_bits) | bump_);
    bump_ += units;
    return b;
  }

  /// Gives back a block allocated with the same `size`.
  void release(BlockRef b, std::size_t size) noexcept {
    if (b == no_block) return;
    if (b & large_bit) {
      const std::uint32_t slot = b & ~large_bit;
      large_[slot].reset();
      large_sizes_[slot] = 0;
      free_large_.push_back(slot);
      return;
    }
    BlockRef& head = free_[units_for(size)];
    std::memcpy(at(b), &head, sizeof(BlockRef));
    head = b;
  }

  /// Whether a block of `old_size` can hold `new_size` bytes in place.
  static bool fits_in_place(std::size_t old_size, std::size_t new_size) noexcept {
    if (old_size == 0 || new_size == 0) return false;
    if (old_size > largest_small || new_size > largest_small) return false;
    return units_for(old_size) == units_for(new_size);
  }

  char* at(BlockRef b) noexcept {
    if (b & large_bit) return large_[b & ~large_bit].get();
    return pages_[b >> page_bits].get() + static_cast<std::size_t>(b & page_mask) * unit;
  }
  const char* at(BlockRef b) const noexcept { return const_cast<ByteArena*>(this)->at(b); }

  void clear() noexcept {
    pages_.clear();
    bump_ = 0;
    free_.fill(no_block);
    large_.clear();
    large_sizes_.clear();
    free_large_.clear();
  }

 private:
  static constexpr std::uint32_t large_bit = 0x8000'0000u;
  static constexpr unsigned page_bits = 17;  // 2^17 units of 8 bytes: 1 MiB pages
  static constexpr std::size_t page_units = std::size_t{1} << page_bits;
  static constexpr std::uint32_t page_mask = (1u << page_bits) - 1;
  static constexpr std::size_t max_pages = std::size_t{1} << (31 - page_bits);  // 16 GiB

  static std::size_t units_for(std::size_t size) noexcept { return (size + unit - 1) / unit; }

  BlockRef allocate_large(std::size_t size) {
    std::uint32_t slot;
    if (!free_large_.empty()) {
      slot = free_large_.back();
      free_large_.pop_back();
    } else {
      QUORUM_ASSERT(large_.size() < large_bit - 1, "too many large blocks");
      slot = static_cast<std::uint32_t>(large_.size());
      large_.emplace_back();
      large_sizes_.emplace_back();
    }
    large_[slot] = std::make_unique_for_overwrite<char[]>(size);
    large_sizes_[slot] = size;
    return slot | large_bit;
  }

  std::vector<std::unique_ptr<char[]>> pages_;
  std::size_t bump_ = 0;  // next free unit in the last page
  std::array<BlockRef, largest_small / unit + 1> free_ = make_free_heads();
  std::vector<std::unique_ptr<char[]>> large_;
  std::vector<std::size_t> large_sizes_;  // for copies
  std::vector<std::uint32_t> free_large_;

  static constexpr std::array<BlockRef, largest_small / unit + 1> make_free_heads() {
    std::array<BlockRef, largest_small / unit + 1> heads{};
    heads.fill(no_block);
    return heads;
  }
};

}  // namespace quorum::tree
