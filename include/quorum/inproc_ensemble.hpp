// Several members of a replicated data tree in this process: one InProcHub, a MemoryStorage
// and a Node<> each. The quickest way to embed quorum, to try it, or to test against it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "quorum/node.hpp"

namespace quorum {

class InProcEnsemble {
 public:
  /// Members `ids`, each with `base` (its `replica.self` and `replica.voters` filled in).
  /// Throws std::invalid_argument for settings that cannot work.
  explicit InProcEnsemble(std::vector<ServerId> ids, NodeConfig base = {}) : ids_(std::move(ids)) {
    for (ServerId id : ids_) {
      NodeConfig config = base;
      config.replica.self = id;
      config.replica.voters = ids_;
      nodes_[id] = std::make_unique<Node<>>(hub_, config, storage_[id]);
    }
  }
  InProcEnsemble(const InProcEnsemble&) = delete;
  InProcEnsemble& operator=(const InProcEnsemble&) = delete;
  ~InProcEnsemble() { nodes_.clear(); }  // members stop before the hub and storage go

  Node<>& operator[](ServerId id) { return *nodes_.at(id); }
  const std::vector<ServerId>& ids() const noexcept { return ids_; }
  InProcHub& hub() noexcept { return hub_; }
  MemoryStorage& storage(ServerId id) { return storage_.at(id); }

  void start() {
    for (ServerId id : ids_) nodes_.at(id)->start();
  }

  /// Waits until every member in `among` (all by default) serves; false on timeout.
  bool wait_serving(std::chrono::milliseconds timeout, std::vector<ServerId> among = {}) {
    if (among.empty()) among = ids_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (ServerId id : among) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 ||
          !nodes_.at(id)->wait_until([](const auto& s) { return s.serving; }, left))
        return false;
    }
    return true;
  }

  /// The member of `among` (all by default) that leads and serves, once all of `among` serve;
  /// nullopt when that does not happen within `timeout`.
  std::optional<ServerId> leader(std::chrono::milliseconds timeout,
                                 std::vector<ServerId> among = {}) {
    using namespace std::chrono;
    if (among.empty()) among = ids_;
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
      for (ServerId id : among) {
        const bool leads = nodes_.at(id)->wait_until(
            [](const auto& s) { return s.serving && s.state == PeerState::leading; },
            milliseconds(10));
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if (leads && wait_serving(std::max(left, milliseconds(1)), among)) return id;
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<ServerId> ids_;
  InProcHub hub_;
  std::map<ServerId, MemoryStorage> storage_;
  std::map<ServerId, std::unique_ptr<Node<>>> nodes_;
};

}  // namespace quorum
