// quorumd as an operator runs it: the seed's three servers on 127.0.0.1 (zoo.cfg + myid),
// status from the client port's `srvr`, SIGKILL of the leader, a refused member whose server
// lines disagree, zkServer.sh-style start/status/stop, configuration errors, and garbage at
// every port. Every wait is bounded; every process started is stopped.
#include "support/catch.hpp"

#include <asio.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "quorum/server/four_letter_client.hpp"
#include "support/child_process.hpp"
#include "support/free_ports.hpp"
#include "support/quorumd_cluster.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using quorum::test::Child;
namespace fs = std::filesystem;

namespace {

using quorum::test::Cluster;
using quorum::test::Ports;

std::string zxid_of(const std::string& srvr) {
  const auto at = srvr.find("Zxid: ");
  return at == std::string::npos ? "" : srvr.substr(at + 6, srvr.find('\n', at) - at - 6);
}

// Runs `quorumd args...` to completion; its output (stdout and stderr) and exit code.
std::pair<std::string, int> run_quorumd(std::vector<std::string> args) {
  args.insert(args.begin(), QUORUMD);
  Child c(std::move(args), true);
  std::string out = c.drain(40s);
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  while (!c.exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  return {out, c.exit_code()};
}

void send_garbage(std::uint16_t port, const std::string& bytes) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  std::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (!ec) asio::write(s, asio::buffer(bytes), ec);
}

}  // namespace

TEST_CASE(
    "quorumd: three servers elect; the leader is SIGKILLed; a new one leads; the old one "
    "rejoins and catches up",
    "[quorumd]") {
  Cluster c;
  for (int id : {1, 2, 3}) c.start(id);
  const auto first = c.leader({1, 2, 3});
  REQUIRE(first);

  // `quorumd status` prints the mode as zkServer.sh status does.
  const auto [status_out, status_rc] =
      run_quorumd({"status", "--config", c.config(*first).string()});
  CHECK(status_rc == 0);
  CHECK(status_out.find("Mode: leader\n") != std::string::npos);
  CHECK(status_out.find("Client port found: " + std::to_string(c.ports(*first).client)) !=
        std::string::npos);

  c.kill(*first);  // SIGKILL
  std::vector<int> rest;
  for (int id : {1, 2, 3})
    if (id != *first) rest.push_back(id);
  const auto second = c.leader(rest);
  REQUIRE(second);
  CHECK(*second != *first);

  c.start(*first);
  const auto third = c.leader({1, 2, 3});
  REQUIRE(third);
  CHECK(*third == *second);  // an established leader keeps leading
  CHECK(c.mode(*first) == "follower");
  // The restarted member holds the new epoch's history: the same last zxid as the leader.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (zxid_of(c.srvr(*first)) != zxid_of(c.srvr(*second)) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  CHECK(zxid_of(c.srvr(*first)) == zxid_of(c.srvr(*second)));
  CHECK_FALSE(zxid_of(c.srvr(*first)).empty());
}

TEST_CASE("quorumd: a member whose server lines disagree is refused", "[quorumd]") {
  Cluster c;
  c.write_config(3, c.servers_text("server.4=127.0.0.1:1:2\n"));
  for (int id : {1, 2, 3}) c.start(id);
  REQUIRE(c.leader({1, 2}));
  std::this_thread::sleep_for(500ms);
  CHECK(c.srvr(3) == "This ZooKeeper instance is not currently serving requests\n");
  // Its own log says why, and it stays up.
  c.server(3).signal(SIGTERM);
  const std::string log = c.server(3).drain(10s);
  CHECK(log.find("different server lines in its zoo.cfg") != std::string::npos);
  CHECK(log.find("shutting down") != std::string::npos);
}

TEST_CASE("quorumd: garbage at every port does not take a server down", "[quorumd]") {
  Cluster c;
  for (int id : {1, 2, 3}) c.start(id);
  REQUIRE(c.leader({1, 2, 3}));
  std::uint64_t x = 99;
  for (int round = 0; round < 30; ++round) {
    std::string junk;
    for (int i = 0; i < 7 + round * 31; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      junk.push_back(static_cast<char>(x >> 56));
    }
    const Ports& p = c.ports(1 + round % 3);
    send_garbage(round % 3 == 0 ? p.election : round % 3 == 1 ? p.quorum : p.client, junk);
  }
  send_garbage(c.ports(1).client, std::string("\0\0\0\x2c", 4));  // a session request, cut
  REQUIRE(c.leader({1, 2, 3}));
  for (int id : {1, 2, 3}) CHECK_FALSE(c.server(id).exited());
}

