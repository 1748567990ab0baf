#include "support/catch.hpp"

#include <array>

#include "quorum/random.hpp"

using quorum::Prng;

TEST_CASE("the same seed gives the same stream - another seed another", "[unit]") {
  Prng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    CHECK(x == b.next());
    differs |= x != c.next();
  }
  CHECK(differs);
}

TEST_CASE("the stream is pinned: xoshiro256** seeded by splitmix64", "[unit]") {
  // Computed independently (a few lines of Python); a change here silently changes every
  // simulation seed, so it must be deliberate.
  Prng p(1);
  CHECK(p.next() == 0xb3f2af6d0fc710c5ull);
  CHECK(p.next() == 0x853b559647364ceaull);
  CHECK(p.next() == 0x92f89756082a4514ull);
}

TEST_CASE("below() stays in range and covers it evenly", "[unit]") {
  Prng p(7);
  std::array<int, 10> counts{};
  for (int i = 0; i < 100000; ++i) {
    const auto v = p.below(10);
    REQUIRE(v < 10);
    ++counts[v];
  }
  for (int count : counts) CHECK((count > 9500 && count < 10500));
}

TEST_CASE("between() is inclusive - chance() honours 0 and 1", "[unit]") {
  Prng p(9);
  bool saw_lo = false, saw_hi = false;
  for (int i = 0; i < 1000; ++i) {
    const auto v = p.between(-2, 2);
    REQUIRE((v >= -2 && v <= 2));
    saw_lo |= v == -2;
    saw_hi |= v == 2;
    CHECK_FALSE(p.chance(0.0));
    CHECK(p.chance(1.0));
    const double u = p.unit();
    REQUIRE((u >= 0.0 && u < 1.0));
  }
  CHECK(saw_lo);
  CHECK(saw_hi);
}

TEST_CASE("forked streams are separate and reproducible", "[unit]") {
  Prng a(5), b(5);
  Prng fa = a.fork("network"), fb = b.fork("network");
  Prng other = Prng(5).fork("disk");
  CHECK(fa.next() == fb.next());
  CHECK(Prng(5).fork("network").next() != other.next());
}
