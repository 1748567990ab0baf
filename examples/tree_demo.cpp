// Part 4 of the demo: the replicated data tree on disk. Sessions write through a follower, read
// on every member, watch a node, survive the leader's failure; the leader restarts from its
// data directory and catches up, and the trees end identical.
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "demo_parts.hpp"
#include "quorum/durable_ensemble.hpp"
#include "tree_view.hpp"

using namespace std::chrono_literals;
using quorum::ServerId;

namespace {

// The three members, narrating when each starts serving.
class TreeEnsemble {
 public:
  using Member = quorum::DurableInProcEnsemble::Member;

  TreeEnsemble(std::chrono::milliseconds finalize_wait, const std::string& data_dir)
      : nodes_({1, 2, 3}, config(finalize_wait), quorum::DataDirectories(data_dir)) {
    nodes_.set_member_setup([this](ServerId id, Member& m) {
      m.set_role_observer([this, id](const quorum::RoleEvent& e) {
        if (e.kind == quorum::RoleEvent::Kind::established)
          say(fmt::format("server {} serves in epoch {} (leader {})", id, e.epoch, e.leader));
      });
    });
  }

  Member& operator[](ServerId id) { return nodes_[id]; }
  quorum::DurableInProcEnsemble& ensemble() { return nodes_; }

  void say(const std::string& line) {
    std::lock_guard lock(mutex_);
    fmt::print("  [{:7.3f}s] {}\n",
               std::chrono::duration<double>(nodes_.hub().now().time_since_epoch()).count(), line);
  }

  ServerId wait_for_leader(std::vector<ServerId> among) {
    if (auto leader = nodes_.leader(30s, among)) return *leader;
    fail("no leader was elected");
  }

  [[noreturn]] static void fail(const std::string& why) {
    fmt::print(stderr, "demo: {}\n", why);
    std::exit(1);
  }

 private:
  static quorum::NodeConfig config(std::chrono::milliseconds finalize_wait) {
    quorum::NodeConfig base;
    base.replica.finalize_wait = finalize_wait;
    base.replica.min_notification_interval = std::max<quorum::Duration>(finalize_wait, 1ms);
    base.replica.tick = 200ms;
    return base;
  }

  std::mutex mutex_;
  quorum::DurableInProcEnsemble nodes_;
};

// Deletes `path` and everything under it.
void remove_tree(quorum::Session& s, const std::string& path) {
  for (const std::string& child : s.get_children(path).children) remove_tree(s, path + "/" + child);
  s.remove(path);
}

}  // namespace

void data_tree_part(std::chrono::milliseconds finalize_wait, const std::string& data_dir) {
  fmt::print("Part 4 · The data tree on disk: sessions, znodes, watches, failover, restart\n\n");
  TreeEnsemble e(finalize_wait, data_dir);
  e.say(fmt::format("servers 1, 2 and 3 keep their log, snapshots and epochs in {}/member-N",
                    data_dir));
  for (ServerId id : {1, 2, 3})
    for (const std::string& report : e.ensemble().disks().reports(id))
      e.say(fmt::format("server {} recovery: {}", id, report));
  e.ensemble().start();
  const ServerId leader = e.wait_for_leader({1, 2, 3});
  const ServerId follower = leader == 1 ? 2 : 1;
  const ServerId third = 6 - leader - follower;
  {
    quorum::Session s = e[follower].open_session();
    if (s.exists("/app")) {
      fmt::print("\n  Found on disk, from an earlier run:\n{}\n", demo::tree_view(s, "/"));
      remove_tree(s, "/app");
      e.say("removed /app, to write it afresh");
    }
  }

  std::atomic<int> events{0};
  quorum::Session watcher = e[third].open_session(
      {.timeout = 4000ms, .watcher = [&](const quorum::tree::WatchedEvent& ev) {
         ++events;
         e.say(fmt::format("session on server {} hears {} on {}", third, to_string(ev.type),
                           ev.path));
       }});
  quorum::Session writer = e[follower].open_session({.timeout = 4000ms});
  e.say(fmt::format("sessions opened on server {} (writer, a follower) and {} (watcher)", follower,
                    third));

  writer.create("/app", "demo service");
  writer.create("/app/config", "timeout=30");
  writer.create("/app/workers");
  const auto w1 = writer.create("/app/workers/w-", "host-a",
                                {.mode = quorum::tree::CreateMode::ephemeral_sequential});
  const auto w2 = writer.create("/app/workers/w-", "host-b",
                                {.mode = quorum::tree::CreateMode::ephemeral_sequential});
  e.say(fmt::format("writer created /app, /app/config, /app/workers, {} and {}", w1.path, w2.path));

  watcher.sync("/app");
  const auto seen = watcher.get_data("/app/config", quorum::Watch::yes);
  e.say(fmt::format("watcher reads /app/config = \"{}\" (version {}) and leaves a watch", seen.data,
                    seen.stat.version));
  const auto updated = writer.set_data("/app/config", "timeout=60", seen.stat.version);
  e.say(fmt::format("writer sets /app/config = \"timeout=60\" at {} (version {})",
                    to_string(updated.mzxid), updated.version));
  for (int i = 0; i < 100 && events.load() == 0; ++i) std::this_thread::sleep_for(10ms);

  for (ServerId id : {1, 2, 3}) {
    quorum::Session reader = e[id].open_session();
    reader.sync("/");
    const auto got = reader.get_data("/app/config");
    e.say(fmt::format("server {} serves /app/config = \"{}\" version {} mzxid {}", id, got.data,
                      got.stat.version, to_string(got.stat.mzxid)));
  }
  fmt::print("\n  The tree as server {} serves it:\n{}\n", follower, demo::tree_view(writer));

  e.say(fmt::format("server {} (the leader) stops", leader));
  e[leader].stop();
  const ServerId next = e.wait_for_leader({follower, third});
  e.say(fmt::format("server {} leads now; the writer keeps writing through server {}", next,
                    follower));
  quorum::tree::Stat after{};
  for (int attempt = 0; attempt < 50; ++attempt) {
    try {
      writer.create("/app/after-failover", "written in the new epoch");
      after = writer.set_data("/app/config", "timeout=90");
      break;
    } catch (const std::system_error& err) {
      // CONNECTIONLOSS while the ensemble elects: retry, as a ZooKeeper client does.
      if (err.code() != make_error_code(quorum::errc::connection_loss) &&
          err.code() != make_error_code(quorum::errc::node_exists))
        throw;
      std::this_thread::sleep_for(100ms);
    }
  }
  e.say(fmt::format("writer set /app/config = \"timeout=90\" at {}", to_string(after.mzxid)));

  e.say(fmt::format("server {} restarts from its data directory and catches up", leader));
  e.ensemble().restart(leader);
  e.wait_for_leader({1, 2, 3});
  std::map<ServerId, std::string> views;
  for (ServerId id : {1, 2, 3}) {
    quorum::Session reader = e[id].open_session();
    reader.sync("/");
    views[id] = demo::tree_view(reader);
  }
  fmt::print("\n  The tree as server {} serves it:\n{}", leader, views[leader]);
  const bool same = views[1] == views[2] && views[2] == views[3];
  fmt::print(
      "  Servers 1, 2 and 3 serve {} trees (stats included); the watcher heard {} event(s).\n",
      same ? "identical" : "DIFFERENT", events.load());
  if (!same) TreeEnsemble::fail("the trees differ");
}
