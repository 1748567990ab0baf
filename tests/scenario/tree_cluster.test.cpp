// The data tree on a simulated three-member ensemble: sessions, reads and writes through any
// member, watches, expiry, reattaching, sync and failover.
#include "support/catch.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "support/tree_client.hpp"

using namespace std::chrono_literals;
using namespace quorum;
using quorum::sim::NodeCluster;
using quorum::test::SimClient;
using tree::EventType;
using tree::OpCode;

namespace {
NodeCluster started(std::uint64_t seed = 1) {
  NodeCluster c({.servers = 3, .seed = seed});
  for (ServerId id : {1, 2, 3}) c.start(id);
  return c;
}
}  // namespace

TEST_CASE("a write through a follower is read from every member with the same Stat") {
  NodeCluster c({.servers = 3, .seed = 1});
  for (ServerId id : {1, 2, 3}) c.start(id);
  const auto leader = c.run_until_serving();
  REQUIRE(leader);
  const ServerId follower = *leader == 1 ? 2 : 1;
  SimClient w{c, follower};
  REQUIRE(w.open());
  const auto created = w.create("/app", "v1");
  REQUIRE(created);
  REQUIRE_FALSE(created->error);
  CHECK(created->path == "/app");
  CHECK(created->stat.czxid == created->zxid);
  const auto set = w.set("/app", "v2", 0);
  REQUIRE(set);
  CHECK(set->stat.version == 1);
  for (ServerId id : {1, 2, 3}) {
    SimClient r{c, id};
    REQUIRE(r.open());
    REQUIRE(r.sync("/app"));
    const auto got = r.read(OpCode::get_data, "/app");
    REQUIRE(got);
    CHECK_FALSE(got->error);
    CHECK(got->data == "v2");
    CHECK(got->stat == set->stat);
  }
  CHECK(w.create("/app")->error == make_error_code(errc::node_exists));
  CHECK(w.set("/app", "x", 7)->error == make_error_code(errc::bad_version));
  CHECK(w.read(OpCode::get_data, "/none")->error == make_error_code(errc::no_node));
}

TEST_CASE("a watch event reaches the session before the reply that shows the change") {
  NodeCluster c = started(2);
  REQUIRE(c.run_until_serving());
  SimClient watcher{c, 1};
  SimClient writer{c, 3};
  REQUIRE(watcher.open());
  REQUIRE(writer.open());
  REQUIRE_FALSE(writer.create("/w", "old")->error);
  REQUIRE(watcher.sync("/w"));
  REQUIRE(watcher.read(OpCode::get_data, "/w", true)->data == "old");
  REQUIRE_FALSE(writer.set("/w", "new")->error);
  // The watcher's member applies the change, firing the watch, before any read of it there.
  const auto after = watcher.call([&](auto& m, ReplyHandler done, Instant now) {
    m.sync(
        watcher.session, "/w", [](Reply) {}, now);
    m.read(watcher.session, ReadRequest{OpCode::get_data, "/w", false}, std::move(done), now);
  });
  REQUIRE(after);
  CHECK(after->data == "new");
  const auto& log = *watcher.log;
  std::size_t event_at = log.size(), reply_at = log.size();
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i].is_event && log[i].event.type == EventType::node_data_changed &&
        event_at == log.size())
      event_at = i;
    if (!log[i].is_event && log[i].reply.data == "new" && reply_at == log.size()) reply_at = i;
  }
  REQUIRE(event_at < log.size());
  CHECK(event_at < reply_at);
  // One-shot: a second change fires nothing more.
  REQUIRE_FALSE(writer.set("/w", "newer")->error);
  c.run_for(1s);
  CHECK(watcher.events().size() == 1);
}

