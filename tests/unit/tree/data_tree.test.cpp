#include "support/catch.hpp"

#include "support/tree_harness.hpp"

#include "quorum/random.hpp"

using namespace quorum;
using namespace quorum::tree;
using quorum::test::TreeHarness;

TEST_CASE("a fresh tree holds the root and the system nodes as ZooKeeper's") {
  DataTree t;
  CHECK(t.node_count() == 5);  // "/" counted twice, /zookeeper, quota, config
  CHECK(t.children_of(t.find("/")) == std::vector<std::string>{"zookeeper"});
  CHECK(t.children_of(t.find("/zookeeper")) == std::vector<std::string>{"config", "quota"});
  CHECK(t.acl_of(t.find("/zookeeper/config")) == read_acl_unsafe());
  CHECK(t.acl_of(t.find("/")) == open_acl_unsafe());
  CHECK(t.descendants_of(t.find("/")) == 3);
}

TEST_CASE("create sets every Stat field and the parent's") {
  TreeHarness h;
  const auto r = h.create("/a", "hello");
  REQUIRE(r.result.err == errc::ok);
  const Stat s = h.stat("/a");
  CHECK(s.czxid == r.zxid);
  CHECK(s.mzxid == r.zxid);
  CHECK(s.pzxid == r.zxid);
  CHECK(s.ctime == h.time_ms);
  CHECK(s.mtime == h.time_ms);
  CHECK(s.version == 0);
  CHECK(s.cversion == 0);
  CHECK(s.aversion == 0);
  CHECK(s.ephemeral_owner == 0);
  CHECK(s.data_length == 5);
  CHECK(s.num_children == 0);
  CHECK(r.result.stat == s);
  const Stat root = h.stat("/");
  CHECK(root.pzxid == r.zxid);
  CHECK(root.num_children == 2);
  CHECK(root.mzxid == Zxid{0});  // the parent's data is untouched
  CHECK(h.data("/a") == "hello");
  CHECK(r.changes == std::vector<TreeChange>{{"/a", EventType::node_created},
                                             {"/", EventType::node_children_changed}});
}

TEST_CASE("visible cversion counts creates and deletes - stored counts creates") {
  TreeHarness h;
  h.create("/a");
  for (const char* c : {"/a/1", "/a/2", "/a/3", "/a/4"}) h.create(c);
  const auto del = h.remove("/a/2");
  REQUIRE(del.result.err == errc::ok);
  const Stat s = h.stat("/a");
  CHECK(s.cversion == 5);
  CHECK(s.num_children == 3);
  CHECK(s.pzxid == del.zxid);
  CHECK(h.tree.nodes().stored_cversion(h.tree.find("/a")) == 4);
}

TEST_CASE("sequential names come from the parent's stored cversion") {
  TreeHarness h;
  h.create("/q");
  CHECK(h.create("/q/n-", {}, CreateMode::persistent_sequential).result.path == "/q/n-0000000000");
  CHECK(h.create("/q/n-", {}, CreateMode::persistent_sequential).result.path == "/q/n-0000000001");
  CHECK(h.create("/q/n-", {}, CreateMode::persistent_sequential).result.path == "/q/n-0000000002");
  h.remove("/q/n-0000000001");
  CHECK(h.create("/q/n-", {}, CreateMode::persistent_sequential).result.path == "/q/n-0000000003");
  // A sequential create may end in '/'.
  CHECK(h.create("/q/", {}, CreateMode::persistent_sequential).result.path == "/q/0000000004");
  CHECK(h.create("/q/", {}, CreateMode::persistent).result.err == errc::bad_arguments);
}

TEST_CASE("failed writes are error txns that still take their zxid") {
  TreeHarness h;
  const auto first = h.create("/a");
  const auto dup = h.create("/a");
  CHECK(dup.result.err == errc::node_exists);
  CHECK(dup.zxid.counter() == first.zxid.counter() + 1);
  const auto next = h.create("/b");
  CHECK(next.zxid.counter() == dup.zxid.counter() + 1);
  CHECK(h.stat("/b").czxid == next.zxid);
  CHECK(dup.changes.empty());
}

