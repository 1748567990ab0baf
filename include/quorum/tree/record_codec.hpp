// Our binary encoding of the tree's requests, txns and snapshots: big-endian integers,
// length-prefixed strings, a tag byte per variant. Decoding checks every length against what
// is left before allocating, and fails (never throws, never reads past the end) on bad input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "quorum/tree/records.hpp"

namespace quorum::tree::encoding {

namespace detail {
template <class T>
struct raw_integer {
  using type = T;
};
template <class T>
requires std::is_enum_v<T>
struct raw_integer<T> {
  using type = std::underlying_type_t<T>;
};
}  // namespace detail

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  template <class Int>
  requires std::is_integral_v<Int> || std::is_enum_v<Int>
  void put(Int value) {
    using U = std::make_unsigned_t<typename detail::raw_integer<Int>::type>;
    const auto u = static_cast<U>(value);
    char bytes[sizeof(U)];
    for (std::size_t i = 0; i < sizeof(U); ++i)
      bytes[i] = static_cast<char>(static_cast<std::uint8_t>(u >> (8 * (sizeof(U) - 1 - i))));
    out_.append(bytes, sizeof(U));
  }
  void put(std::string_view s) {
    put(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void put(const Id& id) {
    put(std::string_view(id.scheme));
    put(std::string_view(id.id));
  }
  void put(const AclList& acl) {
    put(static_cast<std::uint32_t>(acl.size()));
    for (const Acl& a : acl) {
      put(a.perms);
      put(a.id);
    }
  }

 private:
  std::string& out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool ok() const noexcept { return ok_; }
  bool done() const noexcept { return ok_ && pos_ == in_.size(); }
  std::size_t offset() const noexcept { return pos_; }
  void fail() noexcept { ok_ = false; }

  template <class Int>
  requires std::is_integral_v<Int> || std::is_enum_v<Int>
  void get(Int& value) {
    using Raw = typename detail::raw_integer<Int>::type;
    using U = std::make_unsigned_t<Raw>;
    if (!ok_ || in_.size() - pos_ < sizeof(U)) return fail();
    U u = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i)
      u = static_cast<U>((u << 8) | static_cast<std::uint8_t>(in_[pos_ + i]));
    pos_ += sizeof(U);
    value = static_cast<Int>(static_cast<Raw>(u));
  }
  void get(std::string& s) {
    std::uint32_t n = 0;
    get(n);
    if (!ok_ || in_.size() - pos_ < n) return fail();
    s.assign(in_.substr(pos_, n));
    pos_ += n;
  }
  void get(Id& id) {
    get(id.scheme);
    get(id.id);
  }
  void get(AclList& acl) {
    std::uint32_t n = 0;
    get(n);
    // Each entry takes at least 12 bytes: refuse counts the input cannot hold.
    if (!ok_ || n > (in_.size() - pos_) / 12) return fail();
    acl.resize(n);
    for (Acl& a : acl) {
      get(a.perms);
      get(a.id);
    }
  }
  /// A count of items each at least `min_size` bytes long, checked against what is left.
  std::uint32_t count(std::size_t min_size) {
    std::uint32_t n = 0;
    get(n);
    if (ok_ && n > (in_.size() - pos_) / min_size) fail();
    return ok_ ? n : 0;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// ---- bodies ----------------------------------------------------------------------------------

inline void put(Encoder& e, const CreateRequest& r) {
  e.put(std::string_view(r.path)), e.put(std::string_view(r.data)), e.put(r.acl);
  e.put(r.mode), e.put(r.ttl_ms), e.put(r.op);
}
inline void get(Decoder& d, CreateRequest& r) {
  d.get(r.path), d.get(r.data), d.get(r.acl), d.get(r.mode), d.get(r.ttl_ms), d.get(r.op);
}
inline void put(Encoder& e, const DeleteRequest& r) {
  e.put(std::string_view(r.path)), e.put(r.version);
}
inline void get(Decoder& d, DeleteRequest& r) {
  d.get(r.path), d.get(r.version);
}
inline void put(Encoder& e, const SetDataRequest& r) {
  e.put(std::string_view(r.path)), e.put(std::string_view(r.data)), e.put(r.version);
}
inline void get(Decoder& d, SetDataRequest& r) {
  d.get(r.path), d.get(r.data), d.get(r.version);
}
inline void put(Encoder& e, const SetAclRequest& r) {
  e.put(std::string_view(r.path)), e.put(r.acl), e.put(r.version);
}
inline void get(Decoder& d, SetAclRequest& r) {
  d.get(r.path), d.get(r.acl), d.get(r.version);
}
inline void put(Encoder& e, const CheckRequest& r) {
  e.put(std::string_view(r.path)), e.put(r.version);
}
inline void get(Decoder& d, CheckRequest& r) {
  d.get(r.path), d.get(r.version);
}
inline void put(Encoder& e, const CreateSessionRequest& r) {
  e.put(r.timeout_ms);
}
inline void get(Decoder& d, CreateSessionRequest& r) {
  d.get(r.timeout_ms);
}
inline void put(Encoder&, const CloseSessionRequest&) {}
inline void get(Decoder&, CloseSessionRequest&) {}
inline void put(Encoder& e, const DeleteContainerRequest& r) {
  e.put(std::string_view(r.path));
}
inline void get(Decoder& d, DeleteContainerRequest& r) {
  d.get(r.path);
}

inline void put(Encoder& e, const CreateTxn& t) {
  e.put(std::string_view(t.path)), e.put(std::string_view(t.data)), e.put(t.acl);
  e.put(t.ephemeral_owner), e.put(t.parent_cversion), e.put(t.op);
}
inline void get(Decoder& d, CreateTxn& t) {
  d.get(t.path), d.get(t.data), d.get(t.acl), d.get(t.ephemeral_owner), d.get(t.parent_cversion);
  d.get(t.op);
}
inline void put(Encoder& e, const DeleteTxn& t) {
  e.put(std::string_view(t.path)), e.put(t.op);
}
inline void get(Decoder& d, DeleteTxn& t) {
  d.get(t.path), d.get(t.op);
}
inline void put(Encoder& e, const SetDataTxn& t) {
  e.put(std::string_view(t.path)), e.put(std::string_view(t.data)), e.put(t.version);
}
inline void get(Decoder& d, SetDataTxn& t) {
  d.get(t.path), d.get(t.data), d.get(t.version);
}
inline void put(Encoder& e, const SetAclTxn& t) {
  e.put(std::string_view(t.path)), e.put(t.acl), e.put(t.version);
}
inline void get(Decoder& d, SetAclTxn& t) {
  d.get(t.path), d.get(t.acl), d.get(t.version);
}
inline void put(Encoder& e, const CheckTxn& t) {
  e.put(std::string_view(t.path)), e.put(t.version);
}
inline void get(Decoder& d, CheckTxn& t) {
  d.get(t.path), d.get(t.version);
}
inline void put(Encoder& e, const ErrorTxn& t) {
  e.put(t.err), e.put(t.op);
}
inline void get(Decoder& d, ErrorTxn& t) {
  d.get(t.err), d.get(t.op);
}
inline void put(Encoder& e, const CreateSessionTxn& t) {
  e.put(t.timeout_ms);
}
inline void get(Decoder& d, CreateSessionTxn& t) {
  d.get(t.timeout_ms);
}
inline void put(Encoder& e, const CloseSessionTxn& t) {
  e.put(static_cast<std::uint32_t>(t.paths_to_delete.size()));
  for (const std::string& p : t.paths_to_delete) e.put(std::string_view(p));
}
inline void get(Decoder& d, CloseSessionTxn& t) {
  t.paths_to_delete.resize(d.count(4));
  for (std::string& p : t.paths_to_delete) d.get(p);
}

// A variant as a tag byte and the alternative's fields.
template <class Variant>
void put_variant(Encoder& e, const Variant& v);
template <class Variant>
void get_variant(Decoder& d, Variant& v);

inline void put(Encoder& e, const MultiRequest& r) {
  e.put(static_cast<std::uint32_t>(r.ops.size()));
  for (const MultiOp& op : r.ops) put_variant(e, op);
}
inline void get(Decoder& d, MultiRequest& r) {
  r.ops.resize(d.count(1));
  for (MultiOp& op : r.ops) get_variant(d, op);
}
inline void put(Encoder& e, const MultiTxn& t) {
  e.put(static_cast<std::uint32_t>(t.ops.size()));
  for (const SubTxn& op : t.ops) put_variant(e, op);
}
inline void get(Decoder& d, MultiTxn& t) {
  t.ops.resize(d.count(1));
  for (SubTxn& op : t.ops) get_variant(d, op);
}

namespace detail {
template <class Variant, std::size_t I = 0>
void emplace_index(Decoder& d, Variant& v, std::size_t index) {
  if constexpr (I < std::variant_size_v<Variant>) {
    if (index == I) {
      // Decoding into the alternative already held reuses its strings' buffers: a member
      // decoding one txn after another into the same record allocates nothing for them.
      // Every get() assigns each field, so nothing of the previous value survives.
      auto& alt = v.index() == I ? std::get<I>(v) : v.template emplace<I>();
      get(d, alt);
      return;
    }
    emplace_index<Variant, I + 1>(d, v, index);
  } else {
    d.fail();
  }
}
}  // namespace detail

template <class Variant>
void put_variant(Encoder& e, const Variant& v) {
  e.put(static_cast<std::uint8_t>(v.index()));
  std::visit([&](const auto& alt) { put(e, alt); }, v);
}
template <class Variant>
void get_variant(Decoder& d, Variant& v) {
  std::uint8_t index = 0;
  d.get(index);
  if (d.ok()) detail::emplace_index(d, v, index);
}

// ---- whole records ---------------------------------------------------------------------------

/// A Request's encoding from its parts, for a caller that holds them apart (no copy of the
/// session's ids into a Request first).
inline std::string encode_request(std::int64_t session, std::int32_t cxid, std::int64_t time_ms,
                                  const std::vector<Id>& auth, const RequestBody& body) {
  std::string out;
  out.reserve(256);  // one allocation for most records
  Encoder e(out);
  e.put(session), e.put(cxid), e.put(time_ms);
  e.put(static_cast<std::uint32_t>(auth.size()));
  for (const Id& id : auth) e.put(id);
  put_variant(e, body);
  return out;
}

inline std::string encode(const Request& r) {
  return encode_request(r.session, r.cxid, r.time_ms, r.auth, r.body);
}

/// False when `bytes` is not exactly one well-formed request.
inline bool decode(std::string_view bytes, Request& r) {
  Decoder d(bytes);
  d.get(r.session), d.get(r.cxid), d.get(r.time_ms);
  r.auth.resize(d.count(8));
  for (Id& id : r.auth) d.get(id);
  get_variant(d, r.body);
  return d.done();
}

inline std::string encode(const TxnRecord& t) {
  std::string out;
  out.reserve(256);  // one allocation for most records
  Encoder e(out);
  e.put(t.session), e.put(t.cxid), e.put(t.time_ms);
  put_variant(e, t.body);
  return out;
}

/// False when `bytes` is not exactly one well-formed txn record.
inline bool decode(std::string_view bytes, TxnRecord& t) {
  Decoder d(bytes);
  d.get(t.session), d.get(t.cxid), d.get(t.time_ms);
  get_variant(d, t.body);
  return d.done();
}

}  // namespace quorum::tree::encoding