TEST_CASE("child - exists and persistent recursive watches fire as ZooKeeper's") {
  NodeCluster c = started(3);
  REQUIRE(c.run_until_serving());
  SimClient a{c, 2};
  SimClient b{c, 2};
  REQUIRE(a.open());
  REQUIRE(b.open());
  REQUIRE_FALSE(b.create("/p")->error);
  CHECK(a.read(OpCode::exists, "/p/new", true)->error == make_error_code(errc::no_node));
  REQUIRE_FALSE(a.read(OpCode::get_children, "/p", true)->error);
  REQUIRE_FALSE(
      a.call([&](auto& m, ReplyHandler done, Instant now) {
         m.watch(a.session, WatchRequest{OpCode::add_watch, "/p", 1}, std::move(done), now);
       })->error);
  REQUIRE_FALSE(b.create("/p/new", "x")->error);
  REQUIRE_FALSE(b.set("/p/new", "y")->error);
  c.run_for(1s);
  const auto events = a.events();
  // exists watch + recursive on /p/new: one NodeCreated; child watch on /p: NodeChildrenChanged;
  // the recursive watch alone hears the data change.
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == EventType::node_created);
  CHECK(events[0].path == "/p/new");
  CHECK(events[1].type == EventType::node_children_changed);
  CHECK(events[1].path == "/p");
  CHECK(events[2].type == EventType::node_data_changed);
  // removeWatches: the recursive watch goes, a second removal finds nothing.
  auto remove = [&](std::int32_t type) {
    return a.call([&](auto& m, ReplyHandler done, Instant now) {
      m.watch(a.session, WatchRequest{OpCode::remove_watches, "/p", type}, std::move(done), now);
    });
  };
  CHECK_FALSE(remove(3)->error);
  CHECK(remove(3)->error == make_error_code(errc::no_watcher));
}

TEST_CASE("an abandoned session expires on the leader and its ephemerals go everywhere") {
  NodeCluster c = started(4);
  const auto leader = c.run_until_serving();
  REQUIRE(leader);
  const ServerId follower = *leader == 1 ? 2 : 1;
  const ServerId other = 6 - *leader - follower;
  SimClient owner{c, follower};
  SimClient observer{c, other};
  REQUIRE(owner.open(400));  // clamped to 2..20 ticks of 100 ms
  REQUIRE(observer.open(2000));
  REQUIRE_FALSE(owner.create("/lock", {}, tree::CreateMode::ephemeral)->error);
  REQUIRE(observer.sync("/"));
  const auto seen = observer.read(OpCode::exists, "/lock", true);
  REQUIRE_FALSE(seen->error);
  CHECK(seen->stat.ephemeral_owner == owner.session);
  // The owner's member stops touching it (the client went away without closing).
  c.at(follower, [&](auto& m, Instant) { m.detach_session(owner.session); });
  REQUIRE(c.run_until([&] { return !observer.events().empty(); }, 5s));
  CHECK(observer.events()[0].type == EventType::node_deleted);
  for (ServerId id : {1, 2, 3}) CHECK(c.member(id).tree().find("/lock") == tree::no_node);
  CHECK_FALSE(c.member(*leader).tree().sessions().count(owner.session));
  // The expired session cannot write any more.
  CHECK(owner.create("/again")->error == make_error_code(errc::session_expired));
}

TEST_CASE("a session reattaches to another member with its password") {
  NodeCluster c = started(5);
  REQUIRE(c.run_until_serving());
  SimClient first{c, 1};
  REQUIRE(first.open(2000));
  REQUIRE_FALSE(first.create("/mine", {}, tree::CreateMode::ephemeral)->error);
  c.at(1, [&](auto& m, Instant) { m.detach_session(first.session); });
  SimClient moved{c, 3};
  moved.session = first.session;
  const auto bad = moved.call([&](auto& m, ReplyHandler done, Instant now) {
    tree::SessionPassword wrong{};
    m.attach_session(first.session, wrong, Zxid::none(), moved.watcher(), std::move(done), now);
  });
  CHECK(bad->error == make_error_code(errc::session_expired));
  const auto ok = moved.call([&](auto& m, ReplyHandler done, Instant now) {
    m.attach_session(first.session, tree::session_password(first.session), Zxid::none(),
                     moved.watcher(), std::move(done), now);
  });
  REQUIRE(ok);
  REQUIRE_FALSE(ok->error);
  // Kept alive from member 3 now: well past its timeout the ephemeral is still there.
  c.run_for(5s);
  CHECK(c.member(2).tree().find("/mine") != tree::no_node);
  CHECK_FALSE(moved.set("/mine", "still mine")->error);
}

