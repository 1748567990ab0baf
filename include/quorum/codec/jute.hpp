// Jute, the binary encoding of ZooKeeper's client protocol (zk-reference §7.1): big-endian
// int and long, one-byte booleans, length-prefixed buffers and strings (-1 = null), counted
// vectors, records as their fields in order. The reader checks every length against what is
// left before it allocates, and says where decoding stopped and why.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/tree/acl.hpp"
#include "quorum/tree/stat.hpp"

namespace quorum::jute {

class Writer {
 public:
  explicit Writer(std::string& out) noexcept : out_(out) {}

  void put_int(std::int32_t v) { put_be(static_cast<std::uint32_t>(v), 4); }
  void put_long(std::int64_t v) { put_be(static_cast<std::uint64_t>(v), 8); }
  void put_bool(bool v) { out_.push_back(v ? '\1' : '\0'); }
  /// A buffer or a ustring (same bytes on the wire).
  void put_buffer(std::string_view bytes) {
    put_int(static_cast<std::int32_t>(bytes.size()));
    out_.append(bytes);
  }
  void put_null() { put_int(-1); }
  void put_string(std::string_view s) { put_buffer(s); }

  void put(const tree::Stat& s) {
    put_long(s.czxid.value), put_long(s.mzxid.value), put_long(s.ctime), put_long(s.mtime);
    put_int(s.version), put_int(s.cversion), put_int(s.aversion);
    put_long(s.ephemeral_owner), put_int(s.data_length), put_int(s.num_children);
    put_long(s.pzxid.value);
  }
  void put(const tree::Id& id) { put_string(id.scheme), put_string(id.id); }
  void put(const tree::Acl& acl) { put_int(acl.perms), put(acl.id); }
  void put(const tree::AclList& acl) {
    put_int(static_cast<std::int32_t>(acl.size()));
    for (const tree::Acl& a : acl) put(a);
  }
  void put(const std::vector<std::string>& strings) {
    put_int(static_cast<std::int32_t>(strings.size()));
    for (const std::string& s : strings) put_string(s);
  }

 private:
  void put_be(std::uint64_t v, int bytes) {
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
      out_.push_back(static_cast<char>(static_cast<std::uint8_t>(v >> shift)));
  }
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) noexcept : in_(bytes) {}
  /// It keeps a view: a temporary string would be gone before the first read.
  explicit Reader(std::string&&) = delete;

