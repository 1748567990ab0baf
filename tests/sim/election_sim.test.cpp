// Seeded simulation of elections under faults. QUORUM_SIM_SEEDS overrides how many seeds the
// default run covers; a failing seed prints the command that replays it with a full trace.
#include "support/catch.hpp"

#include <cstdlib>
#include <string>

#include "support/election_swarm.hpp"

namespace {

std::uint64_t seed_count() {
  if (const char* env = std::getenv("QUORUM_SIM_SEEDS")) return std::strtoull(env, nullptr, 10);
  return 2000;
}

std::string replay(std::uint64_t seed) {
  return std::string(QUORUM_SIM_TOOL) + " --seed " + std::to_string(seed) + " --verbose";
}

}  // namespace

TEST_CASE("elections under faults: the connected majority settles on a valid leader", "[sim]") {
  const std::uint64_t seeds = seed_count();
  std::uint64_t settled = 0;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto result = quorum::testing::run_election_swarm(seed);
    if (!result.ok()) {
      INFO("seed " << seed << " (" << result.parameters << ")");
      INFO("first violation: " << result.violations.front());
      INFO("replay: " << replay(seed));
      REQUIRE(result.ok());
    }
    settled += result.leader.has_value();
  }
  CHECK(settled == seeds);
}

TEST_CASE("a seed replays byte for byte - different seeds differ", "[sim]") {
  for (std::uint64_t seed : {3u, 17u, 256u}) {
    const auto first = quorum::testing::run_election_swarm(seed);
    const auto again = quorum::testing::run_election_swarm(seed);
    INFO("seed " << seed << ", replay: " << replay(seed));
    CHECK(first.events == again.events);
    CHECK(first.trace_hash == again.trace_hash);
    CHECK(first.network.sent == again.network.sent);
  }
  CHECK(quorum::testing::run_election_swarm(1).trace_hash !=
        quorum::testing::run_election_swarm(2).trace_hash);
}
