// ACL lists interned once and shared by reference count, as ZooKeeper's ReferenceCountedACLCache:
// millions of znodes usually share a handful of ACLs, so each node stores a 32-bit index.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/tree/acl.hpp"

namespace quorum::tree {

class AclCache {
 public:
  /// The index of `acl`, with one more reference.
  std::uint32_t intern(const AclList& acl) {
    if (auto it = index_.find(acl); it != index_.end()) {
      ++refs_[it->second];
      return it->second;
    }
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
      lists_[slot] = acl;
      refs_[slot] = 1;
    } else {
      slot = static_cast<std::uint32_t>(lists_.size());
      lists_.push_back(acl);
      refs_.push_back(1);
    }
    index_.emplace(acl, slot);
    return slot;
  }

  /// Drops one reference; the list goes with its last.
  void release(std::uint32_t slot) {
    QUORUM_ASSERT(slot < refs_.size() && refs_[slot] > 0, "releasing an ACL nobody holds");
    if (--refs_[slot] > 0) return;
    index_.erase(lists_[slot]);
    lists_[slot].clear();
    free_.push_back(slot);
  }

  const AclList& operator[](std::uint32_t slot) const { return lists_[slot]; }
  std::size_t size() const noexcept { return index_.size(); }
  /// Every slot in use is below this.
  std::size_t slot_bound() const noexcept { return lists_.size(); }
  void clear() {
    lists_.clear();
    refs_.clear();
    free_.clear();
    index_.clear();
  }

 private:
  std::vector<AclList> lists_;
  std::vector<std::uint64_t> refs_;
  std::vector<std::uint32_t> free_;
  std::map<AclList, std::uint32_t> index_;
};

}  // namespace quorum::tree
