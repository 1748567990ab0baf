// The leader's request-to-txn stage (ZooKeeper's PrepRequestProcessor): each write is checked
// against the tree plus every change already proposed but not yet applied (versions,
// existence, ACLs, child counts, sequential counters, ephemeral owners), then becomes the txn
// to propose, or an ErrorTxn that still takes its zxid (zk-reference §3.8). Deterministic: it
// reads only the tree, its own outstanding changes and the session tracker.
#pragma once

#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quorum/tree/data_tree.hpp"
#include "quorum/tree/session_tracker.hpp"

namespace quorum::tree {

struct PrepLimits {
  std::size_t max_data_bytes = 1024 * 1024;  ///< znode data limit (jute.maxbuffer's role)
  bool ttl_enabled = true;                   ///< ZooKeeper's zookeeper.extendedTypesEnabled
};

class RequestPrep {
 public:
  RequestPrep(const DataTree& tree, SessionTracker& sessions, PrepLimits limits = {})
      : tree_(tree), sessions_(sessions), limits_(limits) {}

  /// Forgets every outstanding change (a new leadership starts from the applied tree).
  void reset() {
    changes_.clear();
    journal_.clear();
  }

  /// The txn for `request` at `zxid`, submitted through member `via` (0: the leader itself).
  TxnRecord prepare(const Request& request, Zxid zxid, ServerId via, Instant now) {
    forget_applied();
    zxid_ = zxid.value;
    TxnRecord txn{request.session, request.cxid, request.time_ms, ErrorTxn{}};
    txn.body =
        std::visit([&](const auto& body) { return prep(request, body, via, now); }, request.body);
    return txn;
  }

  std::size_t outstanding_changes() const noexcept { return changes_.size(); }

 private:
  // A node as the leader will see it once everything proposed so far is applied.
  struct NodeState {
    bool exists = false;
    std::int32_t version = 0;
    std::int32_t cversion = 0;  // stored
    std::int32_t aversion = 0;
    std::int32_t num_children = 0;
    std::int64_t owner = 0;
    AclList acl;
  };
  struct Change {
    std::int64_t zxid = 0;
    NodeState state;
  };

  struct Failure {
    errc err;
  };

  NodeState state(const std::string& path) const {
    if (auto it = changes_.find(path); it != changes_.end()) return it->second.state;
    NodeState s;
    const NodeId id = tree_.find(path);
    if (id == no_node) return s;
    const NodeRecord& n = tree_.nodes()[id];
    s.exists = true;
    s.version = n.version, s.cversion = tree_.nodes().stored_cversion(id), s.aversion = n.aversion;
    s.num_children = tree_.nodes().num_children(id), s.owner = n.ephemeral_owner;
    s.acl = tree_.acl_of(id);
    return s;
  }
  NodeState existing(const std::string& path) const {
    NodeState s = state(path);
    if (!s.exists) throw Failure{errc::no_node};
    return s;
  }
  void record(const std::string& path, NodeState s) {
    journal_.emplace_back(zxid_, path);
    auto [it, added] = changes_.try_emplace(path);
    if (undo_) undo_->emplace_back(path, added ? std::nullopt : std::optional(it->second));
    it->second = Change{zxid_, std::move(s)};
  }
  // Drops changes the tree has applied: from then on the tree itself says the same.
  void forget_applied() {
    const std::int64_t applied = tree_.last_applied_zxid().value;
    while (!journal_.empty() && journal_.front().first <= applied) {
      auto it = changes_.find(journal_.front().second);
      if (it != changes_.end() && it->second.zxid <= applied) changes_.erase(it);
      journal_.pop_front();
    }
  }

