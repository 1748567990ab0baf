#include "quorum/codec/peer_codec.hpp"

#include <fmt/format.h>

#include <vector>

#include "quorum/codec/big_endian.hpp"

namespace quorum::codec {
namespace {

enum class Kind : std::uint8_t { notification = 1, packet = 2 };

// Big-endian appends to a std::string (frames go to sockets as strings).
class StringWriter {
 public:
  explicit StringWriter(std::string& out) : out_(out) {}
  template <class Int>
  void put(Int value) {
    using U = std::make_unsigned_t<Int>;
    const auto u = static_cast<U>(value);
    for (int shift = 8 * (static_cast<int>(sizeof(U)) - 1); shift >= 0; shift -= 8)
      out_.push_back(static_cast<char>(static_cast<std::uint8_t>(u >> shift)));
  }
  void put_bytes(std::string_view bytes) { out_.append(bytes); }

 private:
  std::string& out_;
};

template <class T>
Decoded<T> reject(std::string why) {
  return {std::nullopt, make_error_code(errc::marshalling_error), std::move(why)};
}

void put_packet(StringWriter& w, const QuorumPacket& p) {
  w.put(static_cast<std::int32_t>(p.type));
  w.put(p.zxid.value);
  w.put(p.epoch);
  w.put(static_cast<std::uint32_t>(p.txns.size()));
  for (const Txn& t : p.txns) {
    w.put(t.zxid.value);
    w.put(t.type);
    w.put(static_cast<std::uint32_t>(t.data.size()));
    w.put_bytes(t.data);
  }
  w.put(static_cast<std::uint32_t>(p.data.size()));
  w.put_bytes(p.data);
}

Decoded<Message> get_packet(Reader& in, std::size_t size) {
  const auto where = [&](const char* field) {
    return fmt::format("quorum packet: truncated at byte {} of {} while reading {}", in.offset(),
                       size, field);
  };
  QuorumPacket p;
  std::int32_t type = 0;
  std::int64_t zxid = 0;
  if (!in.get(type)) return reject<Message>(where("the type"));
  if (type < static_cast<std::int32_t>(PacketType::request) ||
      type > static_cast<std::int32_t>(PacketType::inform_and_activate))
    return reject<Message>(fmt::format("quorum packet: unknown type {}", type));
  p.type = static_cast<PacketType>(type);
  if (!in.get(zxid)) return reject<Message>(where("the zxid"));
  p.zxid = Zxid{zxid};
  if (!in.get(p.epoch)) return reject<Message>(where("the epoch"));
  std::uint32_t count = 0;
  if (!in.get(count)) return reject<Message>(where("the txn count"));
  // A txn takes at least 16 bytes: a count the rest cannot hold is refused before reserving.
  if (count > in.remaining() / 16)
    return reject<Message>(fmt::format("quorum packet: {} txns cannot fit in the {} bytes left",
                                       count, in.remaining()));
  p.txns.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Txn t;
    std::int64_t txn_zxid = 0;
    std::uint32_t length = 0;
    std::string body;
    if (!in.get(txn_zxid) || !in.get(t.type) || !in.get(length))
      return reject<Message>(where("a txn header"));
    if (!in.get_string(length, body)) return reject<Message>(where("a txn body"));
    t.zxid = Zxid{txn_zxid};
    t.data = std::move(body);
    p.txns.push_back(std::move(t));
  }
  std::uint32_t length = 0;
  if (!in.get(length)) return reject<Message>(where("the data length"));
  if (!in.get_string(length, p.data)) return reject<Message>(where("the data"));
  if (in.remaining() != 0)
    return reject<Message>(
        fmt::format("quorum packet: {} bytes left over after the packet", in.remaining()));
  return {Message{std::move(p)}, {}, {}};
}

}  // namespace

std::string encode_hello(const Hello& h) {
  std::string out;
  out.reserve(Hello::size);
  StringWriter w(out);
  w.put(h.magic);
  w.put(h.version);
  w.put(h.ensemble);
  w.put(h.id);
  w.put(static_cast<std::uint8_t>(h.channel));
  return out;
}

Decoded<Hello> decode_hello(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != Hello::size)
    return reject<Hello>(fmt::format("hello: {} bytes, expected {}", bytes.size(), Hello::size));
  Reader in(bytes);
  Hello h;
  std::uint8_t channel = 0;
  (void)in.get(h.magic);
  (void)in.get(h.version);
  (void)in.get(h.ensemble);
  (void)in.get(h.id);
  (void)in.get(channel);
  if (h.magic != Hello::magic_value)
    return reject<Hello>(fmt::format("hello: bad magic {:#010x} (not a quorum peer)", h.magic));
  if (channel != static_cast<std::uint8_t>(Channel::election) &&
      channel != static_cast<std::uint8_t>(Channel::quorum))
    return reject<Hello>(fmt::format("hello: unknown channel {}", channel));
  h.channel = static_cast<Channel>(channel);
  return {h, {}, {}};
}

std::string encode_frame(const Message& message) {
  std::string out(frame_header_size, '\0');
  StringWriter w(out);
  if (const auto* n = std::get_if<Notification>(&message)) {
    w.put(static_cast<std::uint8_t>(Kind::notification));
    const std::vector<std::uint8_t> body = encode_notification(*n);
    out.append(reinterpret_cast<const char*>(body.data()), body.size());
  } else {
    w.put(static_cast<std::uint8_t>(Kind::packet));
    put_packet(w, std::get<QuorumPacket>(message));
  }
  const auto length = static_cast<std::uint32_t>(out.size() - frame_header_size);
  for (std::size_t i = 0; i < frame_header_size; ++i)
    out[i] = static_cast<char>(static_cast<std::uint8_t>(length >> (8 * (3 - i))));
  return out;
}

std::uint32_t frame_length(std::span<const std::uint8_t, frame_header_size> header) {
  return static_cast<std::uint32_t>(header[0]) << 24 | static_cast<std::uint32_t>(header[1]) << 16 |
         static_cast<std::uint32_t>(header[2]) << 8 | static_cast<std::uint32_t>(header[3]);
}

Decoded<Message> decode_frame_body(std::span<const std::uint8_t> body) {
  if (body.empty()) return reject<Message>("frame: empty");
  Reader in(body);
  std::uint8_t kind = 0;
  (void)in.get(kind);
  if (kind == static_cast<std::uint8_t>(Kind::notification)) {
    auto n = decode_notification(body.subspan(1));
    if (!n) return {std::nullopt, n.error, std::move(n.why)};
    return {Message{std::move(*n.value)}, {}, {}};
  }
  if (kind == static_cast<std::uint8_t>(Kind::packet)) return get_packet(in, body.size());
  return reject<Message>(fmt::format("frame: unknown message kind {}", kind));
}

}  // namespace quorum::codec
