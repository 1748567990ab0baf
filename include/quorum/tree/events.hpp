// Watch event types and session states with ZooKeeper's values (Watcher.Event).
#pragma once

#include <cstdint>
#include <string>

namespace quorum::tree {

enum class EventType : std::int32_t {
  none = -1,
  node_created = 1,
  node_deleted = 2,
  node_data_changed = 3,
  node_children_changed = 4,
  data_watch_removed = 5,
  child_watch_removed = 6,
  persistent_watch_removed = 7,
};

enum class KeeperState : std::int32_t {
  disconnected = 0,
  sync_connected = 3,
  auth_failed = 4,
  connected_read_only = 5,
  expired = -112,
  closed = 7,
};

/// What a watcher receives.
struct WatchedEvent {
  EventType type = EventType::none;
  KeeperState state = KeeperState::sync_connected;
  std::string path;
  friend bool operator==(const WatchedEvent&, const WatchedEvent&) = default;
};

/// A change the tree made while applying a txn, before any watch is consulted.
struct TreeChange {
  std::string path;
  EventType type = EventType::none;
  friend bool operator==(const TreeChange&, const TreeChange&) = default;
};

inline const char* to_string(EventType t) {
  switch (t) {
    case EventType::none:
      return "None";
    case EventType::node_created:
      return "NodeCreated";
    case EventType::node_deleted:
      return "NodeDeleted";
    case EventType::node_data_changed:
      return "NodeDataChanged";
    case EventType::node_children_changed:
      return "NodeChildrenChanged";
    case EventType::data_watch_removed:
      return "DataWatchRemoved";
    case EventType::child_watch_removed:
      return "ChildWatchRemoved";
    case EventType::persistent_watch_removed:
      return "PersistentWatchRemoved";
  }
  return "Unknown";
}

}  // namespace quorum::tree