TEST_CASE("create reports each of ZooKeeper's errors") {
  TreeHarness h;
  h.create("/a");
  h.create("/eph", {}, CreateMode::ephemeral);
  CHECK(h.create("/missing/child").result.err == errc::no_node);
  CHECK(h.create("/a/").result.err == errc::bad_arguments);
  CHECK(h.create("a").result.err == errc::bad_arguments);
  // The parent is looked up before the path is validated (ZooKeeper's order): "/a/." is none.
  CHECK(h.create("/a/./b").result.err == errc::no_node);
  CHECK(h.create("/a//b").result.err == errc::no_node);
  CHECK(h.create("/a/.").result.err == errc::bad_arguments);
  CHECK(h.create("/").result.err == errc::node_exists);
  CHECK(h.create("/eph/child").result.err == errc::no_children_for_ephemerals);
  CHECK(h.create("/big", std::string(1024 * 1024 + 1, 'x')).result.err == errc::bad_arguments);
  CHECK(h.create("/fits", std::string(1024 * 1024, 'x')).result.err == errc::ok);
  CHECK(h.create("/noacl", {}, CreateMode::persistent, {}).result.err == errc::invalid_acl);
  // The opcode decides container and TTL nodes: create2 with the container flag makes a
  // persistent node, createContainer with flags 0 a container (as ZooKeeper 3.8 does).
  CHECK(h.run(CreateRequest{"/c", {}, open_acl_unsafe(), CreateMode::container, 0, OpCode::create2})
            .result.err == errc::ok);
  CHECK(h.tree.stat_of(h.tree.find("/c")).ephemeral_owner == 0);
  CHECK(
      h.run(CreateRequest{
                "/box", {}, open_acl_unsafe(), CreateMode::persistent, 0, OpCode::create_container})
          .result.err == errc::ok);
  CHECK(h.tree.nodes()[h.tree.find("/box")].ephemeral_owner == container_owner);
  CHECK(
      h
          .run(CreateRequest{
              "/t", {}, open_acl_unsafe(), CreateMode::persistent_with_ttl, 0, OpCode::create_ttl})
          .result.err == errc::bad_arguments);  // TTL must be positive
  CHECK(h.run(CreateRequest{
                  "/m", {}, open_acl_unsafe(), static_cast<CreateMode>(7), 0, OpCode::create2})
            .result.err == errc::bad_arguments);
}

TEST_CASE("delete checks existence - version and children") {
  TreeHarness h;
  h.create("/a");
  h.create("/a/b");
  CHECK(h.remove("/nope").result.err == errc::no_node);
  CHECK(h.remove("/a").result.err == errc::not_empty);
  CHECK(h.remove("/a/b", 3).result.err == errc::bad_version);
  CHECK(h.remove("/a/b", 0).result.err == errc::ok);
  CHECK(h.remove("/a").result.err == errc::ok);
  CHECK(h.remove("/").result.err == errc::bad_arguments);
  CHECK(h.remove("/zookeeper/quota").result.err == errc::bad_arguments);
  CHECK(h.tree.find("/a") == no_node);
}

TEST_CASE("setData bumps version - mzxid and mtime only") {
  TreeHarness h;
  const auto c = h.create("/a", "1");
  h.time_ms += 500;
  const auto s = h.set("/a", "22", 0);
  REQUIRE(s.result.err == errc::ok);
  const Stat st = h.stat("/a");
  CHECK(st.version == 1);
  CHECK(st.mzxid == s.zxid);
  CHECK(st.czxid == c.zxid);
  CHECK(st.mtime == h.time_ms);
  CHECK(st.ctime == h.time_ms - 500);
  CHECK(st.data_length == 2);
  CHECK(s.result.stat == st);
  CHECK(h.set("/a", "x", 0).result.err == errc::bad_version);
  CHECK(h.set("/nope", "x").result.err == errc::no_node);
  CHECK(s.changes == std::vector<TreeChange>{{"/a", EventType::node_data_changed}});
}

