// SimFileSystem: an in-memory FileSystem that behaves like a disk across power loss, for
// deterministic tests of FileStorage. Writes, truncates and directory changes are pending until
// synced (WritableFile::sync, sync_directory); `power_loss()` keeps a seeded prefix of what
// was pending — the last write possibly torn mid-way — and drops the rest. A fault hook can fail
// any operation before it takes effect.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "quorum/random.hpp"
#include "quorum/storage/file_system.hpp"

namespace quorum::sim {

enum class FileOp { open, write, sync, truncate, rename, remove, sync_directory, read };

class SimFileSystem final : public storage::FileSystem {
 public:
  /// Called before each operation; an error fails it with no effect.
  using FaultHook = std::function<std::error_code(FileOp, const std::string& path)>;

  explicit SimFileSystem(std::uint64_t seed = 1) : prng_(seed) {}

  void set_fault_hook(FaultHook hook) {
    std::lock_guard lock(mutex_);
    fault_ = std::move(hook);
  }

  /// Power loss: each file keeps its synced bytes plus a random prefix of its pending writes
  /// (the last one kept possibly torn); directories keep a random prefix of their pending
  /// changes. Open files are invalidated (their writes fail).
  void power_loss() {
    std::lock_guard lock(mutex_);
    ++generation_;
    for (auto& [id, file] : files_) {
      std::string content = file->durable;
      const std::size_t keep = static_cast<std::size_t>(prng_.below(file->pending.size() + 1));
      for (std::size_t i = 0; i < keep; ++i) {
        const auto& op = file->pending[i];
        if (const auto* w = std::get_if<Write>(&op)) {
          std::size_t length = w->bytes.size();
          if (i + 1 == keep && length > 0)
            length = static_cast<std::size_t>(prng_.below(length + 1));
          if (content.size() < w->offset + length) content.resize(w->offset + length, '\0');
          content.replace(w->offset, length, w->bytes, 0, length);
        } else {
          content.resize(std::get<Truncate>(op).size, '\0');
        }
      }
      file->durable = content;
      file->current = std::move(content);
      file->pending.clear();
    }
    std::map<std::string, std::uint64_t> entries = durable_entries_;
    const std::size_t keep = static_cast<std::size_t>(prng_.below(pending_dir_ops_.size() + 1));
    for (std::size_t i = 0; i < keep; ++i) apply(entries, pending_dir_ops_[i]);
    durable_entries_ = entries;
    entries_ = std::move(entries);
    pending_dir_ops_.clear();
    collect_unreferenced();
  }

  /// The current bytes of a file (for tests), empty when it does not exist.
  std::string contents(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    return it == entries_.end() ? std::string() : files_.at(it->second)->current;
  }
  /// Overwrites bytes of a file as if synced (a test damaging the disk).
  void damage(const std::string& path, std::uint64_t offset, std::string_view bytes) {
    std::lock_guard lock(mutex_);
    File& f = *files_.at(entries_.at(path));
    if (f.current.size() < offset + bytes.size()) f.current.resize(offset + bytes.size(), '\0');
    f.current.replace(offset, bytes.size(), bytes);
    f.durable = f.current;
    f.pending.clear();
  }
  /// Operations performed so far, by kind (for reporting fault-injection counts).
  std::uint64_t count(FileOp op) const {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(op);
    return it == counts_.end() ? 0 : it->second;
  }

  // ---- storage::FileSystem -----------------------------------------------------------------

  std::error_code create_directories(const std::string&) override { return {}; }

  std::error_code list(const std::string& dir, std::vector<std::string>& names) override {
    std::lock_guard lock(mutex_);
    names.clear();
    const std::string prefix = dir + "/";
    for (const auto& [path, id] : entries_)
      if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos)
        names.push_back(path.substr(prefix.size()));
    return {};
  }

  bool exists(const std::string& path) override {
    std::lock_guard lock(mutex_);
    return entries_.count(path) != 0;
  }

  std::error_code open(const std::string& path, bool create,
                       std::unique_ptr<storage::WritableFile>& out) override {
    std::lock_guard lock(mutex_);
    if (auto ec = check(FileOp::open, path)) return ec;
    auto it = entries_.find(path);
    std::uint64_t id = 0;
    if (it != entries_.end()) {
      id = it->second;
    } else {
      if (!create) return std::make_error_code(std::errc::no_such_file_or_directory);
      id = next_id_++;
      files_[id] = std::make_shared<File>();
      entries_[path] = id;
      pending_dir_ops_.push_back(DirOp{DirOp::Kind::create, path, {}, id});
    }
    out = std::make_unique<Handle>(*this, files_.at(id), path, generation_);
    return {};
  }

