#include "zk_connection.hpp"

#include <algorithm>
#include <cstring>

#include "quorum/codec/jute.hpp"
#include "quorum/codec/peer_codec.hpp"
#include "quorum/error.hpp"

namespace quorum::server {

using asio::ip::tcp;
using tree::OpCode;

namespace {

std::int32_t err_of(const std::error_code& ec) {
  if (!ec) return 0;
  return ec.category() == error_category() ? ec.value() : -1;  // SYSTEMERROR
}

// The length prefix of a frame (the same big-endian uint32 as between members).
std::uint32_t length_of(const std::array<char, 4>& b) {
  std::array<std::uint8_t, 4> bytes{};
  std::memcpy(bytes.data(), b.data(), bytes.size());
  return codec::frame_length(bytes);
}

// A length-prefixed frame around `body`.
std::string framed(const std::string& body) {
  std::string out;
  jute::Writer w(out);
  w.put_int(static_cast<std::int32_t>(body.size()));
  out += body;
  return out;
}

}  // namespace

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

template <class F>
void ZkConnection::post(F f) {
  asio::post(io_, [self = shared_from_this(), f = std::move(f)]() mutable {
    if (!self->closed_) f(*self);
  });
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
  rearm_idle();
  request(frame);
  if (!closed_) read_frame();
}

// No packet within the session timeout: the client is gone; the session expires unless it
// reattaches (ZooKeeper clients ping at a third of it).
void ZkConnection::rearm_idle() {
  idle_.expires_after(std::chrono::milliseconds(std::max(timeout_ms_, 1)));
  idle_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->close(true);
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
  put(w, jute::ReplyHeader{xid, r.zxid.value, err_of(r.error)});
  if (!r.error) out += body;  // no body with an error
  send(framed(out));
}

void ZkConnection::request(const std::string& frame) {
  jute::Reader in(frame);
  const jute::RequestHeader h = jute::get_request_header(in);
  if (!in.ok()) return close(true);
  const std::int32_t xid = h.xid;
  std::weak_ptr<ZkConnection> weak = weak_from_this();
  // Completes on the member's thread: the body is encoded there, sent from ours.
  auto answer = [weak, xid](auto encode) {
    return [weak, xid, encode](Reply r) {
      auto self = weak.lock();
      if (!self) return;
      std::string body;
      if (!r.error) {
        jute::Writer w(body);
        encode(w, r);
      }
      self->post([xid, r = std::move(r), body = std::move(body)](ZkConnection& c) {
        c.reply(xid, r, body);
      });
    };
  };
  const auto nothing = [](jute::Writer&, const Reply&) {};
  const auto stat = [](jute::Writer& w, const Reply& r) { w.put(r.stat); };

  const auto op = static_cast<OpCode>(h.type);  // an unknown number goes to default
  switch (op) {
    case OpCode::ping: {
      std::string out;
      jute::Writer w(out);
      put(w, jute::ReplyHeader{jute::ping_xid, last_zxid_, 0});
      send(framed(out));
      return;
    }
    case OpCode::close_session:
      member_->close_session(session_, [weak, xid](Reply r) {
        if (auto self = weak.lock())
          self->post([xid, r](ZkConnection& c) {
            c.reply(xid, r);
            c.close_after_write_ = true;
            c.session_ = 0;  // closed: nothing to detach
          });
      });
      return;
    case OpCode::create:
    case OpCode::create2:
    case OpCode::create_container:
    case OpCode::create_ttl: {
      tree::CreateRequest c;
      c.path = in.get_string();
      c.data = in.get_buffer().value_or(std::string());
      c.acl = in.get_acl_list();
      const std::int32_t flags = in.get_int();
      if (op == OpCode::create_ttl) c.ttl_ms = in.get_long();
      if (!in.at_end()) return close(true);
      c.op = op;  // the wire opcode is the request's OpCode
      if (flags < 0 || flags > 6) {
        Reply bad;
        bad.error = make_error_code(errc::bad_arguments);
        return reply(xid, bad);
      }
      c.mode = static_cast<tree::CreateMode>(flags);
      const bool with_stat = op != OpCode::create;
      member_->write(session_, std::move(c), answer([with_stat](jute::Writer& w, const Reply& r) {
                       w.put_string(r.path);
                       if (with_stat) w.put(r.stat);
                     }));
      return;
    }
    case OpCode::remove: {
      tree::DeleteRequest d;
      d.path = in.get_string();
      d.version = in.get_int();
      if (!in.at_end()) return close(true);
      member_->write(session_, std::move(d), answer(nothing));
      return;
    }
    case OpCode::set_data: {
      tree::SetDataRequest s;
      s.path = in.get_string();
      s.data = in.get_buffer().value_or(std::string());
      s.version = in.get_int();
      if (!in.at_end()) return close(true);
      member_->write(session_, std::move(s), answer(stat));
      return;
    }
    case OpCode::set_acl: {
      tree::SetAclRequest s;
      s.path = in.get_string();
      s.acl = in.get_acl_list();
      s.version = in.get_int();
      if (!in.at_end()) return close(true);
      member_->write(session_, std::move(s), answer(stat));
      return;
    }
    case OpCode::exists:
    case OpCode::get_data:
    case OpCode::get_children:
    case OpCode::get_children2: {
      ReadRequest r;
      r.path = in.get_string();
      r.watch = in.get_bool();
      if (!in.at_end()) return close(true);
      r.op = op;
      member_->read(session_, std::move(r), answer([op](jute::Writer& w, const Reply& rep) {
                      if (op == OpCode::get_data) w.put_buffer(rep.data);
                      if (op == OpCode::get_children || op == OpCode::get_children2)
                        w.put(rep.children);
                      if (op != OpCode::get_children) w.put(rep.stat);
                    }));
      return;
    }
    case OpCode::get_acl: {
      ReadRequest r{OpCode::get_acl, in.get_string(), false};
      if (!in.at_end()) return close(true);
      member_->read(session_, std::move(r), answer([](jute::Writer& w, const Reply& rep) {
                      w.put(rep.acl);
                      w.put(rep.stat);
                    }));
      return;
    }
    case OpCode::get_all_children_number: {
      ReadRequest r{OpCode::get_all_children_number, in.get_string(), false};
      if (!in.at_end()) return close(true);
      member_->read(session_, std::move(r),
                    answer([](jute::Writer& w, const Reply& rep) { w.put_int(rep.number); }));
      return;
    }
    case OpCode::get_ephemerals: {
      ReadRequest r{OpCode::get_ephemerals, in.get_string(), false};
      if (!in.at_end()) return close(true);
      member_->read(session_, std::move(r),
                    answer([](jute::Writer& w, const Reply& rep) { w.put(rep.children); }));
      return;
    }
    case OpCode::sync: {
      std::string path = in.get_string();
      if (!in.at_end()) return close(true);
      member_->sync(session_, path,
                    answer([path](jute::Writer& w, const Reply&) { w.put_string(path); }));
      return;
    }
    case OpCode::auth: {
      (void)in.get_int();  // type, always 0
      std::string scheme = in.get_string();
      std::string auth = in.get_buffer().value_or(std::string());
      if (!in.at_end()) return close(true);
      member_->add_auth(session_, std::move(scheme), std::move(auth), [weak](Reply r) {
        if (auto self = weak.lock())
          self->post([r](ZkConnection& c) {
            std::string out;
            jute::Writer w(out);
            put(w, jute::ReplyHeader{jute::auth_xid, 0, err_of(r.error)});
            c.send(framed(out));
            if (r.error) c.close_after_write_ = true;  // AUTHFAILED ends the connection
          });
      });
      return;
    }
    default: {
      // Not served yet (multi, watches management, setWatches, whoAmI, ...) or unknown.
      Reply r;
      r.zxid = Zxid{last_zxid_};
      r.error = make_error_code(errc::unimplemented);
      reply(xid, r);
      return;
    }
  }
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
