// A transaction as the replicated log carries it: a zxid, a type and opaque bytes.
#pragma once

#include <cstdint>
#include <string>

#include "quorum/shared_bytes.hpp"
#include "quorum/types.hpp"

namespace quorum {

/// ZooKeeper's error txn type: a write that failed validation still consumes its zxid.
inline constexpr std::int32_t txn_type_error = -1;

/// Not a txn: a client's sync(), queued with the writes. The leader answers it (SYNC) once
/// everything proposed before it has committed, without giving it a zxid (zk-reference §2.7).
inline constexpr std::int32_t txn_type_sync_marker = INT32_MIN;

/// One transaction. At the ZAB layer its contents are opaque; the state machine gives them
/// meaning (the data tree's create/setData/…, or a test's key-value set). Copies share the
/// body.
struct Txn {
  Zxid zxid;
  std::int32_t type = 0;
  SharedBytes data;

  friend bool operator==(const Txn&, const Txn&) = default;
};

/// True when `next` may follow `previous` in a log: zxids strictly increase, within one epoch
/// the counter has no gaps (every write, even a failed one, takes the next zxid), and a new
/// epoch's first txn has counter 1 (counter 0 is the epoch's NEWLEADER).
constexpr bool follows(Zxid previous, Zxid next) noexcept {
  if (next <= previous) return false;
  if (next.epoch() == previous.epoch()) return next.counter() == previous.counter() + 1;
  return next.counter() == 1;
}

}  // namespace quorum
