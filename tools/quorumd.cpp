// quorumd: one member of a quorum ensemble as a server process, configured like ZooKeeper
// (zoo.cfg + dataDir/myid) and driven like zkServer.sh:
//
//   quorumd start|stop|status|restart|foreground [--config zoo.cfg] [--log-level LEVEL]
//
// start daemonizes (log in dataDir/quorumd.out, pid in dataDir/quorumd.pid); stop sends
// SIGTERM and waits; status asks the client port `srvr` and prints its Mode line; foreground
// runs in the terminal (systemd, containers). LEVEL is debug, info (default), warn or error.
#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "quorum/config/zoo_cfg.hpp"
#include "quorum/node.hpp"
#include "quorum/server/client_port.hpp"
#include "quorum/server/four_letter_client.hpp"
#include "quorum/server/node_client_port.hpp"
#include "quorum/storage/file_storage.hpp"
#include "quorum/storage/file_system.hpp"
#include "quorum/transport/tcp.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using quorum::LogLevel;
using quorum::ServerId;

namespace {

struct Args {
  std::string command;
  std::string config = "zoo.cfg";
  LogLevel level = LogLevel::info;
};

// One line per event: time, member, level, message. Threads share stderr.
class Logger {
 public:
  void set(LogLevel level, ServerId id) {
    level_ = level;
    id_ = id;
  }
  void operator()(LogLevel level, const std::string& message) {
    if (level < level_) return;
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::lock_guard lock(mutex_);
    fmt::print(stderr, "{:%Y-%m-%d %H:%M:%S}.{:03d} [myid:{}] {:<5} {}\n",
               fmt::localtime(std::chrono::system_clock::to_time_t(now)), ms, id_, upper(level),
               message);
    std::fflush(stderr);
  }

 private:
  static std::string upper(LogLevel l) {
    std::string name = quorum::to_string(l);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
  }
  std::mutex mutex_;
  LogLevel level_ = LogLevel::info;
  ServerId id_ = 0;
};

Logger logger;

int usage() {
  std::fprintf(stderr,
               "usage: quorumd start|stop|status|restart|foreground [--config zoo.cfg] "
               "[--log-level debug|info|warn|error]\n");
  return 2;
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      a.config = argv[++i];
    } else if (arg == "--log-level" && i + 1 < argc) {
      const std::string l = argv[++i];
      if (l == "debug")
        a.level = LogLevel::debug;
      else if (l == "info")
        a.level = LogLevel::info;
      else if (l == "warn")
        a.level = LogLevel::warn;
      else if (l == "error")
        a.level = LogLevel::error;
      else
        return std::nullopt;
    } else if (a.command.empty() && arg.rfind("--", 0) != 0) {
      a.command = arg;
    } else {
      return std::nullopt;
    }
  }
  if (a.command.empty()) return std::nullopt;
  return a;
}

// ---- the pid file -------------------------------------------------------------------------------

fs::path pid_file(const quorum::config::ZooConfig& c) {
  return c.data_dir / "quorumd.pid";
}

std::optional<pid_t> read_pid(const fs::path& file) {
  std::ifstream in(file);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// This process's pid in the file while it runs (written atomically), removed on the way out.
class PidFile {
 public:
  explicit PidFile(fs::path file) : file_(std::move(file)) {
    const fs::path tmp = file_.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << ::getpid() << "\n";
      if (!out) throw std::runtime_error(fmt::format("cannot write {}", tmp.string()));
    }
    fs::rename(tmp, file_);
  }
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile() {
    std::error_code ignored;
    fs::remove(file_, ignored);
  }

 private:
  fs::path file_;
};

// ---- running the member -------------------------------------------------------------------------

void log_role(const quorum::RoleEvent& e) {
  using K = quorum::RoleEvent::Kind;
  switch (e.kind) {
    case K::leading:
      logger(LogLevel::info, "LEADING: elected leader");
      break;
    case K::following:
      logger(LogLevel::info, fmt::format("FOLLOWING: server {} leads", e.leader));
      break;
    case K::synced:
      logger(LogLevel::info,
             fmt::format("synced with leader {} by {}", e.leader, quorum::to_string(e.sync_mode)));
      break;
    case K::established:
      logger(LogLevel::info,
             fmt::format("serving: epoch {} established, leader {}", e.epoch, e.leader));
      break;
    case K::failed:
      logger(LogLevel::warn, fmt::format("LOOKING: {}", e.why));
      break;
    case K::committed:
      break;
  }
}

