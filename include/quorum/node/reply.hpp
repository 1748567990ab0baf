// What a member hands back for one client operation, and the settings of a member that serves
// the data tree.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/replica.hpp"
#include "quorum/tree/data_tree.hpp"
#include "quorum/tree/events.hpp"
#include "quorum/tree/request_prep.hpp"
#include "quorum/tree/session_ids.hpp"

namespace quorum {

/// The result of one operation; which fields are set depends on the operation.
struct Reply {
  std::error_code error;  ///< in the quorum category, ZooKeeper's codes
  Zxid zxid;              ///< the write's zxid, or the member's last applied zxid for a read
  std::string path;       ///< create: the path created; sync: the path synced
  tree::Stat stat;
  std::string data;
  tree::AclList acl;
  std::vector<std::string> children;
  std::vector<tree::OpResult> results;  ///< multi and multiRead, per op
  std::int32_t number = 0;              ///< getAllChildrenNumber
  std::int64_t session = 0;             ///< open/attach: the session
  std::int32_t timeout_ms = 0;          ///< open/attach: the negotiated timeout
  tree::SessionPassword password{};     ///< open: the session's password
  std::vector<Reply> reads;             ///< multiRead: one reply per read, each on its own
  std::vector<tree::Id> ids;            ///< whoAmI: the session's authenticated ids
};

using ReplyHandler = std::function<void(Reply)>;
using WatchHandler = std::function<void(const tree::WatchedEvent&)>;

/// A member serving the data tree: the replica's settings plus ZooKeeper's session bounds.
struct NodeConfig {
  ReplicaConfig replica;
  tree::PrepLimits limits;
  int min_session_ticks = 2;   ///< minSessionTimeout = this * tickTime
  int max_session_ticks = 20;  ///< maxSessionTimeout = this * tickTime
  /// How often the leader looks for empty containers and expired TTL nodes
  /// (znode.container.checkIntervalMs).
  Duration container_check_interval = std::chrono::seconds(60);
  /// Wall-clock ms at the member's Instant zero: ctime/mtime and TTLs use offset + now.
  std::int64_t wall_clock_offset_ms = 0;
  /// The first reading of a millisecond clock, for session ids (their middle 40 bits).
  std::int64_t session_id_clock_ms = 0;
  /// ZooKeeper's snapCount: a snapshot of the tree after between half and all of this many
  /// applied txns (spread by member id, so members do not all snapshot at once); 0 never.
  /// Taken in the background, with storage that writes on its own thread (FileStorage).
  std::size_t snap_count = 100'000;
  /// /zookeeper/config's text (config::membership_text); empty leaves the node empty.
  std::string config_node;
};

/// A read a member serves from its own tree.
struct ReadRequest {
  tree::OpCode op = tree::OpCode::get_data;  ///< exists, getData, getChildren(2), getACL,
                                             ///< getAllChildrenNumber, getEphemerals, whoAmI
  std::string path;
  bool watch = false;
};

/// addWatch, removeWatches, checkWatches.
struct WatchRequest {
  tree::OpCode op = tree::OpCode::add_watch;
  std::string path;
  std::int32_t mode = 0;  ///< addWatch: 0 persistent, 1 recursive; else WatcherType
};

/// setWatches / setWatches2: the watches a client held before it reconnected, re-registered
/// here; those whose change it missed (after `relative_zxid`, the last zxid it saw) fire now.
struct SetWatchesRequest {
  Zxid relative_zxid;
  std::vector<std::string> data;   ///< getData / exists on a node that was there
  std::vector<std::string> exist;  ///< exists on a missing node
  std::vector<std::string> child;  ///< getChildren
  std::vector<std::string> persistent;
  std::vector<std::string> persistent_recursive;
};

}  // namespace quorum
