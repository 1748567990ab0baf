// Storage that lives in memory: durable for as long as the object lives.
#pragma once

#include "quorum/concepts.hpp"
#include "quorum/types.hpp"

namespace quorum {

/// Keeps epochs and the log position in memory. A simulated crash keeps the object (the
/// "disk") and rebuilds the member around it; everything here counts as durable at once.
class MemoryStorage {
 public:
  MemoryStorage() = default;
  /// Storage that already holds history, as a member restarting with data would.
  MemoryStorage(Epoch current_epoch, Zxid last_logged_zxid) noexcept
      : accepted_epoch_(current_epoch),
        current_epoch_(current_epoch),
        last_logged_zxid_(last_logged_zxid) {}

  Epoch accepted_epoch() const noexcept { return accepted_epoch_; }
  Epoch current_epoch() const noexcept { return current_epoch_; }
  void set_accepted_epoch(Epoch epoch) noexcept { accepted_epoch_ = epoch; }
  void set_current_epoch(Epoch epoch) noexcept { current_epoch_ = epoch; }

  Zxid last_logged_zxid() const noexcept { return last_logged_zxid_; }
  void set_last_logged_zxid(Zxid zxid) noexcept { last_logged_zxid_ = zxid; }

 private:
  Epoch accepted_epoch_ = 0;
  Epoch current_epoch_ = 0;
  Zxid last_logged_zxid_{};
};

static_assert(Storage<MemoryStorage>, "MemoryStorage must satisfy quorum::Storage");

}  // namespace quorum