  std::error_code read(const std::string& path, std::uint64_t offset, std::size_t length,
                       std::string& out) override {
    std::lock_guard lock(mutex_);
    out.clear();
    if (auto ec = check(FileOp::read, path)) return ec;
    auto it = entries_.find(path);
    if (it == entries_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
    const std::string& c = files_.at(it->second)->current;
    if (offset < c.size()) out = c.substr(static_cast<std::size_t>(offset), length);
    return {};
  }

  std::error_code file_size(const std::string& path, std::uint64_t& size) override {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
    size = files_.at(it->second)->current.size();
    return {};
  }

  std::error_code rename(const std::string& from, const std::string& to) override {
    std::lock_guard lock(mutex_);
    if (auto ec = check(FileOp::rename, from)) return ec;
    if (!entries_.count(from)) return std::make_error_code(std::errc::no_such_file_or_directory);
    DirOp op{DirOp::Kind::rename, from, to, 0};
    apply(entries_, op);
    pending_dir_ops_.push_back(std::move(op));
    return {};
  }

  std::error_code remove(const std::string& path) override {
    std::lock_guard lock(mutex_);
    if (auto ec = check(FileOp::remove, path)) return ec;
    if (!entries_.count(path)) return std::make_error_code(std::errc::no_such_file_or_directory);
    DirOp op{DirOp::Kind::remove, path, {}, 0};
    apply(entries_, op);
    pending_dir_ops_.push_back(std::move(op));
    return {};
  }

  std::error_code sync_directory(const std::string& dir) override {
    std::lock_guard lock(mutex_);
    if (auto ec = check(FileOp::sync_directory, dir)) return ec;
    // Everything pending in `dir` becomes durable, in order; other directories' changes wait.
    std::vector<DirOp> rest;
    for (DirOp& op : pending_dir_ops_) {
      if (storage::parent_directory(op.path) == dir &&
          (op.to.empty() || storage::parent_directory(op.to) == dir))
        apply(durable_entries_, op);
      else
        rest.push_back(std::move(op));
    }
    pending_dir_ops_ = std::move(rest);
    return {};
  }

 private:
  struct Write {
    std::uint64_t offset;
    std::string bytes;
  };
  struct Truncate {
    std::uint64_t size;
  };
  struct File {
    std::string durable;
    std::string current;
    std::vector<std::variant<Write, Truncate>> pending;
  };
  struct DirOp {
    enum class Kind { create, rename, remove } kind;
    std::string path;
    std::string to;
    std::uint64_t id;
  };

  class Handle final : public storage::WritableFile {
   public:
    Handle(SimFileSystem& fs, std::shared_ptr<File> file, std::string path,
           std::uint64_t generation)
        : fs_(fs), file_(std::move(file)), path_(std::move(path)), generation_(generation) {}

    std::error_code write_at(std::uint64_t offset, std::string_view bytes) override {
      std::lock_guard lock(fs_.mutex_);
      if (auto ec = usable(FileOp::write)) return ec;
      std::string& c = file_->current;
      if (c.size() < offset + bytes.size()) c.resize(offset + bytes.size(), '\0');
      c.replace(offset, bytes.size(), bytes);
      file_->pending.push_back(Write{offset, std::string(bytes)});
      return {};
    }
    std::error_code sync() override {
      std::lock_guard lock(fs_.mutex_);
      if (auto ec = usable(FileOp::sync)) return ec;
      file_->durable = file_->current;
      file_->pending.clear();
      return {};
    }
    std::error_code truncate(std::uint64_t size) override {
      std::lock_guard lock(fs_.mutex_);
      if (auto ec = usable(FileOp::truncate)) return ec;
      file_->current.resize(size, '\0');
      file_->pending.push_back(Truncate{size});
      return {};
    }
    std::uint64_t size() const override {
      std::lock_guard lock(fs_.mutex_);
      return file_->current.size();
    }

   private:
    std::error_code usable(FileOp op) {
      if (generation_ != fs_.generation_) return std::make_error_code(std::errc::io_error);
      return fs_.check(op, path_);
    }
    SimFileSystem& fs_;
    std::shared_ptr<File> file_;
    std::string path_;
    std::uint64_t generation_;
  };

  std::error_code check(FileOp op, const std::string& path) {
    ++counts_[op];
    return fault_ ? fault_(op, path) : std::error_code{};
  }

  static void apply(std::map<std::string, std::uint64_t>& entries, const DirOp& op) {
    switch (op.kind) {
      case DirOp::Kind::create:
        entries[op.path] = op.id;
        return;
      case DirOp::Kind::rename:
        if (auto it = entries.find(op.path); it != entries.end()) {
          const std::uint64_t id = it->second;
          entries.erase(it);
          entries[op.to] = id;
        }
        return;
      case DirOp::Kind::remove:
        entries.erase(op.path);
        return;
    }
  }

  void collect_unreferenced() {
    for (auto it = files_.begin(); it != files_.end();) {
      bool used = false;
      for (const auto& [path, id] : entries_) used = used || id == it->first;
      it = used ? std::next(it) : files_.erase(it);
    }
  }

  mutable std::mutex mutex_;
  Prng prng_;
  FaultHook fault_;
  std::map<std::uint64_t, std::shared_ptr<File>> files_;
  std::map<std::string, std::uint64_t> entries_;          // what a reader sees now
  std::map<std::string, std::uint64_t> durable_entries_;  // what survives a power loss
  std::vector<DirOp> pending_dir_ops_;
  std::uint64_t next_id_ = 1;
  std::uint64_t generation_ = 0;
  std::map<FileOp, std::uint64_t> counts_;
};

}  // namespace quorum::sim
