// Three quorum::Node members on FileStorage (each over its own SimFileSystem, with the real
// writer thread): the tree survives stopping every member and reopening its data directory,
// and a member whose disk fails stops and says why while the other two keep serving.
#include "support/catch.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "quorum/node.hpp"
#include "quorum/sim/sim_file_system.hpp"
#include "quorum/storage/file_storage.hpp"
#include "quorum/storage/log_format.hpp"

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

  storage::FileStorageOptions options;
  std::size_t snap_count = 100'000;

  DiskEnsemble() {
    for (ServerId id : {1, 2, 3}) disks[id] = std::make_unique<sim::SimFileSystem>(id);
    options.data_dir = "/var/lib/quorum";
  }
  ~DiskEnsemble() { stop(); }

  // Opens each member's data directory and starts it.
  void start() {
    for (ServerId id : {1, 2, 3}) {
      storage[id] = std::make_unique<FileStorage>(*disks[id], options);
      std::string error;
      std::vector<std::string> reports;
      REQUIRE_FALSE(storage[id]->open(error, reports));
      NodeConfig config;
      config.replica.finalize_wait = config.replica.min_notification_interval = 20ms;
      config.replica.tick = 100ms;
      config.replica.self = id;
      config.replica.voters = {1, 2, 3};
      config.snap_count = snap_count;
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

TEST_CASE("members snapshot in the background every snap_count txns and purge the old log") {
  DiskEnsemble e;
  e.snap_count = 40;
  e.options.log.roll_bytes = 2048;  // small segments, so purging has something to remove
  e.options.snapshots_retained = 2;
  e.start();
  REQUIRE(e.serving({1, 2, 3}));
  {
    Session s = e.nodes[1]->open_session();
    for (int i = 0; i < 400; ++i) s.create("/n" + std::to_string(i), std::string(20, 'x'));
    s.close();
  }
  const std::string dir = "/var/lib/quorum/version-2";
  // Each member writes a snapshot past (1,300) on its own (the disks are thread-safe to list).
  const auto newest_snapshot = [&](ServerId id) {
    std::vector<std::string> names;
    REQUIRE_FALSE(e.disks[id]->list(dir, names));
    Zxid newest;
    std::size_t count = 0;
    for (const std::string& n : names)
      if (auto z = storage::parse_snapshot_name(n)) newest = std::max(newest, *z), ++count;
    return std::pair{newest, count};
  };
  for (ServerId id : {1, 2, 3}) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (newest_snapshot(id).first <= Zxid::make(1, 300) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
  }
  e.stop();  // members and their snapshot threads are done: the storage can be looked at
  for (ServerId id : {1, 2, 3}) {
    INFO("member " << id);
    const auto [newest, count] = newest_snapshot(id);
    CHECK(newest > Zxid::make(1, 300));
    CHECK(count <= 3);  // the two retained, and one written as the member stopped
    CHECK_FALSE(e.disks[id]->exists(dir + "/log.100000001"));  // purged with old snapshots
  }
  e.start();
  REQUIRE(e.serving({1, 2, 3}));
  Session s = e.nodes[2]->open_session();
  s.sync("/");
  CHECK(s.get_children("/").children.size() == 401);  // with /zookeeper
  CHECK(s.get_data("/n399").data == std::string(20, 'x'));
}
