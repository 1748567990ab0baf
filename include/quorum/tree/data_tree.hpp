// The replicated tree of znodes: a deterministic state machine over the leader's txns, with
// ZooKeeper's Stat bookkeeping, ephemerals per session, containers and TTL nodes, and reads.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "quorum/concepts.hpp"
#include "quorum/config.hpp"
#include "quorum/tree/acl_cache.hpp"
#include "quorum/tree/events.hpp"
#include "quorum/tree/node_store.hpp"
#include "quorum/tree/path.hpp"
#include "quorum/tree/record_codec.hpp"
#include "quorum/tree/records.hpp"

namespace quorum::tree {

/// One operation's result, as its reply carries it.
struct OpResult {
  OpCode op = OpCode::error;
  errc err = errc::ok;
  std::string path;  ///< create: the path created (with any sequential suffix)
  Stat stat;         ///< create, setData, setACL: the node's Stat afterwards
  friend bool operator==(const OpResult&, const OpResult&) = default;
};

/// What applying one txn did: the reply to its (session, cxid) and the changes for watches.
struct ApplyOutcome {
  Zxid zxid;
  std::int64_t session = 0;
  std::int32_t cxid = 0;
  OpResult result;
  std::vector<OpResult> multi;  ///< per op, for a multi
  std::vector<TreeChange> changes;
  std::vector<std::int64_t> closed_sessions;

  /// Empty again, keeping the vectors' buffers for the next txn.
  void clear() {
    zxid = {};
    session = 0;
    cxid = 0;
    result = {};
    multi.clear();
    changes.clear();
    closed_sessions.clear();
  }
};

/// A live session as the tree knows it (created and not yet closed by a txn).
struct SessionRecord {
  std::int32_t timeout_ms = 0;
  std::set<std::string> ephemerals;
};

class DataTree {
 public:
  DataTree() { reset(); }

  // ---- the StateMachine concept ------------------------------------------------------------

  void apply(const Txn& txn) {
    QUORUM_ASSERT(txn.zxid > last_applied_, "txns are applied once each, in zxid order");
    outcome_.clear();
    outcome_.zxid = txn.zxid;
    last_applied_ = txn.zxid;
    TxnRecord& record = scratch_;
    if (!encoding::decode(txn.data, record)) {
      // Our own leader built it and storage checksums it: count it, change nothing, so every
      // member stays identical and the damage is visible.
      ++undecodable_txns_;
      outcome_.result = {static_cast<OpCode>(txn.type), errc::marshalling_error, {}, {}};
      return;
    }
    outcome_.session = record.session;
    outcome_.cxid = record.cxid;
    outcome_.result = std::visit(
        [&](auto& body) {
          return apply_body(body, txn.zxid.value, record.session, record.time_ms);
        },
        record.body);
  }

  Snapshot snapshot() const;
  /// The same image in pieces of about `chunk` bytes, each passed to `sink(std::string_view)`
  /// in order (a snapshot streamed to its file without holding all of it).
  template <class Sink>
  void write_snapshot(Sink&& sink, std::size_t chunk = 1 << 20) const;
  std::error_code restore(const Snapshot& snapshot);
  Zxid last_applied_zxid() const noexcept { return last_applied_; }

  /// What the last apply did.
  const ApplyOutcome& outcome() const noexcept { return outcome_; }
  ApplyOutcome& outcome() noexcept { return outcome_; }

  // ---- reads (the member checks ACLs with the caller's ids) ---------------------------------

  NodeId find(std::string_view path) const noexcept { return nodes_.lookup(path); }
  const NodeStore& nodes() const noexcept { return nodes_; }
  const AclList& acl_of(NodeId id) const { return acls_[nodes_[id].acl]; }
  Stat stat_of(NodeId id) const {
    const NodeRecord& n = nodes_[id];
    return Stat{Zxid{n.czxid},
                Zxid{n.mzxid},
                n.ctime,
                n.mtime,
                n.version,
                visible_cversion(nodes_.stored_cversion(id), nodes_.num_children(id)),
                n.aversion,
                visible_owner(n.ephemeral_owner),
                static_cast<std::int32_t>(n.data_length),
                nodes_.num_children(id),
                Zxid{nodes_.pzxid(id)}};
  }
  /// Children's names, sorted.
  std::vector<std::string> children_of(NodeId id) const {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(nodes_.num_children(id)));
    nodes_.for_each_child(id, [&](NodeId c) { out.emplace_back(nodes_.name(c)); });
    std::sort(out.begin(), out.end());
    return out;
  }
  /// Every node below `id` (getAllChildrenNumber).
  std::int32_t descendants_of(NodeId id) const {
    std::int32_t count = 0;
    std::vector<NodeId> stack{id};
    while (!stack.empty()) {
      const NodeId at = stack.back();
      stack.pop_back();
      nodes_.for_each_child(at, [&](NodeId c) {
        ++count;
        stack.push_back(c);
      });
    }
    return count;
  }
  /// ZooKeeper's /zookeeper/config: the ensemble's membership as text, which each member
  /// writes from its own (identical, checked at connect) configuration rather than through a
  /// txn; version and aversion -1 as ZooKeeper leaves them. Kept across restores. Empty (the
  /// default, and standalone): the node stays empty.
  void set_config_node(std::string text) {
    config_text_ = std::move(text);
    write_config_node();
  }

