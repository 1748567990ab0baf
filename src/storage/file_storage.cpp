#include "quorum/storage/file_storage.hpp"

#include <algorithm>

#include "quorum/error.hpp"
#include "quorum/storage/atomic_file.hpp"
#include "quorum/storage/log_format.hpp"

namespace quorum::storage {

namespace {

std::string version_dir(const std::string& dir) {
  return dir + "/version-2";
}

std::string describe(const std::string& what, std::error_code ec) {
  return what + ": " + ec.message();
}

}  // namespace

FileStorage::FileStorage(FileSystem& fs, FileStorageOptions options)
    : fs_(fs),
      options_(std::move(options)),
      snap_dir_(version_dir(options_.data_dir)),
      log_dir_(
          version_dir(options_.data_log_dir.empty() ? options_.data_dir : options_.data_log_dir)),
      log_(fs_, log_dir_, options_.log) {}

FileStorage::~FileStorage() {
  if (writer_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
  } else {
    flush();
  }
}

std::error_code FileStorage::open(std::string& error, std::vector<std::string>& reports) {
  const auto refuse = [&](std::string why) {
    error = std::move(why);
    return make_error_code(errc::data_inconsistency);
  };
  for (const std::string& dir : {snap_dir_, log_dir_})
    if (auto ec = fs_.create_directories(dir)) return refuse(describe(dir, ec));

  // Snapshots: the newest one whose seal holds. Leftover .tmp files are unfinished writes.
  std::vector<std::string> names;
  if (auto ec = fs_.list(snap_dir_, names)) return refuse(describe(snap_dir_, ec));
  std::vector<Zxid> found;
  for (const std::string& name : names) {
    if (auto zxid = parse_snapshot_name(name)) {
      found.push_back(*zxid);
    } else if (name.size() > 4 && name.ends_with(".tmp") && name.starts_with("snapshot.")) {
      if (auto ec = fs_.remove(snap_dir_ + "/" + name))
        return refuse(describe(snap_dir_ + "/" + name, ec));
      reports.push_back(snap_dir_ + "/" + name + ": an unfinished snapshot, removed");
    }
  }
  std::sort(found.begin(), found.end());
  std::size_t damaged = 0;
  for (auto it = found.rbegin(); it != found.rend() && !snapshot_; ++it) {
    const std::string path = snap_dir_ + "/" + snapshot_name(*it);
    std::string bytes, problem;
    if (auto ec = fs_.read_all(path, bytes)) return refuse(describe(path, ec));
    std::optional<Snapshot> s = decode_snapshot_file(std::move(bytes), problem);
    if (s && s->last_zxid != *it) problem = "its header names " + to_string(s->last_zxid);
    if (!s || !problem.empty()) {
      ++damaged;
      reports.push_back(path + ": " + problem + "; trying an older snapshot");
      continue;
    }
    snapshot_ = std::move(s);
  }
  for (Zxid z : found)
    if (snapshot_ && z <= snapshot_->last_zxid) snapshot_zxids_.push_back(z);

  // The log after it.
  std::string log_error;
  if (log_.open(log_error, reports)) return refuse(log_error);
  if (!snapshot_) {
    if (damaged > 0)
      return refuse(snap_dir_ + ": none of the " + std::to_string(damaged) +
                    " snapshots is readable; refusing to start from nothing");
    if (log_.segment_count() > 0)
      return refuse(log_dir_ + ": a transaction log without a base snapshot in " + snap_dir_ +
                    " (ZOOKEEPER-2325); refusing to start from an empty tree");
    // A new store: it starts from an empty snapshot, as ZooKeeper's snapshot.0.
    save_snapshot(Snapshot{});
    if (!failure_.empty()) return refuse(failure_);
  }
  const Zxid snap = snapshot_->last_zxid;
  if (!log_.empty() && log_.last_zxid() < snap) {
    // A SNAP installed before a crash cut the old log short: the snapshot covers all of it
    // (or it was a divergent tail), and new txns must follow the snapshot, not it.
    reports.push_back(log_dir_ + ": the log ends at " + to_string(log_.last_zxid()) +
                      ", before the newest snapshot " + to_string(snap) + "; cleared");
    std::error_code ec;
    {
      std::lock_guard lock(log_mutex_);
      ec = log_.clear(snap);
    }
    if (ec) return refuse(describe(log_dir_ + " (clearing a log older than the snapshot)", ec));
  }
  if (!log_.empty() && log_.start_zxid() > snap)
    return refuse(log_dir_ + ": the log continues from " + to_string(log_.start_zxid()) +
                  " but the newest snapshot is at " + to_string(snap) + ": txns are missing");
  log_.continue_from(snap);
  base_ = snap;
  last_logged_ = std::max(snap, log_.last_zxid());
  durable_.store(last_logged_.value, std::memory_order_release);
  last_committed_ = snap;

  // Epochs, recovering a replacement interrupted before its rename.
  for (auto [name, epoch] :
       {std::pair{"acceptedEpoch", &accepted_epoch_}, std::pair{"currentEpoch", &current_epoch_}}) {
    const std::string path = snap_dir_ + "/" + name;
    const EpochFileRead read = read_epoch_file(fs_, path);
    if (!read.error.empty()) return refuse(read.error);
    if (read.value) {
      *epoch = static_cast<Epoch>(*read.value);
      if (read.recovered_from_tmp) {
        if (auto ec = write_atomically(fs_, path, format_epoch_file(*read.value)))
          return refuse(describe(path, ec));
        reports.push_back(path + ": recovered from " + path + ".tmp");
      }
    } else {
      // ZooKeeper's default for a missing epoch file: the epoch of the newest txn.
      *epoch = last_logged_.epoch();
      if (last_logged_ != Zxid{})
        reports.push_back(path + ": missing; using the newest txn's epoch " +
                          std::to_string(*epoch));
    }
  }
  if (accepted_epoch_ < current_epoch_)
    return refuse(snap_dir_ + ": acceptedEpoch " + std::to_string(accepted_epoch_) +
                  " is below currentEpoch " + std::to_string(current_epoch_));
  if (last_logged_.epoch() > current_epoch_ && last_logged_.epoch() > accepted_epoch_)
    return refuse(snap_dir_ + ": txn " + to_string(last_logged_) + " is from an epoch after " +
                  "acceptedEpoch " + std::to_string(accepted_epoch_));

  if (options_.writer_thread && !writer_.joinable())
    writer_ = std::thread([this] { writer_loop(); });
  return {};
}

void FileStorage::set_durability_listener(std::function<void()> listener) {
  std::unique_lock lock(mutex_);
  // A host clearing its listener as it stops must not be called afterwards.
  idle_.wait(lock, [&] { return !calling_listener_; });
  listener_ = std::move(listener);
}

std::string FileStorage::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void FileStorage::fail(std::string why) const {
  std::lock_guard lock(mutex_);
  if (failure_.empty()) failure_ = std::move(why);
  failed_.store(true, std::memory_order_release);
}

// ---- epochs ------------------------------------------------------------------------------------

void FileStorage::set_accepted_epoch(Epoch epoch) {
  const std::string path = snap_dir_ + "/acceptedEpoch";
  if (auto ec = write_atomically(fs_, path, format_epoch_file(epoch)))
    return fail(describe(path, ec));
  accepted_epoch_ = epoch;
}

void FileStorage::set_current_epoch(Epoch epoch) {
  drop_superseded();  // the history is settled before the epoch is recorded
  {
    std::unique_lock lock(mutex_);
    wait_idle(lock);
  }
  if (failed()) return;
  const std::string path = snap_dir_ + "/currentEpoch";
  if (auto ec = write_atomically(fs_, path, format_epoch_file(epoch)))
    return fail(describe(path, ec));
  current_epoch_ = epoch;
}

// ---- the log -----------------------------------------------------------------------------------

Zxid FileStorage::last_logged_zxid() const noexcept {
  return last_logged_;
}
Zxid FileStorage::log_start_zxid() const noexcept {
  return base_;
}

void FileStorage::append(std::span<const Txn> txns) {
  // After a SNAP, the leader's stream may repeat txns of the old log: they are on disk already.
  std::size_t repeated = 0;
  for (; repeated < txns.size() && !superseded_.empty(); ++repeated) {
    const Txn& t = txns[repeated];
    if (t.zxid != superseded_.front()) {
      drop_superseded();
      break;
    }
    QUORUM_ASSERT(follows(last_logged_, t.zxid),
                  "log appends must be in zxid order without gaps in an epoch");
    superseded_.pop_front();
    recent_.push_back(t);
    last_logged_ = t.zxid;
    durable_.store(t.zxid.value, std::memory_order_release);
  }
  txns = txns.subspan(repeated);
  if (txns.empty()) return trim_recent();
  for (const Txn& t : txns) {
    QUORUM_ASSERT(follows(last_logged_, t.zxid),
                  "log appends must be in zxid order without gaps in an epoch");
    recent_.push_back(t);
    last_logged_ = t.zxid;
  }
  trim_recent();
  {
    std::lock_guard lock(mutex_);
    pending_.insert(pending_.end(), txns.begin(), txns.end());
  }
  wake_.notify_one();
}

void FileStorage::trim_recent() {
  // Only durable txns leave memory: the rest may not be on disk yet.
  while (recent_.size() > options_.memory_txns && recent_.front().zxid <= durable_zxid())
    recent_.pop_front();
}

void FileStorage::writer_loop() {
  std::vector<Txn> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, nothing left
    batch.swap(pending_);
    writing_ = true;
    lock.unlock();
    write_batch(batch);
    batch.clear();
    lock.lock();
    writing_ = false;
    idle_.notify_all();
    if (listener_) {
      auto listener = listener_;
      calling_listener_ = true;
      lock.unlock();
      listener();
      lock.lock();
      calling_listener_ = false;
      idle_.notify_all();
    }
  }
}