  static void check_path(const std::string& path) {
    if (!validate_path(path).empty()) throw Failure{errc::bad_arguments};
  }
  static void check_acl(const AclList& acl, std::int32_t perm, const std::vector<Id>& auth) {
    if (!acl_allows(acl, perm, auth)) throw Failure{errc::no_auth};
  }
  static std::int32_t next(std::int32_t current, std::int32_t expected) {
    if (expected != any_version && expected != current) throw Failure{errc::bad_version};
    return next_version(current);
  }
  static bool system_node(const std::string& path) {
    return path == "/zookeeper" || path == "/zookeeper/quota" || path == "/zookeeper/config";
  }
  void check_session(const Request& r, ServerId via) const {
    if (const errc e = sessions_.check(r.session, via); e != errc::ok) throw Failure{e};
  }

  // ---- single operations (throw Failure; change records only on success) -----------------

  // ZooKeeper's order of checks (PrepRequestProcessor): mode and TTL, then only that the path
  // has a parent part; the parent is looked up (NONODE) before the full path is validated,
  // so "/a//b" is NONODE, not BADARGUMENTS. A container or TTL node is what the opcode says
  // (createContainer with flags 0 is a container; create with the container flag is a plain
  // persistent node), ephemeral and sequential are what the flags say.
  CreateTxn create(const Request& r, const CreateRequest& c) {
    const bool container_op = c.op == OpCode::create_container;
    const bool ttl_op = c.op == OpCode::create_ttl;
    if (static_cast<std::int32_t>(c.mode) < 0 || static_cast<std::int32_t>(c.mode) > 6)
      throw Failure{errc::bad_arguments};
    if (is_ttl(c.mode) && !limits_.ttl_enabled) throw Failure{errc::unimplemented};
    if (is_ttl(c.mode) && (c.ttl_ms <= 0 || c.ttl_ms > max_ttl_ms))
      throw Failure{errc::bad_arguments};
    if (ttl_op && !is_ttl(c.mode)) throw Failure{errc::bad_arguments};
    if (c.data.size() > limits_.max_data_bytes) throw Failure{errc::bad_arguments};
    if (c.path.find('/') == std::string::npos || c.path.find('\0') != std::string::npos)
      throw Failure{errc::bad_arguments};
    if (c.path == "/") throw Failure{errc::node_exists};
    AclList acl = c.acl;
    if (fix_acl(acl, r.auth) != errc::ok) throw Failure{errc::invalid_acl};
    const std::string parent_path_s(parent_path(c.path));
    NodeState parent = existing(parent_path_s);
    check_acl(parent.acl, perm::create, r.auth);
    std::string path = c.path;
    if (is_sequential(c.mode)) path = sequential_path(c.path, parent.cversion);
    check_path(path);
    if (state(path).exists) throw Failure{errc::node_exists};
    if (parent.owner != 0 && parent.owner != container_owner && !is_ttl_owner(parent.owner))
      throw Failure{errc::no_children_for_ephemerals};
    std::int64_t owner = 0;
    if (container_op)
      owner = container_owner;
    else if (ttl_op)
      owner = ttl_owner(c.ttl_ms);
    else if (is_ephemeral(c.mode))
      owner = r.session;

    parent.cversion = next_version(parent.cversion);
    ++parent.num_children;
    NodeState child;
    child.exists = true;
    child.owner = owner;
    child.acl = acl;
    CreateTxn t{path, c.data, std::move(acl), owner, parent.cversion, c.op};
    record(parent_path_s, std::move(parent));
    record(path, std::move(child));
    return t;
  }

  DeleteTxn remove(const Request& r, const DeleteRequest& d) {
    check_path(d.path);
    if (d.path == "/" || system_node(d.path)) throw Failure{errc::bad_arguments};
    const std::string parent_path_s(parent_path(d.path));
    NodeState parent = existing(parent_path_s);
    const NodeState node = existing(d.path);
    check_acl(parent.acl, perm::remove, r.auth);
    next(node.version, d.version);
    if (node.num_children > 0) throw Failure{errc::not_empty};
    --parent.num_children;
    record(parent_path_s, std::move(parent));
    record(d.path, NodeState{});
    return DeleteTxn{d.path, OpCode::remove};
  }