  /// ZooKeeper's node count, which counts the root under both of its keys ("" and "/").
  std::size_t node_count() const noexcept { return nodes_.size() + 1; }
  const std::map<std::int64_t, SessionRecord>& sessions() const noexcept { return sessions_; }
  std::size_t undecodable_txns() const noexcept { return undecodable_txns_; }

  /// Containers that had a child and have none, and TTL nodes untouched for longer than their
  /// TTL at `now_ms`, childless: what the leader proposes to delete (deleteContainer).
  std::vector<std::string> cleanup_candidates(std::int64_t now_ms) const {
    std::vector<std::string> out;
    for (const std::string& path : containers_) {
      const NodeId id = nodes_.lookup(path);
      if (id != no_node && nodes_.num_children(id) == 0 && nodes_.stored_cversion(id) > 0)
        out.push_back(path);
    }
    for (const std::string& path : ttls_) {
      const NodeId id = nodes_.lookup(path);
      if (id == no_node || nodes_.num_children(id) != 0) continue;
      if (now_ms - nodes_[id].mtime > ttl_of(nodes_[id].ephemeral_owner)) out.push_back(path);
    }
    return out;
  }

 private:
  // Encodes the image into `out`, calling `flush(out)` whenever it holds `chunk` bytes or
  // more, and once at the end.
  template <class Flush>
  void encode_snapshot(std::string& out, Flush&& flush, std::size_t chunk) const;
  // A fresh tree: "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config" (READ for all).
  void reset() {
    nodes_.clear();
    acls_.clear();
    sessions_.clear();
    containers_.clear();
    ttls_.clear();
    last_applied_ = Zxid::none();
    nodes_[NodeStore::root()].acl = acls_.intern(open_acl_unsafe());
    const NodeId zk = add_system(NodeStore::root(), "zookeeper", open_acl_unsafe());
    add_system(zk, "quota", open_acl_unsafe());
    add_system(zk, "config", read_acl_unsafe());
  }
  void write_config_node() {
    if (config_text_.empty()) return;
    const NodeId id = nodes_.lookup("/zookeeper/config");
    if (id == no_node) return;
    nodes_.set_data(id, config_text_);
    nodes_[id].version = -1;
    nodes_[id].aversion = -1;
  }
  NodeId add_system(NodeId parent, std::string_view name, const AclList& acl) {
    const NodeId id = nodes_.add(parent, name, {});
    nodes_[id].acl = acls_.intern(acl);
    return id;
  }

  OpResult apply_body(const ErrorTxn& t, std::int64_t, std::int64_t, std::int64_t) {
    return {t.op, t.err, {}, {}};
  }

  OpResult apply_body(const CreateTxn& t, std::int64_t zxid, std::int64_t, std::int64_t time) {
    OpResult r{t.op, errc::ok, t.path, {}};
    const NodeId parent = nodes_.lookup(parent_path(t.path));
    if (parent == no_node) return r.err = errc::no_node, r;
    const NodeId id = nodes_.add(parent, node_name(t.path), t.data);
    if (id == no_node) return r.err = errc::node_exists, r;
    NodeRecord& n = nodes_[id];
    n.czxid = n.mzxid = zxid;
    n.ctime = n.mtime = time;
    n.ephemeral_owner = t.ephemeral_owner;
    n.acl = acls_.intern(t.acl);
    Family& p = nodes_.family(parent);
    p.cversion = std::max(p.cversion, t.parent_cversion);
    p.pzxid = std::max(p.pzxid, zxid);
    if (t.ephemeral_owner == container_owner) {
      containers_.insert(t.path);
    } else if (is_ttl_owner(t.ephemeral_owner)) {
      ttls_.insert(t.path);
    } else if (t.ephemeral_owner != 0) {
      sessions_[t.ephemeral_owner].ephemerals.insert(t.path);
    }
    r.stat = stat_of(id);
    outcome_.changes.push_back({t.path, EventType::node_created});
    outcome_.changes.push_back(
        {std::string(parent_path(t.path)), EventType::node_children_changed});
    return r;
  }

  OpResult apply_body(const DeleteTxn& t, std::int64_t zxid, std::int64_t, std::int64_t) {
    OpResult r{t.op, errc::ok, {}, {}};
    r.err = remove_node(t.path, zxid);
    return r;
  }

