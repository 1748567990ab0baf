// Three quorumd servers as an operator runs them: zoo.cfg + myid per server under one temp
// dir, on 127.0.0.1 with free ports, each started as `quorumd foreground --config zooN.cfg`
// (the QUORUMD compile definition names the binary); status from the client port's `srvr`.
// Used by tests/process/quorumd.test.cpp and tests/process/zk_compat.test.cpp.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "quorum/server/four_letter_client.hpp"
#include "support/child_process.hpp"
#include "support/free_ports.hpp"
#include "support/temp_dir.hpp"

#ifndef QUORUMD
#error "QUORUMD (the quorumd binary) must be a compile definition of the test target"
#endif

namespace quorum::test {

struct Ports {
  std::uint16_t quorum, election, client;
};

// Three servers' directories and configs under one temp dir.
class Cluster {
 public:
  /// `tick_ms`: the configs' tickTime (session timeouts are 2..20 ticks).
  explicit Cluster(int tick_ms = 100) : tick_ms_(tick_ms) {
    const auto p = quorum::test::free_ports(9);
    for (int id = 1; id <= 3; ++id)
      ports_[id] = {p[static_cast<std::size_t>(3 * (id - 1))],
                    p[static_cast<std::size_t>(3 * (id - 1) + 1)],
                    p[static_cast<std::size_t>(3 * (id - 1) + 2)]};
    for (int id = 1; id <= 3; ++id) write_config(id, servers_text());
  }
  ~Cluster() {
    servers_.clear();  // SIGKILL and reap
  }

  std::string servers_text(const std::string& extra = "") const {
    std::string s;
    for (const auto& [id, p] : ports_)
      s += "server." + std::to_string(id) + "=127.0.0.1:" + std::to_string(p.quorum) + ":" +
           std::to_string(p.election) + "\n";
    return s + extra;
  }

  void write_config(int id, const std::string& servers) {
    const std::filesystem::path data = dir_.path() / ("data" + std::to_string(id));
    std::filesystem::create_directories(data);
    std::ofstream(data / "myid") << id << "\n";
    std::ofstream(config(id)) << "tickTime=" << tick_ms_ << "\ninitLimit=20\nsyncLimit=5\n"
                              << "dataDir=" << data.string() << "\n"
                              << "clientPort=" << ports_.at(id).client << "\n"
                              << "clientPortAddress=127.0.0.1\n"
                              << servers;
  }

  std::filesystem::path config(int id) const {
    return dir_.path() / ("zoo" + std::to_string(id) + ".cfg");
  }
  std::filesystem::path data(int id) const { return dir_.path() / ("data" + std::to_string(id)); }
  const Ports& ports(int id) const { return ports_.at(id); }
  /// "127.0.0.1:<client port of id>"
  std::string host(int id) const { return "127.0.0.1:" + std::to_string(ports_.at(id).client); }

  void start(int id) {
    servers_.erase(id);
    servers_.emplace(id, Child({QUORUMD, "foreground", "--config", config(id).string()}, true));
  }
  Child& server(int id) { return servers_.at(id); }
  void kill(int id) { servers_.erase(id); }

  std::string srvr(int id) {
    return quorum::server::ask_four_letter_word("127.0.0.1", ports_.at(id).client, "srvr",
                                                std::chrono::seconds(2))
        .value_or("");
  }
  std::string mode(int id) { return quorum::server::mode_of(srvr(id)); }

  // Waits until `among` report one leader and the rest followers; the leader's id.
  std::optional<int> leader(std::vector<int> among,
                            std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<int> leading;
      int followers = 0;
      for (int id : among) {
        const std::string m = mode(id);
        if (m == "leader") leading = id;
        if (m == "follower") ++followers;
      }
      if (leading && followers + 1 == static_cast<int>(among.size())) return leading;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

 private:
  quorum::test::TempDir dir_{"quorumd-test-"};
  int tick_ms_;
  std::map<int, Ports> ports_;
  std::map<int, Child> servers_;
};

}  // namespace quorum::test