  bool ok() const noexcept { return why_.empty(); }
  /// Why decoding failed ("truncated at byte 7 of 9 reading an int"), empty while ok.
  const std::string& why() const noexcept { return why_; }
  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }
  bool at_end() const noexcept { return ok() && pos_ == in_.size(); }

  std::int32_t get_int() { return static_cast<std::int32_t>(get_be(4, "an int")); }
  std::int64_t get_long() { return static_cast<std::int64_t>(get_be(8, "a long")); }
  bool get_bool() {
    if (!need(1, "a boolean")) return false;
    return in_[pos_++] != 0;
  }
  /// A buffer or ustring; nullopt for null (-1) or on failure (check ok()).
  std::optional<std::string> get_buffer() {
    const std::int32_t n = get_int();
    if (!ok() || n == -1) return std::nullopt;
    if (n < 0) return fail("a negative length " + std::to_string(n)), std::nullopt;
    if (!need(static_cast<std::size_t>(n), "the bytes of a buffer")) return std::nullopt;
    std::string out(in_.substr(pos_, static_cast<std::size_t>(n)));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }
  /// A ustring where null reads as empty.
  std::string get_string() { return get_buffer().value_or(std::string()); }
  /// A vector's count; null (-1) is 0. A count the rest cannot hold (each element at least
  /// `min_size` bytes) fails before anything is reserved.
  std::size_t get_count(std::size_t min_size) {
    const std::int32_t n = get_int();
    if (!ok() || n == -1) return 0;
    if (n < 0) return fail("a negative count " + std::to_string(n)), 0;
    if (static_cast<std::size_t>(n) > remaining() / std::max<std::size_t>(min_size, 1))
      return fail(std::to_string(n) + " elements cannot fit in the " + std::to_string(remaining()) +
                  " bytes left"),
             0;
    return static_cast<std::size_t>(n);
  }

  tree::Stat get_stat() {
    tree::Stat s;
    s.czxid = Zxid{get_long()}, s.mzxid = Zxid{get_long()};
    s.ctime = get_long(), s.mtime = get_long();
    s.version = get_int(), s.cversion = get_int(), s.aversion = get_int();
    s.ephemeral_owner = get_long(), s.data_length = get_int(), s.num_children = get_int();
    s.pzxid = Zxid{get_long()};
    return s;
  }
  tree::Id get_id() {
    tree::Id id;
    id.scheme = get_string();
    id.id = get_string();
    return id;
  }
  tree::AclList get_acl_list() {
    tree::AclList out;
    const std::size_t n = get_count(12);  // perms + two empty strings
    for (std::size_t i = 0; i < n && ok(); ++i) {
      tree::Acl a;
      a.perms = get_int();
      a.id = get_id();
      out.push_back(std::move(a));
    }
    return out;
  }
  std::vector<std::string> get_strings() {
    std::vector<std::string> out;
    const std::size_t n = get_count(4);
    for (std::size_t i = 0; i < n && ok(); ++i) out.push_back(get_string());
    return out;
  }

  void fail(std::string why) {
    if (why_.empty()) why_ = std::move(why);
  }

 private:
  bool need(std::size_t n, const char* what) {
    if (!ok()) return false;
    if (remaining() >= n) return true;
    fail("truncated at byte " + std::to_string(pos_) + " of " + std::to_string(in_.size()) +
         " reading " + what);
    return false;
  }
  std::uint64_t get_be(int bytes, const char* what) {
    if (!need(static_cast<std::size_t>(bytes), what)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return v;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string why_;
};

// ---- the records every connection starts with and every packet carries ---------------------

struct ConnectRequest {
  std::int32_t protocol_version = 0;
  std::int64_t last_zxid_seen = 0;
  std::int32_t timeout_ms = 0;
  std::int64_t session_id = 0;    ///< 0: a new session
  std::string password;           ///< 16 bytes (zeros for a new session)
  std::optional<bool> read_only;  ///< absent from old clients
  friend bool operator==(const ConnectRequest&, const ConnectRequest&) = default;
};

struct ConnectResponse {
  std::int32_t protocol_version = 0;
  std::int32_t timeout_ms = 0;  ///< 0: the session is invalid or expired
  std::int64_t session_id = 0;
  std::string password;
  std::optional<bool> read_only;  ///< sent unless the client was old
  friend bool operator==(const ConnectResponse&, const ConnectResponse&) = default;
};

struct RequestHeader {
  std::int32_t xid = 0;
  std::int32_t type = 0;
  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

struct ReplyHeader {
  std::int32_t xid = 0;
  std::int64_t zxid = 0;
  std::int32_t err = 0;
  friend bool operator==(const ReplyHeader&, const ReplyHeader&) = default;
};

/// The special xids (zk-reference §7.3).
inline constexpr std::int32_t notification_xid = -1;
inline constexpr std::int32_t ping_xid = -2;
inline constexpr std::int32_t auth_xid = -4;
inline constexpr std::int32_t set_watches_xid = -8;

inline void put(Writer& w, const ConnectRequest& r) {
  w.put_int(r.protocol_version), w.put_long(r.last_zxid_seen), w.put_int(r.timeout_ms);
  w.put_long(r.session_id), w.put_buffer(r.password);
  if (r.read_only) w.put_bool(*r.read_only);
}
inline ConnectRequest get_connect_request(Reader& r) {
  ConnectRequest c;
  c.protocol_version = r.get_int(), c.last_zxid_seen = r.get_long(), c.timeout_ms = r.get_int();
  c.session_id = r.get_long(), c.password = r.get_string();
  if (r.ok() && r.remaining() > 0) c.read_only = r.get_bool();
  return c;
}
inline void put(Writer& w, const ConnectResponse& r) {
  w.put_int(r.protocol_version), w.put_int(r.timeout_ms), w.put_long(r.session_id);
  w.put_buffer(r.password);
  if (r.read_only) w.put_bool(*r.read_only);
}
inline ConnectResponse get_connect_response(Reader& r) {
  ConnectResponse c;
  c.protocol_version = r.get_int(), c.timeout_ms = r.get_int(), c.session_id = r.get_long();
  c.password = r.get_string();
  if (r.ok() && r.remaining() > 0) c.read_only = r.get_bool();
  return c;
}
inline void put(Writer& w, const RequestHeader& h) {
  w.put_int(h.xid), w.put_int(h.type);
}
inline RequestHeader get_request_header(Reader& r) {
  RequestHeader h;
  h.xid = r.get_int(), h.type = r.get_int();
  return h;
}
inline void put(Writer& w, const ReplyHeader& h) {
  w.put_int(h.xid), w.put_long(h.zxid), w.put_int(h.err);
}
inline ReplyHeader get_reply_header(Reader& r) {
  ReplyHeader h;
  h.xid = r.get_int(), h.zxid = r.get_long(), h.err = r.get_int();
  return h;
}

}  // namespace quorum::jute
