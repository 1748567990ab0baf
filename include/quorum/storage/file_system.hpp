// The file-system seam under FileStorage: every write, sync, rename and directory change goes
// through it, so tests can fail, tear or lose any of them (SimFileSystem) and production runs
// on POSIX calls (PosixFileSystem).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace quorum::storage {

/// A file opened for writing at explicit offsets.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual std::error_code write_at(std::uint64_t offset, std::string_view bytes) = 0;
  /// Makes the file's data durable (fdatasync).
  virtual std::error_code sync() = 0;
  virtual std::error_code truncate(std::uint64_t size) = 0;
  virtual std::uint64_t size() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual std::error_code create_directories(const std::string& dir) = 0;
  /// The names (not paths) of the regular files in `dir`, unsorted.
  virtual std::error_code list(const std::string& dir, std::vector<std::string>& names) = 0;
  virtual bool exists(const std::string& path) = 0;
  /// Opens (creating when asked) a file for writing; an existing file keeps its bytes.
  virtual std::error_code open(const std::string& path, bool create,
                               std::unique_ptr<WritableFile>& out) = 0;
  /// Up to `length` bytes from `offset` (fewer at the end of the file).
  virtual std::error_code read(const std::string& path, std::uint64_t offset, std::size_t length,
                               std::string& out) = 0;
  virtual std::error_code file_size(const std::string& path, std::uint64_t& size) = 0;
  virtual std::error_code rename(const std::string& from, const std::string& to) = 0;
  virtual std::error_code remove(const std::string& path) = 0;
  /// Makes the directory's entries (creates, renames, removes) durable (fsync of the dir).
  virtual std::error_code sync_directory(const std::string& dir) = 0;

  /// The whole file.
  std::error_code read_all(const std::string& path, std::string& out) {
    std::uint64_t size = 0;
    if (auto ec = file_size(path, size)) return ec;
    return read(path, 0, static_cast<std::size_t>(size), out);
  }
};

/// The real thing: POSIX calls, errors as std::system_category codes.
class PosixFileSystem final : public FileSystem {
 public:
  std::error_code create_directories(const std::string& dir) override;
  std::error_code list(const std::string& dir, std::vector<std::string>& names) override;
  bool exists(const std::string& path) override;
  std::error_code open(const std::string& path, bool create,
                       std::unique_ptr<WritableFile>& out) override;
  std::error_code read(const std::string& path, std::uint64_t offset, std::size_t length,
                       std::string& out) override;
  std::error_code file_size(const std::string& path, std::uint64_t& size) override;
  std::error_code rename(const std::string& from, const std::string& to) override;
  std::error_code remove(const std::string& path) override;
  std::error_code sync_directory(const std::string& dir) override;
};

/// The directory part of a path ("." when there is none).
inline std::string parent_directory(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace quorum::storage
