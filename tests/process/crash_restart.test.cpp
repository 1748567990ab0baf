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

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// A child process whose stdout we read line by line; killed (SIGKILL) when it goes out of scope.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    fd_ = fds[0];
    REQUIRE(rc == 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    kill_now();
    close(fd_);
  }

  // The next line, or nothing at end of output or after `timeout`.
  std::optional<std::string> line(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void kill_now() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace

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
