// quorum::Node and quorum::Session in real threads over an InProcHub: every operation
// synchronously, with futures and with callbacks; errors as ZooKeeper's codes; watches.
#include "support/catch.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "quorum/inproc_ensemble.hpp"

using namespace std::chrono_literals;
using namespace quorum;

namespace {

constexpr auto bound = 20s;

NodeConfig fast() {
  NodeConfig base;
  base.replica.finalize_wait = base.replica.min_notification_interval = 20ms;
  base.replica.tick = 100ms;
  // Two seconds of silence before a member gives up on its leader or followers: under a
  // sanitizer with the whole suite on two cores a member can stall for half a second, and
  // these tests are about sessions, not failure detection.
  base.replica.sync_limit = 20;
  return base;
}

struct Ensemble : InProcEnsemble {
  Ensemble() : InProcEnsemble({1, 2, 3}, fast()) { start(); }
  bool all_serving() { return wait_serving(bound); }
};

// Collects watch events across threads.
struct EventLog {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<tree::WatchedEvent> events;

  WatchHandler handler() {
    return [this](const tree::WatchedEvent& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, bound, [&] { return events.size() >= count; });
  }
  tree::WatchedEvent at(std::size_t i) {
    std::lock_guard lock(mutex);
    return events.at(i);
  }
};

errc code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return static_cast<errc>(e.code().value());
  }
  return errc::ok;
}

}  // namespace

TEST_CASE("Node and Session - every operation synchronously") {
  Ensemble e;
  REQUIRE(e.all_serving());
  Session s = e[1].open_session({.timeout = 4000ms});
  CHECK(s.timeout_ms() == 2000);  // clamped to 20 ticks of 100 ms
  const CreateResult c = s.create("/svc", "cfg");
  CHECK(c.path == "/svc");
  CHECK(c.stat.data_length == 3);
  const CreateResult seq =
      s.create("/svc/n-", "", {.mode = tree::CreateMode::ephemeral_sequential});
  CHECK(seq.path == "/svc/n-0000000000");
  CHECK(seq.stat.ephemeral_owner == s.id());
  CHECK(s.get_data("/svc").data == "cfg");
  CHECK(s.set_data("/svc", "cfg2", 0).version == 1);
  CHECK(s.exists("/svc")->version == 1);
  CHECK_FALSE(s.exists("/nope").has_value());
  const ChildrenResult kids = s.get_children("/svc");
  CHECK(kids.children == std::vector<std::string>{"n-0000000000"});
  CHECK(kids.stat.num_children == 1);
  CHECK(s.get_all_children_number("/svc") == 1);
  CHECK(s.get_ephemerals("/svc") == std::vector<std::string>{"/svc/n-0000000000"});
  CHECK(s.get_acl("/svc").acl == tree::open_acl_unsafe());
  CHECK(s.set_acl("/svc", tree::open_acl_unsafe(), 0).aversion == 1);
  CHECK(s.sync("/svc") == "/svc");
  const auto results = s.multi({tree::CreateRequest{"/m", "1", tree::open_acl_unsafe()},
                                tree::CheckRequest{"/svc", 1}, tree::SetDataRequest{"/m", "2", 0}});
  REQUIRE(results.size() == 3);
  CHECK(results[0].path == "/m");
  CHECK(results[2].stat.version == 1);
  const auto reads = s.multi_read({{tree::OpCode::get_data, "/m"},
                                   {tree::OpCode::get_children, "/svc"},
                                   {tree::OpCode::get_data, "/missing"},
                                   {tree::OpCode::exists, "/m"}});
  REQUIRE(reads.size() == 4);
  CHECK(reads[0].data == "2");
  CHECK(reads[0].stat.version == 1);
  CHECK(reads[1].children == std::vector<std::string>{"n-0000000000"});
  CHECK(reads[2].error == make_error_code(errc::no_node));
  CHECK(reads[3].error == make_error_code(errc::bad_arguments));
  s.remove("/m", 1);
  CHECK_FALSE(s.exists("/m"));

  // Errors carry ZooKeeper's codes and messages.
  CHECK(code_of([&] { s.create("/svc"); }) == errc::node_exists);
  CHECK(code_of([&] { s.get_data("/nope"); }) == errc::no_node);
  CHECK(code_of([&] { s.set_data("/svc", "x", 9); }) == errc::bad_version);
  CHECK(code_of([&] { s.remove("/svc"); }) == errc::not_empty);
  CHECK(code_of([&] { s.create("bad"); }) == errc::bad_arguments);
  CHECK(code_of([&] { s.remove_watches("/svc"); }) == errc::no_watcher);
  CHECK(code_of([&] {
          s.multi({tree::CreateRequest{"/x", "", tree::open_acl_unsafe()},
                   tree::CreateRequest{"/svc", "", tree::open_acl_unsafe()}});
        }) == errc::node_exists);
  try {
    s.create("/svc");
  } catch (const std::system_error& err) {
    CHECK(err.code().category() == quorum::error_category());
    CHECK(err.code().message() == "NodeExists");
  }

  // Another member sees the same tree; closing the session removes its ephemerals.
  Session other = e[3].open_session();
  other.sync("/");
  CHECK(other.get_data("/svc").stat == s.exists("/svc").value());
  s.close();
  other.sync("/");
  CHECK(other.get_children("/svc").children.empty());
  CHECK(code_of([&] { s.get_data("/svc"); }) == errc::session_expired);
}