void FileStorage::write_batch(std::vector<Txn>& batch) {
  if (batch.empty() || failed()) return;
  std::error_code ec;
  {
    std::lock_guard lock(log_mutex_);
    ec = log_.append(batch);
    if (!ec) ec = log_.sync();  // one sync for the whole batch: the group commit
  }
  if (ec)
    return fail(describe(log_dir_ + " (appending " + to_string(batch.front().zxid) + "..)", ec));
  durable_.store(batch.back().zxid.value, std::memory_order_release);
}

void FileStorage::flush() {
  if (writer_.joinable()) {
    std::unique_lock lock(mutex_);
    wait_idle(lock);
    return;
  }
  std::vector<Txn> batch;
  std::function<void()> listener;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    listener = listener_;
  }
  if (batch.empty()) return;
  write_batch(batch);
  if (listener) listener();
}

void FileStorage::wait_idle(std::unique_lock<std::mutex>& lock) {
  if (!writer_.joinable()) {
    lock.unlock();
    flush();
    lock.lock();
    return;
  }
  idle_.wait(lock, [&] { return pending_.empty() && !writing_; });
}

std::error_code FileStorage::truncate_after(Zxid zxid) {
  if (zxid < base_) return make_error_code(errc::data_inconsistency);
  superseded_.clear();  // on disk after `zxid`: the cut below removes them
  {
    std::unique_lock lock(mutex_);
    wait_idle(lock);
    if (!failure_.empty()) return make_error_code(errc::data_inconsistency);
  }
  std::error_code ec;
  {
    std::lock_guard lock(log_mutex_);
    ec = log_.truncate_after(zxid);
  }
  if (ec) {
    fail(describe(log_dir_ + " (truncating after " + to_string(zxid) + ")", ec));
    return ec;
  }
  while (!recent_.empty() && recent_.back().zxid > zxid) recent_.pop_back();
  last_logged_ = std::min(last_logged_, zxid);
  if (durable_zxid() > last_logged_) durable_.store(last_logged_.value, std::memory_order_release);
  last_committed_ = std::min(last_committed_, last_logged_);
  return {};
}

