// Process-level: three members on FileStorage in one process (tests/tools/crash_writer) are
// SIGKILLed under write load 20 times — in the middle of group commits, segment rolls,
// background snapshots and purges — and restarted on the same data directories. Afterwards
// every member holds the same tree (names, data, czxid and mzxid) and every write a client was
// told succeeded is in it. (Killing one member of several processes waits for quorumd.)
#include "support/catch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quorum/random.hpp"
#include "support/child_process.hpp"

using Clock = std::chrono::steady_clock;
using quorum::test::Child;

TEST_CASE(
    "members killed with SIGKILL under write load 20 times keep one history and lose "
    "no acknowledged write") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("quorum-crash-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  quorum::Prng draw(2026);
  std::set<std::string> acked;
  std::size_t reports = 0;
  const auto take = [&](const std::string& l) {
    if (l.rfind("acked ", 0) == 0) acked.insert(l.substr(6));
    if (l.rfind("report ", 0) == 0) ++reports;
  };
  for (int round = 1; round <= 20; ++round) {
    INFO("round " << round);
    Child writer({QUORUM_CRASH_WRITER, "write", dir.string(), std::to_string(round)});
    // Wait for writes to flow, then let them run a random while longer and kill.
    std::size_t seen = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (seen < 50 && Clock::now() < deadline) {
      auto l = writer.line(std::chrono::milliseconds(500));
      if (!l) continue;
      take(*l);
      seen += l->rfind("acked ", 0) == 0;
    }
    REQUIRE(seen >= 50);  // it started on what the last kill left, and serves writes
    const auto kill_at = Clock::now() + std::chrono::milliseconds(draw.between(0, 400));
    while (Clock::now() < kill_at)
      if (auto l = writer.line(std::chrono::milliseconds(5))) take(*l);
    writer.kill_now();
    // Lines the child wrote before it died are still in the pipe: they were acknowledged.
    while (auto l = writer.line(std::chrono::milliseconds(50))) take(*l);
  }

  Child checker({QUORUM_CRASH_WRITER, "check", dir.string()});
  std::vector<nlohmann::json> members;
  std::set<std::string> present;
  while (auto l = checker.line(std::chrono::seconds(60))) {
    if (l->rfind("key ", 0) == 0)
      present.insert(l->substr(4));
    else
      members.push_back(nlohmann::json::parse(*l));
  }
  REQUIRE(checker.wait_exit() == 0);
  REQUIRE(members.size() == 3);
  CHECK(members[0]["digest"] == members[1]["digest"]);
  CHECK(members[1]["digest"] == members[2]["digest"]);
  CHECK(members[0]["count"] == present.size());
  std::size_t lost = 0;
  for (const std::string& k : acked) lost += present.count(k) == 0;
  INFO(acked.size() << " writes acknowledged across 20 kills, " << present.size()
                    << " znodes present");
  CHECK(lost == 0);
  CHECK(acked.size() >= 20 * 50);
  WARN(acked.size() << " writes acknowledged across 20 SIGKILLs, all present on all three "
                    << "members; recovery reported " << reports << " repairs");
  std::filesystem::remove_all(dir);
}
