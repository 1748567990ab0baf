// A minimal ZooKeeper wire-protocol client for bench/zkwire: one TCP connection, one session,
// requests pipelined (ZooKeeper answers a connection's requests in order, so the replies are
// matched against a FIFO of xids). Everything a connection does runs on its strand; the
// blocking helpers (connect, call, close) wait on futures with a deadline and are meant for
// the bench's main thread. Encoding and decoding go through quorum::jute.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio.hpp>  // after standard headers: Asio picks its allocator from libstdc++'s macros

#include "quorum/codec/jute.hpp"
#include "quorum/tree/records.hpp"

namespace zkwire {

using Clock = std::chrono::steady_clock;
namespace jute = quorum::jute;
using quorum::tree::OpCode;

enum class Op { create, set_data, get_data };

inline const char* op_name(Op op) {
  switch (op) {
    case Op::create:
      return "create";
    case Op::set_data:
      return "set_data";
    case Op::get_data:
      return "get_data";
  }
  return "?";
}

/// One load phase of a connection: keep `window` requests of `op` on `path` outstanding until
/// `stop_at`; count (and time) the replies that arrive in [count_from, stop_at).
struct LoadSpec {
  Op op = Op::get_data;
  std::string path;  ///< setData/getData target; create makes sequential children "path/c"
  std::size_t window = 1;
  Clock::time_point count_from, stop_at;
};

struct Tally {
  std::uint64_t ops = 0;
  std::vector<double> latencies_us;
};

/// ZooKeeper's error code for a lost connection, used for control calls cut off by a failure.
inline constexpr std::int32_t connection_loss = -4;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Reply = std::function<void(std::int32_t err, std::string_view body)>;

  explicit Connection(asio::io_context& io)
      : strand_(asio::make_strand(io)), socket_(strand_), value_(100, 'v') {
    rbuf_.resize(256 * 1024);
  }

  // ---- blocking helpers for the main thread ---------------------------------------------

  /// TCP connect to 127.0.0.1:port and the ConnectRequest handshake (protocol 0, timeout
  /// `session_timeout_ms`, a new session, 16 zero password bytes, readOnly false).
  void connect(std::uint16_t port, int session_timeout_ms, std::chrono::milliseconds limit) {
    auto done = std::make_shared<std::promise<std::string>>();
    auto fut = done->get_future();
    asio::post(strand_, [self = shared_from_this(), port, session_timeout_ms, done] {
      self->connect_done_ = [done](std::string why) { done->set_value(std::move(why)); };
      asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
      self->socket_.async_connect(ep, [self, session_timeout_ms](std::error_code ec) {
        if (ec) return self->fail("connect: " + ec.message());
        self->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
        std::string frame = begin_frame();
        jute::Writer w(frame);
        jute::ConnectRequest req;
        req.timeout_ms = session_timeout_ms;
        req.password = std::string(16, '\0');
        req.read_only = false;
        jute::put(w, req);
        end_frame(frame, 0);
        self->out_pending_ += frame;
        self->flush();
        self->read();
      });
    });
    if (fut.wait_for(limit) != std::future_status::ready) {
      abort("connect to port " + std::to_string(port) + ": no session within " +
            std::to_string(limit.count()) + " ms");
      throw std::runtime_error(error());
    }
    const std::string why = fut.get();
    if (!why.empty()) throw std::runtime_error(why);
  }

  /// One request with a reply; returns {err, body}. Throws on a timeout or a lost connection.
  std::pair<std::int32_t, std::string> call(OpCode type, const std::string& body,
                                            std::chrono::milliseconds limit) {
    auto done = std::make_shared<std::promise<std::pair<std::int32_t, std::string>>>();
    auto fut = done->get_future();
    asio::post(strand_, [self = shared_from_this(), type, body, done] {
      if (self->failed_) return done->set_value({connection_loss, self->error_});
      self->send(static_cast<std::int32_t>(type), body,
                 [done](std::int32_t err, std::string_view b) {
                   done->set_value({err, std::string(b)});
                 });
      self->flush();
    });
    if (fut.wait_for(limit) != std::future_status::ready) {
      abort("no reply within " + std::to_string(limit.count()) + " ms");
      throw std::runtime_error(error());
    }
    auto r = fut.get();
    if (r.first == connection_loss && failed()) throw std::runtime_error(error());
    return r;
  }

  /// closeSession, then the socket is closed. Errors are ignored (the bench is ending).
  void close(std::chrono::milliseconds limit) {
    asio::post(strand_, [self = shared_from_this()] { self->closing_ = true; });
    if (!failed()) {
      try {
        call(OpCode::close_session, {}, limit);
      } catch (const std::exception&) {
      }
    }
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    asio::post(strand_, [self = shared_from_this(), done] {
      self->closing_ = true;
      std::error_code ec;
      self->socket_.close(ec);
      done->set_value();
    });
    fut.wait_for(limit);
  }

  /// Starts a load phase (asynchronously, on the strand).
  void start_load(const LoadSpec& spec) {
    asio::post(strand_, [self = shared_from_this(), spec] {
      self->load_ = spec;
      self->child_path_ = spec.path + "/c";
      self->tally_ = Tally{};
      self->load_active_ = true;
      self->fill();
    });
  }

