#include "zk_connection.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "quorum/codec/jute.hpp"
#include "quorum/codec/peer_codec.hpp"
#include "quorum/error.hpp"
#include "zk_records.hpp"

namespace quorum::server {

using asio::ip::tcp;
using tree::OpCode;

namespace {

// The length prefix of a frame (the same big-endian uint32 as between members).
std::uint32_t length_of(const std::array<char, 4>& b) {
  std::array<std::uint8_t, 4> bytes{};
  std::memcpy(bytes.data(), b.data(), bytes.size());
  return codec::frame_length(bytes);
}

}  // namespace

std::string framed(const std::string& body) {
  std::string out;
  jute::Writer w(out);
  w.put_int(static_cast<std::int32_t>(body.size()));
  out += body;
  return out;
}

ZkConnection::ZkConnection(tcp::socket socket, asio::io_context& io,
                           std::shared_ptr<quorum::ClientPort> member, std::uint32_t max_packet,
                           std::array<char, 4> first_word, std::shared_ptr<void> keepalive,
                           PortStats& stats)
    : keepalive_(std::move(keepalive)),
      socket_(std::move(socket)),
      io_(io),
      member_(std::move(member)),
      max_packet_(max_packet),
      header_(first_word),
      idle_(io),
      port_stats_(stats) {
  std::error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  if (!ec) remote_ = fmt::format("/{}:{}", peer.address().to_string(), peer.port());
  established_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
}

void ZkConnection::start() {
  idle_.expires_after(std::chrono::seconds(10));  // the handshake's own bound
  idle_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->close(true);
  });
  in_.assign(header_.data(), header_.size());
  process();
}

// Reads what the socket has (many pipelined requests in one call), then parses it.
void ZkConnection::read_more() {
  if (in_pos_ > 0) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  const std::size_t had = in_.size();
  in_.resize(had + read_chunk);
  socket_.async_read_some(asio::buffer(in_.data() + had, read_chunk),
                          [self = shared_from_this(), had](std::error_code ec, std::size_t n) {
                            if (ec) return self->close(true);
                            self->in_.resize(had + n);
                            self->process();
                          });
}

// Handles every complete frame read so far; reads more when it needs more. While a session
// is being opened or reattached nothing else is handled (ZooKeeper does the same).
void ZkConnection::process() {
  while (!closed_ && !awaiting_session_ && !close_after_write_) {
    const std::size_t available = in_.size() - in_pos_;
    if (available < 4) break;
    std::array<char, 4> prefix{};
    std::memcpy(prefix.data(), in_.data() + in_pos_, 4);
    const std::uint32_t length = length_of(prefix);
    // ZooKeeper closes a connection whose length is negative or beyond jute.maxbuffer.
    if (length > max_packet_) return close(connected_);
    if (available - 4 < length) break;
    std::string frame(in_.data() + in_pos_ + 4, length);
    in_pos_ += 4 + std::size_t{length};
    handle(std::move(frame));
  }
  if (!closed_ && !awaiting_session_ && !close_after_write_) read_more();
}

void ZkConnection::handle(std::string frame) {
  if (closed_) return;
  ++received_, ++port_stats_.received;
  if (!connected_) {
    awaiting_session_ = true;  // until the member answers the ConnectRequest
    return connect(frame);
  }
  heard();
  request(frame);
}

// Each packet keeps the session alive: the member hears of them at most every quarter of the
// timeout (the leader's tracker extends the session by a whole timeout at each).
void ZkConnection::heard() {
  const auto now = std::chrono::steady_clock::now();
  last_packet_ = now;
  if (now - last_touch_ >= std::chrono::milliseconds(timeout_ms_ / 4)) {
    last_touch_ = now;
    member_->touch(session_);
  }
}

// A silent client's session expires on the leader after its timeout, and the expiry closes
// this connection (as in ZooKeeper). Should that news never come (a member cut off from the
// others is told it lost its leader, which closes it too), a connection silent for twice the
// timeout and a second is closed here.
void ZkConnection::rearm_idle() {
  idle_.expires_after(std::chrono::milliseconds(std::max(timeout_ms_, 1)));
  idle_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->closed_) return;
    const auto silent = std::chrono::steady_clock::now() - self->last_packet_;
    if (silent > std::chrono::milliseconds(2 * std::int64_t{self->timeout_ms_} + 1000))
      return self->close(true);
    self->rearm_idle();
  });
}