TEST_CASE("setACL changes aversion only and needs ADMIN") {
  TreeHarness h;
  h.create("/a", "x");
  const Stat before = h.stat("/a");
  const auto r = h.run(SetAclRequest{"/a", read_acl_unsafe(), 0});
  REQUIRE(r.result.err == errc::ok);
  const Stat after = h.stat("/a");
  CHECK(after.aversion == 1);
  CHECK(after.mzxid == before.mzxid);
  CHECK(after.version == before.version);
  CHECK(h.tree.acl_of(h.tree.find("/a")) == read_acl_unsafe());
  // READ only now: no ADMIN, no WRITE, no CREATE below.
  CHECK(h.run(SetAclRequest{"/a", open_acl_unsafe(), -1}).result.err == errc::no_auth);
  CHECK(h.set("/a", "y").result.err == errc::no_auth);
  CHECK(h.create("/a/b").result.err == errc::no_auth);
  CHECK(h.run(SetAclRequest{"/a", {}, -1}).result.err == errc::invalid_acl);
  CHECK(h.run(CheckRequest{"/a", 0}).result.err == errc::ok);
}

TEST_CASE("digest ids match ZooKeeper's") {
  CHECK(digest_id("user:pass") == "user:smGaoVKd/cQkjm7b88GyorAUz20=");
  CHECK(quorum::codec::base64(std::string("f")) == "Zg==");
  CHECK(quorum::codec::base64(std::string("fo")) == "Zm8=");
  CHECK(quorum::codec::base64(std::string("foo")) == "Zm9v");
}

TEST_CASE("ACL checks: world - digest - ip - super - empty") {
  const std::vector<Id> alice{{"digest", digest_id("alice:secret")}, {"ip", "10.1.2.3"}};
  const std::vector<Id> nobody{{"ip", "192.168.0.1"}};
  const AclList acl{{perm::read | perm::write, {"digest", digest_id("alice:secret")}},
                    {perm::read, {"ip", "10.0.0.0/8"}}};
  CHECK(acl_allows(acl, perm::write, alice));
  CHECK_FALSE(acl_allows(acl, perm::admin, alice));
  CHECK_FALSE(acl_allows(acl, perm::read, nobody));
  CHECK(acl_allows(acl, perm::read, std::vector<Id>{{"ip", "10.200.0.1"}}));
  CHECK(acl_allows({}, perm::admin, nobody));
  CHECK(acl_allows(acl, perm::admin, std::vector<Id>{{"super", ""}}));
  CHECK(acl_allows(open_acl_unsafe(), perm::remove, nobody));
  CHECK(ip_matches("10.0.0.0/8", "10.255.1.1"));
  CHECK_FALSE(ip_matches("10.0.0.0/8", "11.0.0.1"));
  CHECK(ip_matches("0.0.0.0/0", "1.2.3.4"));
  CHECK_FALSE(ip_matches("10.0.0.256", "10.0.0.1"));
}

TEST_CASE("ACLs being set are fixed up as ZooKeeper's fixupACL") {
  const std::vector<Id> auth{{"ip", "127.0.0.1"}, {"digest", "bob:hash"}};
  AclList a = creator_all_acl();
  CHECK(fix_acl(a, auth) == errc::ok);
  CHECK(a == AclList{{perm::all, {"digest", "bob:hash"}}});  // ip ids are not authenticated
  AclList b = creator_all_acl();
  CHECK(fix_acl(b, std::vector<Id>{{"ip", "127.0.0.1"}}) == errc::invalid_acl);
  AclList c{{perm::read, {"world", "someone"}}};
  CHECK(fix_acl(c, auth) == errc::invalid_acl);
  AclList d{{perm::read, {"nosuch", "x"}}};
  CHECK(fix_acl(d, auth) == errc::invalid_acl);
  AclList e{{perm::read, {"digest", "no-colon"}}};
  CHECK(fix_acl(e, auth) == errc::invalid_acl);
  AclList f{{perm::read, {"ip", "10.0.0.0/33"}}};
  CHECK(fix_acl(f, auth) == errc::invalid_acl);
  AclList g{{perm::read, {"world", "anyone"}}, {perm::read, {"world", "anyone"}}};
  CHECK(fix_acl(g, auth) == errc::ok);
  CHECK(g.size() == 1);
}

