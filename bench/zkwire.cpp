// quorum vs Apache ZooKeeper 3.8 over ZooKeeper's client wire protocol (issue 7, item 6).
//
// The same load client (bench/zk_wire_client.hpp: Asio, pipelined xids) runs against a
// three-member quorumd ensemble and against Debian's ZooKeeper 3.8 three-member ensemble, one
// after the other in the same run, both started by tests/process/clients/zk_ensemble.py with
// the same zoo.cfg layout (tickTime 2000, ZooKeeper's default; initLimit 20, syncLimit 5) on
// 127.0.0.1 with their data directories side by side on one filesystem, both durable
// (ZooKeeper's forceSync=yes default, quorumd's FileStorage fsyncs its group commits).
//
// For each sessions count S and outstanding count K: S sessions, each its own TCP connection
// (to the three servers round-robin), each keeping K requests in flight, for --seconds after
// a --warmup; ops are create (persistent sequential children, 100-byte values, world:anyone),
// setData (100 bytes, version -1, each session its own znode) and getData (that znode, no
// watch). Only successful replies count; an error reply fails its case (printed with the
// error). One JSON line per case, then one ratio line (quorum / zookeeper) per case with the
// issue's targets as fields: write (create, setData) throughput >= 5x, read (getData) >= 2x,
// and a lower p99.
//
//   zkwire [--seconds S] [--warmup S] [--sessions 1,16,64] [--outstanding 100]
//          [--only quorum|zookeeper] [--dir DIR] [--keep] [--threads N] [--tick MS]
//          [--zk-jvm-opt OPT]... [--quorumd BIN] [--zk-ensemble SCRIPT] [--cfg KEY=VALUE]...
//
// The client runs one Asio thread (--threads): at the highest rates here it uses about a
// fifth of a core, and a second thread changed nothing beyond run-to-run noise while taking
// CPU from the servers on a two-core machine. Each case is measured after --warmup seconds of
// the same load; the very first sessions of a system also run every op for 2 s unreported
// (the JVM's JIT). ZooKeeper's JVMs get -Xms512m -Xmx1g (zk_ensemble.py's test default,
// 256 MB, is too small for the znodes the create cases make); --zk-jvm-opt replaces them.
// ZooKeeper's other settings are its defaults (globalOutstandingLimit 1000 throttles the
// 64 x 100 case, as it would in production). --dir keeps both data directories on the same
// filesystem (default: a fresh directory under $TMPDIR or /tmp); --keep keeps them and the logs.
// --cfg adds a zoo.cfg line to both systems' servers (e.g. snapCount=1000000, to see what the
// snapshots of the growing tree cost).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "zk_wire_client.hpp"  // includes <asio.hpp> after standard headers

extern char** environ;

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using zkwire::Clock;
using zkwire::Op;

