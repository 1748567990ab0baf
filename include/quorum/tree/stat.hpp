// A znode's Stat, as ZooKeeper maintains and reports it.
#pragma once

#include <cstdint>

#include "quorum/types.hpp"

namespace quorum::tree {

/// What clients see (ZooKeeper's Stat record, in its field order).
struct Stat {
  Zxid czxid;                        ///< the zxid that created the node
  Zxid mzxid;                        ///< the zxid that last changed its data
  std::int64_t ctime = 0;            ///< creation time, ms since the epoch (the leader's clock)
  std::int64_t mtime = 0;            ///< last data change, ms since the epoch
  std::int32_t version = 0;          ///< data changes
  std::int32_t cversion = 0;         ///< child changes: creates and deletes
  std::int32_t aversion = 0;         ///< ACL changes
  std::int64_t ephemeral_owner = 0;  ///< the owning session, 0 for every other kind
  std::int32_t data_length = 0;
  std::int32_t num_children = 0;
  Zxid pzxid;  ///< the zxid that last created or deleted a child

  friend bool operator==(const Stat&, const Stat&) = default;
};

/// ZooKeeper stores the number of child creates and reports creates plus deletes: with
/// `stored` creates and `children` left, `2 * stored - children`.
constexpr std::int32_t visible_cversion(std::int32_t stored, std::int32_t children) noexcept {
  return static_cast<std::int32_t>(2 * static_cast<std::int64_t>(stored) - children);
}

/// The next version after `v`, wrapping at 32 bits as ZooKeeper does.
constexpr std::int32_t next_version(std::int32_t v) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(v) + 1u);
}

/// ZooKeeper's "any version" in conditional operations.
inline constexpr std::int32_t any_version = -1;

}  // namespace quorum::tree
