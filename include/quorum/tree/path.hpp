// ZooKeeper's rules for znode paths (PathUtils.validatePath), on UTF-8 strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace quorum::tree {

namespace detail {
inline std::string hex4(std::uint32_t cp) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;  // at least 4 digits, as U+XXXX is written
  for (int shift = 20; shift >= 0; shift -= 4) out += digits[(cp >> shift) & 0xF];
  while (out.size() > 4 && out.front() == '0') out.erase(0, 1);
  return out;
}
}  // namespace detail

/// Why `path` is not a valid znode path, or an empty string when it is. ZooKeeper answers an
/// invalid path with BADARGUMENTS (-8). Rules: non-empty, starts with '/', no trailing '/'
/// (but the root), no empty segment, no "." or ".." segment, valid UTF-8, and none of the code
/// points ZooKeeper forbids (U+0000-U+001F, U+007F-U+009F, U+D800-U+F8FF, U+FFF0-U+FFFF).
/// Java strings hold UTF-16, so a supplementary character (beyond U+FFFF) is a surrogate pair
/// there and rejected; so it is here.
inline std::string validate_path(std::string_view path) {
  if (path.empty()) return "path is empty";
  if (path.front() != '/') return "path must start with /";
  if (path.size() == 1) return {};
  if (path.back() == '/') return "path must not end with /";
  if (const auto empty = path.find("//"); empty != std::string_view::npos)
    return "empty segment (//) at offset " + std::to_string(empty + 1);
  std::size_t segment_start = 1;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      const std::string_view segment = path.substr(segment_start, i - segment_start);
      if (segment == "." || segment == "..")
        return "relative segment \"" + std::string(segment) + "\" at offset " +
               std::to_string(segment_start);
      segment_start = i + 1;
    }
  }
  // Decode UTF-8 and check every code point.
  for (std::size_t i = 0; i < path.size();) {
    const auto lead = static_cast<unsigned char>(path[i]);
    std::uint32_t cp = 0;
    std::size_t length = 0;
    if (lead < 0x80) {
      cp = lead;
      length = 1;
    } else if ((lead & 0xE0) == 0xC0) {
      cp = lead & 0x1Fu;
      length = 2;
    } else if ((lead & 0xF0) == 0xE0) {
      cp = lead & 0x0Fu;
      length = 3;
    } else if ((lead & 0xF8) == 0xF0) {
      cp = lead & 0x07u;
      length = 4;
    } else {
      return "invalid UTF-8 at offset " + std::to_string(i);
    }
    if (i + length > path.size()) return "truncated UTF-8 at offset " + std::to_string(i);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(path[i + k]);
      if ((next & 0xC0) != 0x80) return "invalid UTF-8 at offset " + std::to_string(i);
      cp = (cp << 6) | (next & 0x3Fu);
    }
    static constexpr std::uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < shortest[length]) return "overlong UTF-8 at offset " + std::to_string(i);
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xF8FF) ||
        (cp >= 0xFFF0 && cp <= 0xFFFF) || cp > 0xFFFF)
      return "invalid character U+" + detail::hex4(cp) + " at offset " + std::to_string(i);
    i += length;
  }
  return {};
}

/// The parent of a valid path ("/" for a child of the root; "" for the root itself).
inline std::string_view parent_path(std::string_view path) {
  if (path.size() <= 1) return {};
  const auto slash = path.rfind('/');
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

/// The last segment of a valid path ("" for the root).
inline std::string_view node_name(std::string_view path) {
  return path.size() <= 1 ? std::string_view{} : path.substr(path.rfind('/') + 1);
}

/// The name a sequential create gets: the path and the parent's stored cversion, as "%010d" of
/// a signed 32-bit counter (so after 2147483647 it reads "-2147483648").
inline std::string sequential_path(std::string_view path, std::int32_t parent_stored_cversion) {
  std::string digits =
      std::to_string(parent_stored_cversion < 0 ? -static_cast<std::int64_t>(parent_stored_cversion)
                                                : parent_stored_cversion);
  const std::size_t width = parent_stored_cversion < 0 ? 9 : 10;
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return std::string(path) + (parent_stored_cversion < 0 ? "-" : "") + digits;
}

}  // namespace quorum::tree
