// An in-process ensemble whose members keep their state in data directories on disk
// (FileStorage): <root>/member-<id>/version-2/{acceptedEpoch,currentEpoch,snapshot.*,log.*}.
// Stopping the process and constructing the ensemble again over the same root finds the tree.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "quorum/inproc_ensemble.hpp"
#include "quorum/storage/file_storage.hpp"
#include "quorum/storage/file_system.hpp"

namespace quorum {

/// Each member's FileStorage, opened from <root>/member-<id> on every (re)start.
class DataDirectories {
 public:
  using Storage = storage::FileStorage;

  explicit DataDirectories(std::string root, storage::FileStorageOptions options = {})
      : root_(std::move(root)), options_(std::move(options)) {}
  DataDirectories(DataDirectories&& other) noexcept
      : root_(std::move(other.root_)), options_(std::move(other.options_)) {}

  /// Opens the member's directory (closing its storage first if open), as a starting process
  /// does. Throws std::runtime_error naming the directory and what is wrong when the storage
  /// refuses it.
  storage::FileStorage& open(ServerId id) {
    auto& slot = storage_[id];
    slot.reset();  // a restart: the old storage syncs and closes first
    storage::FileStorageOptions o = options_;
    o.data_dir = directory(id);
    slot = std::make_unique<storage::FileStorage>(fs_, o);
    std::string error;
    reports_[id].clear();
    if (slot->open(error, reports_[id])) {
      slot.reset();
      throw std::runtime_error("quorum: cannot open " + o.data_dir + ": " + error);
    }
    return *slot;
  }
  storage::FileStorage& get(ServerId id) { return *storage_.at(id); }
  std::string directory(ServerId id) const { return root_ + "/member-" + std::to_string(id); }
  /// What opening member `id`'s directory repaired or noticed (torn tails cut, ...).
  const std::vector<std::string>& reports(ServerId id) { return reports_[id]; }

 private:
  std::string root_;
  storage::FileStorageOptions options_;
  storage::PosixFileSystem fs_;
  std::map<ServerId, std::unique_ptr<storage::FileStorage>> storage_;
  std::map<ServerId, std::vector<std::string>> reports_;
};

using DurableInProcEnsemble = BasicInProcEnsemble<DataDirectories>;

}  // namespace quorum