// Blocks until SIGTERM/SIGINT (graceful stop) or the member stops by itself (storage failure).
template <class Member>
int serve_until_signalled(Member& node, const sigset_t& signals) {
  for (;;) {
    timespec wait{0, 200'000'000};
    siginfo_t info{};
    const int sig = ::sigtimedwait(&signals, &info, &wait);
    if (sig > 0) {
      // Who asked is worth a line: an unexpected stop is otherwise a mystery.
      logger(LogLevel::info, fmt::format("{} (from process {}): shutting down", ::strsignal(sig),
                                         static_cast<long>(info.si_pid)));
      return 0;
    }
    if (const auto s = node.status(); !s.storage_failure.empty()) {
      logger(LogLevel::error, fmt::format("storage failed, stopping: {}", s.storage_failure));
      return 1;
    }
  }
}

template <class Transport>
int run_member(typename Transport::Network& network, const quorum::config::ZooConfig& c,
               ServerId self, quorum::storage::FileStorage& storage, const sigset_t& signals) {
  quorum::Node<Transport, quorum::storage::FileStorage> node(
      network, quorum::config::node_config(c, self), storage);
  node.set_role_observer(log_role);
  node.start();
  std::unique_ptr<quorum::server::ClientPort> client = quorum::server::open_client_port(
      node, c, self, [](const std::string& line) { logger(LogLevel::debug, line); });
  if (client) {
    std::string host = c.client_port_address;
    if (const auto* me = c.server(self); me && me->client) host = me->client->host;
    logger(LogLevel::info,
           fmt::format("client port {}:{}", host.empty() ? "*" : host, client->port()));
  }
  const int rc = serve_until_signalled(node, signals);
  client.reset();
  node.stop();
  return rc;
}

int foreground(const Args& a, const sigset_t& signals) {
  const quorum::config::ZooConfig c = quorum::config::load_zoo_cfg(a.config);
  ServerId self = 1;
  if (!c.servers.empty() || fs::exists(c.data_dir / "myid"))
    self = quorum::config::read_myid(c.data_dir);
  quorum::config::check_member(c, self);
  logger.set(a.level, self);
  for (const std::string& w : c.warnings) logger(LogLevel::warn, w);

  const fs::path pid = pid_file(c);
  if (const auto other = read_pid(pid); other && *other != ::getpid() && alive(*other)) {
    logger(LogLevel::error,
           fmt::format("already running as process {} ({})", *other, pid.string()));
    return 1;
  }
  fs::create_directories(c.data_dir);
  if (!c.data_log_dir.empty()) fs::create_directories(c.data_log_dir);

  quorum::storage::PosixFileSystem files;
  quorum::storage::FileStorageOptions so;
  so.data_dir = c.data_dir.string();
  so.data_log_dir = c.data_log_dir.string();
  so.snapshots_retained = static_cast<std::size_t>(c.snap_retain_count);
  quorum::storage::FileStorage storage(files, so);
  std::string error;
  std::vector<std::string> reports;
  if (storage.open(error, reports)) {
    logger(LogLevel::error, fmt::format("cannot open the data directory: {}", error));
    return 1;
  }
  for (const std::string& r : reports) logger(LogLevel::warn, fmt::format("recovery: {}", r));
  logger(LogLevel::info,
         fmt::format("server {} starting ({}), last logged zxid {:#x}", self,
                     c.standalone() ? "standalone" : fmt::format("{} voters", c.voters().size()),
                     static_cast<std::uint64_t>(
                         std::max<std::int64_t>(storage.last_logged_zxid().value, 0))));
  const PidFile written(pid);
  int rc = 0;
  if (c.standalone()) {
    quorum::InProcHub hub;
    rc = run_member<quorum::InProcTransport>(hub, c, self, storage, signals);
  } else {
    quorum::TcpOptions o = quorum::TcpOptions::from(c, self);
    o.log = [](LogLevel level, const std::string& line) { logger(level, line); };
    quorum::TcpNetwork network(std::move(o));
    rc = run_member<quorum::AsioTcpTransport>(network, c, self, storage, signals);
  }
  logger(LogLevel::info, "stopped");
  return rc;
}

// ---- the zkServer.sh commands -------------------------------------------------------------------