void ZkConnection::connect(const std::string& frame) {
  jute::Reader in(frame);
  const jute::ConnectRequest hello = jute::get_connect_request(in);
  if (!in.ok()) return close(false);  // garbled: ZooKeeper closes
  const bool old_client = !hello.read_only.has_value();
  std::weak_ptr<ZkConnection> weak = weak_from_this();
  // Watch events, on the member's thread: queued in its order, before later replies.
  WatchHandler watcher = [weak](const tree::WatchedEvent& e) {
    auto self = weak.lock();
    if (!self) return;
    if (e.state == tree::KeeperState::expired) {
      self->post([](ZkConnection& c) { c.close(false); });
      return;
    }
    // Superseded: the same session reattached through another connection to this member.
    if (e.state == tree::KeeperState::disconnected) {
      self->post([](ZkConnection& c) {
        c.session_ = 0;  // the session is the other connection's now
        c.close(false);
      });
      return;
    }
    std::string body;
    jute::Writer w(body);
    put(w, jute::ReplyHeader{jute::notification_xid, -1, 0});
    w.put_int(static_cast<std::int32_t>(e.type));
    w.put_int(static_cast<std::int32_t>(e.state));
    w.put_string(e.path);
    self->post([frame = framed(body)](ZkConnection& c) { c.send(frame); });
  };
  auto done = [weak, old_client, member = member_](Reply r) {
    auto self = weak.lock();
    // The client left while the member was reattaching it: it must not stay attached there
    // (an attached session is kept alive by its member).
    if (!self) {
      if (!r.error) member->detach_session(r.session);
      return;
    }
    jute::ConnectResponse resp;
    if (!old_client) resp.read_only = false;
    if (r.error) {
      resp.password.assign(16, '\0');  // timeout 0: the session is invalid or expired
    } else {
      resp.timeout_ms = r.timeout_ms;
      resp.session_id = r.session;
      resp.password.assign(reinterpret_cast<const char*>(r.password.data()), r.password.size());
    }
    std::string body;
    jute::Writer w(body);
    put(w, resp);
    asio::post(self->io_, [self, frame = framed(body), r]() {
      ZkConnection& c = *self;
      if (c.closed_) {
        if (!r.error) c.member_->detach_session(r.session);
        return;
      }
      c.send(frame);
      if (r.error) {
        c.close_after_write_ = true;
        return;
      }
      c.connected_ = true;
      c.session_ = r.session;
      c.timeout_ms_ = r.timeout_ms;
      c.last_zxid_ = std::max(c.last_zxid_, r.zxid.value);
      c.last_touch_ = {};  // the first packet is news
      c.heard();
      c.rearm_idle();
      c.awaiting_session_ = false;
      c.process();
    });
  };
  if (hello.session_id == 0) {
    member_->open_session(hello.timeout_ms, std::move(watcher), std::move(done));
  } else {
    tree::SessionPassword password{};
    std::memcpy(password.data(), hello.password.data(),
                std::min(hello.password.size(), password.size()));
    if (hello.password.size() != password.size()) password = {};  // cannot match: expired
    member_->attach_session(hello.session_id, password, Zxid{hello.last_zxid_seen},
                            std::move(watcher), std::move(done));
  }
}

void ZkConnection::deliver(std::int32_t xid, std::string frame, bool close) {
  auto slot = std::find_if(in_flight_.begin(), in_flight_.end(),
                           [&](const InFlight& f) { return f.xid == xid && !f.reply; });
  if (slot == in_flight_.end()) {  // not a tracked request
    if (!close) return send(std::move(frame));
    close_after_write_ = true;
    return write_some();
  }
  slot->reply = std::move(frame);
  slot->close = close;
  // Replies leave in request order, as ZooKeeper sends them: one answered here at once (a
  // garbled request) waits for the member's answers to the requests before it.
  while (!in_flight_.empty() && in_flight_.front().reply) {
    const auto now = std::chrono::steady_clock::now();
    latency_.add(now - in_flight_.front().start);
    port_stats_.latency.add(now - in_flight_.front().start);
    last_response_ = now;
    if (in_flight_.front().close) {
      // Nothing more is answered: what is still pending goes with the connection.
      port_stats_.outstanding -= static_cast<std::int64_t>(in_flight_.size());
      in_flight_.clear();
      close_after_write_ = true;
      return write_some();
    }
    std::string out = std::move(*in_flight_.front().reply);
    in_flight_.pop_front();
    --port_stats_.outstanding;
    send(std::move(out));
  }
}

