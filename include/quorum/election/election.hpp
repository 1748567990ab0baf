// Election<Transport, Storage>: runs the sans-I/O ElectionCore against real policies.
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <variant>

#include "quorum/concepts.hpp"
#include "quorum/election/election_core.hpp"
#include "quorum/message.hpp"

namespace quorum {

/// One member's leader election. It feeds inputs to an `ElectionCore` and flushes the
/// resulting effects: notifications go out through the `Transport`, events to the observer.
/// The member's history (currentEpoch, last logged zxid) is read from `Storage` each time an
/// election instance starts.
///
/// The transport and the storage are held by reference and must outlive the Election. Not
/// thread-safe: call it from one thread or strand (InProcMember and the simulator do).
template <class TransportPolicy, class StoragePolicy>
class Election {
  static_assert(Transport<TransportPolicy>,
                "quorum::Election: the Transport policy must provide "
                "`void send(quorum::ServerId to, const quorum::Message& message)`");
  static_assert(Storage<StoragePolicy>,
                "quorum::Election: the Storage policy must satisfy quorum::Storage: epochs, "
                "the log and snapshots (see quorum/concepts.hpp)");

 public:
  using Observer = std::function<void(const ElectionEvent&)>;

  /// Throws std::invalid_argument when `config` fails `validate()`.
  Election(ElectionConfig config, TransportPolicy& transport, StoragePolicy& storage)
      : core_(std::move(config)), transport_(transport), storage_(storage) {}

  /// Receives every event: rounds, proposal changes, decisions and each notification in and
  /// out. Called on the thread that drives the Election.
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  /// First start: enter LOOKING with the history in storage.
  void start(Instant now) { look(now); }

  /// The leader is gone (ZAB lost it, or the host knows): look for a new one.
  void leader_lost(Instant now) { look(now); }

  /// A message from member `from`; anything but a notification belongs to ZAB and is ignored.
  void receive(ServerId from, const Message& message, Instant now) {
    if (const auto* n = std::get_if<Notification>(&message)) receive(from, *n, now);
  }

  /// An election notification from member `from`.
  void receive(ServerId from, const Notification& n, Instant now) {
    if (observer_) observer_(NotificationReceived{now, from, n});
    core_.on_notification(from, n, now);
    flush(now);
  }

  /// Lets time pass: call it at `next_deadline()` (earlier or later is harmless).
  void tick(Instant now) {
    core_.on_tick(now);
    flush(now);
  }

  /// ZAB established `epoch` with this member: late joiners will be told that epoch.
  void epoch_established(Epoch epoch) { core_.on_epoch_established(epoch); }

  PeerState state() const noexcept { return core_.state(); }
  Vote vote() const noexcept { return core_.current_vote(); }
  std::int64_t logical_clock() const noexcept { return core_.logical_clock(); }
  std::optional<Instant> next_deadline() const noexcept { return core_.next_deadline(); }
  const ElectionConfig& config() const noexcept { return core_.config(); }

 private:
  void look(Instant now) {
    core_.start_looking(now, PeerHistory{storage_.last_logged_zxid(), storage_.current_epoch()});
    flush(now);
  }

  void flush(Instant now) {
    auto& effects = core_.effects();
    if (observer_)
      for (const auto& event : effects.events) observer_(event);
    for (auto& out : effects.messages) {
      if (observer_) observer_(NotificationSent{now, out.to, out.notification});
      transport_.send(out.to, Message{std::move(out.notification)});
    }
    effects.clear();
  }

  ElectionCore core_;
  TransportPolicy& transport_;
  StoragePolicy& storage_;
  Observer observer_;
};

}  // namespace quorum