  errc remove_node(const std::string& path, std::int64_t zxid) {
    const NodeId id = nodes_.lookup(path);
    if (id == no_node || id == NodeStore::root()) return errc::no_node;
    if (nodes_.num_children(id) != 0) return errc::not_empty;
    const NodeId parent = nodes_[id].parent;
    const std::int64_t owner = nodes_[id].ephemeral_owner;
    if (owner == container_owner) {
      containers_.erase(path);
    } else if (is_ttl_owner(owner)) {
      ttls_.erase(path);
    } else if (owner != 0) {
      if (auto s = sessions_.find(owner); s != sessions_.end()) s->second.ephemerals.erase(path);
    }
    AclList acl = acls_[nodes_[id].acl];
    acls_.release(nodes_[id].acl);
    nodes_.remove(id);
    Family& p = nodes_.family(parent);
    p.pzxid = std::max(p.pzxid, zxid);
    outcome_.changes.push_back({path, EventType::node_deleted, std::move(acl)});
    outcome_.changes.push_back({std::string(parent_path(path)), EventType::node_children_changed});
    return errc::ok;
  }

  OpResult apply_body(const SetDataTxn& t, std::int64_t zxid, std::int64_t, std::int64_t time) {
    OpResult r{OpCode::set_data, errc::ok, {}, {}};
    const NodeId id = nodes_.lookup(t.path);
    if (id == no_node) return r.err = errc::no_node, r;
    nodes_.set_data(id, t.data);
    NodeRecord& n = nodes_[id];
    n.version = t.version;
    n.mzxid = zxid;
    n.mtime = time;
    r.stat = stat_of(id);
    outcome_.changes.push_back({t.path, EventType::node_data_changed});
    return r;
  }

  OpResult apply_body(const SetAclTxn& t, std::int64_t, std::int64_t, std::int64_t) {
    OpResult r{OpCode::set_acl, errc::ok, {}, {}};
    const NodeId id = nodes_.lookup(t.path);
    if (id == no_node) return r.err = errc::no_node, r;
    NodeRecord& n = nodes_[id];
    const std::uint32_t acl = acls_.intern(t.acl);
    acls_.release(n.acl);
    n.acl = acl;
    n.aversion = t.version;
    r.stat = stat_of(id);
    return r;
  }

  OpResult apply_body(const CheckTxn& t, std::int64_t, std::int64_t, std::int64_t) {
    OpResult r{OpCode::check, errc::ok, {}, {}};
    const NodeId id = nodes_.lookup(t.path);
    if (id == no_node)
      r.err = errc::no_node;
    else
      r.stat = stat_of(id);
    return r;
  }

  OpResult apply_body(const CreateSessionTxn& t, std::int64_t, std::int64_t session, std::int64_t) {
    sessions_[session].timeout_ms = t.timeout_ms;
    return {OpCode::create_session, errc::ok, {}, {}};
  }

  OpResult apply_body(const CloseSessionTxn& t, std::int64_t zxid, std::int64_t session,
                      std::int64_t) {
    // The txn lists what prep saw; anything the session still owns here goes too, so no
    // ephemeral can outlive its session (ZooKeeper's killSession does the same).
    for (const std::string& path : t.paths_to_delete) {
      const NodeId id = nodes_.lookup(path);
      if (id != no_node && nodes_[id].ephemeral_owner == session) remove_node(path, zxid);
    }
    if (auto s = sessions_.find(session); s != sessions_.end()) {
      const std::set<std::string> left = s->second.ephemerals;
      for (const std::string& path : left) remove_node(path, zxid);
      sessions_.erase(session);
    }
    outcome_.closed_sessions.push_back(session);
    return {OpCode::close_session, errc::ok, {}, {}};
  }

  OpResult apply_body(const MultiTxn& t, std::int64_t zxid, std::int64_t session,
                      std::int64_t time) {
    for (const SubTxn& op : t.ops)
      outcome_.multi.push_back(
          std::visit([&](const auto& body) { return apply_body(body, zxid, session, time); }, op));
    return {OpCode::multi, errc::ok, {}, {}};
  }

  NodeStore nodes_;
  AclCache acls_;
  std::map<std::int64_t, SessionRecord> sessions_;
  std::set<std::string> containers_;
  std::string config_text_;  // /zookeeper/config's data (set_config_node)
  std::set<std::string> ttls_;
  Zxid last_applied_ = Zxid::none();
  ApplyOutcome outcome_;
  TxnRecord scratch_;  // the txn being applied, decoded into the same buffers each time
  std::size_t undecodable_txns_ = 0;
};

}  // namespace quorum::tree

#include "quorum/tree/data_tree_snapshot.hpp"
