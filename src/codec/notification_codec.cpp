#include "quorum/codec/notification_codec.hpp"

#include <string>

#include "quorum/codec/big_endian.hpp"

namespace quorum::codec {
namespace {

Decoded<Notification> reject(std::string why) {
  return {std::nullopt, make_error_code(errc::marshalling_error),
          "notification: " + std::move(why)};
}

std::string truncated(const char* field, const Reader& in, std::size_t size) {
  return std::string("truncated at byte ") + std::to_string(in.offset()) + " of " +
         std::to_string(size) + " while reading " + field;
}

}  // namespace

std::vector<std::uint8_t> encode_notification(const Notification& n) {
  std::vector<std::uint8_t> out;
  out.reserve(44 + n.config.size());
  Writer w(out);
  w.put(static_cast<std::int32_t>(n.state));
  w.put(n.leader);
  w.put(n.zxid.value);
  w.put(n.election_epoch);
  w.put(n.peer_epoch);
  w.put(std::int32_t{2});
  w.put(static_cast<std::int32_t>(n.config.size()));
  w.put_bytes({reinterpret_cast<const std::uint8_t*>(n.config.data()), n.config.size()});
  return out;
}

Decoded<Notification> decode_notification(std::span<const std::uint8_t> bytes) {
  const std::size_t size = bytes.size();
  if (size < min_notification_size)
    return reject(std::to_string(size) + " bytes is shorter than the " +
                  std::to_string(min_notification_size) + "-byte minimum");
  Reader in(bytes);
  Notification n;
  std::int32_t state = 0;
  std::int64_t zxid = 0;
  // The first 28 bytes are present (checked above).
  (void)in.get(state);
  (void)in.get(n.leader);
  (void)in.get(zxid);
  (void)in.get(n.election_epoch);
  n.zxid = Zxid{zxid};
  if (state < 0 || state > 3)
    return reject("unknown peer state " + std::to_string(state) + " at byte 0");
  n.state = static_cast<PeerState>(state);
  n.version = 0;
  if (size == min_notification_size) {
    n.peer_epoch = n.zxid.epoch();  // pre-3.4 peers did not send it
    return {std::move(n), {}, {}};
  }
  if (!in.get(n.peer_epoch)) return reject(truncated("peerEpoch", in, size));
  if (size == 40) return {std::move(n), {}, {}};  // 3.4 layout: its version is not read
  if (!in.get(n.version)) return reject(truncated("version", in, size));
  if (n.version > 1) {
    std::int32_t length = 0;
    if (!in.get(length)) return reject(truncated("configLength", in, size));
    if (length < 0 || static_cast<std::size_t>(length) > in.remaining())
      return reject("config length " + std::to_string(length) + " at byte 40 does not fit in the " +
                    std::to_string(in.remaining()) + " bytes left");
    (void)in.get_string(static_cast<std::size_t>(length), n.config);
  }
  return {std::move(n), {}, {}};
}

}  // namespace quorum::codec
