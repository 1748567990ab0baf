// Seeded simulation of the data tree (sessions, watches, prep, expiry) on the replicated log.
// QUORUM_TREE_SEEDS overrides how many seeds run; a failing seed prints its replay command.
#include "support/catch.hpp"

#include <cstdlib>
#include <string>

#include "support/tree_swarm.hpp"

namespace {
std::uint64_t seed_count() {
  if (const char* env = std::getenv("QUORUM_TREE_SEEDS")) return std::strtoull(env, nullptr, 10);
  return 1000;
}
}  // namespace

TEST_CASE("the data tree under faults keeps sessions - watches and one tree", "[sim]") {
  const std::uint64_t seeds = seed_count();
  std::uint64_t replies = 0, events = 0;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto result = quorum::testing::run_tree_swarm(seed);
    replies += result.replies;
    events += result.events;
    if (!result.ok()) {
      INFO("seed " << seed << " (" << result.parameters << ")");
      INFO("first violation: " << result.violations.front());
      INFO("replay: " << QUORUM_SIM_TOOL << " --tree --seed " << seed << " --verbose");
      REQUIRE(result.ok());
    }
  }
  CHECK(replies > seeds * 10);
  CHECK(events > 0);
}

TEST_CASE("seeds that found bugs stay fixed", "[sim]") {
  // 18504: a write forwarded before a detach was applied after the same member reattached the
  // session, and answered the new client's write that reused its cxid.
  for (const std::uint64_t seed : {18504u}) {
    const auto result = quorum::testing::run_tree_swarm(seed);
    INFO("seed " << seed << ": " << (result.ok() ? "" : result.violations.front()));
    CHECK(result.ok());
  }
}
