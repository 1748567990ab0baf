// Who votes, and which sets of voters are a quorum.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "quorum/types.hpp"

namespace quorum {

/// ZooKeeper's majority verifier: a set of voters is a quorum iff it holds more than
/// `voters / 2` (integer division) of them. Non-voters (observers) have weight 0: they never
/// count towards a quorum and can never be elected. This is the one place the quorum rule
/// lives, so weighted/hierarchical verifiers can replace it later.
class QuorumVerifier {
 public:
  QuorumVerifier() = default;
  explicit QuorumVerifier(std::vector<ServerId> voters) : voters_(std::move(voters)) {
    std::sort(voters_.begin(), voters_.end());
    voters_.erase(std::unique(voters_.begin(), voters_.end()), voters_.end());
  }

  const std::vector<ServerId>& voters() const noexcept { return voters_; }

  bool is_voter(ServerId id) const noexcept {
    return std::binary_search(voters_.begin(), voters_.end(), id);
  }

  /// 1 for a voter, 0 otherwise (ZooKeeper's getWeight for the majority verifier).
  int weight(ServerId id) const noexcept { return is_voter(id) ? 1 : 0; }

  /// The smallest number of voters that forms a quorum.
  std::size_t quorum_size() const noexcept { return voters_.size() / 2 + 1; }

  /// True iff the voters among `ids` form a quorum. Duplicates and non-voters are ignored.
  bool contains_quorum(std::span<const ServerId> ids) const {
    std::vector<ServerId> seen;
    seen.reserve(ids.size());
    for (ServerId id : ids)
      if (is_voter(id)) seen.push_back(id);
    std::sort(seen.begin(), seen.end());
    const auto distinct =
        static_cast<std::size_t>(std::unique(seen.begin(), seen.end()) - seen.begin());
    return distinct > voters_.size() / 2;
  }

 private:
  std::vector<ServerId> voters_;
};

}  // namespace quorum
