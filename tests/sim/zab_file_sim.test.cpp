// Seeded simulation of the replicated log on FileStorage, with crash points inside file
// operations and power losses that tear unsynced writes. QUORUM_ZAB_FILE_SEEDS overrides how
// many seeds the default run covers; a failing seed prints the command that replays it.
#include "support/catch.hpp"

#include <cstdlib>
#include <string>

#include "support/file_zab_swarm.hpp"

namespace {

std::uint64_t seed_count() {
  if (const char* env = std::getenv("QUORUM_ZAB_FILE_SEEDS"))
    return std::strtoull(env, nullptr, 10);
  return 2000;
}

std::string replay(std::uint64_t seed) {
  return std::string(QUORUM_SIM_TOOL) + " --zab-files --seed " + std::to_string(seed) +
         " --verbose";
}

}  // namespace

TEST_CASE("the replicated log on files survives crash points and torn writes", "[sim]") {
  const std::uint64_t seeds = seed_count();
  quorum::sim::FileDiskCounts counts;
  std::uint64_t armed = 0, crashes = 0;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto result = quorum::testing::run_file_zab_swarm(seed, {}, &counts);
    armed += result.crash_points;
    crashes += result.crashes;
    if (!result.ok()) {
      INFO("seed " << seed << " (" << result.parameters << ")");
      INFO("first violation: " << result.violations.front());
      INFO("replay: " << replay(seed));
      REQUIRE(result.ok());
    }
  }
  std::uint64_t fired = 0;
  for (const auto& [op, n] : counts.crash_points) fired += n;
  // The faults must really have happened, or this test proves nothing.
  CHECK(fired > 0);
  CHECK(counts.power_losses > crashes / 2);
  CHECK(counts.recovery_reports > 0);
  WARN("over " << seeds << " seeds: " << armed << " crash points armed, " << fired << " fired ("
               << counts.crash_points[quorum::sim::FileOp::write] << " in writes, "
               << counts.crash_points[quorum::sim::FileOp::sync] << " syncs, "
               << counts.crash_points[quorum::sim::FileOp::rename] << " renames, "
               << counts.crash_points[quorum::sim::FileOp::truncate] << " truncates), "
               << counts.power_losses << " power losses, " << counts.boots << " boots, "
               << counts.recovery_reports << " recovery reports");
}
