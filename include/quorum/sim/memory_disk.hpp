// MemoryDisk: a simulated member's disk that is a MemoryStorage kept across the member's
// restarts. Appends become durable when the simulator finishes a group commit; a power loss
// drops what was not yet durable.
//
// The disk contract the simulated clusters (HostedCluster) rely on:
//   Storage& storage();                   the member's storage while it runs
//   bool boot(std::string& error);        before each start; false (with why) if it cannot
//   void sync(Zxid through);              a group commit ends: the log is durable through it
//   void power_loss();                    the member died: what was not durable is gone
//   bool crash_point_hit() const;         an injected crash point fired during the last step
#pragma once

#include <string>

#include "quorum/storage/memory.hpp"
#include "quorum/types.hpp"

namespace quorum::sim {

class MemoryDisk {
 public:
  using Storage = MemoryStorage;

  MemoryDisk() { storage_.set_durability(MemoryStorage::Durability::manual); }

  MemoryStorage& storage() noexcept { return storage_; }
  bool boot(std::string&) { return true; }
  void sync(Zxid through) { storage_.make_durable(through); }
  void power_loss() { storage_.lose_pending(); }
  bool crash_point_hit() const noexcept { return false; }

 private:
  MemoryStorage storage_;
};

}  // namespace quorum::sim
