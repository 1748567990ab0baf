// A data tree with its prep stage and nothing else: requests become txns and are applied at
// once, or held to test how prep sees changes not yet applied.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "quorum/tree/data_tree.hpp"
#include "quorum/tree/request_prep.hpp"

namespace quorum::test {

struct TreeHarness {
  static constexpr std::int64_t session = 0x0100000000010000;

  tree::DataTree tree;
  tree::SessionTracker sessions{std::chrono::seconds(2)};
  tree::RequestPrep prep{tree, sessions};
  std::uint32_t counter = 0;
  std::int64_t time_ms = 1'000'000;
  std::int32_t cxid = 0;
  std::vector<tree::Id> auth;

  TreeHarness() { run(tree::CreateSessionRequest{30'000}); }

  tree::Request request(tree::RequestBody body, std::int64_t as = session) {
    return tree::Request{as, ++cxid, time_ms, auth, std::move(body)};
  }

  /// Prep only: the txn the leader would propose next.
  Txn propose(tree::RequestBody body, std::int64_t as = session) {
    Txn txn{Zxid::make(1, ++counter), 0, {}};
    const tree::TxnRecord record = prep.prepare(request(std::move(body), as), txn.zxid, 0, {});
    txn.type = static_cast<std::int32_t>(tree::txn_type(record.body));
    txn.data = tree::encoding::encode(record);
    return txn;
  }
  tree::ApplyOutcome apply(const Txn& txn) {
    tree.apply(txn);
    return tree.outcome();
  }
  tree::ApplyOutcome run(tree::RequestBody body, std::int64_t as = session) {
    return apply(propose(std::move(body), as));
  }

  tree::ApplyOutcome create(std::string path, std::string data = {},
                            tree::CreateMode mode = tree::CreateMode::persistent,
                            tree::AclList acl = tree::open_acl_unsafe()) {
    tree::OpCode op = tree::OpCode::create2;
    if (mode == tree::CreateMode::container) op = tree::OpCode::create_container;
    if (tree::is_ttl(mode)) op = tree::OpCode::create_ttl;
    return run(tree::CreateRequest{std::move(path), std::move(data), std::move(acl), mode,
                                   tree::is_ttl(mode) ? 60'000 : 0, op});
  }
  tree::ApplyOutcome remove(std::string path, std::int32_t version = -1) {
    return run(tree::DeleteRequest{std::move(path), version});
  }
  tree::ApplyOutcome set(std::string path, std::string data, std::int32_t version = -1) {
    return run(tree::SetDataRequest{std::move(path), std::move(data), version});
  }
  tree::Stat stat(const std::string& path) const {
    const tree::NodeId id = tree.find(path);
    return id == tree::no_node ? tree::Stat{} : tree.stat_of(id);
  }
  std::string data(const std::string& path) const {
    return std::string(tree.nodes().data(tree.find(path)));
  }
};

}  // namespace quorum::test