void FileStorage::reset_log(Zxid zxid) {
  {
    std::unique_lock lock(mutex_);
    wait_idle(lock);
  }
  std::error_code ec;
  {
    std::lock_guard lock(log_mutex_);
    ec = log_.clear(zxid);
  }
  if (ec) return fail(describe(log_dir_ + " (clearing the log)", ec));
  recent_.clear();
  superseded_.clear();
  base_ = last_logged_ = zxid;
  durable_.store(zxid.value, std::memory_order_release);
  last_committed_ = std::min(last_committed_, zxid);
}

std::error_code FileStorage::read_after(Zxid after, std::size_t max, std::vector<Txn>& out) const {
  if (after < base_) return make_error_code(errc::data_inconsistency);
  // The newest txns are in memory; older ones come from the segments.
  const bool in_memory = !recent_.empty() && after >= recent_.front().zxid;
  Zxid from = after;
  if (!in_memory && !recent_.empty() && max > 0) {
    std::vector<Txn> disk;
    std::error_code ec;
    {
      std::lock_guard lock(log_mutex_);
      ec = log_.read_after(after, max, disk);
    }
    if (ec) return ec;
    for (Txn& t : disk) {
      if (t.zxid >= recent_.front().zxid) break;
      from = t.zxid;
      out.push_back(std::move(t));
      --max;
    }
  } else if (recent_.empty() && max > 0) {
    std::lock_guard lock(log_mutex_);
    const std::size_t before = out.size();
    const std::error_code ec = log_.read_after(after, max, out);
    // Not past the log's end: the disk may still hold an old log after a SNAP.
    while (out.size() > before && out.back().zxid > last_logged_) out.pop_back();
    return ec;
  }
  auto it = std::upper_bound(recent_.begin(), recent_.end(), from,
                             [](Zxid z, const Txn& t) { return z < t.zxid; });
  for (; it != recent_.end() && max > 0; ++it, --max) out.push_back(*it);
  return {};
}