TEST_CASE("Node and Session - futures and callbacks") {
  Ensemble e;
  REQUIRE(e.all_serving());
  Session s = e[2].open_session();
  auto created = s.async_create("/f", "1", {}, use_future);
  CHECK(created.get().path == "/f");
  std::promise<std::pair<std::error_code, tree::Stat>> p;
  s.async_set_data("/f", "2", 5, [&](std::error_code ec, tree::Stat st) { p.set_value({ec, st}); });
  const auto [ec, st] = p.get_future().get();
  CHECK(ec == make_error_code(errc::bad_version));
  (void)st;
  auto missing = s.async_get_data("/nope", Watch::no, use_future);
  CHECK_THROWS_AS(missing.get(), std::system_error);
  std::promise<std::error_code> removed;
  s.async_remove("/f", -1, [&](std::error_code e2) { removed.set_value(e2); });
  CHECK_FALSE(removed.get_future().get());
  // A blocking call from the member's own thread is refused, not deadlocked.
  std::promise<bool> refused;
  s.async_exists("/", Watch::no, [&](std::error_code, std::optional<tree::Stat>) {
    try {
      s.get_data("/");
      refused.set_value(false);
    } catch (const std::logic_error&) {
      refused.set_value(true);
    }
  });
  CHECK(refused.get_future().get());
}

TEST_CASE("Node and Session - watches fire across members") {
  Ensemble e;
  REQUIRE(e.all_serving());
  EventLog log;
  Session watcher = e[1].open_session({.watcher = log.handler()});
  Session writer = e[2].open_session();
  writer.create("/cfg", "v1");
  watcher.sync("/cfg");
  CHECK(watcher.get_data("/cfg", Watch::yes).data == "v1");
  watcher.add_watch("/cfg", AddWatchMode::persistent_recursive);
  writer.set_data("/cfg", "v2");
  REQUIRE(log.wait_for(1));
  CHECK(log.at(0).type == tree::EventType::node_data_changed);
  CHECK(log.at(0).path == "/cfg");
  writer.create("/cfg/child");
  REQUIRE(log.wait_for(2));
  CHECK(log.at(1).type == tree::EventType::node_created);
  CHECK(log.at(1).path == "/cfg/child");
  watcher.check_watches("/cfg", tree::WatcherType::data);
  watcher.remove_watches("/cfg", tree::WatcherType::any);
  CHECK(code_of([&] { watcher.check_watches("/cfg"); }) == errc::no_watcher);
}

TEST_CASE("Node and Session - digest auth and ACLs") {
  Ensemble e;
  REQUIRE(e.all_serving());
  Session alice = e[1].open_session();
  alice.add_auth("digest", "alice:secret");
  alice.create("/private", "x", {.acl = tree::creator_all_acl()});
  const tree::AclList acl = alice.get_acl("/private").acl;
  REQUIRE(acl.size() == 1);
  CHECK(acl[0].id.id == tree::digest_id("alice:secret"));
  Session bob = e[3].open_session();
  bob.sync("/");
  CHECK(code_of([&] { bob.get_data("/private"); }) == errc::no_auth);
  CHECK(code_of([&] { bob.set_data("/private", "y"); }) == errc::no_auth);
  CHECK(code_of([&] { bob.add_auth("nosuch", "x"); }) == errc::auth_failed);
  // A watch fires only for sessions that may read the node (ZooKeeper 3.8).
  EventLog log;
  Session carol = e[2].open_session({.watcher = log.handler()});
  carol.add_watch("/private", AddWatchMode::persistent);
  carol.add_watch("/open", AddWatchMode::persistent);
  alice.set_data("/private", "y");
  alice.create("/open");
  REQUIRE(log.wait_for(1));
  CHECK(log.at(0).path == "/open");
  bob.add_auth("digest", "alice:secret");
  CHECK(bob.get_data("/private").data == "y");
}

TEST_CASE("Node and Session - a stopped member fails calls with connection loss") {
  Ensemble e;
  REQUIRE(e.all_serving());
  const ServerId leader = e.leader(bound).value_or(0);
  REQUIRE(leader != 0);
  const ServerId follower = leader == 1 ? 2 : 1;
  Session s = e[follower].open_session();
  s.create("/a");
  e[follower].stop();
  CHECK(code_of([&] { s.get_data("/a"); }) == errc::connection_loss);
  // The session moves to another member with its id and password.
  const ServerId third = 6 - leader - follower;
  Session moved = e[third].attach_session(s.id(), s.password(), {}, s.last_zxid_seen());
  s.release();
  moved.sync("/");
  CHECK(moved.get_data("/a").data.empty());
  CHECK(code_of([&] { e[third].attach_session(moved.id(), tree::SessionPassword{}); }) ==
        errc::session_expired);
}