  SetDataTxn set_data(const Request& r, const SetDataRequest& s) {
    check_path(s.path);
    if (s.data.size() > limits_.max_data_bytes) throw Failure{errc::bad_arguments};
    NodeState node = existing(s.path);
    check_acl(node.acl, perm::write, r.auth);
    node.version = next(node.version, s.version);
    SetDataTxn t{s.path, s.data, node.version};
    record(s.path, std::move(node));
    return t;
  }

  SetAclTxn set_acl(const Request& r, const SetAclRequest& s) {
    check_path(s.path);
    AclList acl = s.acl;
    if (fix_acl(acl, r.auth) != errc::ok) throw Failure{errc::invalid_acl};
    NodeState node = existing(s.path);
    check_acl(node.acl, perm::admin, r.auth);
    node.aversion = next(node.aversion, s.version);
    node.acl = acl;
    SetAclTxn t{s.path, std::move(acl), node.aversion};
    record(s.path, std::move(node));
    return t;
  }

  CheckTxn check(const Request& r, const CheckRequest& c) {
    check_path(c.path);
    const NodeState node = existing(c.path);
    check_acl(node.acl, perm::read, r.auth);
    if (c.version != any_version && c.version != node.version) throw Failure{errc::bad_version};
    return CheckTxn{c.path, c.version};
  }

  static OpCode op_of(const MultiOp& op) {
    struct {
      OpCode operator()(const CreateRequest& c) const { return c.op; }
      OpCode operator()(const DeleteRequest&) const { return OpCode::remove; }
      OpCode operator()(const SetDataRequest&) const { return OpCode::set_data; }
      OpCode operator()(const CheckRequest&) const { return OpCode::check; }
    } v;
    return std::visit(v, op);
  }

  // ---- request bodies -> txn bodies ---------------------------------------------------------

  template <class Body, class Fn>
  TxnBody guarded(const Request& r, ServerId via, OpCode op, Fn&& fn) {
    try {
      check_session(r, via);
      return fn();
    } catch (const Failure& f) {
      return ErrorTxn{f.err, op};
    }
  }

  TxnBody prep(const Request& r, const CreateRequest& c, ServerId via, Instant) {
    return guarded<CreateTxn>(r, via, c.op, [&]() -> TxnBody { return create(r, c); });
  }
  TxnBody prep(const Request& r, const DeleteRequest& d, ServerId via, Instant) {
    return guarded<DeleteTxn>(r, via, OpCode::remove, [&]() -> TxnBody { return remove(r, d); });
  }
  TxnBody prep(const Request& r, const SetDataRequest& s, ServerId via, Instant) {
    return guarded<SetDataTxn>(r, via, OpCode::set_data,
                               [&]() -> TxnBody { return set_data(r, s); });
  }
  TxnBody prep(const Request& r, const SetAclRequest& s, ServerId via, Instant) {
    return guarded<SetAclTxn>(r, via, OpCode::set_acl, [&]() -> TxnBody { return set_acl(r, s); });
  }
  TxnBody prep(const Request& r, const CheckRequest& c, ServerId via, Instant) {
    return guarded<CheckTxn>(r, via, OpCode::check, [&]() -> TxnBody { return check(r, c); });
  }