  /// Load requests still in flight (0 once the phase has drained or the connection failed).
  std::size_t in_flight() const { return load_in_flight_.load(std::memory_order_acquire); }

  /// Ends the load phase and hands over what it counted.
  Tally take_tally(std::chrono::milliseconds limit) {
    auto done = std::make_shared<std::promise<Tally>>();
    auto fut = done->get_future();
    asio::post(strand_, [self = shared_from_this(), done] {
      self->load_active_ = false;
      done->set_value(std::move(self->tally_));
      self->tally_ = Tally{};
    });
    if (fut.wait_for(limit) != std::future_status::ready)
      throw std::runtime_error("connection did not hand over its tally");
    return fut.get();
  }

  bool failed() const { return failed_flag_.load(std::memory_order_acquire); }
  std::string error() const {
    std::lock_guard lock(error_mutex_);
    return error_copy_;
  }
  std::int64_t session_id() const { return session_id_.load(); }

  /// Fails the connection from outside its strand (a deadline passed).
  void abort(const std::string& why) {
    {
      std::lock_guard lock(error_mutex_);
      if (error_copy_.empty()) error_copy_ = why;
    }
    failed_flag_ = true;
    asio::post(strand_, [self = shared_from_this(), why] { self->fail(why); });
  }

  // ---- request bodies ---------------------------------------------------------------------

  static std::string create_body(const std::string& path, std::string_view data,
                                 quorum::tree::CreateMode mode) {
    std::string b;
    jute::Writer w(b);
    w.put_string(path);
    w.put_buffer(data);
    w.put_int(1);  // one ACL: world:anyone, all permissions (ZooDefs.Ids.OPEN_ACL_UNSAFE)
    w.put_int(31);
    w.put_string("world");
    w.put_string("anyone");
    w.put_int(static_cast<std::int32_t>(mode));
    return b;
  }

 private:
  static std::string begin_frame() { return std::string(4, '\0'); }
  static void end_frame(std::string& out, std::size_t at) {
    const auto n = static_cast<std::uint32_t>(out.size() - at - 4);
    out[at] = static_cast<char>(n >> 24);
    out[at + 1] = static_cast<char>(n >> 16);
    out[at + 2] = static_cast<char>(n >> 8);
    out[at + 3] = static_cast<char>(n);
  }

  struct Pending {
    std::int32_t xid = 0;
    std::int32_t type = 0;
    Clock::time_point sent;
    Reply reply;  ///< empty for load requests
  };

  // Appends one framed request to the output; the caller flushes.
  void send(std::int32_t type, std::string_view body, Reply reply) {
    const std::size_t at = out_pending_.size();
    out_pending_.append(4, '\0');
    jute::Writer w(out_pending_);
    const std::int32_t xid = next_xid_++;
    jute::put(w, jute::RequestHeader{xid, type});
    out_pending_.append(body);
    end_frame(out_pending_, at);
    pending_.push_back(Pending{xid, type, Clock::now(), std::move(reply)});
  }

  // Encodes one load request straight into the output buffer.
  void send_load(Clock::time_point now) {
    const std::size_t at = out_pending_.size();
    out_pending_.append(4, '\0');
    jute::Writer w(out_pending_);
    const std::int32_t xid = next_xid_++;
    std::int32_t type = 0;
    switch (load_.op) {
      case Op::create:
        type = static_cast<std::int32_t>(OpCode::create);
        jute::put(w, jute::RequestHeader{xid, type});
        w.put_string(child_path_);
        w.put_buffer(value_);
        w.put_int(1), w.put_int(31), w.put_string("world"), w.put_string("anyone");
        w.put_int(static_cast<std::int32_t>(quorum::tree::CreateMode::persistent_sequential));
        break;
      case Op::set_data:
        type = static_cast<std::int32_t>(OpCode::set_data);
        jute::put(w, jute::RequestHeader{xid, type});
        w.put_string(load_.path);
        w.put_buffer(value_);
        w.put_int(-1);
        break;
      case Op::get_data:
        type = static_cast<std::int32_t>(OpCode::get_data);
        jute::put(w, jute::RequestHeader{xid, type});
        w.put_string(load_.path);
        w.put_bool(false);
        break;
    }
    end_frame(out_pending_, at);
    pending_.push_back(Pending{xid, type, now, {}});
    load_in_flight_.fetch_add(1, std::memory_order_acq_rel);
  }

  void fill() {
    if (!load_active_ || failed_) return;
    const auto now = Clock::now();
    if (now >= load_.stop_at) return;
    while (load_in_flight_.load(std::memory_order_relaxed) < load_.window) send_load(now);
    flush();
  }

  void flush() {
    if (writing_ || out_pending_.empty() || failed_) return;
    writing_ = true;
    out_writing_.swap(out_pending_);
    out_pending_.clear();
    asio::async_write(socket_, asio::buffer(out_writing_),
                      [self = shared_from_this()](std::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->out_writing_.clear();
                        if (ec) return self->fail("write: " + ec.message());
                        self->flush();
                      });
  }

