// FileStorage: a member's durable state in a data directory laid out as ZooKeeper's —
// `version-2/acceptedEpoch`, `currentEpoch`, `snapshot.<zxid>` under dataDir, `log.<zxid>`
// segments under dataLogDir — satisfying the Storage concept.
//
// Appends return at once; a writer thread writes them and syncs once for everything appended
// since its last sync (group commit), then advances durable_zxid() and tells the host, which
// posts a log_durable() to the member: the protocol core is never called from the writer.
// Without the thread (simulation), the host calls flush() where an fsync would complete.
//
// A failed write, sync, rename or truncate is fatal: failure() says why and nothing more
// becomes durable; the host must stop the member (ZOOKEEPER-3701).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "quorum/concepts.hpp"
#include "quorum/storage/file_system.hpp"
#include "quorum/storage/segmented_log.hpp"
#include "quorum/types.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum::storage {

struct FileStorageOptions {
  std::string data_dir;      ///< epochs and snapshots go in <data_dir>/version-2
  std::string data_log_dir;  ///< log segments go in <data_log_dir>/version-2 (data_dir if empty)
  SegmentedLogOptions log;
  std::size_t snapshots_retained = 3;  ///< autopurge.snapRetainCount (ZooKeeper's minimum is 3)
  std::size_t memory_txns = 100'000;   ///< recent txns also kept in memory for reads
  bool writer_thread = true;           ///< false: the host calls flush()
};

class FileStorage {
 public:
  FileStorage(FileSystem& fs, FileStorageOptions options);
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;
  /// Writes and syncs what is pending, then stops the writer.
  ~FileStorage();

  /// Reads the directories: the epochs, the newest valid snapshot, the log after it. Creates
  /// an empty store (with `snapshot.0`) in empty directories. Fails, with `error` naming the
  /// file and what is wrong, rather than start from damaged or incomplete data.
  std::error_code open(std::string& error, std::vector<std::string>& reports);

  /// Called on the writer thread each time durable_zxid() advances or the storage fails.
  /// Returns once no call of the previous listener is running (so a host can clear it and go);
  /// not to be called from the listener itself.
  void set_durability_listener(std::function<void()> listener);
  /// Non-empty once a write, sync, rename or truncate failed.
  std::string failure() const;
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  /// Without a writer thread: writes and syncs everything appended so far.
  void flush();

  // ---- Storage: epochs --------------------------------------------------------------------
  Epoch accepted_epoch() const noexcept { return accepted_epoch_; }
  Epoch current_epoch() const noexcept { return current_epoch_; }
  void set_accepted_epoch(Epoch epoch);
  /// The log is made durable first: history, then currentEpoch (ZOOKEEPER-4643).
  void set_current_epoch(Epoch epoch);

  // ---- Storage: the log -------------------------------------------------------------------
  Zxid last_logged_zxid() const noexcept;
  Zxid durable_zxid() const noexcept { return Zxid{durable_.load(std::memory_order_acquire)}; }
  Zxid log_start_zxid() const noexcept;
  void append(std::span<const Txn> txns);
  std::error_code truncate_after(Zxid zxid);
  /// Empties the log, which continues after `zxid` (a snapshot must hold everything up to it).
  void reset_log(Zxid zxid);
  std::error_code read_after(Zxid after, std::size_t max, std::vector<Txn>& out) const;
  Zxid last_committed_zxid() const noexcept { return last_committed_; }
  void set_last_committed_zxid(Zxid zxid) noexcept { last_committed_ = zxid; }

