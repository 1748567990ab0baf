// Runs one Replica (election + ZAB + a state machine) on its own thread, in real time, over an
// InProcHub. Storage is MemoryStorage, durable at once.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "quorum/fwd.hpp"
#include "quorum/inproc/member_loop.hpp"
#include "quorum/replica.hpp"
#include "quorum/storage/memory.hpp"
#include "quorum/transport/inproc.hpp"

namespace quorum {

/// A member of an in-process replicated log. Its thread feeds the Replica messages from the
/// hub, ticks it at its deadlines and runs client writes. Queries and submit() are
/// thread-safe; start() and stop() belong to the owner. The hub, the storage and the state
/// machine must outlive it; between start() and stop() only its thread touches them. With a
/// ThreadedStorage (FileStorage) the storage's writer wakes the member when the log is durable.
template <class MachinePolicy, class StoragePolicy>  // StoragePolicy = MemoryStorage (fwd.hpp)
class InProcReplica {
 public:
  using Member = Replica<InProcTransport, StoragePolicy, MachinePolicy>;

  /// What the member looks like as of its last step.
  struct Status {
    PeerState state = PeerState::looking;
    bool serving = false;
    ServerId leader = 0;
    Epoch epoch = 0;
    Zxid committed;
    Epoch accepted_epoch = 0;
    Epoch current_epoch = 0;
    std::string storage_failure;  ///< set when the storage failed and the member stopped
  };

  /// Throws std::invalid_argument, with the reason, for settings that cannot work.
  InProcReplica(InProcHub& hub, ReplicaConfig config, StoragePolicy& storage,
                MachinePolicy& machine)
      : hub_(hub),
        transport_(hub, config.self),
        config_(std::move(config)),
        storage_(storage),
        machine_(machine),
        loop_(hub, config_.self) {
    for (const std::string& why : {validate(config_.election()), validate(config_.zab())})
      if (!why.empty()) throw std::invalid_argument("quorum: bad replica config: " + why);
  }
  InProcReplica(const InProcReplica&) = delete;
  InProcReplica& operator=(const InProcReplica&) = delete;
  ~InProcReplica() { stop(); }

  /// Sees role changes and commits, on the member's thread. Set it before start().
  void set_role_observer(typename Member::RoleObserver observer) {
    role_observer_ = std::move(observer);
  }
  /// Sees election events, on the member's thread. Set it before start().
  void set_election_observer(typename Member::ElectionObserver observer) {
    election_observer_ = std::move(observer);
  }

  /// Boots the member over its storage (a restart after stop()).
  void start() {
    if (loop_.running()) return;
    if constexpr (ThreadedStorage<StoragePolicy>)
      storage_.set_durability_listener([this] { loop_.post([](Work& w) { w.durable = true; }); });
    replica_.emplace(config_, transport_, storage_, machine_);
    if (role_observer_) replica_->set_role_observer(role_observer_);
    if (election_observer_) replica_->set_election_observer(election_observer_);
    loop_.start([this](auto& inbox, Work& work) { return step(inbox, work); }, Work{true, {}});
  }

  /// Stops at once: to the others, this member has crashed. Its storage keeps what it had.
  void stop() {
    if constexpr (ThreadedStorage<StoragePolicy>) storage_.set_durability_listener({});
    loop_.stop();
  }

  /// Client writes at this member: proposed when it leads, forwarded when it follows, dropped
  /// while it looks for a leader (the client retries, as after ZooKeeper's CONNECTIONLOSS).
  void submit(std::vector<Txn> txns) {
    loop_.post([&](Work& work) {
      for (Txn& txn : txns) work.writes.push_back(std::move(txn));
    });
  }

  ServerId id() const noexcept { return config_.self; }
  Status status() const { return loop_.status(); }

  /// Waits until `done(status)` holds after some step, or `timeout` passes.
  template <class Predicate>
  bool wait_until(Predicate done, std::chrono::milliseconds timeout) const {
    return loop_.wait_until(done, timeout);
  }

 private:
  struct Work {
    bool start = false;
    std::vector<Txn> writes;
    bool durable = false;  // the storage's writer made more of the log durable
  };

  std::pair<Status, std::optional<Instant>> step(std::vector<inproc::Incoming>& inbox, Work& work) {
    Member& r = *replica_;
    if constexpr (ThreadedStorage<StoragePolicy>) {
      // A failed write or sync stops the member for good: to the others it has crashed.
      if (std::string why = storage_.failure(); !why.empty()) {
        Status s = status_of(r);
        s.state = PeerState::looking;
        s.serving = false;
        s.storage_failure = std::move(why);
        return {s, std::nullopt};
      }
    }
    if (work.start) r.start(hub_.now());
    if (work.durable) r.log_durable(hub_.now());
    for (auto& in : inbox) r.receive(in.from, in.message, hub_.now());
    if (!work.writes.empty()) r.submit(std::move(work.writes), hub_.now());
    r.tick(hub_.now());
    return {status_of(r), r.next_deadline()};
  }

  Status status_of(const Member& r) const {
    return Status{r.state(),
                  r.serving(),
                  r.leader(),
                  r.epoch(),
                  r.committed(),
                  storage_.accepted_epoch(),
                  storage_.current_epoch(),
                  {}};
  }

  InProcHub& hub_;
  InProcTransport transport_;
  const ReplicaConfig config_;
  StoragePolicy& storage_;
  MachinePolicy& machine_;
  typename Member::RoleObserver role_observer_;
  typename Member::ElectionObserver election_observer_;
  std::optional<Member> replica_;          // used only on the member's thread while it runs
  inproc::MemberLoop<Work, Status> loop_;  // last: its thread stops before the rest goes
};

}  // namespace quorum
