// FileDisk: a simulated member's disk holding a real FileStorage over a SimFileSystem, so the
// seeded simulations exercise the log, snapshot and epoch files themselves: crash points can
// fire at any write, sync, truncate, rename or removal; a power loss keeps a seeded prefix of
// what was not synced (the last write possibly torn) and the member reopens its directory.
// The disk contract is described in memory_disk.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/error.hpp"
#include "quorum/sim/sim_file_system.hpp"
#include "quorum/storage/file_storage.hpp"

namespace quorum::sim {

/// What the fault injection did to one disk.
struct FileDiskCounts {
  std::map<FileOp, std::uint64_t> crash_points;  ///< crash points that fired, by operation
  std::uint64_t power_losses = 0;
  std::uint64_t boots = 0;
  std::uint64_t recovery_reports = 0;  ///< torn tails cut, unfinished snapshots removed, ...

  FileDiskCounts& operator+=(const FileDiskCounts& o) {
    for (const auto& [op, n] : o.crash_points) crash_points[op] += n;
    power_losses += o.power_losses;
    boots += o.boots;
    recovery_reports += o.recovery_reports;
    return *this;
  }
};

class FileDisk {
 public:
  using Storage = storage::FileStorage;

  /// `options.writer_thread` is ignored: the simulator completes group commits itself.
  FileDisk(std::uint64_t seed, storage::FileStorageOptions options)
      : fs_(seed), options_(std::move(options)) {
    options_.writer_thread = false;
    fs_.set_fault_hook([this](FileOp op, const std::string&) { return before(op); });
  }
  FileDisk(const FileDisk&) = delete;
  FileDisk& operator=(const FileDisk&) = delete;
  ~FileDisk() {
    dead_ = true;  // a storage still open must not write as the disk goes away
    storage_.reset();
  }

  storage::FileStorage& storage() {
    QUORUM_ASSERT(storage_.has_value(), "the disk has not been booted");
    return *storage_;
  }

  /// Opens the data directory as a restarting member does. False with `error` when the
  /// storage refuses it — or when a crash point fired during recovery (crash_point_hit()).
  bool boot(std::string& error) {
    storage_.reset();
    storage_.emplace(fs_, options_);
    ++counts_.boots;
    std::vector<std::string> reports;
    const std::error_code ec = storage_->open(error, reports);
    counts_.recovery_reports += reports.size();
    return !ec;
  }

  /// A group commit ends: everything appended so far is written and synced.
  void sync(Zxid) {
    if (storage_) storage_->flush();
  }

  /// The member died: what was appended but not written is gone with its process, and the
  /// disk keeps a seeded part of what was written but not synced.
  void power_loss() {
    dead_ = true;
    storage_.reset();
    fs_.power_loss();
    dead_ = false;
    hit_ = false;
    countdown_.reset();
    ++counts_.power_losses;
  }

  /// The `n`-th mutating file operation from now (n >= 1) fails and kills the disk: it and
  /// every later one fail, so the member halts and the simulator power-cycles it.
  void arm_crash_point(std::uint64_t n) { countdown_ = n; }
  void disarm_crash_point() { countdown_.reset(); }
  bool crash_point_hit() const noexcept { return hit_; }

  SimFileSystem& file_system() noexcept { return fs_; }
  const FileDiskCounts& counts() const noexcept { return counts_; }

 private:
  std::error_code before(FileOp op) {
    if (op == FileOp::read) return {};  // a dying process's reads change nothing
    if (dead_) return std::make_error_code(std::errc::io_error);
    if (countdown_ && --*countdown_ == 0) {
      countdown_.reset();
      dead_ = hit_ = true;
      ++counts_.crash_points[op];
      return std::make_error_code(std::errc::io_error);
    }
    return {};
  }

  SimFileSystem fs_;
  storage::FileStorageOptions options_;
  std::optional<storage::FileStorage> storage_;
  std::optional<std::uint64_t> countdown_;
  bool dead_ = false;
  bool hit_ = false;
  FileDiskCounts counts_;
};

}  // namespace quorum::sim
