// Several members of a replicated data tree in this process: one InProcHub, a storage and a
// Node each. The quickest way to embed quorum, to try it, or to test against it.
// InProcEnsemble keeps each member's state in memory; DurableInProcEnsemble
// (durable_ensemble.hpp) gives each a data directory on disk.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "quorum/node.hpp"
#include "quorum/storage/memory.hpp"

namespace quorum {

/// Where an in-process ensemble keeps each member's storage: `Storage& open(ServerId)` gives
/// the storage a member (re)starts on — the same object again, or one reopened from disk —
/// and `Storage& get(ServerId)` the one it runs on.
class MemoryDisks {
 public:
  using Storage = MemoryStorage;
  MemoryStorage& open(ServerId id) { return storage_[id]; }
  MemoryStorage& get(ServerId id) { return storage_[id]; }

 private:
  std::map<ServerId, MemoryStorage> storage_;
};

template <class Disks>
class BasicInProcEnsemble {
 public:
  using Storage = typename Disks::Storage;
  using Member = Node<InProcTransport, Storage>;

  /// Members `ids`, each with `base` (its `replica.self` and `replica.voters` filled in), on
  /// storage from `disks`. Throws std::invalid_argument for settings that cannot work (and
  /// whatever `disks` throws for storage that cannot be opened).
  explicit BasicInProcEnsemble(std::vector<ServerId> ids, NodeConfig base = {}, Disks disks = {})
      : ids_(std::move(ids)), base_(std::move(base)), disks_(std::move(disks)) {
    for (ServerId id : ids_) make_member(id);
  }
  BasicInProcEnsemble(const BasicInProcEnsemble&) = delete;
  BasicInProcEnsemble& operator=(const BasicInProcEnsemble&) = delete;
  ~BasicInProcEnsemble() { nodes_.clear(); }  // members stop before the hub and storage go

  Member& operator[](ServerId id) { return *nodes_.at(id); }
  const std::vector<ServerId>& ids() const noexcept { return ids_; }
  InProcHub& hub() noexcept { return hub_; }
  Storage& storage(ServerId id) { return disks_.get(id); }
  Disks& disks() noexcept { return disks_; }

  /// Runs `setup` on every member now and on each member restart() makes (observers, hooks).
  void set_member_setup(std::function<void(ServerId, Member&)> setup) {
    setup_ = std::move(setup);
    for (ServerId id : ids_) setup_(id, *nodes_.at(id));
  }

  void start() {
    for (ServerId id : ids_) nodes_.at(id)->start();
  }

  /// Stops member `id` and starts it again on its storage reopened, as a restarted process
  /// would (with DurableInProcEnsemble: from its data directory).
  void restart(ServerId id) {
    nodes_.at(id).reset();  // stops it, before its storage goes
    make_member(id);
    nodes_.at(id)->start();
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
  void make_member(ServerId id) {
    NodeConfig config = base_;
    config.replica.self = id;
    config.replica.voters = ids_;
    auto& node = nodes_[id];
    node = std::make_unique<Member>(hub_, config, disks_.open(id));
    if (setup_) setup_(id, *node);
  }

  std::vector<ServerId> ids_;
  NodeConfig base_;
  InProcHub hub_;
  Disks disks_;
  std::function<void(ServerId, Member&)> setup_;
  std::map<ServerId, std::unique_ptr<Member>> nodes_;
};

/// Members whose durable state lives in memory (a restart keeps it; the process does not).
using InProcEnsemble = BasicInProcEnsemble<MemoryDisks>;

}  // namespace quorum
