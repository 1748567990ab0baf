// Which watch hears which change (zk-reference §5).
#include "support/catch.hpp"

#include "quorum/tree/watch_manager.hpp"

using namespace quorum::tree;

namespace {
using Fired = std::vector<std::pair<std::int64_t, WatchedEvent>>;
WatchedEvent ev(EventType t, const std::string& path) {
  return {t, KeeperState::sync_connected, path};
}
}  // namespace

TEST_CASE("one-shot data watches fire once on change - create and delete") {
  WatchManager w;
  w.add(1, "/a", WatchKind::data);
  w.add(2, "/a", WatchKind::exist);
  CHECK(w.trigger({"/a", EventType::node_data_changed}) ==
        Fired{{1, ev(EventType::node_data_changed, "/a")},
              {2, ev(EventType::node_data_changed, "/a")}});
  CHECK(w.trigger({"/a", EventType::node_data_changed}).empty());
  CHECK(w.size() == 0);
  w.add(1, "/b", WatchKind::exist);
  CHECK(w.trigger({"/b", EventType::node_created}) ==
        Fired{{1, ev(EventType::node_created, "/b")}});
  CHECK(w.trigger({"/b", EventType::node_children_changed}).empty());
}

TEST_CASE("a delete tells a session once even with data and child watches") {
  WatchManager w;
  w.add(1, "/a", WatchKind::data);
  w.add(1, "/a", WatchKind::child);
  w.add(2, "/a", WatchKind::child);
  CHECK(w.trigger({"/a", EventType::node_deleted}) ==
        Fired{{1, ev(EventType::node_deleted, "/a")}, {2, ev(EventType::node_deleted, "/a")}});
  CHECK(w.size() == 0);
}

TEST_CASE("child watches hear child changes only") {
  WatchManager w;
  w.add(1, "/p", WatchKind::child);
  CHECK(w.trigger({"/p", EventType::node_data_changed}).empty());
  CHECK(w.trigger({"/p", EventType::node_children_changed}) ==
        Fired{{1, ev(EventType::node_children_changed, "/p")}});
  CHECK(w.trigger({"/p", EventType::node_children_changed}).empty());
}

TEST_CASE("persistent watches survive and recursive ones cover descendants without child events") {
  WatchManager w;
  w.add(1, "/p", WatchKind::persistent);
  w.add(2, "/", WatchKind::persistent_recursive);
  CHECK(w.trigger({"/p", EventType::node_children_changed}) ==
        Fired{{1, ev(EventType::node_children_changed, "/p")}});
  CHECK(w.trigger({"/p", EventType::node_data_changed}) ==
        Fired{{1, ev(EventType::node_data_changed, "/p")},
              {2, ev(EventType::node_data_changed, "/p")}});
  CHECK(w.trigger({"/p/q/r", EventType::node_created}) ==
        Fired{{2, ev(EventType::node_created, "/p/q/r")}});
  CHECK(w.trigger({"/p", EventType::node_data_changed}).size() == 2);  // still there
  // A one-shot on the same path is kept beside the persistent one (ZOOKEEPER-4466).
  w.add(1, "/p", WatchKind::data);
  CHECK(w.trigger({"/p", EventType::node_data_changed}).size() == 2);
  CHECK(w.kinds(1, "/p") == static_cast<std::uint8_t>(WatchKind::persistent));
}

TEST_CASE("removeWatches and checkWatches by type") {
  WatchManager w;
  w.add(1, "/a", WatchKind::data);
  w.add(1, "/a", WatchKind::child);
  CHECK(w.contains(1, "/a", WatcherType::data));
  CHECK_FALSE(w.contains(2, "/a", WatcherType::any));
  CHECK(w.remove(1, "/a", WatcherType::children));
  CHECK_FALSE(w.contains(1, "/a", WatcherType::children));
  CHECK(w.contains(1, "/a", WatcherType::data));
  CHECK_FALSE(w.remove(1, "/a", WatcherType::children));
  CHECK(w.remove(1, "/a", WatcherType::any));
  CHECK(w.size() == 0);
  w.add(3, "/r", WatchKind::persistent_recursive);
  CHECK(w.contains(3, "/r", WatcherType::children));
  w.remove_session(3);
  CHECK(w.trigger({"/r/x", EventType::node_created}).empty());
  CHECK(w.paths() == 0);
}

TEST_CASE("a persistent watch is a data and a child watch, removed one type at a time") {
  // ZooKeeper 3.8 registers addWatch with both of its watch managers.
  WatchManager w;
  w.add(1, "/p", WatchKind::persistent);
  CHECK(w.remove(1, "/p", WatcherType::data));
  CHECK_FALSE(w.contains(1, "/p", WatcherType::data));
  CHECK(w.contains(1, "/p", WatcherType::children));
  CHECK(w.trigger({"/p", EventType::node_data_changed}).empty());
  CHECK(w.trigger({"/p", EventType::node_children_changed}).size() == 1);
  CHECK(w.trigger({"/p", EventType::node_deleted}).size() == 1);
  CHECK(w.remove(1, "/p", WatcherType::children));
  CHECK(w.paths() == 0);

  w.add(2, "/r", WatchKind::persistent_recursive);
  CHECK(w.remove(2, "/r", WatcherType::children));
  CHECK(w.contains(2, "/r", WatcherType::data));
  CHECK(w.trigger({"/r/x", EventType::node_created}).size() == 1);
  CHECK(w.remove(2, "/r", WatcherType::data));
  CHECK(w.trigger({"/r/x", EventType::node_deleted}).empty());
  CHECK(w.paths() == 0);
}
