#include "quorum/storage/verify.hpp"

#include <algorithm>

#include "quorum/storage/atomic_file.hpp"
#include "quorum/storage/log_format.hpp"

namespace quorum::storage {

VerifyReport verify_data_directory(FileSystem& fs, const std::string& data_dir,
                                   const std::string& log_dir) {
  VerifyReport r;
  const std::string snap_dir = data_dir + "/version-2";
  const std::string seg_dir = log_dir + "/version-2";
  const auto problem = [&](std::size_t& counter, std::string line) {
    ++counter;
    r.lines.push_back(std::move(line));
  };

  std::vector<std::string> names;
  if (auto ec = fs.list(snap_dir, names)) {
    problem(r.corrupt, snap_dir + ": " + ec.message());
    return r;
  }
  std::vector<Zxid> snapshots;
  for (const std::string& n : names)
    if (auto z = parse_snapshot_name(n)) snapshots.push_back(*z);
  std::sort(snapshots.begin(), snapshots.end());
  for (Zxid z : snapshots) {
    const std::string path = snap_dir + "/" + snapshot_name(z);
    std::string bytes, why;
    if (auto ec = fs.read_all(path, bytes)) {
      problem(r.corrupt, path + ": " + ec.message());
      continue;
    }
    const auto s = decode_snapshot_file(bytes, why);
    if (!s || s->last_zxid != z) {
      problem(r.corrupt, path + ": DAMAGED: " + (s ? "its header names another zxid" : why));
      continue;
    }
    ++r.snapshots;
    r.lines.push_back(path + ": ok, " + std::to_string(s->state.size()) + " bytes of state");
  }
  for (const char* name : {"acceptedEpoch", "currentEpoch"}) {
    const std::string path = snap_dir + "/" + name;
    const EpochFileRead e = read_epoch_file(fs, path);
    if (!e.error.empty())
      problem(r.corrupt, e.error);
    else if (e.value)
      r.lines.push_back(path + ": " + std::to_string(*e.value) +
                        (e.recovered_from_tmp ? " (only in its .tmp)" : ""));
  }

  names.clear();
  if (auto ec = fs.list(seg_dir, names)) {
    problem(r.corrupt, seg_dir + ": " + ec.message());
    return r;
  }
  std::vector<Zxid> segments;
  for (const std::string& n : names)
    if (auto z = parse_segment_name(n)) segments.push_back(*z);
  std::sort(segments.begin(), segments.end());
  Zxid last{};
  bool any = false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string path = seg_dir + "/" + segment_name(segments[i]);
    std::string bytes;
    if (auto ec = fs.read_all(path, bytes)) {
      problem(r.corrupt, path + ": " + ec.message());
      continue;
    }
    const SegmentScan s = scan_segment(bytes, false);
    ++r.segments;
    r.records += s.records;
    const std::string where = path + " at offset " + std::to_string(s.problem_offset) + ": ";
    if (s.end == SegmentScan::End::corrupt) {
      problem(r.corrupt, where + "CORRUPT: " + s.problem);
    } else if (s.end == SegmentScan::End::torn) {
      if (i + 1 < segments.size())
        problem(r.corrupt, where + "CORRUPT: " + s.problem + ", and later segments follow");
      else
        problem(r.torn, where + "torn tail: " + s.problem + " (a member cuts it when it starts)");
    }
    if (s.valid_end > 0 && s.first != segments[i])
      problem(r.corrupt, path + ": CORRUPT: its header says it starts at " + to_string(s.first));
    if (s.valid_end > 0 && any && s.previous != last)
      problem(r.corrupt, path + ": GAP: follows " + to_string(s.previous) +
                             " but the log before it ends at " + to_string(last));
    if (s.records > 0) {
      last = s.last;
      any = true;
    }
    r.lines.push_back(path + ": " + std::to_string(s.records) + " records" +
                      (s.records > 0 ? ", " + to_string(s.first) + ".." + to_string(s.last) : ""));
  }
  if (any && snapshots.empty())
    problem(r.corrupt, seg_dir + ": a log without any snapshot in " + snap_dir);
  return r;
}

}  // namespace quorum::storage
