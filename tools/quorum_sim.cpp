// Replays simulation seeds: quorum_sim [--zab|--zab-files|--tree] --seed N [--verbose], or
// --seeds A B for a range. Without a flag it runs the election swarm; --zab the replicated log
// (election + ZAB); --zab-files the same on FileStorage with crash points in file operations;
// --tree the data tree with sessions and watches on top of it.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/election_swarm.hpp"
#include "support/file_zab_swarm.hpp"
#include "support/tree_swarm.hpp"
#include "support/zab_swarm.hpp"

namespace {

int usage() {
  std::fputs(
      "usage: quorum_sim [--zab|--zab-files|--tree] --seed N [--verbose]\n"
      "       quorum_sim [--zab|--zab-files|--tree] --seeds FIRST LAST\n",
      stderr);
  return 2;
}

bool parse(const char* text, std::uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end != text && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t first = 0, last = 0;
  bool verbose = false, have_seed = false, zab = false, files = false, tree = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      if (!parse(argv[++i], first)) return usage();
      last = first;
      have_seed = true;
    } else if (!std::strcmp(argv[i], "--seeds") && i + 2 < argc) {
      if (!parse(argv[i + 1], first) || !parse(argv[i + 2], last) || last < first) return usage();
      i += 2;
      have_seed = true;
    } else if (!std::strcmp(argv[i], "--zab")) {
      zab = true;
    } else if (!std::strcmp(argv[i], "--zab-files")) {
      zab = files = true;
    } else if (!std::strcmp(argv[i], "--tree")) {
      tree = true;
    } else if (!std::strcmp(argv[i], "--verbose")) {
      verbose = true;
    } else {
      return usage();
    }
  }
  if (!have_seed) return usage();

  int failures = 0;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    quorum::testing::SwarmTrace trace;
    if (verbose) trace = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
    std::vector<std::string> violations;
    if (tree) {
      const auto r = quorum::testing::run_tree_swarm(seed, trace);
      std::printf(
          "seed %llu: %s; %s; %llu replies, %llu watch events, %llu crashes, %llu expired\n",
          static_cast<unsigned long long>(seed), r.ok() ? "ok" : "FAILED", r.parameters.c_str(),
          static_cast<unsigned long long>(r.replies), static_cast<unsigned long long>(r.events),
          static_cast<unsigned long long>(r.crashes), static_cast<unsigned long long>(r.expired));
      violations = r.violations;
    } else if (zab) {
      const auto r = files ? quorum::testing::run_file_zab_swarm(seed, trace)
                           : quorum::testing::run_zab_swarm(seed, trace);
      std::printf(
          "seed %llu: %s; %s; leader %s; %llu zxids committed, %llu epochs, "
          "%llu crashes, %llu crash points\n",
          static_cast<unsigned long long>(seed), r.ok() ? "ok" : "FAILED", r.parameters.c_str(),
          r.leader ? std::to_string(*r.leader).c_str() : "none",
          static_cast<unsigned long long>(r.committed), static_cast<unsigned long long>(r.epochs),
          static_cast<unsigned long long>(r.crashes),
          static_cast<unsigned long long>(r.crash_points));
      violations = r.violations;
    } else {
      const auto r = quorum::testing::run_election_swarm(seed, trace);
      std::printf(
          "seed %llu: %s; %zu servers; leader %s; settled %s after healing; %llu events, "
          "%llu decisions; trace %016llx\n",
          static_cast<unsigned long long>(seed), r.ok() ? "ok" : "FAILED", r.servers,
          r.leader ? std::to_string(*r.leader).c_str() : "none",
          quorum::describe(r.settle_time).c_str(), static_cast<unsigned long long>(r.events),
          static_cast<unsigned long long>(r.decisions),
          static_cast<unsigned long long>(r.trace_hash));
      violations = r.violations;
    }
    for (const auto& v : violations) std::printf("  violation: %s\n", v.c_str());
    failures += !violations.empty();
  }
  return failures == 0 ? 0 : 1;
}
