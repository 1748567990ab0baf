// Three members on loopback with FileStorage: two quorumd processes and one member embedded
// in this process (its Sessions are the clients). Committed setData/s of 100-byte values and
// p50/p99 latency with 1, 16 and 256 outstanding, next to the same load on a three-member
// in-process FileStorage ensemble in the same run; then failover: SIGKILL the leader, time
// until the first write commits in the new epoch, 5 runs and their median. JSON lines.
//
//   cluster_bench [--seconds S] [--runs N]     (CLUSTER_BENCH_KEEP=1 keeps the directory)
//
// Timeouts for a LAN: tickTime 100 ms (syncLimit 5: half a second of silence ends a
// follower's leader), fastleader.finalizeWait 20 ms and minNotificationInterval 20 ms. A
// killed process's connections close at once, so its followers look for a leader without
// waiting for the silence.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <asio.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "quorum/config/zoo_cfg.hpp"
#include "quorum/durable_ensemble.hpp"
#include "quorum/node.hpp"
#include "quorum/server/four_letter_client.hpp"
#include "quorum/storage/file_storage.hpp"
#include "quorum/transport/tcp.hpp"
#include "session_load.hpp"
#include "support/free_ports.hpp"

extern char** environ;

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using quorum::ServerId;

namespace {

using TcpMember = quorum::Node<quorum::AsioTcpTransport, quorum::storage::FileStorage>;

// A quorumd in the foreground, its output in a log file; SIGKILLed when dropped.
class Quorumd {
 public:
  Quorumd(const fs::path& config, const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::string path = QUORUMD, cmd = "foreground", flag = "--config", cfg = config.string();
    char* argv[] = {path.data(), cmd.data(), flag.data(), cfg.data(), nullptr};
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    if (pid_ < 0) throw std::runtime_error("cannot start quorumd");
  }
  Quorumd(const Quorumd&) = delete;
  Quorumd& operator=(const Quorumd&) = delete;
  ~Quorumd() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
};

struct Member {
  std::uint16_t quorum = 0, election = 0, client = 0;
  fs::path data, config;
};

class Cluster {
 public:
  explicit Cluster(const fs::path& root) : root_(root) {
    const auto p = quorum::test::free_ports(9);
    std::string servers;
    for (ServerId id = 1; id <= 3; ++id) {
      Member& m = members_[id];
      const auto i = static_cast<std::size_t>(3 * (id - 1));
      m = {p[i], p[i + 1], p[i + 2], root / ("data" + std::to_string(id)),
           root / ("zoo" + std::to_string(id) + ".cfg")};
      servers += "server." + std::to_string(id) + "=127.0.0.1:" + std::to_string(m.quorum) + ":" +
                 std::to_string(m.election) + "\n";
    }
    for (auto& [id, m] : members_) {
      fs::create_directories(m.data);
      std::ofstream(m.data / "myid") << id << "\n";
      std::ofstream(m.config) << "tickTime=100\ninitLimit=20\nsyncLimit=5\n"
                              << "fastleader.finalizeWait=20\n"
                              << "fastleader.minNotificationInterval=20\n"
                              << "fastleader.maxNotificationInterval=200\n"
                              << "dataDir=" << m.data.string() << "\nclientPort=" << m.client
                              << "\nclientPortAddress=127.0.0.1\n"
                              << servers;
    }
  }

  void start_daemon(ServerId id) {
    daemons_.erase(id);
    daemons_.emplace(std::piecewise_construct, std::forward_as_tuple(id),
                     std::forward_as_tuple(members_.at(id).config, root_ / "quorumd.log"));
  }
  void kill_daemon(ServerId id) { daemons_.erase(id); }

  // Member 1 lives here.
  TcpMember& start_embedded() {
    const auto config = quorum::config::load_zoo_cfg(members_.at(1).config);
    quorum::storage::FileStorageOptions o;
    o.data_dir = config.data_dir.string();
    storage_ = std::make_unique<quorum::storage::FileStorage>(files_, o);
    std::string error;
    std::vector<std::string> reports;
    if (storage_->open(error, reports)) throw std::runtime_error(error);
    network_ = std::make_unique<quorum::TcpNetwork>(quorum::TcpOptions::from(config, 1));
    embedded_ =
        std::make_unique<TcpMember>(*network_, quorum::config::node_config(config, 1), *storage_);
    embedded_->start();
    return *embedded_;
  }
  void stop_embedded() {
    embedded_.reset();
    network_.reset();
    storage_.reset();
  }
  TcpMember& embedded() { return *embedded_; }

  std::string mode(ServerId id) {
    if (id == 1) {
      const auto s = embedded_->status();
      return !s.serving ? "" : s.state == quorum::PeerState::leading ? "leader" : "follower";
    }
    return quorum::server::mode_of(
        quorum::server::ask_four_letter_word("127.0.0.1", members_.at(id).client, "srvr", 1s)
            .value_or(""));
  }

  std::optional<ServerId> leader(std::vector<ServerId> among, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::optional<ServerId> leading;
      std::size_t followers = 0;
      for (ServerId id : among) {
        const std::string m = mode(id);
        if (m == "leader") leading = id;
        if (m == "follower") ++followers;
      }
      if (leading && followers + 1 == among.size()) return leading;
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  }

