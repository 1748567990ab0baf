#include "quorum/storage/segmented_log.hpp"

#include <algorithm>

#include "quorum/storage/log_format.hpp"

namespace quorum::storage {

SegmentedLog::SegmentedLog(FileSystem& fs, std::string dir, SegmentedLogOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

Zxid SegmentedLog::first_zxid() const noexcept {
  for (const Segment& s : segments_)
    if (s.records > 0) return s.first;
  return Zxid{};
}

std::error_code SegmentedLog::open(std::string& error, std::vector<std::string>& reports) {
  const auto fail = [&](std::string why) {
    error = std::move(why);
    return std::make_error_code(std::errc::illegal_byte_sequence);
  };
  segments_.clear();
  active_.reset();
  records_ = 0;
  last_ = Zxid{};
  start_ = Zxid{};
  if (auto ec = fs_.create_directories(dir_)) return error = dir_ + ": " + ec.message(), ec;
  std::vector<std::string> names;
  if (auto ec = fs_.list(dir_, names)) return error = dir_ + ": " + ec.message(), ec;
  std::vector<std::pair<Zxid, std::string>> found;
  for (const std::string& name : names)
    if (auto zxid = parse_segment_name(name)) found.emplace_back(*zxid, name);
  std::sort(found.begin(), found.end());

  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& [named, name] = found[i];
    const std::string path = dir_ + "/" + name;
    const bool last_segment = i + 1 == found.size();
    std::string bytes;
    if (auto ec = fs_.read_all(path, bytes)) return error = path + ": " + ec.message(), ec;
    // (Past magic, version and first zxid, a partial header's bytes are not predictable.)
    const std::string expected = encode_segment_header(named, Zxid{}).substr(0, 16);
    if (last_segment && bytes.size() < log_header_size &&
        expected.starts_with(std::string_view(bytes).substr(0, 16))) {
      // A roll interrupted before its header was synced: nothing in it was ever durable.
      reports.push_back(path + ": an unfinished segment (" + std::to_string(bytes.size()) +
                        " bytes, no complete header); removed");
      if (auto ec = fs_.remove(path)) return error = path + ": " + ec.message(), ec;
      if (auto ec = fs_.sync_directory(dir_)) return error = dir_ + ": " + ec.message(), ec;
      continue;
    }
    SegmentScan scan = scan_segment(bytes, false);
    const auto at = [&](std::uint64_t offset) {
      return path + " at offset " + std::to_string(offset) + ": ";
    };
    if (scan.end == SegmentScan::End::corrupt)
      return fail(at(scan.problem_offset) + scan.problem + " (the log is damaged)");
    if (scan.valid_end > 0 && scan.first != named)
      return fail(path + ": its header says it starts at " + to_string(scan.first));
    if (scan.end == SegmentScan::End::torn) {
      if (!last_segment)
        return fail(at(scan.problem_offset) + scan.problem + ", and later segments follow");
      // The tail of an interrupted write: cut it, durably, and say so.
      reports.push_back(at(scan.problem_offset) + scan.problem + "; torn tail cut (" +
                        std::to_string(bytes.size() - scan.valid_end) + " bytes)");
      if (scan.valid_end == 0) {
        if (auto ec = fs_.remove(path)) return error = path + ": " + ec.message(), ec;
        if (auto ec = fs_.sync_directory(dir_)) return error = dir_ + ": " + ec.message(), ec;
        continue;
      }
      std::unique_ptr<WritableFile> file;
      if (auto ec = fs_.open(path, false, file)) return error = path + ": " + ec.message(), ec;
      if (auto ec = file->truncate(scan.valid_end)) return error = path + ": " + ec.message(), ec;
      if (auto ec = file->sync()) return error = path + ": " + ec.message(), ec;
      bytes.resize(scan.valid_end);
    }
    if (scan.valid_end > 0 && !segments_.empty() && scan.previous != segments_.back().last)
      return fail(path + ": follows " + to_string(scan.previous) +
                  " but the log before it ends at " + to_string(segments_.back().last) +
                  " (a segment is missing)");
    if (scan.records == 0 && !last_segment)
      return fail(path + ": holds no records, and later segments follow");
    segments_.push_back(Segment{named, scan.previous, scan.last, scan.records, path, scan.valid_end,
                                std::move(scan.marks)});
    records_ += scan.records;
    if (scan.records > 0) last_ = scan.last;
  }
  if (!segments_.empty()) {
    start_ = segments_.front().previous;  // until continue_from says otherwise
    const Segment& s = segments_.back();
    if (auto ec = fs_.open(s.path, false, active_)) return error = s.path + ": " + ec.message(), ec;
    allocated_ = active_->size();
  }
  return {};
}

std::error_code SegmentedLog::roll(Zxid first) {
  if (auto ec = sync()) return ec;  // earlier segments are complete before a new one begins
  // An empty segment (left by TRUNC or recovery) is named for a zxid that will not come:
  // it goes, so every segment's name stays its first record's zxid.
  if (!segments_.empty() && segments_.back().records == 0) {
    active_.reset();
    if (auto ec = fs_.remove(segments_.back().path)) return ec;
    segments_.pop_back();
  }
  const Zxid previous = records_ > 0 ? last_ : start_zxid();
  Segment s{first, previous, Zxid{}, 0, dir_ + "/" + segment_name(first), log_header_size, {}};
  std::unique_ptr<WritableFile> file;
  if (auto ec = fs_.open(s.path, true, file)) return ec;
  if (auto ec = file->truncate(0)) return ec;
  if (auto ec = file->write_at(0, encode_segment_header(first, previous))) return ec;
  allocated_ = log_header_size;
  // The new name must survive a crash before anything in it is acknowledged.
  if (auto ec = file->sync()) return ec;
  if (auto ec = fs_.sync_directory(dir_)) return ec;
  active_ = std::move(file);
  segments_.push_back(std::move(s));
  return {};
}

std::error_code SegmentedLog::ensure_room(std::uint64_t bytes) {
  const std::uint64_t end = segments_.back().end;
  if (end + bytes <= allocated_) return {};
  const std::uint64_t size = end + bytes + options_.preallocate_bytes;
  if (auto ec = active_->truncate(size)) return ec;  // extends with zeros
  allocated_ = size;
  return {};
}

std::error_code SegmentedLog::append(std::span<const Txn> txns) {
  if (txns.empty()) return {};
  Zxid previous = records_ > 0 ? last_ : start_zxid();
  for (const Txn& t : txns) {
    if (!follows(previous, t.zxid)) return std::make_error_code(std::errc::invalid_argument);
    previous = t.zxid;
  }
  const Segment* back = segments_.empty() ? nullptr : &segments_.back();
  if (!back || !active_ || back->end >= options_.roll_bytes ||
      (back->records == 0 && (back->first != txns.front().zxid || back->previous != start_zxid())))
    if (auto ec = roll(txns.front().zxid)) return ec;
  std::string bytes;
  Segment& s = segments_.back();
  std::vector<RecordMark> marks;
  for (std::size_t i = 0; i < txns.size(); ++i) {
    if ((s.records + i) % mark_every == 0) marks.push_back({txns[i].zxid, s.end + bytes.size()});
    append_record(bytes, txns[i]);
  }
  if (auto ec = ensure_room(bytes.size())) return ec;
  if (auto ec = active_->write_at(s.end, bytes)) return ec;
  s.marks.insert(s.marks.end(), marks.begin(), marks.end());
  s.end += bytes.size();
  if (s.records == 0) s.first = txns.front().zxid;
  s.records += txns.size();
  s.last = txns.back().zxid;
  records_ += txns.size();
  last_ = s.last;
  unsynced_ = true;
  return {};
}

std::error_code SegmentedLog::sync() {
  if (!unsynced_ || !active_) return {};
  if (auto ec = active_->sync()) return ec;
  unsynced_ = false;
  return {};
}

std::error_code SegmentedLog::truncate_after(Zxid zxid) {
  if (records_ == 0 || zxid >= last_) return {};
  if (zxid < first_zxid()) return clear(zxid);
  // Later segments go entirely.
  bool removed = false;
  while (!segments_.empty() && (segments_.back().records == 0 || segments_.back().first > zxid)) {
    active_.reset();
    if (auto ec = fs_.remove(segments_.back().path)) return ec;
    records_ -= segments_.back().records;
    segments_.pop_back();
    removed = true;
  }
  if (removed)
    if (auto ec = fs_.sync_directory(dir_)) return ec;
  // The segment holding `zxid` is cut just after it.
  Segment& s = segments_.back();
  std::string bytes;
  if (auto ec = fs_.read_all(s.path, bytes)) return ec;
  const SegmentScan scan = scan_segment(bytes, true);
  std::uint64_t end = log_header_size;
  std::size_t kept = 0;
  for (const Txn& t : scan.txns) {
    if (t.zxid > zxid) break;
    end += log_record_overhead + t.data.size();
    ++kept;
  }
  active_.reset();
  if (auto ec = fs_.open(s.path, false, active_)) return ec;
  if (auto ec = active_->truncate(end)) return ec;
  if (auto ec = active_->sync()) return ec;
  allocated_ = end;
  records_ -= s.records - kept;
  s.records = kept;
  while (!s.marks.empty() && s.marks.back().zxid > zxid) s.marks.pop_back();
  s.end = end;
  s.last = kept > 0 ? scan.txns[kept - 1].zxid : Zxid{};
  last_ = s.last;
  unsynced_ = false;
  return {};
}

std::error_code SegmentedLog::read_after(Zxid after, std::size_t max, std::vector<Txn>& out) const {
  constexpr std::size_t window = 1u << 20;  // bytes read at a time
  for (const Segment& s : segments_) {
    if (max == 0) break;
    if (s.records == 0 || s.last <= after) continue;
    // Start at the last marked record at or before `after`, not at the segment's beginning.
    std::uint64_t at = log_header_size;
    for (const RecordMark& m : s.marks) {
      if (m.zxid > after) break;
      at = m.offset;
    }
    std::string bytes;
    std::size_t want = window;
    while (max > 0 && at < s.end) {
      const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(want, s.end - at));
      if (auto ec = fs_.read(s.path, at, length, bytes)) return ec;
      const std::size_t used = read_records(bytes, after, max, out);
      if (used == 0) {
        // One record larger than the window, or damage since the segment was opened.
        if (length == s.end - at) return std::make_error_code(std::errc::io_error);
        want *= 2;
        continue;
      }
      at += used;
      want = window;
    }
  }
  return {};
}

std::error_code SegmentedLog::remove_segments_through(Zxid zxid) {
  std::size_t drop = 0;
  while (drop + 1 < segments_.size() && segments_[drop + 1].first <= zxid) ++drop;
  if (drop == 0) return {};
  for (std::size_t i = 0; i < drop; ++i) {
    if (auto ec = fs_.remove(segments_[i].path)) return ec;
    records_ -= segments_[i].records;
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(drop));
  start_ = segments_.front().previous;
  return fs_.sync_directory(dir_);
}

std::error_code SegmentedLog::clear(Zxid zxid) {
  active_.reset();
  for (const Segment& s : segments_)
    if (auto ec = fs_.remove(s.path)) return ec;
  segments_.clear();
  records_ = 0;
  last_ = Zxid{};
  start_ = zxid;
  unsynced_ = false;
  return fs_.sync_directory(dir_);
}

}  // namespace quorum::storage