TEST_CASE("writes continue after the leader fails and pending ones report connection loss") {
  NodeCluster c = started(6);
  const auto leader = c.run_until_serving();
  REQUIRE(leader);
  const ServerId follower = *leader == 1 ? 2 : 1;
  SimClient w{c, follower};
  REQUIRE(w.open(4000));
  REQUIRE_FALSE(w.create("/before", "1")->error);
  c.crash(*leader);
  auto slot = std::make_shared<std::optional<Reply>>();
  c.at(follower, [&](auto& m, Instant now) {
    m.write(w.session, tree::SetDataRequest{"/before", "2", -1}, w.recorder(slot), now);
  });
  REQUIRE(c.run_until([&] { return slot->has_value(); }, 10s));
  CHECK((*slot)->error == make_error_code(errc::connection_loss));
  const auto next = c.run_until_serving();
  REQUIRE(next);
  CHECK(*next != *leader);
  const auto after = w.create("/after", "x");
  REQUIRE(after);
  CHECK_FALSE(after->error);
  CHECK(after->zxid.epoch() > 1);
  c.start(*leader);
  REQUIRE(c.run_until_serving());
  SimClient r{c, *leader};
  REQUIRE(r.open());
  REQUIRE(r.sync("/"));
  CHECK_FALSE(r.read(OpCode::get_data, "/after")->error);
  CHECK(c.member(*leader).tree().snapshot().state == c.member(follower).tree().snapshot().state);
}

TEST_CASE("the leader deletes empty containers and expired TTL nodes as txns") {
  sim::NodeClusterOptions options;
  options.seed = 8;
  options.node.container_check_interval = 300ms;
  NodeCluster c(options);
  for (ServerId id : {1, 2, 3}) c.start(id);
  REQUIRE(c.run_until_serving());
  SimClient a{c, 1};
  REQUIRE(a.open(2000));
  const auto container = [&](const std::string& path) {
    return a.call([&](auto& m, ReplyHandler done, Instant now) {
      m.write(a.session,
              tree::CreateRequest{path, "", tree::open_acl_unsafe(), tree::CreateMode::container, 0,
                                  OpCode::create_container},
              std::move(done), now);
    });
  };
  REQUIRE_FALSE(container("/box")->error);
  REQUIRE_FALSE(container("/unused")->error);
  REQUIRE_FALSE(a.create("/box/item")->error);
  REQUIRE_FALSE(a.remove("/box/item")->error);
  const auto ttl = a.call([&](auto& m, ReplyHandler done, Instant now) {
    m.write(a.session,
            tree::CreateRequest{"/ttl", "", tree::open_acl_unsafe(),
                                tree::CreateMode::persistent_with_ttl, 200, OpCode::create_ttl},
            std::move(done), now);
  });
  REQUIRE(ttl);
  REQUIRE_FALSE(ttl->error);
  CHECK(ttl->stat.ephemeral_owner == 0);
  REQUIRE(c.run_until(
      [&] {
        for (ServerId id : {1, 2, 3})
          if (c.member(id).tree().find("/box") != tree::no_node ||
              c.member(id).tree().find("/ttl") != tree::no_node)
            return false;
        return true;
      },
      5s));
  // A container that never had a child stays, as in ZooKeeper (maxNeverUsedIntervalMs = 0).
  for (ServerId id : {1, 2, 3}) CHECK(c.member(id).tree().find("/unused") != tree::no_node);
}

TEST_CASE("a session cut off from the leader expires and its watcher hears Expired") {
  NodeCluster c = started(9);
  const auto leader = c.run_until_serving();
  REQUIRE(leader);
  const ServerId lonely = *leader == 1 ? 2 : 1;
  SimClient owner{c, lonely};
  REQUIRE(owner.open(400));
  REQUIRE_FALSE(owner.create("/held", {}, tree::CreateMode::ephemeral)->error);
  std::vector<ServerId> rest;
  for (ServerId id : {1, 2, 3})
    if (id != lonely) rest.push_back(id);
  c.network().partition({{lonely}, rest});
  c.run_for(3s);  // well past the 400 ms timeout: the leader proposes closeSession
  CHECK(c.member(*leader).tree().find("/held") == tree::no_node);
  c.network().heal();
  REQUIRE(c.run_until(
      [&] {
        for (const auto& e : owner.events())
          if (e.state == tree::KeeperState::expired) return true;
        return false;
      },
      10s));
  CHECK(c.member(lonely).tree().find("/held") == tree::no_node);
  CHECK(owner.create("/again")->error == make_error_code(errc::session_expired));
}

TEST_CASE("a garbled sync marker from the leader is dropped and later syncs still complete") {
  NodeCluster c = started(11);
  const auto leader = c.run_until_serving();
  REQUIRE(leader);
  const ServerId follower = *leader == 1 ? 2 : 1;
  SimClient f{c, follower};
  REQUIRE(f.open());
  for (const char* marker : {"", ":", "x:1", "1:", "1:y", "12:3:4", "99999999999999999999:1",
                             "1:99999999999", "-:-", "1 :2"})
    c.network().send(*leader, follower,
                     Message{QuorumPacket{PacketType::sync, Zxid{}, 0, {}, marker}});
  REQUIRE(f.sync("/"));
  CHECK(c.member(follower).serving());
  CHECK_FALSE(f.create("/still", "ok")->error);
}

