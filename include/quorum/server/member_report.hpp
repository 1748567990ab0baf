// member_report(): what a member's NodeCore knows, as the client port's four-letter words
// report it (mntr, wchs, wchc, wchp, dump). Runs on the member's thread (Node::inspect).
#pragma once

#include <string>
#include <vector>

#include "quorum/server/client_port.hpp"

namespace quorum::server {

/// srvr's Mode for a member in `state` (standalone when it is the only voter).
inline std::string mode_name(PeerState state, bool standalone) {
  if (standalone) return "standalone";
  switch (state) {
    case PeerState::leading:
      return "leader";
    case PeerState::following:
      return "follower";
    case PeerState::observing:
      return "observer";
    case PeerState::looking:
      break;
  }
  return "";
}

template <class Core>
MemberReport member_report(const Core& core, bool standalone) {
  MemberReport r;
  const auto& tree = core.tree();
  const auto& replica = core.replica();
  r.state.serving = core.serving();
  r.state.mode = r.state.serving ? mode_name(replica.state(), standalone) : std::string();
  r.state.zxid = tree.last_applied_zxid();
  r.state.node_count = tree.node_count();
  if (!standalone) {
    const bool leading = replica.state() == PeerState::leading;
    r.peer_state =
        r.state.serving ? (leading ? "leading - broadcast" : "following - broadcast") : "looking";
    r.quorum_size = replica.config().voters.size();
    std::tie(r.learners, r.synced_followers) = replica.learners();
  }
  // ZooKeeper's approximate data size: every node's path and data.
  std::vector<std::pair<tree::NodeId, std::size_t>> stack{{tree::NodeStore::root(), 1}};
  while (!stack.empty()) {
    const tree::NodeId id = stack.back().first;
    const std::size_t path_length = stack.back().second;  // a plain local: lambdas capture it
    stack.pop_back();
    r.approximate_data_size += path_length + tree.nodes()[id].data_length;
    tree.nodes().for_each_child(id, [&](tree::NodeId child) {
      stack.emplace_back(child, path_length + 1 + tree.nodes().name(child).size());
    });
  }
  for (const auto& [id, record] : tree.sessions())
    r.sessions.push_back(
        {id, record.timeout_ms, {record.ephemerals.begin(), record.ephemerals.end()}});
  core.watches().for_each([&](std::int64_t session, const std::string& path, std::uint8_t bits) {
    const std::uint8_t data_kinds = 1 | 4 | 8 | 16;  // data, persistent, recursive, exist
    r.watches.push_back({session, path, (bits & data_kinds) != 0});
  });
  return r;
}

}  // namespace quorum::server
