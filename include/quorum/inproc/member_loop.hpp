// The thread of an in-process member: messages from the hub and work from the owner go in,
// one step runs them, and the thread sleeps until the next message or deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "quorum/message.hpp"
#include "quorum/transport/inproc.hpp"

namespace quorum::inproc {

/// A message the hub delivered.
struct Incoming {
  ServerId from = 0;
  Message message;
};

/// Runs a member on its own thread. `Work` is what the owner hands the member between steps
/// (commands, client writes); `Status` is what the member publishes after each step. The
/// step function runs only on the member's thread; everything else is thread-safe.
template <class Work, class Status, class Network = InProcHub>
class MemberLoop {
 public:
  /// One step: handle `inbox` and `work`, return the status and when to wake up at the latest.
  using Step = std::function<std::pair<Status, std::optional<Instant>>(std::vector<Incoming>& inbox,
                                                                       Work& work)>;

  MemberLoop(Network& hub, ServerId id) : hub_(hub), id_(id) {}
  MemberLoop(const MemberLoop&) = delete;
  MemberLoop& operator=(const MemberLoop&) = delete;
  ~MemberLoop() { stop(); }

  /// Joins the hub and starts the thread; `first` is the work of the first step.
  void start(Step step, Work first) {
    if (thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      step_ = std::move(step);
      work_ = std::move(first);
      has_work_ = true;
      stopping_ = false;
    }
    // Not under mutex_: a sender holds the hub's lock while it takes ours.
    hub_.attach(id_, [this](ServerId from, Message message) {
      {
        std::lock_guard lock(mutex_);
        inbox_.push_back({from, std::move(message)});
      }
      wake_.notify_one();
    });
    thread_ = std::thread([this] { run(); });
  }

  /// Leaves the hub and joins the thread; unhandled messages and work are dropped.
  void stop() {
    hub_.detach(id_);
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    inbox_.clear();
    work_ = Work{};
    has_work_ = false;
    next_deadline_.reset();
    status_ = Status{};
  }

  /// Adds work for the next step: `add(work)` runs under the loop's lock.
  template <class Add>
  void post(Add&& add) {
    {
      std::lock_guard lock(mutex_);
      add(work_);
      has_work_ = true;
    }
    wake_.notify_one();
  }

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

  bool running() const noexcept { return thread_.joinable(); }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto ready = [&] { return stopping_ || has_work_ || !inbox_.empty(); };
      if (next_deadline_)
        wake_.wait_until(lock, hub_.to_steady(*next_deadline_), ready);
      else
        wake_.wait(lock, ready);
      if (stopping_) break;
      auto inbox = std::exchange(inbox_, {});
      Work work = std::exchange(work_, Work{});
      has_work_ = false;
      lock.unlock();
      auto [status, deadline] = step_(inbox, work);
      lock.lock();
      status_ = std::move(status);
      next_deadline_ = deadline;
      stepped_.notify_all();
    }
  }

  Network& hub_;
  const ServerId id_;
  Step step_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  mutable std::condition_variable stepped_;
  std::vector<Incoming> inbox_;
  Work work_{};
  bool has_work_ = false;
  bool stopping_ = false;
  Status status_{};
  std::optional<Instant> next_deadline_;
  std::thread thread_;
};

}  // namespace quorum::inproc
