// The policies a member is built from, as C++20 concepts.
#pragma once

#include <concepts>

#include "quorum/message.hpp"
#include "quorum/types.hpp"

namespace quorum {

/// Carries messages to other members. Sending is fire-and-forget: loss, delay, duplication
/// and reordering are normal and the protocols tolerate them. Incoming messages are handed to
/// the member by whoever runs it (`Election::receive`), not pulled through the transport.
template <class T>
concept Transport = requires(T& transport, ServerId to, const Message& message) {
  { transport.send(to, message) } -> std::same_as<void>;
};

/// The epochs ZooKeeper keeps in `acceptedEpoch` and `currentEpoch`.
template <class S>
concept EpochStore = requires(S& store, const S& const_store, Epoch epoch) {
  { const_store.accepted_epoch() } -> std::same_as<Epoch>;
  { const_store.current_epoch() } -> std::same_as<Epoch>;
  { store.set_accepted_epoch(epoch) } -> std::same_as<void>;
  { store.set_current_epoch(epoch) } -> std::same_as<void>;
};

/// The transaction log, as far as the election needs it (ZAB extends it with append,
/// truncate and reads).
template <class S>
concept LogStore = requires(const S& store) {
  { store.last_logged_zxid() } -> std::same_as<Zxid>;
};

/// A member's durable state: epochs and the log. Split in two, so a host can keep them apart.
template <class S>
concept Storage = EpochStore<S> && LogStore<S>;

}  // namespace quorum