  void read() {
    if (rlen_ == rbuf_.size()) rbuf_.resize(rbuf_.size() * 2);
    socket_.async_read_some(
        asio::buffer(rbuf_.data() + rlen_, rbuf_.size() - rlen_),
        [self = shared_from_this()](std::error_code ec, std::size_t n) {
          if (ec) {
            return self->fail(ec == asio::error::eof ? "the server closed the connection"
                                                     : "read: " + ec.message());
          }
          self->rlen_ += n;
          std::size_t pos = 0;
          while (!self->failed_ && self->rlen_ - pos >= 4) {
            const auto* p = reinterpret_cast<const unsigned char*>(self->rbuf_.data() + pos);
            const std::uint32_t len = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                      (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
            if (len > 16u * 1024 * 1024)
              return self->fail("reply frame of " + std::to_string(len) + " bytes");
            if (self->rlen_ - pos - 4 < len) {
              if (len + 4 > self->rbuf_.size()) self->rbuf_.resize(len + 4);
              break;
            }
            self->on_frame(std::string_view(self->rbuf_.data() + pos + 4, len));
            pos += 4 + len;
          }
          if (self->failed_) return;
          if (pos > 0) {
            std::memmove(self->rbuf_.data(), self->rbuf_.data() + pos, self->rlen_ - pos);
            self->rlen_ -= pos;
          }
          self->fill();
          self->read();
        });
  }

  void on_frame(std::string_view frame) {
    jute::Reader r(frame);
    if (!connected_) {
      const auto resp = jute::get_connect_response(r);
      if (!r.ok()) return fail("connect response: " + r.why());
      if (resp.timeout_ms <= 0) return fail("the server refused the session (timeout 0)");
      connected_ = true;
      session_id_ = resp.session_id;
      if (connect_done_) std::exchange(connect_done_, {})(std::string());
      return;
    }
    const auto h = jute::get_reply_header(r);
    if (!r.ok()) return fail("reply header: " + r.why());
    if (h.xid == jute::notification_xid || h.xid == jute::ping_xid) return;
    if (pending_.empty()) return fail("a reply (xid " + std::to_string(h.xid) + ") to nothing");
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (h.xid != p.xid)
      return fail("reply xid " + std::to_string(h.xid) + ", expected " + std::to_string(p.xid) +
                  " (out of order)");
    const std::string_view body = frame.substr(r.offset());
    if (p.reply) return p.reply(h.err, body);

    load_in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    if (h.err != 0)
      return fail(std::string(op_name(load_.op)) + " " + load_.path + ": error " +
                  std::to_string(h.err) + " (xid " + std::to_string(h.xid) + ")");
    // Decode the reply as a client would, and check it.
    jute::Reader b(body);
    switch (load_.op) {
      case Op::create:
        if (b.get_string().rfind(child_path_, 0) != 0 || !b.ok())
          return fail("create: a reply without the new path");
        break;
      case Op::set_data:
        if (b.get_stat().data_length != 100 || !b.ok())
          return fail("setData: a reply without a Stat of 100 bytes");
        break;
      case Op::get_data: {
        const auto data = b.get_buffer();
        const auto stat = b.get_stat();
        if (!b.ok() || !data || data->size() != 100 || stat.data_length != 100)
          return fail("getData: a reply without the 100-byte value and its Stat");
        break;
      }
    }
    const auto now = Clock::now();
    if (now >= load_.count_from && now < load_.stop_at) {
      ++tally_.ops;
      tally_.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(now - p.sent).count());
    }
  }

  void fail(const std::string& why) {
    if (!failed_) {
      failed_ = true;
      if (!closing_) {  // after closeSession the server closes: not a failure
        {
          std::lock_guard lock(error_mutex_);
          if (error_copy_.empty()) error_copy_ = why;
          error_ = error_copy_;
        }
        failed_flag_ = true;
      }
      std::error_code ec;
      socket_.close(ec);
    }
    if (connect_done_) std::exchange(connect_done_, {})(error_);
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& p : pending)
      if (p.reply) p.reply(connection_loss, {});
    load_in_flight_ = 0;
  }

  asio::strand<asio::io_context::executor_type> strand_;
  asio::ip::tcp::socket socket_;
  const std::string value_;
  std::string child_path_;
  std::string out_pending_, out_writing_;
  bool writing_ = false;
  std::vector<char> rbuf_;
  std::size_t rlen_ = 0;
  std::deque<Pending> pending_;
  std::int32_t next_xid_ = 1;
  bool connected_ = false, closing_ = false, failed_ = false;
  std::function<void(std::string)> connect_done_;
  LoadSpec load_;
  bool load_active_ = false;
  Tally tally_;
  std::string error_;

  std::atomic<std::size_t> load_in_flight_{0};
  std::atomic<bool> failed_flag_{false};
  std::atomic<std::int64_t> session_id_{0};
  mutable std::mutex error_mutex_;
  std::string error_copy_;
};

}  // namespace zkwire
