// Runs one member's Election on its own thread, in real time, over an InProcHub.
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

#include "quorum/election/election.hpp"
#include "quorum/storage/memory.hpp"
#include "quorum/transport/inproc.hpp"

namespace quorum {

/// A member of an in-process ensemble: its own thread drives an
/// `Election<InProcTransport, MemoryStorage>`, feeding it messages from the hub and ticking it
/// at its deadlines. Queries and leader_lost() are thread-safe; start() and stop() belong to
/// the owner. The hub and the storage must outlive it; the storage is used by the member's
/// thread between start() and stop().
class InProcMember {
 public:
  using Observer = std::function<void(const ElectionEvent&)>;

  /// Throws std::invalid_argument when `config` fails `validate()`.
  InProcMember(InProcHub& hub, ElectionConfig config, MemoryStorage& storage)
      : hub_(hub), transport_(hub, config.self), config_(std::move(config)), storage_(storage) {
    if (auto why = validate(config_); !why.empty())
      throw std::invalid_argument("quorum: bad election config: " + why);
  }

  InProcMember(const InProcMember&) = delete;
  InProcMember& operator=(const InProcMember&) = delete;
  ~InProcMember() { stop(); }

  /// Sees every event, on the member's thread. Set it before start().
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  /// Boots the member: a fresh Election over its storage joins the hub and looks for a
  /// leader. After stop(), this is a restart.
  void start() {
    if (thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      election_.emplace(config_, transport_, storage_);
      if (observer_) election_->set_observer(observer_);
      stopping_ = false;
      commands_.push_back(Command::start);
    }
    // Not under mutex_: a sender holds the hub's lock while it takes ours.
    hub_.attach(id(), [this](ServerId from, Message message) {
      {
        std::lock_guard inbox_lock(mutex_);
        inbox_.push_back({from, std::move(message)});
      }
      wake_.notify_one();
    });
    thread_ = std::thread([this] { run(); });
  }

  /// Leaves the hub and stops the thread: to the others, this member has crashed. Its
  /// storage keeps what it had; start() again to restart it.
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
    commands_.clear();
    next_deadline_.reset();
  }

  /// The leader is gone: look for a new one.
  void leader_lost() {
    {
      std::lock_guard lock(mutex_);
      commands_.push_back(Command::leader_lost);
    }
    wake_.notify_one();
  }

  ServerId id() const noexcept { return config_.self; }

  /// The member's state and vote as of its last step.
  PeerState state() const {
    std::lock_guard lock(mutex_);
    return state_;
  }
  Vote vote() const {
    std::lock_guard lock(mutex_);
    return vote_;
  }

  /// Waits until `done(state, vote)` holds after some step, or `timeout` passes. A bound for
  /// tests and demos: it returns false rather than hang.
  template <class Predicate>
  bool wait_until(Predicate done, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return stepped_.wait_for(lock, timeout, [&] { return done(state_, vote_); });
  }

 private:
  enum class Command { start, leader_lost };
  struct Incoming {
    ServerId from;
    Message message;
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto has_work = [&] { return stopping_ || !inbox_.empty() || !commands_.empty(); };
      if (next_deadline_)
        wake_.wait_until(lock, hub_.to_steady(*next_deadline_), has_work);
      else
        wake_.wait(lock, has_work);
      if (stopping_) break;
      auto inbox = std::exchange(inbox_, {});
      auto commands = std::exchange(commands_, {});
      lock.unlock();
      for (Command c : commands)
        c == Command::start ? election_->start(hub_.now()) : election_->leader_lost(hub_.now());
      for (auto& in : inbox) election_->receive(in.from, in.message, hub_.now());
      election_->tick(hub_.now());
      lock.lock();
      state_ = election_->state();
      vote_ = election_->vote();
      next_deadline_ = election_->next_deadline();
      stepped_.notify_all();
    }
  }

  InProcHub& hub_;
  InProcTransport transport_;
  const ElectionConfig config_;
  MemoryStorage& storage_;
  Observer observer_;
  std::optional<Election<InProcTransport, MemoryStorage>> election_;  // used only on thread_

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  mutable std::condition_variable stepped_;
  std::vector<Incoming> inbox_;
  std::vector<Command> commands_;
  bool stopping_ = false;
  PeerState state_ = PeerState::looking;
  Vote vote_;
  std::optional<Instant> next_deadline_;
  std::thread thread_;
};

}  // namespace quorum
