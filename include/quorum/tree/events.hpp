// Watch event types and session states with ZooKeeper's values (Watcher.Event).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "quorum/tree/acl.hpp"

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

/// A change the tree made while applying a txn, before any watch is consulted. A delete
/// carries the ACL the node had: 3.8 delivers an event only to sessions that may read it.
struct TreeChange {
  std::string path;
  EventType type = EventType::none;
  std::optional<AclList> deleted_acl;
  /// Compares what happened (path and type), not the ACL that came with it.
  friend bool operator==(const TreeChange& a, const TreeChange& b) {
    return a.path == b.path && a.type == b.type;
  }
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
