// Differential compatibility with real ZooKeeper clients: the same client scenario runs against
// three quorumd and against a real Apache ZooKeeper 3.8 ensemble (Debian's `zookeeper`
// package, started here by tests/process/clients/zk_ensemble.py), and the normalized
// transcripts must be equal: kazoo (tests/process/clients/zk_compat.py), the C client's shell
// cli_mt and the Java shell zkCli.sh. Also ZooKeeper's own `zkServer.sh status` on a quorumd
// member's zoo.cfg. Both sides get the same zoo.cfg settings: tickTime 200 ms (the session
// timeouts show in the transcripts), extendedTypesEnabled=true (TTL nodes), all 4lw.
// Only 127.0.0.1; every wait is bounded; every process started is stopped.
//
// Needs the Debian packages zookeeper, zookeeper-bin, python3-kazoo and a Java runtime.
#include "support/catch.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/quorumd_cluster.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using quorum::test::Child;
using quorum::test::Cluster;
namespace fs = std::filesystem;

namespace {

constexpr int kTickMs = 200;
const char* const kExtraConfig = "extendedTypesEnabled=true\n4lw.commands.whitelist=*\n";

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

struct Run {
  std::string out;  ///< standard output
  std::string err;  ///< standard error (from a file)
  int code = -1;    ///< exit code; -1 when it had to be killed
};

// Runs `args` to completion within `limit` (killed after it), stdout and stderr apart.
Run run(const std::vector<std::string>& args, const fs::path& err_file,
        std::chrono::seconds limit) {
  std::string cmd = "exec";
  for (const auto& a : args) cmd += " " + quoted(a);
  cmd += " 2>" + quoted(err_file.string());
  Child c({"/bin/sh", "-c", cmd}, false);
  Run r;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto l = c.line(std::max(left, 1ms));
    if (!l) break;  // end of output (or the limit)
    r.out += *l + "\n";
  }
  while (!c.exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  if (c.exited()) r.code = c.exit_code();
  c.kill_now();
  std::ifstream f(err_file);
  r.err.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

// A unified-style line diff (LCS) of `want` (ZooKeeper) and `got` (quorumd): changed lines
// with 2 lines of context, `-` ZooKeeper only, `+` quorumd only.
std::string diff(const std::string& want, const std::string& got) {
  const auto a = lines_of(want), b = lines_of(got);
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<std::string> ops;  // " x", "-x", "+x"
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ops.push_back("  " + a[i++]);
      ++j;
    } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push_back("+ " + b[j++]);
    } else {
      ops.push_back("- " + a[i++]);
    }
  }
  std::string out;
  std::size_t last = 0;
  bool any = false;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    if (ops[k][0] == ' ') continue;
    const std::size_t from = k >= 2 ? k - 2 : 0;
    if (any && from > last) out += "@@\n";
    for (std::size_t c = std::max(from, last); c < k; ++c) out += ops[c] + "\n";
    out += ops[k] + "\n";
    last = k + 1;
    any = true;
    for (std::size_t c = k + 1; c < ops.size() && c <= k + 2 && ops[c][0] == ' '; ++c) {
      out += ops[c] + "\n";
      last = c + 1;
    }
  }
  return any ? out : "(no difference)\n";
}

std::string tail(const std::string& text, std::size_t max_lines = 40) {
  auto v = lines_of(text);
  std::string out;
  for (std::size_t k = v.size() > max_lines ? v.size() - max_lines : 0; k < v.size(); ++k)
    out += v[k] + "\n";
  return out;
}

// The tools the tests need; a missing one fails the test with the package to install.
void require_zookeeper_tools() {
  for (const char* path : {PYTHON3, ZKSERVER_SH, ZKCLI_SH, CLI_MT, ZK_JAR}) {
    INFO(path << " is missing: apt-get install zookeeper zookeeper-bin python3-kazoo "
                 "default-jre-headless");
    REQUIRE(fs::exists(path));
  }
}

// A real ZooKeeper 3.8 ensemble of `n` servers (zk_ensemble.py), stopped when destroyed.
class ZkEnsemble {
 public:
  explicit ZkEnsemble(int n) {
    const Run r = run(
        {PYTHON3, ZK_ENSEMBLE_SCRIPT, "start", dir_.path().string(), std::to_string(n), "--tick",
         std::to_string(kTickMs), "--extra", "extendedTypesEnabled=true", "--timeout", "90"},
        dir_.path() / "start.err", 120s);
    started_ = true;
    INFO("zk_ensemble.py start:\n" << r.out << r.err);
    REQUIRE(r.code == 0);
    const auto info = nlohmann::json::parse(r.out);
    for (const auto& p : info.at("client_ports")) ports_.push_back(p.get<std::uint16_t>());
    REQUIRE(static_cast<int>(ports_.size()) == n);
  }
  ZkEnsemble(const ZkEnsemble&) = delete;
  ZkEnsemble& operator=(const ZkEnsemble&) = delete;
  ~ZkEnsemble() {
    if (started_)
      run({PYTHON3, ZK_ENSEMBLE_SCRIPT, "stop", dir_.path().string(), "--timeout", "10"},
          dir_.path() / "stop.err", 30s);
  }
  std::string host(int id) const {
    return "127.0.0.1:" + std::to_string(ports_.at(static_cast<std::size_t>(id - 1)));
  }
  const fs::path& dir() const { return dir_.path(); }

 private:
  quorum::test::TempDir dir_{"zk-ensemble-"};
  bool started_ = false;
  std::vector<std::uint16_t> ports_;
};