TEST_CASE("prep sees changes proposed but not yet applied") {
  TreeHarness h;
  const Txn a = h.propose(CreateRequest{"/a", {}, open_acl_unsafe()});
  const Txn b = h.propose(CreateRequest{"/a/b", {}, open_acl_unsafe()});
  const Txn dup = h.propose(CreateRequest{"/a", {}, open_acl_unsafe()});
  const Txn s1 = h.propose(SetDataRequest{"/a", "1", 0});
  const Txn s2 = h.propose(SetDataRequest{"/a", "2", 0});  // version is 1 by now
  const Txn del = h.propose(DeleteRequest{"/a", -1});      // /a/b is pending
  const Txn seq =
      h.propose(CreateRequest{"/a/s", {}, open_acl_unsafe(), CreateMode::persistent_sequential});
  CHECK(h.apply(a).result.err == errc::ok);
  CHECK(h.apply(b).result.err == errc::ok);
  CHECK(h.apply(dup).result.err == errc::node_exists);
  CHECK(h.apply(s1).result.err == errc::ok);
  CHECK(h.apply(s2).result.err == errc::bad_version);
  CHECK(h.apply(del).result.err == errc::not_empty);
  CHECK(h.apply(seq).result.path == "/a/s0000000001");
  CHECK(h.prep.outstanding_changes() > 0);
  h.create("/z");  // prep forgets what the tree has applied
  CHECK(h.prep.outstanding_changes() <= 2);
}

TEST_CASE("multi is all or nothing under one zxid") {
  TreeHarness h;
  h.create("/a", "x");
  const auto ok =
      h.run(MultiRequest{{CreateRequest{"/m", "1", open_acl_unsafe()}, SetDataRequest{"/m", "2", 0},
                          CheckRequest{"/a", 0}, DeleteRequest{"/a", 0}}});
  REQUIRE(ok.multi.size() == 4);
  for (const auto& r : ok.multi) CHECK(r.err == errc::ok);
  CHECK(ok.multi[0].path == "/m");
  CHECK(h.data("/m") == "2");
  CHECK(h.stat("/m").czxid == ok.zxid);
  CHECK(h.stat("/m").mzxid == ok.zxid);
  CHECK(h.tree.find("/a") == no_node);

  const auto failed = h.run(
      MultiRequest{{CreateRequest{"/n", {}, open_acl_unsafe()},
                    CreateRequest{"/m", {}, open_acl_unsafe()}, SetDataRequest{"/n", "3", -1}}});
  REQUIRE(failed.multi.size() == 3);
  CHECK(failed.result.err == errc::ok);  // the header carries 0 even when an op failed
  CHECK(failed.multi[0].err == errc::ok);
  CHECK(failed.multi[1].err == errc::node_exists);
  CHECK(failed.multi[2].err == errc::runtime_inconsistency);
  CHECK(failed.multi[0].op == OpCode::create2);
  CHECK(failed.multi[2].op == OpCode::set_data);
  CHECK(h.tree.find("/n") == no_node);
  CHECK(failed.changes.empty());
  // The rolled-back create left nothing pending behind it.
  CHECK(h.create("/n").result.err == errc::ok);
  CHECK(h.run(MultiRequest{}).multi.empty());
}

TEST_CASE("closing a session deletes its ephemerals - pending ones included") {
  TreeHarness h;
  h.create("/e1", {}, CreateMode::ephemeral);
  h.create("/p");
  h.create("/p/e-", {}, CreateMode::ephemeral_sequential);
  CHECK(h.stat("/e1").ephemeral_owner == TreeHarness::session);
  const Txn pending = h.propose(CreateRequest{"/e2", {}, open_acl_unsafe(), CreateMode::ephemeral});
  const Txn close = h.propose(CloseSessionRequest{});
  const Txn late = h.propose(CreateRequest{"/late", {}, open_acl_unsafe()});
  CHECK(h.apply(pending).result.err == errc::ok);
  const auto closed = h.apply(close);
  CHECK(closed.closed_sessions == std::vector<std::int64_t>{TreeHarness::session});
  CHECK(h.tree.find("/e1") == no_node);
  CHECK(h.tree.find("/e2") == no_node);
  CHECK(h.tree.find("/p/e-0000000000") == no_node);
  CHECK(h.tree.find("/p") != no_node);
  CHECK(h.tree.sessions().empty());
  CHECK(h.apply(late).result.err == errc::session_expired);
  CHECK(std::count(closed.changes.begin(), closed.changes.end(),
                   TreeChange{"/e1", EventType::node_deleted}) == 1);
}

