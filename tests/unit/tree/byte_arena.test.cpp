#include "support/catch.hpp"

#include <map>
#include <string>

#include "quorum/random.hpp"
#include "quorum/tree/byte_arena.hpp"

using namespace quorum;
using namespace quorum::tree;

TEST_CASE("byte arena blocks keep their bytes under random allocations and releases") {
  ByteArena arena;
  std::map<BlockRef, std::string> live;  // block -> the bytes written into it
  Prng prng(5);
  for (int step = 0; step < 50000; ++step) {
    if (live.empty() || prng.below(5) < 3) {
      const std::size_t size = 1 + (prng.below(10) == 0 ? prng.below(3000) : prng.below(100));
      const BlockRef b = arena.allocate(size);
      REQUIRE(b != no_block);
      REQUIRE(live.count(b) == 0);  // never handed out twice
      std::string bytes(size, static_cast<char>('a' + step % 26));
      std::memcpy(arena.at(b), bytes.data(), size);
      live.emplace(b, std::move(bytes));
    } else {
      auto it = std::next(live.begin(), static_cast<long>(prng.below(live.size())));
      REQUIRE(std::string(arena.at(it->first), it->second.size()) == it->second);
      arena.release(it->first, it->second.size());
      live.erase(it);
    }
  }
  for (const auto& [b, bytes] : live) CHECK(std::string(arena.at(b), bytes.size()) == bytes);
}

TEST_CASE("a released small block is reused by the next block of its size class") {
  ByteArena arena;
  const BlockRef a = arena.allocate(20);
  const BlockRef b = arena.allocate(20);
  CHECK(a != b);
  arena.release(a, 20);
  CHECK(arena.allocate(17) == a);  // 17 and 20 bytes both take three 8-byte units
  CHECK(arena.allocate(20) != a);
  CHECK(ByteArena::fits_in_place(20, 24));
  CHECK_FALSE(ByteArena::fits_in_place(20, 25));
  CHECK_FALSE(ByteArena::fits_in_place(600, 600));  // large blocks are exact
  CHECK_FALSE(ByteArena::fits_in_place(0, 0));
}
