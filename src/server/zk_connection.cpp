#include "zk_connection.hpp"

#include <algorithm>
#include <cstring>

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
                           std::array<char, 4> first_word, std::shared_ptr<void> keepalive)
    : keepalive_(std::move(keepalive)),
      socket_(std::move(socket)),
      io_(io),
      member_(std::move(member)),
      max_packet_(max_packet),
      header_(first_word),
      idle_(io) {}

void ZkConnection::start() {
  const std::uint32_t length = length_of(header_);
  // ZooKeeper closes a connection whose length is negative or beyond jute.maxbuffer.
  if (length > max_packet_) return close(false);
  idle_.expires_after(std::chrono::seconds(10));  // the handshake's own bound
  idle_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->close(true);
  });
  read_body(length);
}

void ZkConnection::read_frame() {
  asio::async_read(socket_, asio::buffer(header_),
                   [self = shared_from_this()](std::error_code ec, std::size_t) {
                     if (ec) return self->close(true);
                     const std::uint32_t length = length_of(self->header_);
                     if (length > self->max_packet_) return self->close(true);
                     self->read_body(length);
                   });
}

void ZkConnection::read_body(std::uint32_t length) {
  body_.assign(length, '\0');
  asio::async_read(socket_, asio::buffer(body_),
                   [self = shared_from_this()](std::error_code ec, std::size_t) {
                     if (ec) return self->close(true);
                     self->handle(std::move(self->body_));
                   });
}

void ZkConnection::handle(std::string frame) {
  if (closed_) return;
  if (!connected_) return connect(frame);  // reads resume once the session is there
  heard();
  request(frame);
  if (!closed_) read_frame();
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
  auto done = [weak, old_client](Reply r) {
    auto self = weak.lock();
    if (!self) return;
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
    self->post([frame = framed(body), r](ZkConnection& c) {
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
      c.read_frame();
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

void ZkConnection::reply(std::int32_t xid, const Reply& r, std::string body) {
  last_zxid_ = std::max(last_zxid_, r.zxid.value);
  std::string out;
  jute::Writer w(out);
  put(w, jute::ReplyHeader{xid, r.zxid.value, wire::err_of(r.error)});
  if (!r.error) out += body;  // no body with an error
  send(framed(out));
  // The session moved to another member, or this one lost its leader: ZooKeeper closes the
  // connection, and the client goes on through another server.
  if (r.error == errc::session_moved || r.error == errc::connection_loss)
    close_after_write_ = true;
}

void ZkConnection::send(std::string bytes) {
  if (closed_) return;
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
  std::error_code ignored;
  idle_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  // The session outlives its connection until it expires or a client reattaches it.
  if (detach && session_ != 0) member_->detach_session(session_);
}

}  // namespace quorum::server
