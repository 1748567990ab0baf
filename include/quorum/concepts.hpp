// The policies a member is built from, as C++20 concepts.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/message.hpp"
#include "quorum/types.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum {

/// Carries messages to other members. Sending is fire-and-forget: loss, delay, duplication
/// and reordering are normal and the protocols tolerate them. Incoming messages are handed to
/// the member by whoever runs it (`Election::receive`), not pulled through the transport.
template <class T>
concept Transport = requires(T& transport, ServerId to, const Message& message) {
  { transport.send(to, message) } -> std::same_as<void>;
};

/// The epochs ZooKeeper keeps in `acceptedEpoch` and `currentEpoch`. Setters return once the
/// value is durable (ZooKeeper writes these files synchronously).
template <class S>
concept EpochStore = requires(S& store, const S& const_store, Epoch epoch) {
  { const_store.accepted_epoch() } -> std::same_as<Epoch>;
  { const_store.current_epoch() } -> std::same_as<Epoch>;
  { store.set_accepted_epoch(epoch) } -> std::same_as<void>;
  { store.set_current_epoch(epoch) } -> std::same_as<void>;
};

/// The transaction log. Appends are in zxid order and become durable later (group commit):
/// `durable_zxid()` says how far; a txn is acknowledged only once it is at or below it.
/// `truncate_after` is TRUNC; a failure there is fatal for the member (ZOOKEEPER-3701).
/// The log holds every txn after `log_start_zxid()` (older ones live only in snapshots).
template <class S>
concept LogStore = requires(S& store, const S& const_store, std::span<const Txn> txns, Zxid zxid,
                            std::size_t max, std::vector<Txn>& out) {
  { const_store.last_logged_zxid() } -> std::same_as<Zxid>;
  { const_store.durable_zxid() } -> std::same_as<Zxid>;
  { const_store.log_start_zxid() } -> std::same_as<Zxid>;
  { store.append(txns) } -> std::same_as<void>;
  { store.truncate_after(zxid) } -> std::same_as<std::error_code>;
  { const_store.read_after(zxid, max, out) } -> std::same_as<std::error_code>;
  { const_store.last_committed_zxid() } -> std::same_as<Zxid>;
  { store.set_last_committed_zxid(zxid) } -> std::same_as<void>;
};

/// A state machine's image as of a zxid. Copies share the image (it can be large).
struct Snapshot {
  Zxid last_zxid;     ///< every txn up to and including this one is in `state`
  SharedBytes state;  ///< the state machine's own encoding
};

/// Where snapshots of the state machine are kept. `install_snapshot` replaces the history with
/// a leader's image (SNAP): the log continues after it. The image is durable before anything
/// else changes, and the old log's txns after the image stay on disk while the leader's stream
/// repeats them (the same zxid is the same txn): a follower that had acknowledged txns still
/// holds them across a crash in the middle of a SNAP sync. They go at the first txn that
/// differs, at TRUNC, or when the new epoch is recorded (set_current_epoch); `abandon_sync`
/// (the role ended first) makes them count again, so the member votes with what it holds.
template <class S>
concept SnapshotStore = requires(S& store, const S& const_store, Snapshot snapshot, Zxid zxid) {
  { store.save_snapshot(std::move(snapshot)) } -> std::same_as<void>;
  { store.install_snapshot(std::move(snapshot)) } -> std::same_as<void>;
  { store.abandon_sync() } -> std::same_as<void>;
  { const_store.latest_snapshot() } -> std::same_as<std::optional<Snapshot>>;
  { store.remove_snapshots_after(zxid) } -> std::same_as<void>;
};

/// A member's durable state: epochs, the log and snapshots. Split in three, so a host can
/// keep them apart.
template <class S>
concept Storage = EpochStore<S> && LogStore<S> && SnapshotStore<S>;

/// Storage that can fail (a disk): once `failed()`, nothing more becomes durable and the
/// member must stop at once (ZOOKEEPER-3701); `failure()` says why. A Replica checks it after
/// each storage step and halts before anything that step decided leaves the member.
template <class S>
concept FailingStorage = Storage<S> && requires(const S& const_store) {
  { const_store.failed() } -> std::convertible_to<bool>;
  { const_store.failure() } -> std::convertible_to<std::string>;
};

/// Storage whose log becomes durable on a thread of its own (FileStorage's group commit): the
/// host registers a listener, and when it fires feeds the member a `log_durable(now)` on the
/// member's thread.
template <class S>
concept ThreadedStorage = FailingStorage<S> && requires(S& store, std::function<void()> listener) {
  store.set_durability_listener(listener);
};

/// What the replicated log drives: committed txns arrive once each, in zxid order.
/// `snapshot()` captures everything applied so far; `restore` replaces the whole state with a
/// snapshot (and rejects a damaged one with an error, keeping what it had).
template <class M>
concept StateMachine = requires(M& machine, const M& const_machine, const Txn& txn,
                                const Snapshot& snapshot) {
  { machine.apply(txn) } -> std::same_as<void>;
  { const_machine.snapshot() } -> std::same_as<Snapshot>;
  { machine.restore(snapshot) } -> std::same_as<std::error_code>;
  { const_machine.last_applied_zxid() } -> std::same_as<Zxid>;
};

}  // namespace quorum