  // ---- Storage: snapshots -----------------------------------------------------------------
  /// write_snapshot_file, then adopt_snapshot.
  void save_snapshot(Snapshot snapshot);
  /// Writes `snapshot` as snapshot.<zxid> (a temporary file, synced, renamed, the directory
  /// synced). Safe on any thread (a background snapshot); false, with the storage failed,
  /// when a write, sync or rename fails.
  bool write_snapshot_file(const Snapshot& snapshot, bool background = false);
  /// Receives a state's bytes in order.
  using SnapshotSink = std::function<void(std::string_view)>;
  /// The same for an image too large to hold twice: `produce(sink)` passes the state's bytes
  /// to `sink` in pieces, each written as it comes. The state's size, or nullopt (the storage
  /// failed) as write_snapshot_file.
  std::optional<std::uint64_t> stream_snapshot_file(
      Zxid zxid, const std::function<void(const SnapshotSink&)>& produce, bool background = false);
  /// Member thread: takes a written snapshot as the newest, and purges old snapshots and the
  /// log segments only they needed. A snapshot past the log's end (taken before a SNAP install
  /// moved the log back) stays on disk unadopted: the log must hold everything after the
  /// snapshots it purges by.
  void adopt_snapshot(Snapshot snapshot);
  /// The same for a streamed snapshot of `state_size` bytes: its image is not held in memory,
  /// latest_snapshot() reads it from the file when asked.
  void adopt_snapshot_file(Zxid zxid, std::uint64_t state_size);
  /// Writes the image as a snapshot; the old log's txns after it stay on disk while appends
  /// repeat them (see SnapshotStore), the rest of the old log goes.
  void install_snapshot(Snapshot snapshot);
  void abandon_sync();
  /// What a power loss now would leave in the log: the durable txns, and the old log an
  /// installed snapshot has not yet replaced (for the simulator's durability checks).
  Zxid held_zxid() const noexcept {
    return superseded_.empty() ? durable_zxid() : std::max(durable_zxid(), superseded_.back());
  }
  /// The newest snapshot; read from its file when only a streamed one is newer than the image
  /// held in memory (a read failure fails the storage and answers nullopt).
  std::optional<Snapshot> latest_snapshot() const;
  /// The newest snapshot's state size, without reading it.
  std::optional<std::uint64_t> latest_snapshot_bytes() const;
  void remove_snapshots_after(Zxid zxid);

  const std::string& snapshot_dir() const noexcept { return snap_dir_; }
  const std::string& log_dir() const noexcept { return log_dir_; }

 private:
  void writer_loop();
  // Keeps at most memory_txns recent txns in memory (only durable ones leave).
  void trim_recent();
  // Writes and syncs `batch`; the caller holds no lock.
  void write_batch(std::vector<Txn>& batch);
  // Waits until the writer has nothing pending or in flight.
  void wait_idle(std::unique_lock<std::mutex>& lock);
  // Const: a read in a query (latest_snapshot) can be what finds the storage failed.
  void fail(std::string why) const;
  void purge_snapshots();
  // Takes a written snapshot as the newest (when it is) and purges.
  void keep_snapshot(Snapshot snapshot);
  // Cuts the old log's txns that the new history did not repeat (after install_snapshot).
  void drop_superseded();

  FileSystem& fs_;
  FileStorageOptions options_;
  std::string snap_dir_;
  std::string log_dir_;
  std::function<void()> listener_;

  Epoch accepted_epoch_ = 0;
  Epoch current_epoch_ = 0;
  Zxid last_committed_{};
  // The newest snapshot: its image, or (background snapshots, streamed) only its zxid and size.
  std::optional<Snapshot> snapshot_;
  struct StreamedSnapshot {
    Zxid zxid;
    std::uint64_t state_size = 0;
  };
  std::optional<StreamedSnapshot> streamed_;
  std::optional<Zxid> newest_snapshot() const {
    if (streamed_) return streamed_->zxid;
    if (snapshot_) return snapshot_->last_zxid;
    return std::nullopt;
  }
  std::vector<Zxid> snapshot_zxids_;  // every valid one on disk, oldest first

  // Member thread: what was appended (a bounded tail of it) and where the log starts.
  Zxid base_{};  // the log holds every txn after this
  Zxid last_logged_{};
  std::deque<Txn> recent_;
  std::deque<Zxid> superseded_;  // on disk after last_logged_: the old log after a SNAP

  // Shared with the writer.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::vector<Txn> pending_;
  bool writing_ = false;
  bool calling_listener_ = false;
  bool stopping_ = false;
  mutable std::string failure_;
  mutable std::atomic<bool> failed_{false};
  std::atomic<std::int64_t> durable_{0};
  mutable std::mutex log_mutex_;  // the SegmentedLog: the writer's appends vs disk reads
  SegmentedLog log_;
  std::thread writer_;
};

static_assert(ThreadedStorage<FileStorage>, "FileStorage must satisfy quorum::ThreadedStorage");

}  // namespace quorum::storage
