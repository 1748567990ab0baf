// Read-only checks of a data directory (what `quorum-logdump --verify` runs): every segment's
// records and checksums, the continuity of the log, every snapshot's seal and the epoch files.
// Nothing is repaired or removed.
#pragma once

#include <string>
#include <vector>

#include "quorum/storage/file_system.hpp"

namespace quorum::storage {

struct VerifyReport {
  std::vector<std::string> lines;  ///< one per file checked, and one per problem
  std::size_t corrupt = 0;         ///< damage a member refuses to start with
  std::size_t torn = 0;            ///< torn tails a member cuts off when it starts
  std::size_t segments = 0;
  std::size_t records = 0;
  std::size_t snapshots = 0;
  bool damaged() const noexcept { return corrupt + torn > 0; }
};

/// `data_dir` and `log_dir` are the directories holding `version-2/` (the same when the log
/// is not kept apart).
VerifyReport verify_data_directory(FileSystem& fs, const std::string& data_dir,
                                   const std::string& log_dir);

}  // namespace quorum::storage
