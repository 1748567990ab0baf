// The transaction log as a directory of segment files (log_format.hpp): recovery when opened,
// appends into a preallocated active segment, one sync for everything appended since the
// last, rolling to a new segment, TRUNC, reads for DIFF and replay, and purging old segments.
// Not thread-safe: FileStorage's writer thread owns appends and syncs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/storage/file_system.hpp"
#include "quorum/storage/log_format.hpp"
#include "quorum/types.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum::storage {

struct SegmentedLogOptions {
  std::uint64_t roll_bytes = 64u << 20;        ///< a new segment starts after this many bytes
  std::uint64_t preallocate_bytes = 4u << 20;  ///< zeros ahead of the write position
};

class SegmentedLog {
 public:
  SegmentedLog(FileSystem& fs, std::string dir, SegmentedLogOptions options = {});

  /// Reads every segment in the directory. A torn tail of the last segment is cut off (and
  /// described in `reports`); corruption, a gap between segments or a misnamed segment fails
  /// with `error` naming the file and the offset.
  std::error_code open(std::string& error, std::vector<std::string>& reports);

  bool empty() const noexcept { return segments_.empty() || records_ == 0; }
  /// The first and last txn in the log (Zxid{} when empty).
  Zxid first_zxid() const noexcept;
  /// The zxid the log continues from: its first txn follows this one.
  Zxid start_zxid() const noexcept {
    return records_ == 0 || segments_.empty() ? start_ : segments_.front().previous;
  }
  /// For an empty log: its first txn will follow `zxid` (a snapshot's).
  void continue_from(Zxid zxid) noexcept {
    if (records_ == 0) start_ = zxid;
  }
  Zxid last_zxid() const noexcept { return last_; }
  std::size_t segment_count() const noexcept { return segments_.size(); }

  /// Appends txns that follow the log (not durable until sync()).
  std::error_code append(std::span<const Txn> txns);
  /// Makes everything appended so far durable.
  std::error_code sync();
  /// Drops every txn after `zxid` (TRUNC), durably: later segments go, the one holding `zxid` is
  /// cut just after it.
  std::error_code truncate_after(Zxid zxid);
  /// Up to `max` txns with zxid > `after`, oldest first.
  std::error_code read_after(Zxid after, std::size_t max, std::vector<Txn>& out) const;
  /// Removes segments all of whose txns are <= `zxid` and that are followed by another segment
  /// starting at or before zxid + 1 (so the log still holds everything after `zxid`).
  std::error_code remove_segments_through(Zxid zxid);
  /// Removes every segment; the log continues from `zxid` (a snapshot's).
  std::error_code clear(Zxid zxid);

 private:
  struct Segment {
    Zxid first;
    Zxid previous;  // the log's last zxid before this segment (from its header)
    Zxid last;      // Zxid{} while it holds no record
    std::size_t records = 0;
    std::string path;
    std::uint64_t end = 0;  // just past its last record
    std::vector<RecordMark> marks;
  };

  std::error_code roll(Zxid first);
  std::error_code ensure_room(std::uint64_t bytes);

  FileSystem& fs_;
  std::string dir_;
  SegmentedLogOptions options_;
  std::vector<Segment> segments_;
  std::unique_ptr<WritableFile> active_;  // the last segment, open for appends
  std::uint64_t allocated_ = 0;           // the active file's size (zeros past `end`)
  bool unsynced_ = false;
  std::size_t records_ = 0;
  Zxid last_{};
  Zxid start_{};  // what an empty log continues from
};

}  // namespace quorum::storage