namespace {

// ---- child processes ------------------------------------------------------------------------

struct Output {
  int rc = -1;
  std::string out;
};

// Runs argv with stdout captured (stderr passes through), at most `limit`; a child that
// overruns is SIGKILLed. Children start with no signal blocked (this process blocks the
// termination signals for its signal thread).
Output run(const std::vector<std::string>& args, std::chrono::seconds limit) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot run " + args[0] + ": " + std::strerror(err));
  }
  Output o;
  const auto deadline = Clock::now() + limit;
  bool killed = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000))) < 0 && errno != EINTR)
      break;
    if (p.revents == 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    o.out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  o.rc = killed ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// Directories whose servers run right now: the signal thread stops them on SIGINT/SIGTERM.
std::mutex g_running_mutex;
std::set<std::string> g_running;
std::string g_script;
std::atomic<bool> g_interrupted{false};

void stop_dir(const std::string& dir) {
  try {
    const auto o = run({"/usr/bin/python3", g_script, "stop", dir, "--timeout", "10"}, 60s);
    if (o.rc != 0) std::cerr << "zkwire: stopping the servers of " << dir << " failed\n";
  } catch (const std::exception& e) {
    std::cerr << "zkwire: " << e.what() << "\n";
  }
}

// A three-member ensemble started by zk_ensemble.py, stopped when dropped (whether or not
// its start succeeded: `stop` stops whatever the state file records).
class Ensemble {
 public:
  Ensemble(const fs::path& dir, int tick_ms, const std::string& quorumd,
           const std::vector<std::string>& jvm_opts, const std::vector<std::string>& cfg)
      : dir_(dir.string()) {
    {
      std::lock_guard lock(g_running_mutex);
      g_running.insert(dir_);
    }
    std::vector<std::string> args{
        "/usr/bin/python3",      g_script,    "start", dir_, "3", "--tick",
        std::to_string(tick_ms), "--timeout", "90"};
    if (!quorumd.empty()) args.insert(args.end(), {"--quorumd", quorumd});
    for (const auto& o : jvm_opts) args.push_back("--jvm-opt=" + o);
    for (const auto& line : cfg) args.push_back("--extra=" + line);
    const auto o = run(args, 150s);
    if (o.rc != 0) {
      stop();
      throw std::runtime_error("zk_ensemble.py start " + dir_ + " failed (exit " +
                               std::to_string(o.rc) + ")");
    }
    const auto j = nlohmann::json::parse(o.out.substr(o.out.find('{')));
    for (const auto& p : j.at("client_ports")) ports_.push_back(p.get<std::uint16_t>());
    modes_ = j.value("modes", nlohmann::json::object());
    if (ports_.size() != 3) throw std::runtime_error("expected three client ports");
  }
  Ensemble(const Ensemble&) = delete;
  Ensemble& operator=(const Ensemble&) = delete;
  ~Ensemble() { stop(); }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    stop_dir(dir_);
    std::lock_guard lock(g_running_mutex);
    g_running.erase(dir_);
  }
  const std::vector<std::uint16_t>& ports() const { return ports_; }
  const nlohmann::json& modes() const { return modes_; }

 private:
  std::string dir_;
  std::vector<std::uint16_t> ports_;
  nlohmann::json modes_;
  bool stopped_ = false;
};

// ---- the load -------------------------------------------------------------------------------

struct Options {
  double seconds = 3.0;
  double warmup = 1.0;
  std::vector<std::size_t> sessions{1, 16, 64};
  std::vector<std::size_t> outstanding{100};
  std::string only;
  std::string dir;
  bool keep = false;
  int threads = 1;
  int tick_ms = 2000;
  int session_timeout_ms = 30000;
  std::vector<std::string> zk_jvm_opts{"-Xms512m", "-Xmx1g"};
  std::vector<std::string> cfg;  // more zoo.cfg lines, for both systems
  std::string quorumd = QUORUMD;
  std::string script = ZK_ENSEMBLE;
};

struct CaseResult {
  std::string system;
  Op op = Op::create;
  std::size_t sessions = 0, outstanding = 0;
  std::uint64_t ops = 0;
  double seconds = 0, ops_per_s = 0, p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  std::string error;
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}

void print(const CaseResult& r, int threads) {
  if (g_interrupted) return;  // the cases a signal cut off are not results
  nlohmann::json j{{"bench", "zkwire"},
                   {"system", r.system},
                   {"op", zkwire::op_name(r.op)},
                   {"sessions", r.sessions},
                   {"outstanding", r.outstanding}};
  if (!r.error.empty()) {
    j["error"] = r.error;
  } else {
    j["ops"] = r.ops;
    j["seconds"] = r.seconds;
    j["ops_per_s"] = r.ops_per_s;
    j["p50_us"] = r.p50_us;
    j["p99_us"] = r.p99_us;
    j["p999_us"] = r.p999_us;
    j["max_us"] = r.max_us;
    j["client_threads"] = threads;
  }
  std::cout << j.dump() << std::endl;
  if (!r.error.empty())
    std::cerr << "zkwire: " << r.system << " " << zkwire::op_name(r.op)
              << " sessions=" << r.sessions << " outstanding=" << r.outstanding
              << " FAILED: " << r.error << "\n";
}

using Conns = std::vector<std::shared_ptr<zkwire::Connection>>;

std::string first_error(const Conns& conns) {
  for (std::size_t i = 0; i < conns.size(); ++i)
    if (conns[i]->failed()) return "session " + std::to_string(i) + ": " + conns[i]->error();
  return {};
}

