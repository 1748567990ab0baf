// A child process for process-level tests: spawned with its stdout (and, if asked, stderr)
// on a pipe we read line by line; SIGKILLed and reaped when it goes out of scope.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/catch.hpp"

extern char** environ;

namespace quorum::test {

class Child {
 public:
  /// `with_stdin`: its standard input is a pipe that write_line() feeds.
  explicit Child(std::vector<std::string> args, bool with_stderr = false, bool with_stdin = false) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    int in[2] = {-1, -1};
    if (with_stdin) REQUIRE(pipe(in) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (with_stdin) {
      posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
      posix_spawn_file_actions_addclose(&actions, in[0]);
      posix_spawn_file_actions_addclose(&actions, in[1]);
    }
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (with_stderr) posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);  // only the dup2 copies stay open
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    fd_ = fds[0];
    if (with_stdin) {
      close(in[0]);
      stdin_ = in[1];
    }
    REQUIRE(rc == 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        fd_(std::exchange(other.fd_, -1)),
        stdin_(std::exchange(other.stdin_, -1)),
        buffer_(std::move(other.buffer_)) {}
  ~Child() {
    kill_now();
    if (fd_ >= 0) close(fd_);
    if (stdin_ >= 0) close(stdin_);
  }

  /// Writes `text` and a newline to its standard input.
  void write_line(const std::string& text) {
    const std::string line = text + "\n";
    ::signal(SIGPIPE, SIG_IGN);  // a child that died is a failed check, not a dead test
    REQUIRE(::write(stdin_, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  }

  // The next line, or nothing at end of output or after `timeout`.
  std::optional<std::string> line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// Sends `sig` (the process stays ours to reap).
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  /// Whether it has exited (reaped then); the exit code is kept.
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    return true;
  }
  int exit_code() const noexcept { return exit_code_; }
  pid_t pid() const noexcept { return pid_; }
  /// Everything it writes until `timeout` or the end of its output.
  std::string drain(std::chrono::milliseconds timeout) {
    std::string all;
    while (auto l = line(timeout)) all += *l + "\n";
    return all;
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
  int stdin_ = -1;
  std::string buffer_;
  int exit_code_ = -1;
};

}  // namespace quorum::test
