// Runs one member's Election on its own thread, in real time, over an InProcHub.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "quorum/election/election.hpp"
#include "quorum/inproc/member_loop.hpp"
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
      : hub_(hub),
        transport_(hub, config.self),
        config_(std::move(config)),
        storage_(storage),
        loop_(hub, config_.self) {
    if (auto why = validate(config_); !why.empty())
      throw std::invalid_argument("quorum: bad election config: " + why);
  }

  /// Sees every event, on the member's thread. Set it before start().
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  /// Boots the member: a fresh Election over its storage joins the hub and looks for a
  /// leader. After stop(), this is a restart.
  void start() {
    if (loop_.running()) return;
    election_.emplace(config_, transport_, storage_);
    if (observer_) election_->set_observer(observer_);
    loop_.start([this](auto& inbox, Commands& commands) { return step(inbox, commands); },
                Commands{Command::start});
  }

  /// Leaves the hub and stops the thread: to the others, this member has crashed. Its
  /// storage keeps what it had; start() again to restart it.
  void stop() { loop_.stop(); }

  /// The leader is gone: look for a new one.
  void leader_lost() {
    loop_.post([](Commands& commands) { commands.push_back(Command::leader_lost); });
  }

  ServerId id() const noexcept { return config_.self; }

  /// The member's state and vote as of its last step.
  PeerState state() const { return loop_.status().state; }
  Vote vote() const { return loop_.status().vote; }

  /// Waits until `done(state, vote)` holds after some step, or `timeout` passes. A bound for
  /// tests and demos: it returns false rather than hang.
  template <class Predicate>
  bool wait_until(Predicate done, std::chrono::milliseconds timeout) const {
    return loop_.wait_until([&](const Status& s) { return done(s.state, s.vote); }, timeout);
  }

 private:
  enum class Command { start, leader_lost };
  using Commands = std::vector<Command>;
  struct Status {
    PeerState state = PeerState::looking;
    Vote vote;
  };

  std::pair<Status, std::optional<Instant>> step(std::vector<inproc::Incoming>& inbox,
                                                 Commands& commands) {
    for (Command c : commands)
      c == Command::start ? election_->start(hub_.now()) : election_->leader_lost(hub_.now());
    for (auto& in : inbox) election_->receive(in.from, in.message, hub_.now());
    election_->tick(hub_.now());
    return {Status{election_->state(), election_->vote()}, election_->next_deadline()};
  }

  InProcHub& hub_;
  InProcTransport transport_;
  const ElectionConfig config_;
  MemoryStorage& storage_;
  Observer observer_;
  std::optional<Election<InProcTransport, MemoryStorage>> election_;  // used only on the thread
  inproc::MemberLoop<Commands, Status> loop_;  // last: its thread stops before the rest goes
};

}  // namespace quorum