// ---- snapshots ---------------------------------------------------------------------------------

void FileStorage::save_snapshot(Snapshot snapshot) {
  if (write_snapshot_file(snapshot)) keep_snapshot(std::move(snapshot));
}

bool FileStorage::write_snapshot_file(const Snapshot& snapshot, bool background) {
  const std::string_view state = snapshot.state;
  return stream_snapshot_file(
             snapshot.last_zxid, [&](const SnapshotSink& sink) { sink(state); }, background)
      .has_value();
}

// The state goes after the header's room as it comes; the header (its size and checksum)
// last. Nothing is visible under the final name before all of it is synced.
std::optional<std::uint64_t> FileStorage::stream_snapshot_file(
    Zxid zxid, const std::function<void(const SnapshotSink&)>& produce, bool background) {
  const std::string path = snap_dir_ + "/" + snapshot_name(zxid);
  // Its own temporary name: the member may save the same zxid meanwhile (a SNAP install).
  const std::string tmp = path + (background ? ".background.tmp" : ".tmp");
  std::unique_ptr<WritableFile> file;
  std::error_code ec = fs_.open(tmp, true, file);
  if (!ec) ec = file->truncate(0);
  std::uint64_t size = 0;
  StreamingChecksum sum(static_cast<std::uint64_t>(zxid.value));
  produce([&](std::string_view piece) {
    if (ec || piece.empty()) return;  // after a failed write the rest is not written
    ec = file->write_at(snapshot_header_size + size, piece);
    sum.update(piece);
    size += piece.size();
  });
  if (!ec) ec = file->write_at(0, encode_snapshot_header(zxid, size, sum.digest()));
  if (!ec) ec = file->sync();
  file.reset();
  if (!ec) ec = fs_.rename(tmp, path);
  if (!ec) ec = fs_.sync_directory(snap_dir_);
  if (ec) {
    fail(describe(path, ec));
    return std::nullopt;
  }
  return size;
}

void FileStorage::adopt_snapshot(Snapshot snapshot) {
  if (snapshot.last_zxid <= last_logged_) keep_snapshot(std::move(snapshot));
}

void FileStorage::adopt_snapshot_file(Zxid zxid, std::uint64_t state_size) {
  if (zxid > last_logged_) return;  // as adopt_snapshot
  snapshot_zxids_.erase(std::remove(snapshot_zxids_.begin(), snapshot_zxids_.end(), zxid),
                        snapshot_zxids_.end());
  snapshot_zxids_.push_back(zxid);
  std::sort(snapshot_zxids_.begin(), snapshot_zxids_.end());
  if (const auto newest = newest_snapshot(); !newest || zxid >= *newest) {
    snapshot_.reset();  // the older image is no longer the newest: its memory goes
    streamed_ = StreamedSnapshot{zxid, state_size};
  }
  purge_snapshots();
}

void FileStorage::keep_snapshot(Snapshot snapshot) {
  const Zxid zxid = snapshot.last_zxid;
  snapshot_zxids_.erase(std::remove(snapshot_zxids_.begin(), snapshot_zxids_.end(), zxid),
                        snapshot_zxids_.end());
  snapshot_zxids_.push_back(zxid);
  std::sort(snapshot_zxids_.begin(), snapshot_zxids_.end());
  if (const auto newest = newest_snapshot(); !newest || zxid >= *newest) {
    snapshot_ = std::move(snapshot);
    streamed_.reset();
  }
  purge_snapshots();
}

void FileStorage::install_snapshot(Snapshot snapshot) {
  const Zxid zxid = snapshot.last_zxid;
  {
    std::unique_lock lock(mutex_);
    wait_idle(lock);
  }
  save_snapshot(std::move(snapshot));
  if (failed()) return;
  // What the old log holds after the image (all of it synced, the writer being idle).
  std::vector<Txn> after;
  std::error_code ec;
  {
    std::lock_guard lock(log_mutex_);
    if (log_.last_zxid() > zxid) ec = log_.read_after(zxid, SIZE_MAX, after);
  }
  if (ec) return fail(describe(log_dir_ + " (reading the log after " + to_string(zxid) + ")", ec));
  if (after.empty()) return reset_log(zxid);
  superseded_.clear();
  for (const Txn& t : after) superseded_.push_back(t.zxid);
  recent_.clear();
  base_ = last_logged_ = zxid;
  durable_.store(zxid.value, std::memory_order_release);
  last_committed_ = std::min(last_committed_, zxid);
}

