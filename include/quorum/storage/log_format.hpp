// The transaction log's on-disk format. A log is a sequence of segment files named
// `log.<hex zxid of the first txn>` (ZooKeeper's naming). Each segment starts with a 16-byte
// header — magic "QLOG", format version, the first zxid again — followed by records, then zeros
// (segments are preallocated). A record is
//
//     u32 length | u64 checksum | length bytes of body: u64 zxid, i32 type, the txn's data
//
// big-endian, the checksum being XXH3-64 of the body seeded with the length, so a damaged
// length is caught as surely as damaged contents. A zero length ends the segment.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/concepts.hpp"
#include "quorum/types.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum::storage {

inline constexpr std::uint32_t log_magic = 0x514C4F47;  // "QLOG"
inline constexpr std::uint32_t log_format_version = 2;
/// magic, version, first zxid, previous zxid, XXH3 of the two zxids.
inline constexpr std::size_t log_header_size = 32;
inline constexpr std::size_t log_record_overhead = 4 + 8 + 8 + 4;  // length, checksum, zxid, type
/// No record is larger (a txn is bounded by the request size limit well below this).
inline constexpr std::uint32_t max_log_record = 256u << 20;

/// XXH3-64 of `bytes` with `seed`.
std::uint64_t checksum(std::string_view bytes, std::uint64_t seed = 0) noexcept;

/// The same checksum of bytes given in pieces (a snapshot streamed to its file).
class StreamingChecksum {
 public:
  explicit StreamingChecksum(std::uint64_t seed);
  ~StreamingChecksum();
  StreamingChecksum(const StreamingChecksum&) = delete;
  StreamingChecksum& operator=(const StreamingChecksum&) = delete;
  void update(std::string_view bytes) noexcept;
  std::uint64_t digest() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// "log.<lowercase hex, no padding>" and back (nullopt for any other name).
std::string segment_name(Zxid first);
std::optional<Zxid> parse_segment_name(std::string_view name);

/// `previous` is the zxid the log held just before this segment's first txn: each segment
/// names its predecessor's last txn, so a missing segment is found even when it held whole
/// epochs (zxid continuity alone cannot tell (1,9) -> (3,1) from a lost epoch 2).
std::string encode_segment_header(Zxid first, Zxid previous);
/// Appends one framed record to `out`.
void append_record(std::string& out, const Txn& txn);

/// A segment remembers where every `mark_every`-th record starts, so reads need not decode it
/// from the beginning.
inline constexpr std::size_t mark_every = 1024;
struct RecordMark {
  Zxid zxid;
  std::uint64_t offset = 0;
};

/// What reading one segment found.
struct SegmentScan {
  enum class End {
    clean,    ///< the records end at a zero length or at the end of the file
    torn,     ///< a partial or damaged last record, followed by nothing valid: a torn write
    corrupt,  ///< damage followed by a valid record, or a bad header: not a crash's doing
  };
  Zxid first;             ///< from the header
  Zxid previous;          ///< from the header: the log's last zxid before this segment
  std::vector<Txn> txns;  ///< the valid records, when asked for
  Zxid last;              ///< the last valid record's zxid (none when there is none)
  std::size_t records = 0;
  std::uint64_t valid_end = log_header_size;  ///< the offset just past the last valid record
  End end = End::clean;
  std::uint64_t problem_offset = 0;  ///< where the damage starts (torn or corrupt)
  std::string problem;               ///< what is wrong there
  std::vector<RecordMark> marks;     ///< records 0, mark_every, 2 * mark_every, ...
};

/// Reads a whole segment image. Records must follow each other as a log's do (`follows`).
SegmentScan scan_segment(std::string_view bytes, bool keep_txns);

/// Reads consecutive records from `bytes` (which starts at a record), keeping up to `max` of
/// those after `after` in `out`. Returns how many bytes it consumed; it stops at the end, at a
/// zero length or damage, or at a record cut off by the end of `bytes` (more must be read).
std::size_t read_records(std::string_view bytes, Zxid after, std::size_t& max,
                         std::vector<Txn>& out);

// ---- snapshot files ---------------------------------------------------------------------------
// `snapshot.<hex zxid>`: magic "QSNP", format version, the zxid, the state's length and its
// XXH3-64 seeded with the zxid, then the state machine's image.

inline constexpr std::uint32_t snapshot_magic = 0x51534E50;  // "QSNP"
inline constexpr std::uint32_t snapshot_format_version = 1;
inline constexpr std::size_t snapshot_header_size = 32;

std::string snapshot_name(Zxid zxid);
std::optional<Zxid> parse_snapshot_name(std::string_view name);
std::string encode_snapshot_file(const Snapshot& snapshot);
/// The file's first snapshot_header_size bytes; the state follows them unchanged (a writer
/// of a large image writes the two without joining them).
std::string encode_snapshot_header(Zxid zxid, std::uint64_t state_size,
                                   std::uint64_t state_checksum);
/// The snapshot in a file image, or nullopt with `problem` saying what is wrong.
std::optional<Snapshot> decode_snapshot_file(std::string_view bytes, std::string& problem);
/// The same, keeping the file's buffer as the image (no copy).
std::optional<Snapshot> decode_snapshot_file(std::string&& bytes, std::string& problem);

}  // namespace quorum::storage
