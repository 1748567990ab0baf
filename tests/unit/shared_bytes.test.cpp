#include "support/catch.hpp"

#include <string>

#include "quorum/shared_bytes.hpp"

using quorum::SharedBytes;

TEST_CASE("shared bytes: copies share one block; take moves out only when unshared") {
  const std::string big(1000, 'x');
  SharedBytes a(big);
  SharedBytes b = a;
  CHECK(b.data() == a.data());  // one block
  // Shared: take copies, and the other holder keeps its bytes.
  std::string from_b = std::move(b).take();
  CHECK(from_b == big);
  CHECK(b.str().empty());
  CHECK(a == big);
  // Sole holder: take moves the very buffer out.
  const char* buffer = a.data();
  std::string from_a = std::move(a).take();
  CHECK(from_a == big);
  CHECK(from_a.data() == buffer);
  CHECK(a.str().empty());
  CHECK(std::move(SharedBytes{}).take().empty());
}