int start(const Args& a, const sigset_t& signals) {
  const quorum::config::ZooConfig c = quorum::config::load_zoo_cfg(a.config);
  const fs::path pid = pid_file(c);
  if (const auto other = read_pid(pid); other && alive(*other)) {
    std::printf("quorumd already running as process %d.\n", static_cast<int>(*other));
    return 1;
  }
  fs::create_directories(c.data_dir);
  const fs::path out = c.data_dir / "quorumd.out";
  std::printf("Using config: %s\nStarting quorumd ... ", a.config.c_str());
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child < 0) {
    std::printf("FAILED TO START (fork: %s)\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    ::setsid();
    const int null = ::open("/dev/null", O_RDONLY);
    const int log = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    }
    // A daemon keeps nothing of its starter's: a pipe it held open would never see EOF.
    ::close_range(3, ~0u, 0);
    int rc = 1;
    try {
      rc = foreground(a, signals);
    } catch (const std::exception& e) {
      logger(LogLevel::error, e.what());
    }
    std::_Exit(rc);
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_pid(pid) == child) {
      std::printf("STARTED\n");
      return 0;
    }
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) break;
    std::this_thread::sleep_for(20ms);
  }
  std::printf("FAILED TO START (see %s)\n", out.c_str());
  return 1;
}

int stop(const Args& a) {
  const quorum::config::ZooConfig c = quorum::config::load_zoo_cfg(a.config);
  const fs::path pid_path = pid_file(c);
  std::printf("Using config: %s\nStopping quorumd ... ", a.config.c_str());
  const auto pid = read_pid(pid_path);
  if (!pid) {
    std::printf("no quorumd to stop (could not find file %s)\n", pid_path.c_str());
    return 1;
  }
  if (::kill(*pid, SIGTERM) != 0 && errno == ESRCH) {
    std::error_code ignored;
    fs::remove(pid_path, ignored);
    std::printf("STOPPED (process %d was not running; its pid file is removed)\n",
                static_cast<int>(*pid));
    return 0;
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (alive(*pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  if (alive(*pid)) {
    std::printf("FAILED: process %d is still running after 30 s\n", static_cast<int>(*pid));
    return 1;
  }
  std::printf("STOPPED\n");
  return 0;
}

int status(const Args& a) {
  const quorum::config::ZooConfig c = quorum::config::load_zoo_cfg(a.config);
  std::optional<quorum::config::HostPort> address;
  if (c.client_port) address = quorum::config::HostPort{c.client_port_address, *c.client_port};
  if (!address && !c.servers.empty()) {
    const ServerId self = quorum::config::read_myid(c.data_dir);
    if (const auto* me = c.server(self); me && me->client) address = me->client;
  }
  std::printf("Using config: %s\n", a.config.c_str());
  if (!address) {
    std::printf(
        "Unable to find the client port in %s (clientPort, or ;port on this server's line)\n",
        a.config.c_str());
    return 1;
  }
  const std::string host =
      address->host.empty() || address->host == "0.0.0.0" ? "127.0.0.1" : address->host;
  std::printf("Client port found: %u. Client address: %s.\n", address->port, host.c_str());
  const auto answer = quorum::server::ask_four_letter_word(host, address->port, "srvr");
  if (!answer) {
    std::printf("Error contacting service. It is probably not running.\n");
    return 1;
  }
  const std::string mode = quorum::server::mode_of(*answer);
  if (mode.empty()) {
    std::printf("Error: %s", answer->empty() ? "no answer\n" : answer->c_str());
    return 1;
  }
  std::printf("Mode: %s\n", mode.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  if (!args) return usage();
  // Every thread inherits this mask: only the main thread takes the signals (sigtimedwait).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  try {
    const std::string& cmd = args->command;
    if (cmd == "foreground" || cmd == "start") ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    if (cmd == "foreground") return foreground(*args, signals);
    if (cmd == "start") return start(*args, signals);
    if (cmd == "stop") return stop(*args);
    if (cmd == "status") return status(*args);
    if (cmd == "restart") {
      const int stopped = stop(*args);
      (void)stopped;  // not running is fine for a restart
      ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
      return start(*args, signals);
    }
    return usage();
  } catch (const quorum::config::ConfigError& e) {
    std::fprintf(stderr, "quorumd: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quorumd: %s\n", e.what());
    return 1;
  }
}
