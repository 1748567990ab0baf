// A small key-value state machine: enough to test and show the replicated log before the
// data tree plugs in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "quorum/codec/big_endian.hpp"
#include "quorum/concepts.hpp"
#include "quorum/config.hpp"
#include "quorum/error.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum {

/// Keys and values as strings. Txn types: 1 = set(key, value), 2 = erase(key); ZooKeeper's
/// error type (-1) changes nothing but still advances the applied zxid.
class KvStateMachine {
 public:
  static constexpr std::int32_t txn_set = 1;
  static constexpr std::int32_t txn_erase = 2;

  /// The txn that sets `key` to `value` (its zxid is assigned by the leader).
  static Txn set(std::string_view key, std::string_view value) {
    return Txn{{}, txn_set, encode(key, value)};
  }
  /// The txn that erases `key`.
  static Txn erase(std::string_view key) { return Txn{{}, txn_erase, encode(key, {})}; }

  void apply(const Txn& txn) {
    QUORUM_ASSERT(txn.zxid > last_applied_, "txns are applied once each, in zxid order");
    if (txn.type == txn_set || txn.type == txn_erase) {
      auto kv = decode(txn.data);
      QUORUM_ASSERT(kv.has_value(), "a committed txn must decode (the leader built it)");
      if (txn.type == txn_set)
        data_[kv->first] = kv->second;
      else
        data_.erase(kv->first);
    }
    last_applied_ = txn.zxid;
  }

  Snapshot snapshot() const {
    std::string image;
    for (const auto& [key, value] : data_) image += encode(key, value);
    return Snapshot{last_applied_, std::move(image)};
  }

  std::error_code restore(const Snapshot& snapshot) {
    std::map<std::string, std::string, std::less<>> data;
    std::string_view rest = snapshot.state;
    while (!rest.empty()) {
      std::size_t used = 0;
      auto kv = decode(rest, &used);
      if (!kv) return make_error_code(errc::marshalling_error);
      data.emplace(std::move(kv->first), std::move(kv->second));
      rest.remove_prefix(used);
    }
    data_ = std::move(data);
    last_applied_ = snapshot.last_zxid;
    return {};
  }

  Zxid last_applied_zxid() const noexcept { return last_applied_; }

  std::optional<std::string> get(std::string_view key) const {
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() const noexcept { return data_.size(); }

 private:
  // u32 key length, key, u32 value length, value.
  static std::string encode(std::string_view key, std::string_view value) {
    std::vector<std::uint8_t> out;
    codec::Writer w(out);
    w.put(static_cast<std::uint32_t>(key.size()));
    w.put_bytes({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()});
    w.put(static_cast<std::uint32_t>(value.size()));
    w.put_bytes({reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
    return std::string(out.begin(), out.end());
  }

  static std::optional<std::pair<std::string, std::string>> decode(std::string_view bytes,
                                                                   std::size_t* used = nullptr) {
    codec::Reader in({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    std::uint32_t key_size = 0, value_size = 0;
    std::string key, value;
    if (!in.get(key_size) || !in.get_string(key_size, key) || !in.get(value_size) ||
        !in.get_string(value_size, value))
      return std::nullopt;
    if (used) *used = in.offset();
    return std::pair{std::move(key), std::move(value)};
  }

  std::map<std::string, std::string, std::less<>> data_;
  Zxid last_applied_{};
};

static_assert(StateMachine<KvStateMachine>, "KvStateMachine must satisfy quorum::StateMachine");

}  // namespace quorum
