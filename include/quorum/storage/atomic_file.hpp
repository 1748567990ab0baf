// Small files replaced atomically — the epoch files (ZooKeeper's acceptedEpoch and
// currentEpoch, ASCII decimal) — and their recovery after a crash mid-replacement
// (ZOOKEEPER-2307/2354): write `<name>.tmp`, sync it, rename it over `<name>`, sync the directory.
#pragma once

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "quorum/storage/file_system.hpp"

namespace quorum::storage {

/// Replaces `path` with `contents` so that after a crash it holds either the old or the new
/// contents, never a mix.
inline std::error_code write_atomically(FileSystem& fs, const std::string& path,
                                        std::string_view contents) {
  const std::string tmp = path + ".tmp";
  std::unique_ptr<WritableFile> file;
  if (auto ec = fs.open(tmp, true, file)) return ec;
  if (auto ec = file->truncate(0)) return ec;
  if (auto ec = file->write_at(0, contents)) return ec;
  if (auto ec = file->sync()) return ec;
  file.reset();
  if (auto ec = fs.rename(tmp, path)) return ec;
  return fs.sync_directory(parent_directory(path));
}

/// An epoch file's value: "<decimal>\n". nullopt for anything else (a torn write).
inline std::optional<std::int64_t> parse_epoch_file(std::string_view text) {
  if (text.size() < 2 || text.back() != '\n') return std::nullopt;
  std::int64_t value = 0;
  const char* end = text.data() + text.size() - 1;
  const auto r = std::from_chars(text.data(), end, value);
  if (r.ec != std::errc{} || r.ptr != end || value < 0) return std::nullopt;
  return value;
}

inline std::string format_epoch_file(std::int64_t value) {
  return std::to_string(value) + "\n";
}

/// What reading an epoch file found.
struct EpochFileRead {
  std::optional<std::int64_t> value;  ///< nullopt: neither the file nor a usable .tmp exists
  bool recovered_from_tmp = false;    ///< the rename never happened; the .tmp was complete
  std::string error;                  ///< non-empty: the file exists but is damaged
};

/// Reads `path`, recovering from a crash during write_atomically: a complete `.tmp` left
/// without its rename stands for the file when the file itself is missing (it was synced
/// before the rename was attempted); otherwise the .tmp is stale and ignored.
inline EpochFileRead read_epoch_file(FileSystem& fs, const std::string& path) {
  EpochFileRead out;
  std::string text;
  if (fs.exists(path)) {
    if (auto ec = fs.read_all(path, text)) {
      out.error = path + ": " + ec.message();
      return out;
    }
    out.value = parse_epoch_file(text);
    if (!out.value) out.error = path + ": not an epoch (expected a decimal number and a newline)";
    return out;
  }
  const std::string tmp = path + ".tmp";
  if (fs.exists(tmp) && !fs.read_all(tmp, text)) {
    out.value = parse_epoch_file(text);
    out.recovered_from_tmp = out.value.has_value();
  }
  return out;
}

}  // namespace quorum::storage