  // All or nothing: later ops see earlier ones; on the first failure every change of this
  // multi is rolled back and each op reports 0 before, its error at, -2 after the failure.
  TxnBody prep(const Request& r, const MultiRequest& m, ServerId via, Instant) {
    // What each op's change replaced, to put back should a later op fail.
    std::vector<std::pair<std::string, std::optional<Change>>> undo;
    undo_ = &undo;
    struct Restore {
      std::vector<std::pair<std::string, std::optional<Change>>>*& undo;
      ~Restore() { undo = nullptr; }
    } restore{undo_};
    const std::size_t saved_journal = journal_.size();
    MultiTxn txn;
    std::optional<std::size_t> failed_at;
    errc failure = errc::ok;
    try {
      check_session(r, via);
    } catch (const Failure& f) {
      return ErrorTxn{f.err, OpCode::multi};
    }
    for (std::size_t i = 0; i < m.ops.size() && !failed_at; ++i) {
      try {
        txn.ops.push_back(std::visit(
            [&](const auto& op) -> SubTxn {
              using Op = std::decay_t<decltype(op)>;
              if constexpr (std::is_same_v<Op, CreateRequest>) return create(r, op);
              if constexpr (std::is_same_v<Op, DeleteRequest>) return remove(r, op);
              if constexpr (std::is_same_v<Op, SetDataRequest>) return set_data(r, op);
              if constexpr (std::is_same_v<Op, CheckRequest>) return check(r, op);
            },
            m.ops[i]));
      } catch (const Failure& f) {
        failed_at = i;
        failure = f.err;
      }
    }
    if (!failed_at) return txn;
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      if (it->second)
        changes_[it->first] = std::move(*it->second);
      else
        changes_.erase(it->first);
    }
    journal_.resize(saved_journal);
    txn.ops.clear();
    for (std::size_t i = 0; i < m.ops.size(); ++i) {
      const errc e = i < *failed_at    ? errc::ok
                     : i == *failed_at ? failure
                                       : errc::runtime_inconsistency;
      txn.ops.push_back(ErrorTxn{e, op_of(m.ops[i])});
    }
    return txn;
  }

  TxnBody prep(const Request& r, const CreateSessionRequest& c, ServerId via, Instant now) {
    sessions_.add(r.session, c.timeout_ms, via, now);
    return CreateSessionTxn{c.timeout_ms};
  }

  // The session's ephemerals as they will be: applied ones, plus pending creates, minus
  // pending deletes. Each becomes a pending delete, so later requests see them gone.
  TxnBody prep(const Request& r, const CloseSessionRequest&, ServerId, Instant) {
    sessions_.set_closing(r.session);
    std::set<std::string> paths;
    if (auto s = tree_.sessions().find(r.session); s != tree_.sessions().end())
      paths = s->second.ephemerals;
    for (const auto& [path, change] : changes_) {
      if (change.state.exists && change.state.owner == r.session) paths.insert(path);
      if (!change.state.exists) paths.erase(path);
    }
    CloseSessionTxn txn;
    for (const std::string& path : paths) {
      const std::string parent_path_s(parent_path(path));
      NodeState parent = state(parent_path_s);
      if (parent.exists) {
        --parent.num_children;
        record(parent_path_s, std::move(parent));
      }
      record(path, NodeState{});
      txn.paths_to_delete.push_back(path);
    }
    return txn;
  }

  TxnBody prep(const Request& r, const DeleteContainerRequest& d, ServerId, Instant) {
    try {
      check_path(d.path);
      const std::string parent_path_s(parent_path(d.path));
      NodeState parent = existing(parent_path_s);
      const NodeState node = existing(d.path);
      if (node.owner != container_owner && !is_ttl_owner(node.owner))
        throw Failure{errc::bad_arguments};
      if (node.num_children > 0) throw Failure{errc::not_empty};
      (void)r;
      --parent.num_children;
      record(parent_path_s, std::move(parent));
      record(d.path, NodeState{});
      return DeleteTxn{d.path, OpCode::delete_container};
    } catch (const Failure& f) {
      return ErrorTxn{f.err, OpCode::delete_container};
    }
  }

  const DataTree& tree_;
  SessionTracker& sessions_;
  PrepLimits limits_;
  std::unordered_map<std::string, Change> changes_;
  // While a multi is prepared: where record() notes what it replaced.
  std::vector<std::pair<std::string, std::optional<Change>>>* undo_ = nullptr;
  std::deque<std::pair<std::int64_t, std::string>> journal_;  // (zxid, path), oldest first
  std::int64_t zxid_ = 0;
};

}  // namespace quorum::tree