TEST_CASE("quorumd: start, status, stop and restart as zkServer.sh does them", "[quorumd]") {
  quorum::test::TempDir dir{"quorumd-life-"};
  const auto port = quorum::test::free_ports(1)[0];
  const fs::path cfg = dir.path() / "zoo.cfg";
  std::ofstream(cfg) << "tickTime=100\ndataDir=" << (dir.path() / "data").string()
                     << "\nclientPort=" << port << "\nclientPortAddress=127.0.0.1\n";
  const std::string config = cfg.string();

  auto [out, rc] = run_quorumd({"start", "--config", config});
  CHECK(rc == 0);
  CHECK(out.find("STARTED") != std::string::npos);
  const auto pid_file = dir.path() / "data" / "quorumd.pid";
  CHECK(fs::exists(pid_file));

  std::tie(out, rc) = run_quorumd({"start", "--config", config});
  CHECK(rc == 1);
  CHECK(out.find("already running") != std::string::npos);

  // Standalone (no server lines) reports as ZooKeeper does.
  std::string mode;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::tie(out, rc) = run_quorumd({"status", "--config", config});
    if (rc == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(rc == 0);
  CHECK(out.find("Mode: standalone") != std::string::npos);

  std::tie(out, rc) = run_quorumd({"restart", "--config", config});
  CHECK(rc == 0);
  CHECK(out.find("STOPPED") != std::string::npos);
  CHECK(out.find("STARTED") != std::string::npos);

  std::tie(out, rc) = run_quorumd({"stop", "--config", config});
  CHECK(rc == 0);
  CHECK(out.find("STOPPED") != std::string::npos);
  CHECK_FALSE(fs::exists(pid_file));

  std::tie(out, rc) = run_quorumd({"status", "--config", config});
  CHECK(rc == 1);
  CHECK(out.find("Error contacting service. It is probably not running.") != std::string::npos);
  std::tie(out, rc) = run_quorumd({"stop", "--config", config});
  CHECK(rc == 1);
  CHECK(out.find("no quorumd to stop") != std::string::npos);
  // Its log has the story.
  std::ifstream log(dir.path() / "data" / "quorumd.out");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text.find("starting (standalone)") != std::string::npos);
  CHECK(text.find("Terminated (from process ") != std::string::npos);
}

TEST_CASE("quorumd: configuration errors name the file and line and stop it", "[quorumd]") {
  quorum::test::TempDir dir{"quorumd-bad-"};
  const fs::path cfg = dir.path() / "zoo.cfg";
  std::ofstream(cfg) << "tickTime=100\ndataDir=" << (dir.path() / "data").string()
                     << "\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:2888\n";
  auto [out, rc] = run_quorumd({"foreground", "--config", cfg.string()});
  CHECK(rc == 1);
  CHECK(out.find(cfg.string() + ":5: server.1: the quorum port and the election port are both "
                                "2888") != std::string::npos);

  std::ofstream(cfg) << "tickTime=100\ndataDir=" << (dir.path() / "data").string()
                     << "\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\n"
                     << "server.2=127.0.0.1:2889:3889\n";
  std::tie(out, rc) = run_quorumd({"foreground", "--config", cfg.string()});
  CHECK(rc == 1);
  CHECK(out.find("myid: cannot be read") != std::string::npos);

  std::tie(out, rc) = run_quorumd({"frobnicate"});
  CHECK(rc == 2);
  CHECK(out.find("usage: quorumd") != std::string::npos);
}

TEST_CASE(
    "quorumd: a ZooKeeper client (kazoo) writes through one server and reads through "
    "another, watches, moves its session",
    "[quorumd][kazoo]") {
  Cluster c;
  for (int id : {1, 2, 3}) c.start(id);
  REQUIRE(c.leader({1, 2, 3}));
  auto host = [&](int id) { return "127.0.0.1:" + std::to_string(c.ports(id).client); };
  Child py({"/usr/bin/python3", KAZOO_CLUSTER_SCRIPT, host(1), host(2), host(3)}, true);
  const std::string out = py.drain(60s);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!py.exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  INFO(out);
  CHECK(py.exit_code() == 0);
  for (const char* step :
       {"read through another server", "errors", "sequential ephemeral", "watch fired",
        "session moved", "ephemeral gone with its session", "done"})
    CHECK(out.find(std::string(step) + "\n") != std::string::npos);
}