// Three quorumd with the same settings as the ZooKeeper side.
void start_quorumd(Cluster& c) {
  for (int id : {1, 2, 3}) c.write_config(id, c.servers_text(kExtraConfig));
  for (int id : {1, 2, 3}) c.start(id);
  REQUIRE(c.leader({1, 2, 3}));
}

std::string seconds_since(std::chrono::steady_clock::time_point t0) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

// The transcripts of one client against ZooKeeper (`zk`) and quorumd (`q`) must be equal.
void compare(const std::string& what, const Run& zk, const Run& q) {
  INFO(what << ": exit code against ZooKeeper " << zk.code << ", against quorumd " << q.code);
  INFO(what << ": diff (- ZooKeeper 3.8, + quorumd):\n" << diff(zk.out, q.out));
  INFO(what << ": quorumd run's stderr (tail):\n" << tail(q.err));
  CHECK(q.code == 0);
  const bool same_transcript = q.out == zk.out;  // (the diff above shows both sides)
  CHECK(same_transcript);
}

}  // namespace

TEST_CASE("zkcompat: kazoo's transcript against quorumd equals ZooKeeper 3.8's",
          "[zkcompat][kazoo]") {
  require_zookeeper_tools();
  quorum::test::TempDir tmp{"zkcompat-"};
  const auto t0 = std::chrono::steady_clock::now();
  Run zk;
  {
    ZkEnsemble e(3);
    zk = run({PYTHON3, ZK_COMPAT_SCRIPT, e.host(1), e.host(2), e.host(3)}, tmp.path() / "zk.err",
             320s);
  }
  INFO("ZooKeeper side took " << seconds_since(t0));
  {
    // The reference itself must run cleanly: a failure here is the script's (or the
    // machine's), not quorumd's.
    INFO("transcript against ZooKeeper:\n" << zk.out << "stderr (tail):\n" << tail(zk.err));
    REQUIRE(zk.code == 0);
    REQUIRE(zk.out.find("== end\n") != std::string::npos);
  }
  const auto t1 = std::chrono::steady_clock::now();
  Cluster c(kTickMs);
  start_quorumd(c);
  const Run q = run({PYTHON3, ZK_COMPAT_SCRIPT, c.host(1), c.host(2), c.host(3)},
                    tmp.path() / "quorumd.err", 320s);
  INFO("quorumd side took " << seconds_since(t1));
  compare("zk_compat.py (kazoo)", zk, q);
  for (int id : {1, 2, 3}) CHECK_FALSE(c.server(id).exited());
}

TEST_CASE("zkcompat: cli_mt's and zkCli.sh's transcripts against quorumd equal ZooKeeper 3.8's",
          "[zkcompat][cli]") {
  require_zookeeper_tools();
  quorum::test::TempDir tmp{"zkcompat-"};
  Run zk_cli, zk_java;
  {
    ZkEnsemble e(3);
    zk_cli = run({PYTHON3, CLI_MT_COMPAT_SCRIPT, e.host(1), "--cli", CLI_MT},
                 tmp.path() / "zk-cli.err", 60s);
    zk_java = run({PYTHON3, ZKCLI_COMPAT_SCRIPT, e.host(2), "--zkcli", ZKCLI_SH},
                  tmp.path() / "zk-zkcli.err", 120s);
  }
  {
    INFO("cli_mt against ZooKeeper:\n" << zk_cli.out << zk_cli.err);
    REQUIRE(zk_cli.code == 0);
  }
  {
    INFO("zkCli.sh against ZooKeeper:\n" << zk_java.out << zk_java.err);
    REQUIRE(zk_java.code == 0);
  }
  Cluster c(kTickMs);
  start_quorumd(c);
  const Run q_cli = run({PYTHON3, CLI_MT_COMPAT_SCRIPT, c.host(1), "--cli", CLI_MT},
                        tmp.path() / "q-cli.err", 60s);
  const Run q_java = run({PYTHON3, ZKCLI_COMPAT_SCRIPT, c.host(2), "--zkcli", ZKCLI_SH},
                         tmp.path() / "q-zkcli.err", 120s);
  compare("cli_mt_compat.py", zk_cli, q_cli);
  compare("zkcli_compat.py", zk_java, q_java);
  for (int id : {1, 2, 3}) CHECK_FALSE(c.server(id).exited());
}

TEST_CASE("zkcompat: ZooKeeper's zkServer.sh status reports a quorumd member's mode",
          "[zkcompat][status]") {
  require_zookeeper_tools();
  quorum::test::TempDir tmp{"zkcompat-"};
  Cluster c(kTickMs);
  start_quorumd(c);
  const auto leader = c.leader({1, 2, 3});
  REQUIRE(leader);
  for (int id : {1, 2, 3}) {
    const Run r =
        run({ZKSERVER_SH, "status", c.config(id).string()}, tmp.path() / "status.err", 60s);
    INFO("server " << id << ": zkServer.sh status:\n" << r.out << r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("Client port found: " + std::to_string(c.ports(id).client) +
                     ". Client address: 127.0.0.1. Client SSL: false.\n") != std::string::npos);
    CHECK(r.out.find(id == *leader ? "Mode: leader\n" : "Mode: follower\n") != std::string::npos);
  }
  // A member that is down: ZooKeeper's script says so and fails.
  const int follower = *leader == 1 ? 2 : 1;
  c.kill(follower);
  const Run r =
      run({ZKSERVER_SH, "status", c.config(follower).string()}, tmp.path() / "status.err", 60s);
  INFO("stopped server " << follower << ": zkServer.sh status:\n" << r.out << r.err);
  CHECK(r.code == 1);
  CHECK((r.out + r.err).find("Error contacting service. It is probably not running.") !=
        std::string::npos);
}