std::string ZkConnection::describe(bool full) const {
  std::string out = fmt::format("{}[{}](queued={},recved={},sent={}", remote_, closed_ ? 0 : 1,
                                in_flight_.size(), received_, sent_);
  if (full && session_ != 0) {
    const auto lresp = last_response_ == std::chrono::steady_clock::time_point{}
                           ? 0
                           : std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - last_response_)
                                 .count();
    out += fmt::format(
        ",sid={:#x},lop={},est={},to={}{},lzxid={:#x},lresp={},llat={},minlat={},avglat={},"
        "maxlat={}",
        static_cast<std::uint64_t>(session_), last_op_, established_ms_, timeout_ms_,
        // A ping's xid (-2) is the last cxid after a ping: ZooKeeper leaves lcxid out then.
        last_cxid_ >= 0 ? fmt::format(",lcxid={:#x}", last_cxid_) : std::string(),
        static_cast<std::uint64_t>(last_zxid_), lresp, latency_.last_ms, latency_.min(),
        static_cast<std::int64_t>(latency_.avg()), latency_.max());
  }
  return out + ")";
}

nlohmann::json ZkConnection::info() const {
  return {{"remote_socket_address", remote_.empty() ? remote_ : remote_.substr(1)},
          {"interest_ops", closed_ ? 0 : 1},
          {"outstanding_requests", in_flight_.size()},
          {"packets_received", received_},
          {"packets_sent", sent_},
          {"session_id", fmt::format("{:x}", static_cast<std::uint64_t>(session_))},
          {"last_operation", last_op_},
          {"session_timeout", timeout_ms_},
          {"last_cxid", fmt::format("{:#x}", static_cast<std::uint32_t>(last_cxid_))},
          {"last_zxid", fmt::format("{:#x}", static_cast<std::uint64_t>(last_zxid_))},
          {"last_latency", latency_.last_ms},
          {"min_latency", latency_.min()},
          {"avg_latency", latency_.avg()},
          {"max_latency", latency_.max()},
          {"established", established_ms_}};
}

void ZkConnection::reset_stats() {
  received_ = sent_ = 0;
  latency_ = {};
  last_op_ = "NA";
  last_cxid_ = 0;
  last_response_ = {};
}

void ZkConnection::reply(std::int32_t xid, const Reply& r, std::string body) {
  last_zxid_ = std::max(last_zxid_, r.zxid.value);
  // The session moved to another member: ZooKeeper closes the connection without a reply
  // (FinalRequestProcessor's sendCloseSession), and the client goes on where it moved.
  if (r.error == errc::session_moved) return deliver(xid, {}, true);
  std::string out;
  jute::Writer w(out);
  put(w, jute::ReplyHeader{xid, r.zxid.value, wire::err_of(r.error)});
  if (!r.error) out += body;  // no body with an error
  deliver(xid, framed(out));
  // This member lost its leader: the connection closes after the reply, and the client goes
  // on through another server.
  if (r.error == errc::connection_loss) close_after_write_ = true;
}

void ZkConnection::send(std::string bytes) {
  if (closed_) return;
  ++sent_, ++port_stats_.sent;
  out_.push_back(std::move(bytes));
  write_some();
}

void ZkConnection::write_some() {
  if (!writing_.empty() || closed_) return;
  if (out_.empty()) {
    if (close_after_write_) close(session_ != 0);
    return;
  }
  std::vector<asio::const_buffer> buffers;
  while (!out_.empty() && buffers.size() < 64) {
    writing_.push_back(std::move(out_.front()));
    out_.pop_front();
    buffers.emplace_back(asio::buffer(writing_.back()));
  }
  asio::async_write(socket_, buffers, [self = shared_from_this()](std::error_code ec, std::size_t) {
    self->writing_.clear();
    if (ec) return self->close(true);
    self->write_some();
  });
}

void ZkConnection::close(bool detach) {
  if (closed_) return;
  closed_ = true;
  port_stats_.outstanding -= static_cast<std::int64_t>(in_flight_.size());
  in_flight_.clear();
  std::error_code ignored;
  idle_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  // The session outlives its connection until it expires or a client reattaches it.
  if (detach && session_ != 0) member_->detach_session(session_);
}

}  // namespace quorum::server
