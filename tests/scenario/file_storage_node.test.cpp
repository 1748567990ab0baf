// Three quorum::Node members on FileStorage (each over its own SimFileSystem, with the real
// writer thread): the tree survives stopping every member and reopening its data directory,
// and a member whose disk fails stops and says why while the other two keep serving.
#include "support/catch.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quorum/node.hpp"
#include "quorum/sim/sim_file_system.hpp"
#include "quorum/storage/file_storage.hpp"

using namespace std::chrono_literals;
using namespace quorum;
using quorum::storage::FileStorage;

namespace {

constexpr auto bound = 20s;

struct DiskEnsemble {
  InProcHub hub;
  std::map<ServerId, std::unique_ptr<sim::SimFileSystem>> disks;
  std::map<ServerId, std::unique_ptr<FileStorage>> storage;
  std::map<ServerId, std::unique_ptr<Node<InProcTransport, FileStorage>>> nodes;

  DiskEnsemble() {
    for (ServerId id : {1, 2, 3}) disks[id] = std::make_unique<sim::SimFileSystem>(id);
  }
  ~DiskEnsemble() { stop(); }

  // Opens each member's data directory and starts it.
  void start() {
    for (ServerId id : {1, 2, 3}) {
      storage::FileStorageOptions o;
      o.data_dir = "/var/lib/quorum";
      storage[id] = std::make_unique<FileStorage>(*disks[id], o);
      std::string error;
      std::vector<std::string> reports;
      REQUIRE_FALSE(storage[id]->open(error, reports));
      NodeConfig config;
      config.replica.finalize_wait = config.replica.min_notification_interval = 20ms;
      config.replica.tick = 100ms;
      config.replica.self = id;
      config.replica.voters = {1, 2, 3};
      nodes[id] = std::make_unique<Node<InProcTransport, FileStorage>>(hub, config, *storage[id]);
      nodes[id]->start();
    }
  }
  void stop() {
    nodes.clear();    // members stop before their storage
    storage.clear();  // writes and syncs what was pending
  }
  bool serving(std::vector<ServerId> among) {
    for (ServerId id : among)
      if (!nodes[id]->wait_until([](const auto& s) { return s.serving; }, bound)) return false;
    return true;
  }
};

}  // namespace

TEST_CASE("a tree on FileStorage survives every member stopping and reopening its directory") {
  DiskEnsemble e;
  e.start();
  REQUIRE(e.serving({1, 2, 3}));
  {
    Session s = e.nodes[2]->open_session();
    s.create("/config", "v1");
    for (int i = 0; i < 50; ++i)
      s.create("/config/item", std::to_string(i),
               {.mode = tree::CreateMode::persistent_sequential});
    s.set_data("/config", "v2");
    s.close();
  }
  const Zxid before = e.nodes[1]->status().applied;
  e.stop();
  // The log reached each member's (simulated) disk.
  CHECK(e.disks[1]->exists("/var/lib/quorum/version-2/log.100000001"));

  e.start();
  REQUIRE(e.serving({1, 2, 3}));
  Session s = e.nodes[3]->open_session();
  s.sync("/");
  CHECK(s.get_data("/config").data == "v2");
  CHECK(s.get_children("/config").children.size() == 50);
  CHECK(e.nodes[3]->status().applied > before);
}

TEST_CASE("a member whose disk fails stops and says why; the other two keep serving") {
  DiskEnsemble e;
  e.start();
  REQUIRE(e.serving({1, 2, 3}));
  // The victim is a follower, so the leader and the other follower keep a quorum throughout.
  ServerId leader = 0;
  for (ServerId id : {1, 2, 3})
    if (e.nodes[id]->status().state == PeerState::leading) leader = id;
  REQUIRE(leader != 0);
  const ServerId victim = leader == 3 ? 2 : 3;
  e.disks[victim]->set_fault_hook([](sim::FileOp op, const std::string&) {
    return op == sim::FileOp::sync ? std::make_error_code(std::errc::io_error) : std::error_code{};
  });
  Session s = e.nodes[leader]->open_session();
  for (int i = 0; i < 20; ++i) s.create("/n" + std::to_string(i), "x");
  REQUIRE(e.nodes[victim]->wait_until([](const auto& st) { return !st.storage_failure.empty(); },
                                      bound));
  CHECK(e.nodes[victim]->status().storage_failure.find("/var/lib/quorum/version-2") !=
        std::string::npos);
  CHECK_FALSE(e.nodes[victim]->status().serving);
  // Two of three still make a quorum.
  s.create("/after", "y");
  CHECK(s.get_data("/after").data == "y");
}
