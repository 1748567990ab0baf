// Runs one Replica (election + ZAB + a state machine) on its own thread, in real time, over an
// InProcHub. Storage is MemoryStorage, durable at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "quorum/replica.hpp"
#include "quorum/storage/memory.hpp"
#include "quorum/transport/inproc.hpp"

namespace quorum {

/// A member of an in-process replicated log. Its thread feeds the Replica messages from the
/// hub, ticks it at its deadlines and runs client writes. Queries and submit() are
/// thread-safe; start() and stop() belong to the owner. The hub, the storage and the state
/// machine must outlive it; between start() and stop() only its thread touches them.
template <class MachinePolicy>
class InProcReplica {
 public:
  using Member = Replica<InProcTransport, MemoryStorage, MachinePolicy>;

  /// What the member looks like as of its last step.
  struct Status {
    PeerState state = PeerState::looking;
    bool serving = false;
    ServerId leader = 0;
    Epoch epoch = 0;
    Zxid committed;
    Epoch accepted_epoch = 0;
    Epoch current_epoch = 0;
  };

  InProcReplica(InProcHub& hub, ReplicaConfig config, MemoryStorage& storage,
                MachinePolicy& machine)
      : hub_(hub),
        transport_(hub, config.self),
        config_(std::move(config)),
        storage_(storage),
        machine_(machine) {
    if (auto why = validate(config_.election()); !why.empty())
      throw std::invalid_argument("quorum: bad replica config: " + why);
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
    if (thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      replica_.emplace(config_, transport_, storage_, machine_);
      if (role_observer_) replica_->set_role_observer(role_observer_);
      if (election_observer_) replica_->set_election_observer(election_observer_);
      stopping_ = false;
      starting_ = true;
    }
    // Not under mutex_: a sender holds the hub's lock while it takes ours.
    hub_.attach(id(), [this](ServerId from, Message message) {
      {
        std::lock_guard lock(mutex_);
        inbox_.push_back({from, std::move(message)});
      }
      wake_.notify_one();
    });
    thread_ = std::thread([this] { run(); });
  }

  /// Stops at once: to the others, this member has crashed. Its storage keeps what it had.
  void stop() {
    hub_.detach(id());
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    inbox_.clear();
    writes_.clear();
    replica_.reset();
    status_ = {};
    next_deadline_.reset();
  }

  /// Client writes at this member: proposed when it leads, forwarded when it follows, refused
  /// (returns false on the member's thread, dropped) while it looks for a leader.
  void submit(std::vector<Txn> txns) {
    {
      std::lock_guard lock(mutex_);
      for (Txn& txn : txns) writes_.push_back(std::move(txn));
    }
    wake_.notify_one();
  }

  ServerId id() const noexcept { return config_.self; }
  Status status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }

  /// Waits until `done(status)` holds after some step, or `timeout` passes.
  template <class Predicate>
  bool wait_until(Predicate done, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return stepped_.wait_for(lock, timeout, [&] { return done(status_); });
  }

 private:
  struct Incoming {
    ServerId from;
    Message message;
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto has_work = [&] {
        return stopping_ || starting_ || !inbox_.empty() || !writes_.empty();
      };
      if (next_deadline_)
        wake_.wait_until(lock, hub_.to_steady(*next_deadline_), has_work);
      else
        wake_.wait(lock, has_work);
      if (stopping_) break;
      const bool start = std::exchange(starting_, false);
      auto inbox = std::exchange(inbox_, {});
      auto writes = std::exchange(writes_, {});
      lock.unlock();
      Member& r = *replica_;
      if (start) r.start(hub_.now());
      for (auto& in : inbox) r.receive(in.from, in.message, hub_.now());
      if (!writes.empty()) r.submit(std::move(writes), hub_.now());
      r.tick(hub_.now());
      lock.lock();
      status_ = Status{r.state(),
                       r.serving(),
                       r.leader(),
                       r.epoch(),
                       r.committed(),
                       storage_.accepted_epoch(),
                       storage_.current_epoch()};
      next_deadline_ = r.next_deadline();
      stepped_.notify_all();
    }
  }

  InProcHub& hub_;
  InProcTransport transport_;
  const ReplicaConfig config_;
  MemoryStorage& storage_;
  MachinePolicy& machine_;
  typename Member::RoleObserver role_observer_;
  typename Member::ElectionObserver election_observer_;
  std::optional<Member> replica_;  // used only on thread_ while it runs

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  mutable std::condition_variable stepped_;
  std::vector<Incoming> inbox_;
  std::vector<Txn> writes_;
  bool stopping_ = false;
  bool starting_ = false;
  Status status_;
  std::optional<Instant> next_deadline_;
  std::thread thread_;
};

}  // namespace quorum
