#include "support/catch.hpp"

#include <vector>

#include "quorum/election/quorum_verifier.hpp"

using quorum::QuorumVerifier;
using quorum::ServerId;

TEST_CASE("a majority is more than half of the voters (integer division)", "[unit]") {
  const QuorumVerifier three({1, 2, 3});
  CHECK(three.quorum_size() == 2);
  CHECK_FALSE(three.contains_quorum(std::vector<ServerId>{1}));
  CHECK(three.contains_quorum(std::vector<ServerId>{1, 2}));

  const QuorumVerifier four({1, 2, 3, 4});
  CHECK(four.quorum_size() == 3);
  CHECK_FALSE(four.contains_quorum(std::vector<ServerId>{1, 2}));
  CHECK(four.contains_quorum(std::vector<ServerId>{1, 2, 4}));

  const QuorumVerifier five({1, 2, 3, 4, 5});
  CHECK(five.quorum_size() == 3);
  CHECK(five.contains_quorum(std::vector<ServerId>{1, 2, 4}));  // the seed's survivors
  CHECK_FALSE(five.contains_quorum(std::vector<ServerId>{1, 2}));
}

TEST_CASE("duplicates and non-voters never make a quorum", "[unit]") {
  const QuorumVerifier v({1, 2, 3});
  CHECK_FALSE(v.contains_quorum(std::vector<ServerId>{1, 1, 1}));
  CHECK_FALSE(v.contains_quorum(std::vector<ServerId>{1, 7, 8, 9}));
  CHECK(v.weight(2) == 1);
  CHECK(v.weight(7) == 0);
  CHECK(v.is_voter(3));
  CHECK_FALSE(v.is_voter(4));
}

TEST_CASE("the voter list is kept sorted and unique", "[unit]") {
  const QuorumVerifier v({3, 1, 2, 3});
  CHECK(v.voters() == std::vector<ServerId>{1, 2, 3});
}