 private:
  fs::path root_;
  std::map<ServerId, Member> members_;
  std::map<ServerId, Quorumd> daemons_;
  quorum::storage::PosixFileSystem files_;
  std::unique_ptr<quorum::storage::FileStorage> storage_;
  std::unique_ptr<quorum::TcpNetwork> network_;
  std::unique_ptr<TcpMember> embedded_;
};

// setData load on `node` with `outstanding` operations in flight in all (up to 16 sessions).
template <class NodeT>
bench::LoadResult set_data_load(NodeT& node, std::size_t outstanding, double seconds,
                                const std::string& tag) {
  const std::size_t sessions = std::min<std::size_t>(outstanding, 16);
  std::vector<quorum::Session> owned;
  std::vector<quorum::Session*> ptrs;
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < sessions; ++i) {
    owned.push_back(node.open_session());
    paths.push_back("/" + tag + "-" + std::to_string(outstanding) + "-" + std::to_string(i));
    owned.back().create(paths.back(), std::string(100, 'v'));
  }
  for (auto& s : owned) ptrs.push_back(&s);
  auto r = bench::run_load(ptrs, paths, "set_data", outstanding / sessions, seconds);
  for (auto& s : owned) s.close();
  return r;
}

void print_load(const std::string& setup, std::size_t outstanding, const bench::LoadResult& r,
                std::optional<double> baseline) {
  nlohmann::json j{{"bench", "cluster_writes"},
                   {"setup", setup},
                   {"op", "set_data"},
                   {"outstanding", outstanding},
                   {"ops", r.ops},
                   {"errors", r.errors},
                   {"ops_per_s", r.per_second()},
                   {"p50_us", r.percentile_us(0.50)},
                   {"p99_us", r.percentile_us(0.99)}};
  if (baseline && *baseline > 0) j["ratio_to_inproc_file"] = r.per_second() / *baseline;
  std::cout << j.dump() << std::endl;
}

// A write through `session`, retried until it commits (a ZooKeeper client keeps its session
// across a failover and retries CONNECTIONLOSS); its zxid.
std::optional<quorum::Zxid> write_until_committed(quorum::Session& session,
                                                  Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    try {
      return session.set_data("/failover", "x").mzxid;
    } catch (const std::system_error&) {
      std::this_thread::sleep_for(1ms);  // no leader yet: CONNECTIONLOSS
    }
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3.0;
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: cluster_bench [--seconds S] [--runs N]\n";
      return 2;
    }
  }
  std::string pattern = (fs::temp_directory_path() / "quorum-cluster-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) return 1;
  const fs::path root = pattern;
  const std::vector<std::size_t> windows{1, 16, 256};
  std::map<std::size_t, double> inproc;
  int rc = 0;
  try {
    {
      // The baseline: the same three members on FileStorage, in this process.
      quorum::NodeConfig base;
      base.replica.tick = 100ms;
      base.replica.finalize_wait = base.replica.min_notification_interval = 20ms;
      quorum::DurableInProcEnsemble e({1, 2, 3}, base, quorum::DataDirectories(root / "inproc"));
      e.start();
      const auto leader = e.leader(30s);
      if (!leader) throw std::runtime_error("in-process ensemble: no leader");
      const ServerId follower = *leader == 1 ? 2 : 1;
      for (std::size_t w : windows) {
        const auto r = set_data_load(e[follower], w, seconds, "inproc");
        inproc[w] = r.per_second();
        print_load("inproc_file", w, r, std::nullopt);
      }
    }
    Cluster c(root / "tcp");
    c.start_daemon(2);
    c.start_daemon(3);
    if (!c.leader({2, 3}, 30s)) throw std::runtime_error("quorumd 2 and 3: no leader");
    c.start_embedded();
    if (!c.leader({1, 2, 3}, 30s)) throw std::runtime_error("three members: no leader");
    for (std::size_t w : windows)
      print_load("tcp_quorumd", w, set_data_load(c.embedded(), w, seconds, "tcp"), inproc[w]);
    c.embedded().open_session().create("/failover");

    std::vector<double> failovers;
    for (int run = 0; run < runs; ++run) {
      auto leader = c.leader({1, 2, 3}, 30s);
      if (!leader) throw std::runtime_error("no leader before a failover run");
      if (*leader == 1) {  // the embedded member leads: restart it so a quorumd takes over
        c.stop_embedded();
        if (!c.leader({2, 3}, 30s)) throw std::runtime_error("no quorumd leader");
        c.start_embedded();
        leader = c.leader({1, 2, 3}, 30s);
        if (!leader || *leader == 1) throw std::runtime_error("a quorumd does not lead");
      }
      quorum::Session session = c.embedded().open_session();
      const auto before = write_until_committed(session, Clock::now() + 10s);
      if (!before) throw std::runtime_error("no write before the failover");
      const auto killed_at = Clock::now();
      c.kill_daemon(*leader);
      const auto after = write_until_committed(session, Clock::now() + 30s);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - killed_at).count();
      if (!after || after->epoch() <= before->epoch())
        throw std::runtime_error("no write committed in a new epoch");
      failovers.push_back(ms);
      std::cout << nlohmann::json{{"bench", "cluster_failover"},
                                  {"run", run + 1},
                                  {"killed", *leader},
                                  {"failover_ms", ms},
                                  {"new_epoch", after->epoch()}}
                       .dump()
                << std::endl;
      c.start_daemon(*leader);
      if (!c.leader({1, 2, 3}, 30s)) throw std::runtime_error("the killed member did not rejoin");
    }
    std::sort(failovers.begin(), failovers.end());
    std::cout << nlohmann::json{{"bench", "cluster_failover_summary"},
                                {"runs", failovers.size()},
                                {"median_ms", failovers[failovers.size() / 2]},
                                {"min_ms", failovers.front()},
                                {"max_ms", failovers.back()},
                                {"tick_ms", 100},
                                {"finalize_wait_ms", 20}}
                     .dump()
              << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "cluster_bench: " << e.what() << "\n";
    rc = 1;
  }
  if (std::getenv("CLUSTER_BENCH_KEEP")) {
    std::cerr << "cluster_bench: kept " << root.string() << " (quorumd.log: the servers' logs)\n";
  } else {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
  return rc;
}
