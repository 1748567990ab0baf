// The data tree's requests (what a client asks a member to write) and txns (what the leader
// proposes after validating a request), with ZooKeeper's opcodes and fields.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "quorum/error.hpp"
#include "quorum/tree/acl.hpp"
#include "quorum/tree/stat.hpp"

namespace quorum::tree {

/// ZooDefs.OpCode; txn types use the same numbers (error = -1).
enum class OpCode : std::int32_t {
  notification = 0,
  create = 1,
  remove = 2,  ///< ZooKeeper's delete
  exists = 3,
  get_data = 4,
  set_data = 5,
  get_acl = 6,
  set_acl = 7,
  get_children = 8,
  sync = 9,
  ping = 11,
  get_children2 = 12,
  check = 13,
  multi = 14,
  create2 = 15,
  reconfig = 16,
  check_watches = 17,
  remove_watches = 18,
  create_container = 19,
  delete_container = 20,
  create_ttl = 21,
  multi_read = 22,
  auth = 100,
  set_watches = 101,
  sasl = 102,
  get_ephemerals = 103,
  get_all_children_number = 104,
  set_watches2 = 105,
  add_watch = 106,
  whoami = 107,
  create_session = -10,
  close_session = -11,
  error = -1,
};

/// CreateMode, by its wire flag.
enum class CreateMode : std::int32_t {
  persistent = 0,
  ephemeral = 1,
  persistent_sequential = 2,
  ephemeral_sequential = 3,
  container = 4,
  persistent_with_ttl = 5,
  persistent_sequential_with_ttl = 6,
};

constexpr bool is_ephemeral(CreateMode m) {
  return m == CreateMode::ephemeral || m == CreateMode::ephemeral_sequential;
}
constexpr bool is_sequential(CreateMode m) {
  return m == CreateMode::persistent_sequential || m == CreateMode::ephemeral_sequential ||
         m == CreateMode::persistent_sequential_with_ttl;
}
constexpr bool is_ttl(CreateMode m) {
  return m == CreateMode::persistent_with_ttl || m == CreateMode::persistent_sequential_with_ttl;
}

/// The stored ephemeralOwner of containers and TTL nodes (clients see 0 for both).
inline constexpr std::int64_t container_owner = INT64_MIN;
inline constexpr std::int64_t max_ttl_ms = 0xFF'FFFF'FFFF;
constexpr std::int64_t ttl_owner(std::int64_t ttl_ms) {
  return static_cast<std::int64_t>(0xFF00'0000'0000'0000ull | static_cast<std::uint64_t>(ttl_ms));
}
constexpr bool is_ttl_owner(std::int64_t owner) {
  return owner != container_owner && (static_cast<std::uint64_t>(owner) >> 56) == 0xFFu &&
         ((static_cast<std::uint64_t>(owner) >> 40) & 0xFFFFu) == 0;
}
constexpr std::int64_t ttl_of(std::int64_t owner) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(owner) & 0xFF'FFFF'FFFFull);
}
/// What a client sees as ephemeralOwner for a stored owner.
constexpr std::int64_t visible_owner(std::int64_t owner) {
  return owner == container_owner || is_ttl_owner(owner) ? 0 : owner;
}

// ---- requests --------------------------------------------------------------------------------

/// create, create2, createContainer, createTTL (`op` says which; results differ only in form).
struct CreateRequest {
  std::string path;
  std::string data;
  AclList acl;
  CreateMode mode = CreateMode::persistent;
  std::int64_t ttl_ms = 0;
  OpCode op = OpCode::create2;
  friend bool operator==(const CreateRequest&, const CreateRequest&) = default;
};
struct DeleteRequest {
  std::string path;
  std::int32_t version = any_version;
  friend bool operator==(const DeleteRequest&, const DeleteRequest&) = default;
};
struct SetDataRequest {
  std::string path;
  std::string data;
  std::int32_t version = any_version;
  friend bool operator==(const SetDataRequest&, const SetDataRequest&) = default;
};
struct SetAclRequest {
  std::string path;
  AclList acl;
  std::int32_t version = any_version;
  friend bool operator==(const SetAclRequest&, const SetAclRequest&) = default;
};
struct CheckRequest {
  std::string path;
  std::int32_t version = any_version;
  friend bool operator==(const CheckRequest&, const CheckRequest&) = default;
};
/// One operation of a multi.
using MultiOp = std::variant<CreateRequest, DeleteRequest, SetDataRequest, CheckRequest>;
struct MultiRequest {
  std::vector<MultiOp> ops;
  friend bool operator==(const MultiRequest&, const MultiRequest&) = default;
};
struct CreateSessionRequest {
  std::int32_t timeout_ms = 0;  ///< already negotiated by the member the client is attached to
  friend bool operator==(const CreateSessionRequest&, const CreateSessionRequest&) = default;
};
struct CloseSessionRequest {
  friend bool operator==(const CloseSessionRequest&, const CloseSessionRequest&) = default;
};
/// The leader's own cleanup of an empty container or an expired TTL node.
struct DeleteContainerRequest {
  std::string path;
  friend bool operator==(const DeleteContainerRequest&, const DeleteContainerRequest&) = default;
};