// One load phase over `conns`: warm-up, then `seconds` counted, then the drain (at most 30 s).
CaseResult run_case(const Conns& conns, const std::vector<std::string>& paths, Op op,
                    std::size_t window, double warmup, double seconds) {
  CaseResult r;
  r.op = op;
  r.sessions = conns.size();
  r.outstanding = window;
  const auto start = Clock::now();
  const auto count_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  const auto stop_at = count_from + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(seconds));
  for (std::size_t i = 0; i < conns.size(); ++i)
    conns[i]->start_load({op, paths[i], window, count_from, stop_at});
  // Wait out the phase, watching for failures.
  while (Clock::now() < stop_at) {
    std::this_thread::sleep_for(20ms);
    if (auto e = first_error(conns); !e.empty()) {
      r.error = e;
      return r;
    }
  }
  const auto drain_deadline = Clock::now() + 30s;
  for (;;) {
    std::size_t left = 0;
    for (const auto& c : conns) left += c->in_flight();
    if (auto e = first_error(conns); !e.empty()) {
      r.error = e;
      return r;
    }
    if (left == 0) break;
    if (Clock::now() >= drain_deadline) {
      r.error = std::to_string(left) + " requests still unanswered 30 s after the phase ended";
      for (const auto& c : conns) c->abort("phase deadline passed");
      return r;
    }
    std::this_thread::sleep_for(2ms);
  }
  std::vector<double> all;
  for (const auto& c : conns) {
    auto t = c->take_tally(10s);
    r.ops += t.ops;
    all.insert(all.end(), t.latencies_us.begin(), t.latencies_us.end());
  }
  std::sort(all.begin(), all.end());
  r.seconds = seconds;
  r.ops_per_s = static_cast<double>(r.ops) / seconds;
  r.p50_us = percentile(all, 0.50);
  r.p99_us = percentile(all, 0.99);
  r.p999_us = percentile(all, 0.999);
  r.max_us = all.empty() ? 0 : all.back();
  if (r.ops == 0)
    r.error = "no successful reply within the measured " + std::to_string(seconds) + " s";
  return r;
}

const std::vector<Op> kOps{Op::create, Op::set_data, Op::get_data};

// All cases against one system; its ensemble is stopped before this returns or throws.
std::vector<CaseResult> run_system(const std::string& system, const fs::path& dir,
                                   const Options& opt) {
  std::vector<CaseResult> results;
  // The cases of `s` sessions not run yet fail with `why`.
  auto fail_rest = [&](std::size_t s, const std::string& why) {
    for (std::size_t k : opt.outstanding)
      for (Op op : kOps) {
        const bool done = std::any_of(results.begin(), results.end(), [&](const CaseResult& r) {
          return r.sessions == s && r.outstanding == k && r.op == op;
        });
        if (done) continue;
        CaseResult r;
        r.system = system, r.op = op, r.sessions = s, r.outstanding = k, r.error = why;
        print(r, opt.threads);
        results.push_back(r);
      }
  };
  fs::create_directories(dir);
  const auto started = Clock::now();
  Ensemble ensemble(dir, opt.tick_ms, system == "quorum" ? opt.quorumd : std::string(),
                    system == "zookeeper" ? opt.zk_jvm_opts : std::vector<std::string>{}, opt.cfg);
  std::cout << nlohmann::json{{"bench", "zkwire_ensemble"},
                              {"system", system},
                              {"servers", 3},
                              {"tick_ms", opt.tick_ms},
                              {"modes", ensemble.modes()},
                              {"start_s",
                               std::chrono::duration<double>(Clock::now() - started).count()}}
                   .dump()
            << std::endl;

  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.threads; ++i) threads.emplace_back([&io] { io.run(); });
  struct Joiner {
    asio::io_context& io;
    decltype(guard)& g;
    std::vector<std::thread>& t;
    ~Joiner() {
      g.reset();
      io.stop();
      for (auto& th : t) th.join();
    }
  } joiner{io, guard, threads};

  bool warmed = false;
  for (std::size_t s : opt.sessions) {
    Conns conns;
    try {
      for (std::size_t i = 0; i < s; ++i) conns.push_back(std::make_shared<zkwire::Connection>(io));
      {
        // Connect all sessions at once (each waits for its own handshake, bounded).
        std::vector<std::thread> connecting;
        std::vector<std::string> errors(s);
        for (std::size_t i = 0; i < s; ++i)
          connecting.emplace_back([&, i] {
            try {
              conns[i]->connect(ensemble.ports()[i % 3], opt.session_timeout_ms, 20s);
            } catch (const std::exception& e) {
              errors[i] = "session " + std::to_string(i) + " to port " +
                          std::to_string(ensemble.ports()[i % 3]) + ": " + e.what();
            }
          });
        for (auto& t : connecting) t.join();
        for (const auto& e : errors)
          if (!e.empty()) throw std::runtime_error(e);
      }
      // Each session's znode (setData/getData target, parent of its creates).
      std::vector<std::string> paths;
      for (std::size_t i = 0; i < s; ++i) {
        paths.push_back("/zkwire-" + std::to_string(s) + "-" + std::to_string(i));
        const auto [err, body] =
            conns[i]->call(quorum::tree::OpCode::create,
                           zkwire::Connection::create_body(paths.back(), std::string(100, 'v'),
                                                           quorum::tree::CreateMode::persistent),
                           20s);
        if (err != 0)
          throw std::runtime_error("create " + paths.back() + ": error " + std::to_string(err));
      }
      if (!warmed) {  // the first time: warm every op up (a JVM's JIT, caches), not reported
        for (Op op : kOps) {
          auto w = run_case(conns, paths, op, opt.outstanding.back(), 0, std::max(2.0, opt.warmup));
          if (!w.error.empty()) throw std::runtime_error("warm-up: " + w.error);
        }
        warmed = true;
      }
      for (std::size_t k : opt.outstanding)
        for (Op op : kOps) {
          CaseResult r = run_case(conns, paths, op, k, opt.warmup, opt.seconds);
          r.system = system;
          print(r, opt.threads);
          results.push_back(r);
          if (!r.error.empty()) throw std::runtime_error("");  // the sessions are not usable
        }
    } catch (const std::exception& e) {
      if (*e.what())
        std::cerr << "zkwire: " << system << " sessions=" << s << ": " << e.what() << "\n";
      fail_rest(s, *e.what() ? e.what() : "not run: an earlier case of these sessions failed");
    }
    // closeSession for each (in parallel, bounded).
    std::vector<std::thread> closing;
    for (auto& c : conns) closing.emplace_back([c] { c->close(5s); });
    for (auto& t : closing) t.join();
  }
  return results;
}

