// ZooKeeper's access control: permission bits, ids in the world, auth, digest and ip schemes,
// the check each operation makes, and the fix-up applied to ACLs being set (zk-reference §3.6).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/codec/sha1.hpp"
#include "quorum/error.hpp"

namespace quorum::tree {

/// ZooDefs.Perms.
namespace perm {
inline constexpr std::int32_t read = 1;
inline constexpr std::int32_t write = 2;
inline constexpr std::int32_t create = 4;
inline constexpr std::int32_t remove = 8;  ///< ZooKeeper's DELETE
inline constexpr std::int32_t admin = 16;
inline constexpr std::int32_t all = 31;
}  // namespace perm

/// An identity in a scheme: ("world", "anyone"), ("digest", "user:hash"), ("ip", "10.0.0.0/8").
struct Id {
  std::string scheme;
  std::string id;
  friend bool operator==(const Id&, const Id&) = default;
  friend auto operator<=>(const Id&, const Id&) = default;
};

struct Acl {
  std::int32_t perms = 0;
  Id id;
  friend bool operator==(const Acl&, const Acl&) = default;
  friend auto operator<=>(const Acl&, const Acl&) = default;
};

using AclList = std::vector<Acl>;

/// ZooDefs.Ids: anyone may do anything / only read; the creator's authenticated ids get all.
inline AclList open_acl_unsafe() {
  return {{perm::all, {"world", "anyone"}}};
}
inline AclList read_acl_unsafe() {
  return {{perm::read, {"world", "anyone"}}};
}
inline AclList creator_all_acl() {
  return {{perm::all, {"auth", ""}}};
}

/// The digest scheme's id for "user:password": "user:" + base64(sha1("user:password")).
inline std::string digest_id(std::string_view user_colon_password) {
  const auto colon = user_colon_password.find(':');
  const std::string_view user = user_colon_password.substr(0, colon);
  return std::string(user) + ":" + codec::base64(codec::sha1(user_colon_password));
}

namespace detail {
// Parses dotted-quad IPv4; false on anything else.
inline bool parse_ipv4(std::string_view text, std::uint32_t& out) {
  std::uint32_t value = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::uint32_t octet = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 3) {
      octet = octet * 10 + static_cast<std::uint32_t>(text[i] - '0');
      ++i, ++digits;
    }
    if (digits == 0 || octet > 255) return false;
    value = (value << 8) | octet;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
  }
  if (i != text.size()) return false;
  out = value;
  return true;
}

// "a.b.c.d" or "a.b.c.d/bits": the address and mask.
inline bool parse_ip_pattern(std::string_view pattern, std::uint32_t& address,
                             std::uint32_t& mask) {
  int bits = 32;
  const auto slash = pattern.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view b = pattern.substr(slash + 1);
    if (b.empty() || b.size() > 2) return false;
    bits = 0;
    for (char c : b) {
      if (c < '0' || c > '9') return false;
      bits = bits * 10 + (c - '0');
    }
    if (bits > 32) return false;
    pattern = pattern.substr(0, slash);
  }
  if (!parse_ipv4(pattern, address)) return false;
  mask = bits == 0 ? 0u : ~std::uint32_t{0} << (32 - bits);
  return true;
}
}  // namespace detail

/// Whether the ip scheme's `pattern` covers `address` (both IPv4, as in ZooKeeper 3.8).
inline bool ip_matches(std::string_view pattern, std::string_view address) {
  std::uint32_t net = 0, mask = 0, addr = 0;
  if (!detail::parse_ip_pattern(pattern, net, mask) || !detail::parse_ipv4(address, addr))
    return false;
  return (net & mask) == (addr & mask);
}

/// Whether a caller with `auth` ids may do `perm` on a node with `acl`: an empty list allows
/// everything, so does a `super` id; otherwise some entry must carry the bit and match.
inline bool acl_allows(std::span<const Acl> acl, std::int32_t perm, std::span<const Id> auth) {
  if (acl.empty()) return true;
  for (const Id& who : auth)
    if (who.scheme == "super") return true;
  for (const Acl& entry : acl) {
    if ((entry.perms & perm) == 0) continue;
    if (entry.id.scheme == "world" && entry.id.id == "anyone") return true;
    for (const Id& who : auth) {
      if (who.scheme != entry.id.scheme) continue;
      if (who.scheme == "ip" ? ip_matches(entry.id.id, who.id) : who.id == entry.id.id) return true;
    }
  }
  return false;
}

/// Checks and completes an ACL being set (ZooKeeper's fixupACL): an empty list, an unknown
/// scheme or a malformed id is INVALIDACL; `auth` entries become one entry per authenticated
/// id of the caller (INVALIDACL when it has none); duplicates go.
inline errc fix_acl(AclList& acl, std::span<const Id> auth) {
  if (acl.empty()) return errc::invalid_acl;
  AclList fixed;
  for (const Acl& entry : acl) {
    const std::string& scheme = entry.id.scheme;
    if (scheme == "world") {
      if (entry.id.id != "anyone") return errc::invalid_acl;
      fixed.push_back(entry);
    } else if (scheme == "auth") {
      bool any = false;
      for (const Id& who : auth) {
        // Only ids proven by authentication count (the ip scheme's do not, as in ZooKeeper).
        if (who.scheme == "ip" || who.scheme == "world") continue;
        fixed.push_back({entry.perms, who});
        any = true;
      }
      if (!any) return errc::invalid_acl;
    } else if (scheme == "digest") {
      const auto colon = entry.id.id.find(':');
      if (colon == std::string::npos || entry.id.id.find(':', colon + 1) != std::string::npos)
        return errc::invalid_acl;
      fixed.push_back(entry);
    } else if (scheme == "ip") {
      std::uint32_t a = 0, m = 0;
      if (!detail::parse_ip_pattern(entry.id.id, a, m)) return errc::invalid_acl;
      fixed.push_back(entry);
    } else {
      return errc::invalid_acl;
    }
  }
  AclList unique;
  for (Acl& entry : fixed)
    if (std::find(unique.begin(), unique.end(), entry) == unique.end())
      unique.push_back(std::move(entry));
  acl = std::move(unique);
  return errc::ok;
}

}  // namespace quorum::tree