using RequestBody =
    std::variant<CreateRequest, DeleteRequest, SetDataRequest, SetAclRequest, CheckRequest,
                 MultiRequest, CreateSessionRequest, CloseSessionRequest, DeleteContainerRequest>;

/// A write as it travels to the leader: who asks (session, cxid and the session's
/// authenticated ids, which ACL checks need) and when (the receiving member's wall clock).
struct Request {
  std::int64_t session = 0;
  std::int32_t cxid = 0;
  std::int64_t time_ms = 0;
  std::vector<Id> auth;
  RequestBody body;
  friend bool operator==(const Request&, const Request&) = default;
};

// ---- txns ------------------------------------------------------------------------------------

struct CreateTxn {
  std::string path;  ///< final, with any sequential suffix
  std::string data;
  AclList acl;
  std::int64_t ephemeral_owner = 0;  ///< stored encoding: session, container or TTL
  std::int32_t parent_cversion = 0;  ///< the parent's stored cversion after this create
  OpCode op = OpCode::create2;
  friend bool operator==(const CreateTxn&, const CreateTxn&) = default;
};
struct DeleteTxn {
  std::string path;
  OpCode op = OpCode::remove;  ///< delete or deleteContainer
  friend bool operator==(const DeleteTxn&, const DeleteTxn&) = default;
};
struct SetDataTxn {
  std::string path;
  std::string data;
  std::int32_t version = 0;  ///< the new version
  friend bool operator==(const SetDataTxn&, const SetDataTxn&) = default;
};
struct SetAclTxn {
  std::string path;
  AclList acl;
  std::int32_t version = 0;  ///< the new aversion
  friend bool operator==(const SetAclTxn&, const SetAclTxn&) = default;
};
struct CheckTxn {
  std::string path;
  std::int32_t version = 0;
  friend bool operator==(const CheckTxn&, const CheckTxn&) = default;
};
struct ErrorTxn {
  errc err = errc::ok;
  OpCode op = OpCode::error;  ///< what the failed request was (for its reply's form)
  friend bool operator==(const ErrorTxn&, const ErrorTxn&) = default;
};
struct CreateSessionTxn {
  std::int32_t timeout_ms = 0;
  friend bool operator==(const CreateSessionTxn&, const CreateSessionTxn&) = default;
};
struct CloseSessionTxn {
  std::vector<std::string> paths_to_delete;  ///< the session's ephemerals, as prep saw them
  friend bool operator==(const CloseSessionTxn&, const CloseSessionTxn&) = default;
};
/// One op of a multi txn; all succeed, or all are ErrorTxns.
using SubTxn = std::variant<CreateTxn, DeleteTxn, SetDataTxn, CheckTxn, ErrorTxn>;
struct MultiTxn {
  std::vector<SubTxn> ops;
  friend bool operator==(const MultiTxn&, const MultiTxn&) = default;
};

using TxnBody = std::variant<ErrorTxn, CreateTxn, DeleteTxn, SetDataTxn, SetAclTxn, CheckTxn,
                             CreateSessionTxn, CloseSessionTxn, MultiTxn>;

/// ZooKeeper's TxnHeader minus the zxid (the log's Txn carries it) and the type (likewise).
struct TxnRecord {
  std::int64_t session = 0;
  std::int32_t cxid = 0;
  std::int64_t time_ms = 0;
  TxnBody body;
  friend bool operator==(const TxnRecord&, const TxnRecord&) = default;
};

/// The txn type of a body, as ZooKeeper's TxnHeader.type.
inline OpCode txn_type(const TxnBody& body) {
  struct {
    OpCode operator()(const ErrorTxn&) const { return OpCode::error; }
    OpCode operator()(const CreateTxn& t) const {
      return t.op == OpCode::create_container ? OpCode::create_container
             : t.op == OpCode::create_ttl     ? OpCode::create_ttl
                                              : OpCode::create;
    }
    OpCode operator()(const DeleteTxn& t) const { return t.op; }
    OpCode operator()(const SetDataTxn&) const { return OpCode::set_data; }
    OpCode operator()(const SetAclTxn&) const { return OpCode::set_acl; }
    OpCode operator()(const CheckTxn&) const { return OpCode::check; }
    OpCode operator()(const CreateSessionTxn&) const { return OpCode::create_session; }
    OpCode operator()(const CloseSessionTxn&) const { return OpCode::close_session; }
    OpCode operator()(const MultiTxn&) const { return OpCode::multi; }
  } visitor;
  return std::visit(visitor, body);
}

}  // namespace quorum::tree
