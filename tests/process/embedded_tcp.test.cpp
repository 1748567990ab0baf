// A service that embeds a member (examples/tcp_service) and quorumd, in one ensemble over
// TCP on 127.0.0.1: write through one member, read through another, SIGKILL the leader (a
// quorumd), writes continue, the old leader restarts and catches up. Every wait is bounded.
#include "support/catch.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "quorum/server/four_letter_client.hpp"
#include "support/child_process.hpp"
#include "support/free_ports.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using quorum::test::Child;
namespace fs = std::filesystem;

namespace {

// Sends a command to a tcp_service and returns its one-line answer; retries CONNECTIONLOSS
// (the answer "error ConnectionLoss") a bounded number of times, as a ZooKeeper client would.
std::string ask(Child& service, const std::string& command) {
  std::string answer;
  for (int attempt = 0; attempt < 100; ++attempt) {
    service.write_line(command);
    answer = service.line(20s).value_or("(no answer)");
    if (answer != "error ConnectionLoss") return answer;
    std::this_thread::sleep_for(50ms);
  }
  return answer;
}

std::string zxid_line(const std::string& srvr) {
  const auto at = srvr.find("Zxid: ");
  return at == std::string::npos ? "" : srvr.substr(at, srvr.find('\n', at) - at);
}

}  // namespace

TEST_CASE(
    "an embedding service and quorumd in one ensemble: writes survive the leader's "
    "SIGKILL and the old leader catches up",
    "[quorumd][embedded]") {
  quorum::test::TempDir dir{"embedded-tcp-"};
  const auto p = quorum::test::free_ports(8);
  std::string servers;
  for (int id = 1; id <= 3; ++id)
    servers += "server." + std::to_string(id) +
               "=127.0.0.1:" + std::to_string(p[static_cast<std::size_t>(2 * id - 2)]) + ":" +
               std::to_string(p[static_cast<std::size_t>(2 * id - 1)]) + "\n";
  const std::uint16_t client_port = p[6];
  const std::uint16_t service_client_port = p[7];  // the embedding service's own clientPort
  auto config = [&](int id) {
    const fs::path data = dir.path() / ("data" + std::to_string(id));
    fs::create_directories(data);
    std::ofstream(data / "myid") << id << "\n";
    const fs::path cfg = dir.path() / ("zoo" + std::to_string(id) + ".cfg");
    std::ofstream(cfg) << "tickTime=100\ninitLimit=20\nsyncLimit=5\ndataDir=" << data.string()
                       << "\n"
                       << (id == 3 ? "clientPort=" + std::to_string(client_port) +
                                         "\nclientPortAddress=127.0.0.1\n"
                           : id == 1 ? "clientPort=" + std::to_string(service_client_port) +
                                           "\nclientPortAddress=127.0.0.1\n"
                                     : std::string())
                       << servers;
    return cfg.string();
  };
  const std::string cfg1 = config(1), cfg2 = config(2), cfg3 = config(3);

  // quorumd (3) first, then the services: 3 has the largest id and leads.
  auto quorumd = std::make_unique<Child>(
      std::vector<std::string>{QUORUMD, "foreground", "--config", cfg3}, true);
  Child s1({TCP_SERVICE, "--config", cfg1}, false, true);
  Child s2({TCP_SERVICE, "--config", cfg2}, false, true);
  REQUIRE(s1.line(60s) == "serving");
  REQUIRE(s2.line(60s) == "serving");
  auto srvr = [&] {
    return quorum::server::ask_four_letter_word("127.0.0.1", client_port, "srvr", 2s).value_or("");
  };
  REQUIRE(quorum::server::mode_of(srvr()) == "leader");

  // Write through member 1, read through member 2.
  CHECK(ask(s1, "create /app v1") == "ok /app");
  CHECK(ask(s2, "sync /app") == "ok synced");
  CHECK(ask(s2, "get /app") == "data v1 version 0");

  // The embedding service serves ZooKeeper's clients itself: kazoo reads and writes through
  // it, and its four-letter words answer.
  {
    const std::string script =
        "import sys\n"
        "from kazoo.client import KazooClient\n"
        "zk = KazooClient(hosts=sys.argv[1], timeout=10)\n"
        "zk.start(timeout=15)\n"
        "zk.sync('/app')\n"
        "assert zk.get('/app')[0] == b'v1'\n"
        "assert zk.create('/via-service', b'k') == '/via-service'\n"
        "print('kazoo ok', flush=True)\n"
        "zk.stop()\n";
    Child py({"/usr/bin/python3", "-c", script, "127.0.0.1:" + std::to_string(service_client_port)},
             true);
    const std::string out = py.drain(60s);
    INFO(out);
    CHECK(out.find("kazoo ok\n") != std::string::npos);
    CHECK(ask(s2, "sync /via-service") == "ok synced");
    CHECK(ask(s2, "get /via-service") == "data k version 0");
    const std::string mode =
        quorum::server::ask_four_letter_word("127.0.0.1", service_client_port, "srvr", 2s)
            .value_or("");
    CHECK(quorum::server::mode_of(mode) == "follower");
  }

  // SIGKILL the leader; 2 leads now (the larger id of equal histories); writes go on.
  quorumd.reset();
  CHECK(ask(s1, "set /app v2") == "ok version 1");
  CHECK(ask(s2, "mode") == "mode leader");
  for (int i = 0; i < 20; ++i)
    CHECK(ask(s2, "create /n" + std::to_string(i) + " x") == "ok /n" + std::to_string(i));

  // The old leader comes back as a follower and catches up: its last zxid is the leader's.
  quorumd = std::make_unique<Child>(
      std::vector<std::string>{QUORUMD, "foreground", "--config", cfg3}, true);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string answer;
  while (std::chrono::steady_clock::now() < deadline) {
    answer = srvr();
    if (quorum::server::mode_of(answer) == "follower") break;
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(quorum::server::mode_of(answer) == "follower");
  CHECK(ask(s1, "create /last y") == "ok /last");
  const std::string last = ask(s1, "zxid");  // "zxid 0x..." of /last's create
  REQUIRE(last.rfind("zxid 0x2", 0) == 0);   // epoch 2
  const std::string expected = "Zxid: " + last.substr(5);
  const auto caught_up = std::chrono::steady_clock::now() + 10s;
  while (zxid_line(srvr()) != expected && std::chrono::steady_clock::now() < caught_up)
    std::this_thread::sleep_for(20ms);
  CHECK(zxid_line(srvr()) == expected);
  CHECK(ask(s1, "get /app") == "data v2 version 1");
  s1.write_line("quit");
  s2.write_line("quit");
}
