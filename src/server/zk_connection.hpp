// One ZooKeeper client connection on the client port (zk-reference §7): the connect handshake
// (a new session, or an existing one reattached with its id and password), then requests,
// each answered in order, and watch events (xid -1) queued before the reply that reveals
// their change, because both are queued in the member thread's order. Private to the client
// port (src/server).
#pragma once

// Standard headers before Asio: its config decides how it allocates handlers (aligned_alloc
// or operator new) from what libstdc++'s headers have defined; every file must see the same.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "port_stats.hpp"
#include "quorum/client/session.hpp"

namespace quorum::server {

/// A length-prefixed frame around `body`.
std::string framed(const std::string& body);

class ZkConnection : public std::enable_shared_from_this<ZkConnection> {
 public:
  /// `first_word`: the four bytes already read, the connect request's length prefix.
  /// `keepalive`: held as long as the connection (the port counts connections by it).
  ZkConnection(asio::ip::tcp::socket socket, asio::io_context& io,
               std::shared_ptr<quorum::ClientPort> member, std::uint32_t max_packet,
               std::array<char, 4> first_word, std::shared_ptr<void> keepalive, PortStats& stats);
  void start();

  /// `cons`' line for this connection (`full`: with the session's fields, as cons prints a
  /// connection that has one; brief as stat prints them), without the leading space.
  std::string describe(bool full) const;
  /// The same as JSON fields (ZooKeeper's AdminServer connection info).
  nlohmann::json info() const;
  /// crst: this connection's counters and latencies start again.
  void reset_stats();
  std::int64_t session() const noexcept { return session_; }

 private:
  void read_more();
  void process();
  void handle(std::string frame);
  void connect(const std::string& frame);
  // Decodes one request and hands it to the member (zk_requests.cpp).
  void request(const std::string& frame);
  // Completion for the member's thread: encodes the body there, replies from ours.
  template <class Encode>
  ReplyHandler answer(std::int32_t xid, Encode encode);
  void reply(std::int32_t xid, const Reply& r, std::string body = {});
  void send(std::string bytes);
  void write_some();
  void close(bool detach);
  void rearm_idle();
  void heard();
  // The reply frame to request `xid`, sent once the requests before it are answered.
  // `close`: instead of a reply, the connection closes once the replies before it are sent.
  void deliver(std::int32_t xid, std::string frame, bool close = false);
  // Runs `f(self)` on the connection's thread (from the member's thread).
  template <class F>
  void post(F f) {
    asio::post(io_, [self = shared_from_this(), f = std::move(f)]() mutable {
      if (!self->closed_) f(*self);
    });
  }

  std::shared_ptr<void> keepalive_;
  asio::ip::tcp::socket socket_;
  asio::io_context& io_;
  std::shared_ptr<quorum::ClientPort> member_;
  std::uint32_t max_packet_;
  static constexpr std::size_t read_chunk = 64 * 1024;
  std::array<char, 4> header_{};  // the first four bytes, read by the port
  std::string in_;                // bytes read and not yet handled, from in_pos_
  std::size_t in_pos_ = 0;
  bool awaiting_session_ = false;
  std::deque<std::string> out_;
  std::deque<std::string> writing_;
  asio::steady_timer idle_;
  std::int64_t session_ = 0;
  std::int32_t timeout_ms_ = 0;
  std::int64_t last_zxid_ = 0;
  std::chrono::steady_clock::time_point last_packet_{};
  std::chrono::steady_clock::time_point last_touch_{};
  // Stats for cons / stat / crst (ZooKeeper's per-connection ones).
  PortStats& port_stats_;
  std::string remote_;
  std::uint64_t received_ = 0;
  std::uint64_t sent_ = 0;
  LatencyStats latency_;
  struct InFlight {
    std::int32_t xid = 0;
    std::chrono::steady_clock::time_point start;
    std::optional<std::string> reply;  // answered, waiting for the requests before it
    bool close = false;                // answered by closing the connection, not a reply
  };
  std::deque<InFlight> in_flight_;
  const char* last_op_ = "NA";
  std::int32_t last_cxid_ = 0;
  std::int64_t established_ms_ = 0;  // wall clock, as ZooKeeper's est=
  std::chrono::steady_clock::time_point last_response_{};
  bool connected_ = false;
  bool closed_ = false;
  bool close_after_write_ = false;
};

}  // namespace quorum::server