void FileStorage::abandon_sync() {
  if (superseded_.empty()) return;
  // Everything on disk after the image counts again; reads of it come from the segments.
  last_logged_ = superseded_.back();
  superseded_.clear();
  recent_.clear();
  durable_.store(last_logged_.value, std::memory_order_release);
}

void FileStorage::drop_superseded() {
  if (superseded_.empty()) return;
  superseded_.clear();
  {
    std::unique_lock lock(mutex_);
    wait_idle(lock);
  }
  std::error_code ec;
  {
    std::lock_guard lock(log_mutex_);
    ec = log_.truncate_after(last_logged_);
  }
  if (ec)
    fail(describe(log_dir_ + " (cutting the old log after " + to_string(last_logged_) + ")", ec));
}

void FileStorage::purge_snapshots() {
  const std::size_t keep = std::max<std::size_t>(options_.snapshots_retained, 1);
  if (snapshot_zxids_.size() <= keep) return;
  const std::size_t drop = snapshot_zxids_.size() - keep;
  for (std::size_t i = 0; i < drop; ++i) {
    const std::string path = snap_dir_ + "/" + snapshot_name(snapshot_zxids_[i]);
    if (auto ec = fs_.remove(path)) return fail(describe(path, ec));
  }
  snapshot_zxids_.erase(snapshot_zxids_.begin(),
                        snapshot_zxids_.begin() + static_cast<std::ptrdiff_t>(drop));
  if (auto ec = fs_.sync_directory(snap_dir_)) return fail(describe(snap_dir_, ec));
  // Log segments only the purged snapshots needed go too.
  std::error_code ec;
  {
    std::lock_guard lock(log_mutex_);
    ec = log_.remove_segments_through(snapshot_zxids_.front());
  }
  if (ec) return fail(describe(log_dir_ + " (purging)", ec));
  // Txns up to the oldest kept snapshot may be gone now: a DIFF from before it must become a
  // SNAP, never skip them (a whole missing epoch would pass every zxid continuity check).
  base_ = std::min(std::max(base_, snapshot_zxids_.front()), last_logged_);
}

std::optional<Snapshot> FileStorage::latest_snapshot() const {
  if (!streamed_) return snapshot_;
  const std::string path = snap_dir_ + "/" + snapshot_name(streamed_->zxid);
  std::string bytes, problem;
  if (auto ec = fs_.read_all(path, bytes)) {
    fail(describe(path, ec));
    return std::nullopt;
  }
  std::optional<Snapshot> s = decode_snapshot_file(std::move(bytes), problem);
  if (s && s->last_zxid != streamed_->zxid) problem = "its header names " + to_string(s->last_zxid);
  if (!s || !problem.empty()) {
    fail(path + ": " + problem);
    return std::nullopt;
  }
  return s;
}

std::optional<std::uint64_t> FileStorage::latest_snapshot_bytes() const {
  if (streamed_) return streamed_->state_size;
  if (snapshot_) return snapshot_->state.size();
  return std::nullopt;
}

void FileStorage::remove_snapshots_after(Zxid zxid) {
  bool removed = false;
  while (!snapshot_zxids_.empty() && snapshot_zxids_.back() > zxid) {
    const std::string path = snap_dir_ + "/" + snapshot_name(snapshot_zxids_.back());
    if (auto ec = fs_.remove(path)) return fail(describe(path, ec));
    snapshot_zxids_.pop_back();
    removed = true;
  }
  if (!removed) return;
  if (auto ec = fs_.sync_directory(snap_dir_)) return fail(describe(snap_dir_, ec));
  snapshot_.reset();
  streamed_.reset();
  if (snapshot_zxids_.empty()) return;
  const std::string path = snap_dir_ + "/" + snapshot_name(snapshot_zxids_.back());
  std::string bytes, problem;
  if (auto ec = fs_.read_all(path, bytes)) return fail(describe(path, ec));
  snapshot_ = decode_snapshot_file(std::move(bytes), problem);
  if (!snapshot_) fail(path + ": " + problem);
}

}  // namespace quorum::storage
