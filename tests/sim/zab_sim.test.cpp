// Seeded simulation of the replicated log (election + ZAB). QUORUM_ZAB_SEEDS overrides how many
// seeds the default run covers; a failing seed prints the command that replays it.
#include "support/catch.hpp"

#include <cstdlib>
#include <string>

#include "support/zab_swarm.hpp"

namespace {

std::uint64_t seed_count() {
  if (const char* env = std::getenv("QUORUM_ZAB_SEEDS")) return std::strtoull(env, nullptr, 10);
  return 1000;
}

std::string replay(std::uint64_t seed) {
  return std::string(QUORUM_SIM_TOOL) + " --zab --seed " + std::to_string(seed) + " --verbose";
}

}  // namespace

TEST_CASE("the replicated log under faults keeps one history and recovers", "[sim]") {
  const std::uint64_t seeds = seed_count();
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto result = quorum::testing::run_zab_swarm(seed);
    if (!result.ok()) {
      INFO("seed " << seed << " (" << result.parameters << ")");
      INFO("first violation: " << result.violations.front());
      INFO("replay: " << replay(seed));
      REQUIRE(result.ok());
    }
  }
}