TEST_CASE("a write pipelined behind a sync is answered after it, in order (never dropped)") {
  // The fuzz test's find: the write's txn can be applied before the leader answers the sync;
  // its reply must wait for the sync's, not vanish (the session then hung).
  // One member alone (it commits within submit(), before the sync's answer) and through a
  // follower and the leader of three.
  for (const auto& [servers, at] :
       {std::pair{1, ServerId{1}}, std::pair{3, ServerId{2}}, std::pair{3, ServerId{3}}}) {
    NodeCluster c({.servers = static_cast<std::size_t>(servers), .seed = 3});
    for (ServerId id = 1; id <= static_cast<ServerId>(servers); ++id) c.start(id);
    REQUIRE(c.run_until_serving());
    SimClient a{c, at};
    REQUIRE(a.open());
    std::vector<std::string> order;
    auto slot = [&](std::string name) {
      return [&order, name](Reply r) {
        order.push_back(name + (r.error ? " " + r.error.message() : std::string(" ok")));
      };
    };
    c.at(at, [&](auto& m, Instant now) {
      m.write(a.session, tree::CreateRequest{"/A", {}, tree::open_acl_unsafe()}, slot("create"),
              now);
      m.sync(a.session, "/", slot("sync"), now);
      m.write(a.session, tree::CreateRequest{"/nope/x", {}, tree::open_acl_unsafe()},
              slot("bad create"), now);
      m.read(a.session, ReadRequest{OpCode::exists, "/", false}, slot("exists"), now);
    });
    c.run_until([&] { return order.size() == 4; }, 10s);
    INFO(servers << " members, through member " << at);
    REQUIRE(order.size() == 4);
    CHECK(order[0] == "create ok");
    CHECK(order[1] == "sync ok");
    CHECK(order[2].rfind("bad create ", 0) == 0);
    CHECK(order[2] != "bad create ok");
    CHECK(order[3] == "exists ok");
  }
}

TEST_CASE("a write through the member a session moved away from is SESSIONMOVED") {
  // ZooKeeper's owner rule: a reattach makes the new member the session's owner (a follower
  // tells the leader with REVALIDATE before answering), and the leader refuses the session's
  // writes that still come through the old one.
  NodeCluster c = started(11);
  const auto leader = c.run_until_serving();
  REQUIRE(leader);
  std::vector<ServerId> followers;
  for (ServerId id : {1, 2, 3})
    if (id != *leader) followers.push_back(id);
  // follower -> follower, follower -> leader, leader -> follower
  const std::vector<std::pair<ServerId, ServerId>> moves{
      {followers[0], followers[1]}, {followers[0], *leader}, {*leader, followers[1]}};
  for (const auto& [from, to] : moves) {
    INFO("from " << from << " to " << to);
    SimClient old_client{c, from};
    REQUIRE(old_client.open(4000));
    const std::string path = "/moved-" + std::to_string(from) + "-" + std::to_string(to);
    REQUIRE_FALSE(old_client.create(path, "0")->error);
    SimClient new_client{c, to};
    new_client.session = old_client.session;
    const auto attached = new_client.call([&](auto& m, ReplyHandler done, Instant now) {
      m.attach_session(old_client.session, tree::session_password(old_client.session), Zxid::none(),
                       new_client.watcher(), std::move(done), now);
    });
    REQUIRE(attached);
    REQUIRE_FALSE(attached->error);
    // The old member still has the session attached (its client has not noticed yet).
    const auto stale = old_client.set(path, "stale");
    REQUIRE(stale);
    CHECK(stale->error == make_error_code(errc::session_moved));
    const auto fresh = new_client.set(path, "fresh");
    REQUIRE(fresh);
    CHECK_FALSE(fresh->error);
    CHECK(new_client.read(OpCode::get_data, path)->data == "fresh");
    // Reads are not refused (ZooKeeper checks the owner of writes only).
    CHECK_FALSE(old_client.read(OpCode::get_data, "/")->error);
    new_client.call([&](auto& m, ReplyHandler done, Instant now) {
      m.close_session(new_client.session, std::move(done), now);
    });
  }
}
