// Data tree txns as the leader would log them, for the benchmarks that build big trees.
#pragma once

#include <cstdint>
#include <string>

#include "quorum/tree/record_codec.hpp"
#include "quorum/zab/txn.hpp"

namespace bench {

/// A create of `path` (open ACL, persistent) with zxid (1, counter).
inline quorum::Txn create_txn(std::uint32_t counter, const std::string& path,
                              const std::string& data, std::int32_t parent_cversion) {
  quorum::tree::TxnRecord record{
      0, 0, 1'700'000'000'000,
      quorum::tree::CreateTxn{path, data, quorum::tree::open_acl_unsafe(), 0, parent_cversion}};
  return quorum::Txn{quorum::Zxid::make(1, counter), 1, quorum::tree::encoding::encode(record)};
}

}  // namespace bench