std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(static_cast<std::size_t>(std::stoul(item)));
  if (out.empty()) throw std::runtime_error("an empty list: " + s);
  return out;
}

int usage() {
  std::cerr
      << "usage: zkwire [--seconds S] [--warmup S] [--sessions 1,16,64] [--outstanding 100]\n"
         "              [--only quorum|zookeeper] [--dir DIR] [--keep] [--threads N]\n"
         "              [--tick MS] [--zk-jvm-opt OPT]... [--quorumd BIN] [--zk-ensemble PY]\n"
         "              [--cfg KEY=VALUE]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool jvm_opts_given = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--seconds")
        opt.seconds = std::stod(value());
      else if (a == "--warmup")
        opt.warmup = std::stod(value());
      else if (a == "--sessions")
        opt.sessions = parse_list(value());
      else if (a == "--outstanding")
        opt.outstanding = parse_list(value());
      else if (a == "--only")
        opt.only = value();
      else if (a == "--dir")
        opt.dir = value();
      else if (a == "--keep")
        opt.keep = true;
      else if (a == "--threads")
        opt.threads = std::max(1, std::stoi(value()));
      else if (a == "--tick")
        opt.tick_ms = std::stoi(value());
      else if (a == "--quorumd")
        opt.quorumd = value();
      else if (a == "--zk-ensemble")
        opt.script = value();
      else if (a == "--zk-jvm-opt") {
        if (!jvm_opts_given) opt.zk_jvm_opts.clear(), jvm_opts_given = true;
        opt.zk_jvm_opts.push_back(value());
      } else if (a == "--cfg")
        opt.cfg.push_back(value());
      else
        return usage();
    }
  } catch (const std::exception& e) {
    std::cerr << "zkwire: " << e.what() << "\n";
    return usage();
  }
  if (!opt.only.empty() && opt.only != "quorum" && opt.only != "zookeeper") return usage();
  if (opt.seconds <= 0 || opt.warmup < 0) return usage();
  g_script = opt.script;

  // SIGINT/SIGTERM/SIGHUP go to one thread, which stops the running servers and exits.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT), sigaddset(&sigs, SIGTERM), sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  fs::path root;
  bool made_root = false;
  if (opt.dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "quorum-zkwire-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
      std::cerr << "zkwire: mkdtemp failed\n";
      return 1;
    }
    root = pattern;
    made_root = true;
  } else {
    root = fs::absolute(opt.dir);
    fs::create_directories(root);
    for (const char* sub : {"quorum", "zookeeper"})
      if (fs::exists(root / sub)) {
        std::cerr << "zkwire: " << (root / sub).string() << " exists; give an empty --dir\n";
        return 1;
      }
  }

  std::thread([sigs, root, made_root, keep = opt.keep] {
    int sig = 0;
    sigwait(&sigs, &sig);
    g_interrupted = true;
    std::cerr << "zkwire: signal " << sig << ", stopping the servers\n";
    std::set<std::string> dirs;
    {
      std::lock_guard lock(g_running_mutex);
      dirs = g_running;
    }
    for (const auto& d : dirs) stop_dir(d);
    std::error_code ec;
    if (!keep && made_root) fs::remove_all(root, ec);
    if (!keep && !made_root)
      fs::remove_all(root / "quorum", ec), fs::remove_all(root / "zookeeper", ec);
    std::_Exit(128 + sig);
  }).detach();

  int rc = 0;
  std::map<std::string, std::vector<CaseResult>> by_system;
  for (const std::string system : {"quorum", "zookeeper"}) {
    if (!opt.only.empty() && opt.only != system) continue;
    try {
      by_system[system] = run_system(system, root / system, opt);
    } catch (const std::exception& e) {
      std::cerr << "zkwire: " << system << ": " << e.what() << "\n";
      std::cout
          << nlohmann::json{{"bench", "zkwire"}, {"system", system}, {"error", e.what()}}.dump()
          << std::endl;
      rc = 1;
    }
    for (const auto& r : by_system[system])
      if (!r.error.empty()) rc = 1;
  }

  // quorum / zookeeper for each case both ran.
  if (by_system.count("quorum") && by_system.count("zookeeper")) {
    bool all_met = true;
    std::size_t compared = 0;
    for (const auto& q : by_system["quorum"]) {
      for (const auto& z : by_system["zookeeper"]) {
        if (q.op != z.op || q.sessions != z.sessions || q.outstanding != z.outstanding) continue;
        nlohmann::json j{{"bench", "zkwire"},
                         {"ratio", nullptr},
                         {"op", zkwire::op_name(q.op)},
                         {"sessions", q.sessions},
                         {"outstanding", q.outstanding}};
        const bool write = q.op != Op::get_data;
        const double target = write ? 5.0 : 2.0;
        j["target_ratio"] = target;
        if (!q.error.empty() || !z.error.empty() || z.ops_per_s <= 0) {
          j["error"] = !q.error.empty() ? "quorum: " + q.error : "zookeeper: " + z.error;
          j["met"] = false;
          all_met = false;
        } else {
          const double ratio = q.ops_per_s / z.ops_per_s;
          const bool throughput_met = ratio >= target;
          const bool p99_lower = q.p99_us < z.p99_us;
          j["ratio"] = ratio;
          j["quorum_ops_per_s"] = q.ops_per_s;
          j["zookeeper_ops_per_s"] = z.ops_per_s;
          j["quorum_p99_us"] = q.p99_us;
          j["zookeeper_p99_us"] = z.p99_us;
          j["p99_ratio"] = z.p99_us > 0 ? q.p99_us / z.p99_us : 0.0;
          j["throughput_met"] = throughput_met;
          j["p99_lower"] = p99_lower;
          j["met"] = throughput_met && p99_lower;
          all_met = all_met && throughput_met && p99_lower;
        }
        ++compared;
        std::cout << j.dump() << std::endl;
      }
    }
    std::cout << nlohmann::json{{"bench", "zkwire_summary"},
                                {"cases", compared},
                                {"write_target", 5.0},
                                {"read_target", 2.0},
                                {"all_met", compared > 0 && all_met}}
                     .dump()
              << std::endl;
  }

  if (opt.keep) {
    std::cerr << "zkwire: kept " << root.string() << " (zk<i>.log: the servers' logs)\n";
  } else {
    std::error_code ec;
    if (made_root) {
      fs::remove_all(root, ec);
    } else {
      fs::remove_all(root / "quorum", ec);
      fs::remove_all(root / "zookeeper", ec);
    }
  }
  return rc;
}