TEST_CASE("containers and TTL nodes become cleanup candidates as ZooKeeper's") {
  TreeHarness h;
  REQUIRE(h.create("/c", {}, CreateMode::container).result.err == errc::ok);
  CHECK(h.stat("/c").ephemeral_owner == 0);             // clients see 0 for containers
  CHECK(h.tree.cleanup_candidates(h.time_ms).empty());  // never had a child
  h.create("/c/x");
  CHECK(h.tree.cleanup_candidates(h.time_ms).empty());
  h.remove("/c/x");
  CHECK(h.tree.cleanup_candidates(h.time_ms) == std::vector<std::string>{"/c"});
  REQUIRE(h.create("/t", {}, CreateMode::persistent_with_ttl).result.err == errc::ok);
  CHECK(h.tree.cleanup_candidates(h.time_ms + 60'000) == std::vector<std::string>{"/c"});
  CHECK(h.tree.cleanup_candidates(h.time_ms + 60'001) == std::vector<std::string>{"/c", "/t"});
  const auto gone = h.run(DeleteContainerRequest{"/c"});
  CHECK(gone.result.err == errc::ok);
  CHECK(gone.result.op == OpCode::delete_container);
  h.create("/plain");
  CHECK(h.run(DeleteContainerRequest{"/plain"}).result.err == errc::bad_arguments);
  CHECK(h.run(DeleteContainerRequest{"/nope"}).result.err == errc::no_node);
}

TEST_CASE("a snapshot restores the same tree and a damaged one changes nothing") {
  TreeHarness h;
  h.create("/a", "data-a");
  h.create("/a/b", "data-b", CreateMode::persistent, {{perm::read, {"world", "anyone"}}});
  h.create("/a/e", {}, CreateMode::ephemeral);
  h.create("/c", {}, CreateMode::container);
  h.create("/c/x");
  h.create("/t", {}, CreateMode::persistent_with_ttl);
  for (int i = 0; i < 20; ++i)
    h.create("/a/s-", std::to_string(i), CreateMode::persistent_sequential);
  h.remove("/a/s-0000000005");
  h.set("/a", "new");
  const Snapshot image = h.tree.snapshot();
  DataTree copy;
  REQUIRE_FALSE(copy.restore(image));
  CHECK(copy.snapshot().state == image.state);
  CHECK(copy.last_applied_zxid() == h.tree.last_applied_zxid());
  CHECK(copy.stat_of(copy.find("/a")) == h.stat("/a"));
  CHECK(copy.children_of(copy.find("/a")) == h.tree.children_of(h.tree.find("/a")));
  CHECK(copy.sessions().at(TreeHarness::session).ephemerals == std::set<std::string>{"/a/e"});
  CHECK(copy.node_count() == h.tree.node_count());

  // Every truncation and a sample of byte flips are refused, leaving `copy` as it was.
  for (std::size_t cut = 0; cut < image.state.size(); cut += 7) {
    Snapshot bad{image.last_zxid, image.state.str().substr(0, cut)};
    if (cut == 0) continue;  // an empty image is the fresh tree
    CHECK(copy.restore(bad) == make_error_code(errc::marshalling_error));
  }
  CHECK(copy.snapshot().state == image.state);
  std::size_t refused = 0;
  for (std::size_t at = 0; at < image.state.size(); at += 3) {
    std::string flipped = image.state;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
    const Snapshot bad{image.last_zxid, std::move(flipped)};
    DataTree t;
    if (t.restore(bad)) ++refused;
  }
  CHECK(refused > 0);
  CHECK(copy.snapshot().state == image.state);
}

TEST_CASE("a copied tree is independent and serializes to the same snapshot") {
  // Background snapshots copy the tree on the member's thread and serialize the copy elsewhere.
  TreeHarness h;
  h.create("/a", "data-a");
  h.create("/a/big", std::string(3000, 'b'));  // above the arena's small blocks
  h.create("/a/e", {}, CreateMode::ephemeral);
  for (int i = 0; i < 50; ++i)
    h.create("/a/s-", std::to_string(i), CreateMode::persistent_sequential);
  h.remove("/a/s-0000000007");
  h.set("/a/big", std::string(2000, 'c'));
  const DataTree copy = h.tree;
  const Snapshot image = h.tree.snapshot();
  CHECK(copy.snapshot().state == image.state);
  // Changing the original leaves the copy as it was.
  h.set("/a", "changed");
  h.remove("/a/s-0000000008");
  h.create("/z", std::string(1000, 'z'));
  CHECK(copy.snapshot().state == image.state);
  CHECK(h.tree.snapshot().state != image.state);
}

TEST_CASE("a snapshot written in pieces is the same image") {
  // Background snapshots stream the image to the file a chunk at a time.
  TreeHarness h;
  h.create("/a", "data-a");
  h.create("/a/big", std::string(3000, 'b'));
  h.create("/a/e", {}, CreateMode::ephemeral);
  for (int i = 0; i < 200; ++i)
    h.create("/a/s-", std::string(static_cast<std::size_t>(i), 'v'),
             CreateMode::persistent_sequential);
  const Snapshot image = h.tree.snapshot();
  for (const std::size_t chunk :
       {std::size_t{1}, std::size_t{100}, std::size_t{4096}, image.state.size() * 2}) {
    std::string joined;
    std::size_t pieces = 0;
    h.tree.write_snapshot(
        [&](std::string_view piece) {
          CHECK_FALSE(piece.empty());
          joined += piece;
          ++pieces;
        },
        chunk);
    INFO("chunk " << chunk);
    CHECK(joined == image.state);
    // A piece is flushed once it reaches `chunk` bytes (after a whole node), and at the end.
    if (chunk >= image.state.size()) CHECK(pieces == 1);
    if (chunk == 4096) CHECK(pieces >= image.state.size() / (4096 + 3100));
  }
}

TEST_CASE("the record codec never reads past its input") {
  TreeHarness h;
  const Txn txn = h.propose(
      MultiRequest{{CreateRequest{"/m", "1", open_acl_unsafe()}, SetDataRequest{"/m", "2", 0}}});
  TxnRecord back;
  REQUIRE(encoding::decode(txn.data, back));
  CHECK(encoding::encode(back) == txn.data);
  for (std::size_t cut = 0; cut < txn.data.size(); ++cut) {
    TxnRecord r;
    CHECK_FALSE(encoding::decode(std::string_view(txn.data).substr(0, cut), r));
  }
  Prng prng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string junk(prng.below(64), '\0');
    for (char& c : junk) c = static_cast<char>(prng.below(256));
    TxnRecord r;
    Request q;
    (void)encoding::decode(junk, r);
    (void)encoding::decode(junk, q);
  }
  // A committed txn that does not decode changes nothing and is counted.
  DataTree t;
  t.apply(Txn{Zxid::make(1, 1), 1, "garbage"});
  CHECK(t.undecodable_txns() == 1);
  CHECK(t.outcome().result.err == errc::marshalling_error);
  CHECK(t.node_count() == 5);
}

TEST_CASE("requests survive the codec unchanged") {
  const Request r{42,
                  7,
                  123456,
                  {{"digest", "u:h"}},
                  MultiRequest{{CreateRequest{"/x", "d", open_acl_unsafe(),
                                              CreateMode::ephemeral_sequential, 0, OpCode::create},
                                DeleteRequest{"/y", 3}, CheckRequest{"/z", -1}}}};
  Request back;
  REQUIRE(encoding::decode(encoding::encode(r), back));
  CHECK(back == r);
}

TEST_CASE("/zookeeper/config holds the membership text, version -1, across restores") {
  DataTree t;
  t.set_config_node("server.1=127.0.0.1:2888:3888:participant\nversion=0");
  const auto check = [](const DataTree& tree) {
    const NodeId id = tree.find("/zookeeper/config");
    REQUIRE(id != no_node);
    CHECK(tree.nodes().data(id) == "server.1=127.0.0.1:2888:3888:participant\nversion=0");
    CHECK(tree.stat_of(id).version == -1);
    CHECK(tree.stat_of(id).aversion == -1);
  };
  check(t);
  DataTree other;
  other.set_config_node(std::string(t.nodes().data(t.find("/zookeeper/config"))));
  REQUIRE_FALSE(other.restore(t.snapshot()));
  check(other);
  REQUIRE_FALSE(other.restore(Snapshot{Zxid{5}, {}}));  // an empty image: a fresh tree
  check(other);
}
