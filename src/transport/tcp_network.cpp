#include <fmt/format.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "quorum/config/zoo_cfg.hpp"
#include "quorum/transport/tcp.hpp"

namespace quorum {

using asio::ip::tcp;
using codec::Channel;
using codec::Hello;

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "?";
}

TcpOptions TcpOptions::from(const config::ZooConfig& config, ServerId self) {
  TcpOptions o;
  o.self = self;
  for (const config::ServerEntry& s : config.servers)
    o.peers[s.id] = TcpPeer{s.host, s.quorum_port, s.election_port};
  o.ensemble = config::ensemble_identity(config);
  return o;
}

namespace {

struct Counters {
  std::atomic<std::uint64_t> accepted{0}, dialled{0}, rejected{0}, bad_frames{0}, sent{0},
      received{0}, dropped{0}, batches{0};
};

std::string endpoint_text(const tcp::socket& s) {
  std::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  if (ec) return "an unknown address";
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

}  // namespace

struct TcpNetwork::Impl {
  struct Link;

  // One TCP connection: first the hello exchange, then frames in both directions.
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(Impl& n, tcp::socket s, Channel c)
        : net(n), socket(std::move(s)), channel(c), deadline(net.io) {}
    Impl& net;
    tcp::socket socket;
    Channel channel;
    ServerId peer = 0;
    std::string remote;
    asio::steady_timer deadline;
    std::array<std::uint8_t, Hello::size> hello{};
    std::array<std::uint8_t, codec::frame_header_size> header{};
    std::vector<std::uint8_t> body;
    std::shared_ptr<std::string> own_hello;
    bool closed = false;

    void close() {
      if (closed) return;
      closed = true;
      std::error_code ignored;
      deadline.cancel();
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
  };

  // Everything toward one peer on one channel: the live connection, the frames waiting for
  // it, and (when this member is the larger id) the dialling.
  struct Link : std::enable_shared_from_this<Link> {
    Link(Impl& n, ServerId p, Channel c)
        : net(n), peer(p), channel(c), redial(net.io), resolver(net.io) {}
    Impl& net;
    ServerId peer;
    Channel channel;
    std::shared_ptr<Connection> conn;  // past its hello
    std::deque<std::shared_ptr<const std::string>> queue;
    std::size_t queued_bytes = 0;
    std::vector<std::shared_ptr<const std::string>> in_flight;
    bool writing = false;
    asio::steady_timer redial;
    tcp::resolver resolver;
    std::chrono::milliseconds backoff{0};
    bool dialling = false;
    bool lost_logged = false;

    bool dials() const { return net.options.self > peer; }
  };

  explicit Impl(TcpOptions o)
      : options(std::move(o)),
        work(asio::make_work_guard(io)),
        election_acceptor(io),
        quorum_acceptor(io) {
    auto me = options.peers.find(options.self);
    if (me == options.peers.end())
      throw std::invalid_argument(
          fmt::format("quorum: TcpOptions: no address for this member (server {})", options.self));
    listen(election_acceptor, me->second.host, me->second.election_port, Channel::election);
    listen(quorum_acceptor, me->second.host, me->second.quorum_port, Channel::quorum);
    for (const auto& [id, peer] : options.peers) {
      if (id == options.self) continue;
      for (Channel c : {Channel::election, Channel::quorum})
        links[{id, c}] = std::make_shared<Link>(*this, id, c);
    }
    for (auto& [key, link] : links)
      if (link->dials()) dial(link);
    accept(election_acceptor, Channel::election);
    accept(quorum_acceptor, Channel::quorum);
    thread = std::thread([this] { io.run(); });
  }

  // Stops the thread; whatever is pending is dropped with the io_context (declared first, so
  // destroyed last, after the links and acceptors that use it).
  ~Impl() {
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }

  void log(LogLevel level, const std::string& line) const {
    if (options.log) options.log(level, line);
  }

  std::uint32_t max_frame(Channel c) const {
    return c == Channel::election ? options.max_election_frame : options.max_quorum_frame;
  }

  void listen(tcp::acceptor& acceptor, const std::string& host, std::uint16_t port, Channel c) {
    tcp::endpoint endpoint;
    if (options.listen_on_all_ips) {
      endpoint = tcp::endpoint(tcp::v4(), port);
    } else {
      tcp::resolver resolver(io);
      std::error_code ec;
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec || results.empty())
        throw std::system_error(ec, fmt::format("quorum: cannot resolve {} (this member's {} "
                                                "address)",
                                                host, codec::to_string(c)));
      endpoint = *results.begin();
    }
    std::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::system_error(
          ec, fmt::format("quorum: cannot listen on {}:{} ({} port)",
                          endpoint.address().to_string(), port, codec::to_string(c)));
  }

  // ---- accepting ------------------------------------------------------------------------------

  void accept(tcp::acceptor& acceptor, Channel c) {
    acceptor.async_accept([this, &acceptor, c](std::error_code ec, tcp::socket socket) {
      if (stopping || !acceptor.is_open()) return;
      if (!ec) {
        std::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto conn = std::make_shared<Connection>(*this, std::move(socket), c);
        conn->remote = endpoint_text(conn->socket);
        greet_incoming(conn);
      }
      accept(acceptor, c);
    });
  }

  void greet_incoming(const std::shared_ptr<Connection>& conn) {
    pending.push_back(conn);
    arm_deadline(conn, "its hello");
    asio::async_read(conn->socket, asio::buffer(conn->hello),
                     [this, conn](std::error_code ec, std::size_t) {
                       forget_pending(conn);
                       if (ec || stopping) return conn->close();
                       const std::string why = check_hello(*conn, std::nullopt);
                       if (!why.empty()) {
                         // A peer (its hello parses) hears ours before the close, so it can
                         // log why it was refused too; anything else is just closed.
                         const bool peer = static_cast<bool>(codec::decode_hello(conn->hello));
                         return refuse(conn, why, peer);
                       }
                       conn->deadline.cancel();
                       send_hello(conn, [this, conn] { incoming_ready(conn); });
                     });
  }

  void incoming_ready(const std::shared_ptr<Connection>& conn) {
    auto& link = links.at({conn->peer, conn->channel});
    if (link->dials()) {
      // ZooKeeper's rule: the connection dialled by the larger id survives. This one came from
      // the smaller id: close it and make sure ours is on its way.
      log(LogLevel::debug,
          fmt::format("{} port: server {} dialled us; the larger id dials: closing it",
                      codec::to_string(conn->channel), conn->peer));
      conn->close();
      if (!link->conn && !link->dialling) dial(link);
      return;
    }
    ++counters.accepted;
    adopt(link, conn);
  }

  // ---- dialling -------------------------------------------------------------------------------

  void dial(const std::shared_ptr<Link>& link) {
    if (stopping) return;
    link->dialling = true;
    const TcpPeer& to = options.peers.at(link->peer);
    const std::uint16_t port =
        link->channel == Channel::election ? to.election_port : to.quorum_port;
    link->resolver.async_resolve(
        to.host, std::to_string(port),
        [this, link](std::error_code ec, tcp::resolver::results_type results) {
          if (stopping) return;
          if (ec) return dial_failed(link, fmt::format("cannot resolve: {}", ec.message()));
          auto conn = std::make_shared<Connection>(*this, tcp::socket(io), link->channel);
          conn->peer = link->peer;
          pending.push_back(conn);
          arm_deadline(conn, "connect and hello");
          asio::async_connect(conn->socket, results,
                              [this, link, conn](std::error_code ec2, const tcp::endpoint&) {
                                if (ec2 || stopping || conn->closed) {
                                  forget_pending(conn);
                                  conn->close();
                                  return dial_failed(link, ec2 ? ec2.message() : "timed out");
                                }
                                std::error_code ignored;
                                conn->socket.set_option(tcp::no_delay(true), ignored);
                                conn->remote = endpoint_text(conn->socket);
                                send_hello(conn, [this, link, conn] { await_reply(link, conn); });
                              });
        });
  }

  void await_reply(const std::shared_ptr<Link>& link, const std::shared_ptr<Connection>& conn) {
    asio::async_read(conn->socket, asio::buffer(conn->hello),
                     [this, link, conn](std::error_code ec, std::size_t) {
                       forget_pending(conn);
                       if (stopping) return conn->close();
                       if (ec || conn->closed) {
                         conn->close();
                         return dial_failed(link, ec ? ec.message() : "timed out");
                       }
                       const std::string why = check_hello(*conn, link->peer);
                       if (!why.empty()) {
                         refuse(conn, why);
                         return dial_failed(link, why);
                       }
                       conn->deadline.cancel();
                       ++counters.dialled;
                       adopt(link, conn);
                     });
  }

  void dial_failed(const std::shared_ptr<Link>& link, const std::string& why) {
    link->dialling = false;
    if (stopping) return;
    if (!link->lost_logged) {
      log(LogLevel::info, fmt::format("cannot reach server {} on its {} port yet ({}); retrying",
                                      link->peer, codec::to_string(link->channel), why));
      link->lost_logged = true;
    }
    drop_if_unreachable(*link);
    link->backoff = link->backoff.count() == 0 ? options.redial_min
                                               : std::min(options.redial_max, link->backoff * 2);
    link->dialling = true;
    link->redial.expires_after(link->backoff);
    link->redial.async_wait([this, link](std::error_code ec) {
      link->dialling = false;
      if (!ec && !stopping && !link->conn) dial(link);
    });
  }

  // ---- hellos ---------------------------------------------------------------------------------

  template <class Then>
  void send_hello(const std::shared_ptr<Connection>& conn, Then then) {
    Hello h;
    h.ensemble = options.ensemble;
    h.id = options.self;
    h.channel = conn->channel;
    conn->own_hello = std::make_shared<std::string>(codec::encode_hello(h));
    pending.push_back(conn);
    asio::async_write(conn->socket, asio::buffer(*conn->own_hello),
                      [this, conn, then](std::error_code ec, std::size_t) {
                        forget_pending(conn);
                        if (ec || stopping || conn->closed) return conn->close();
                        then();
                      });
  }

  // Why the peer's hello is refused, or empty. `expected`: the id dialled.
  std::string check_hello(Connection& conn, std::optional<ServerId> expected) {
    auto decoded = codec::decode_hello(conn.hello);
    if (!decoded) return decoded.why;
    const Hello& h = *decoded.value;
    if (h.version != Hello::current_version)
      return fmt::format("protocol version {}, this member speaks {}", h.version,
                         Hello::current_version);
    if (h.ensemble != options.ensemble)
      return fmt::format(
          "server {} has different server lines in its zoo.cfg (ensemble {:016x}, "
          "ours {:016x})",
          h.id, h.ensemble, options.ensemble);
    if (h.id == options.self) return fmt::format("it claims our own id {}", h.id);
    if (!options.peers.count(h.id)) return fmt::format("server id {} is not in zoo.cfg", h.id);
    if (expected && h.id != *expected)
      return fmt::format("it is server {}, not server {}", h.id, *expected);
    if (h.channel != conn.channel)
      return fmt::format("it speaks the {} channel on the {} port", codec::to_string(h.channel),
                         codec::to_string(conn.channel));
    conn.peer = h.id;
    return {};
  }

  // `answer`: send our hello before closing, so a peer that dialled us can say why it failed.
  void refuse(const std::shared_ptr<Connection>& conn, const std::string& why,
              bool answer = false) {
    ++counters.rejected;
    log(LogLevel::warn, fmt::format("{} port: refused the connection with {}: {}",
                                    codec::to_string(conn->channel), conn->remote, why));
    if (!answer) return conn->close();
    send_hello(conn, [conn] { conn->close(); });
  }

  void arm_deadline(const std::shared_ptr<Connection>& conn, const char* what) {
    conn->deadline.expires_after(options.connect_timeout);
    conn->deadline.async_wait([this, conn, what](std::error_code ec) {
      if (ec || conn->closed) return;
      log(LogLevel::debug, fmt::format("{} port: {} sent no {} in time: closed",
                                       codec::to_string(conn->channel), conn->remote, what));
      conn->close();
    });
  }

  void forget_pending(const std::shared_ptr<Connection>& conn) { std::erase(pending, conn); }

  // ---- a live connection ----------------------------------------------------------------------

  void adopt(const std::shared_ptr<Link>& link, const std::shared_ptr<Connection>& conn) {
    if (link->conn) {
      link->conn->close();  // a newer connection from the peer replaces it
      requeue_in_flight(*link);
    }
    link->conn = conn;
    link->dialling = false;
    link->backoff = std::chrono::milliseconds{0};
    link->lost_logged = false;
    link->writing = false;
    log(LogLevel::info, fmt::format("connected to server {} on the {} port ({})", link->peer,
                                    codec::to_string(link->channel), conn->remote));
    read_header(link, conn);
    write_some(link);
  }

  void lost(const std::shared_ptr<Link>& link, const std::shared_ptr<Connection>& conn,
            const std::string& why) {
    conn->close();
    if (link->conn != conn) return;  // already replaced
    link->conn.reset();
    link->writing = false;
    counters.dropped += link->in_flight.size();
    link->in_flight.clear();
    if (stopping) return;
    log(LogLevel::info, fmt::format("lost the {} connection with server {}: {}",
                                    codec::to_string(link->channel), link->peer, why));
    if (link->channel == Channel::quorum) {
      std::lock_guard lock(deliver_mutex);
      if (peer_lost) peer_lost(link->peer);
    }
    if (link->dials() && !link->dialling) dial(link);
  }

  void read_header(const std::shared_ptr<Link>& link, const std::shared_ptr<Connection>& conn) {
    asio::async_read(
        conn->socket, asio::buffer(conn->header),
        [this, link, conn](std::error_code ec, std::size_t) {
          if (ec || stopping) return lost(link, conn, ec ? ec.message() : "stopping");
          const std::uint32_t length = codec::frame_length(conn->header);
          const std::uint32_t max = max_frame(conn->channel);
          if (length == 0 || length > max) {
            ++counters.bad_frames;
            log(LogLevel::warn,
                fmt::format("{} port: server {} sent a frame of {} bytes (allowed 1..{}): closed",
                            codec::to_string(conn->channel), conn->peer, length, max));
            return lost(link, conn, "bad frame length");
          }
          conn->body.resize(length);
          asio::async_read(conn->socket, asio::buffer(conn->body),
                           [this, link, conn](std::error_code ec2, std::size_t) {
                             if (ec2 || stopping)
                               return lost(link, conn, ec2 ? ec2.message() : "stopping");
                             if (!deliver_frame(*conn)) return lost(link, conn, "bad frame");
                             read_header(link, conn);
                           });
        });
  }

  bool deliver_frame(Connection& conn) {
    auto decoded = codec::decode_frame_body(conn.body);
    if (decoded && codec::channel_of(*decoded.value) != conn.channel)
      decoded = {std::nullopt, make_error_code(errc::marshalling_error),
                 "a message of the other channel"};
    if (!decoded) {
      ++counters.bad_frames;
      log(LogLevel::warn, fmt::format("{} port: server {} sent a bad frame ({}): closed",
                                      codec::to_string(conn.channel), conn.peer, decoded.why));
      return false;
    }
    ++counters.received;
    if (conn.body.capacity() > 1024 * 1024) std::vector<std::uint8_t>().swap(conn.body);
    deliver_local(conn.peer, std::move(*decoded.value));
    return true;
  }

  void deliver_local(ServerId from, Message message) {
    std::lock_guard lock(deliver_mutex);
    if (deliver) deliver(from, std::move(message));
  }

  // ---- writing --------------------------------------------------------------------------------

  void enqueue(const std::shared_ptr<Link>& link, std::shared_ptr<const std::string> frame) {
    if (!link->conn && link->channel == Channel::election) {
      // Like ZooKeeper's send queue of one: only the newest vote waits for a connection.
      counters.dropped += link->queue.size();
      link->queue.clear();
      link->queued_bytes = 0;
    }
    link->queued_bytes += frame->size();
    link->queue.push_back(std::move(frame));
    if (link->queued_bytes > options.max_queued_bytes) {
      if (link->conn) {
        log(LogLevel::warn,
            fmt::format("server {} is not keeping up ({} bytes queued on the {} "
                        "port): dropping the connection",
                        link->peer, link->queued_bytes, codec::to_string(link->channel)));
        lost(link, link->conn, "too slow");
      }
      drop_if_unreachable(*link);
      return;
    }
    write_some(link);
  }

  // Without a connection, frames older than the newest max_queued_bytes are given up.
  void drop_if_unreachable(Link& link) {
    while (!link.queue.empty() && link.queued_bytes > options.max_queued_bytes) {
      link.queued_bytes -= link.queue.front()->size();
      link.queue.pop_front();
      ++counters.dropped;
    }
  }

  void requeue_in_flight(Link& link) {
    for (auto it = link.in_flight.rbegin(); it != link.in_flight.rend(); ++it) {
      link.queued_bytes += (*it)->size();
      link.queue.push_front(*it);
    }
    link.in_flight.clear();
  }

  void write_some(const std::shared_ptr<Link>& link) {
    if (link->writing || !link->conn || link->queue.empty()) return;
    std::vector<asio::const_buffer> buffers;
    std::size_t bytes = 0;
    while (!link->queue.empty() && buffers.size() < 256 && bytes < 8 * 1024 * 1024) {
      auto& frame = link->queue.front();
      buffers.emplace_back(asio::buffer(*frame));
      bytes += frame->size();
      link->queued_bytes -= frame->size();
      link->in_flight.push_back(std::move(frame));
      link->queue.pop_front();
    }
    link->writing = true;
    ++counters.batches;
    auto conn = link->conn;
    asio::async_write(conn->socket, buffers, [this, link, conn](std::error_code ec, std::size_t) {
      if (link->conn != conn) return;  // replaced or lost meanwhile
      link->writing = false;
      if (ec || stopping) return lost(link, conn, ec ? ec.message() : "stopping");
      counters.sent += link->in_flight.size();
      link->in_flight.clear();
      write_some(link);
    });
  }

  TcpOptions options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  tcp::acceptor election_acceptor;
  tcp::acceptor quorum_acceptor;
  std::map<std::pair<ServerId, Channel>, std::shared_ptr<Link>> links;  // network thread only
  std::vector<std::shared_ptr<Connection>> pending;  // before their hello: closed at stop
  bool stopping = false;                             // network thread only
  std::mutex deliver_mutex;
  Deliver deliver;
  std::function<void(ServerId)> peer_lost;  // under deliver_mutex
  Counters counters;
  const std::chrono::steady_clock::time_point origin = std::chrono::steady_clock::now();
  std::thread thread;  // last: started once everything else exists
};

TcpNetwork::TcpNetwork(TcpOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TcpNetwork::~TcpNetwork() = default;

void TcpNetwork::attach(ServerId id, Deliver deliver) {
  QUORUM_ASSERT(id == impl_->options.self, "a TcpNetwork carries one member's messages");
  std::lock_guard lock(impl_->deliver_mutex);
  impl_->deliver = std::move(deliver);
}

void TcpNetwork::detach(ServerId id) {
  QUORUM_ASSERT(id == impl_->options.self, "a TcpNetwork carries one member's messages");
  std::lock_guard lock(impl_->deliver_mutex);
  impl_->deliver = nullptr;
}

void TcpNetwork::set_peer_lost(std::function<void(ServerId)> observer) {
  std::lock_guard lock(impl_->deliver_mutex);
  impl_->peer_lost = std::move(observer);
}

void TcpNetwork::send(ServerId from, ServerId to, const Message& message) {
  QUORUM_ASSERT(from == impl_->options.self, "a TcpNetwork carries one member's messages");
  Impl& impl = *impl_;
  if (to == impl.options.self) {
    asio::post(impl.io, [&impl, message] { impl.deliver_local(impl.options.self, message); });
    return;
  }
  auto it = impl.links.find({to, codec::channel_of(message)});
  if (it == impl.links.end()) return;  // not a member: lost
  // Encoded here, on the sender's thread; the network thread only queues and writes.
  auto frame = std::make_shared<const std::string>(codec::encode_frame(message));
  asio::post(impl.io, [&impl, link = it->second, frame = std::move(frame)]() mutable {
    if (!impl.stopping) impl.enqueue(link, std::move(frame));
  });
}

Instant TcpNetwork::now() const {
  return Instant(std::chrono::steady_clock::now() - impl_->origin);
}

std::chrono::steady_clock::time_point TcpNetwork::to_steady(Instant t) const {
  return impl_->origin +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch());
}

ServerId TcpNetwork::self() const noexcept {
  return impl_->options.self;
}

TcpStats TcpNetwork::stats() const {
  const Counters& c = impl_->counters;
  return TcpStats{c.accepted.load(), c.dialled.load(),  c.rejected.load(), c.bad_frames.load(),
                  c.sent.load(),     c.received.load(), c.dropped.load(),  c.batches.load()};
}

std::uint16_t TcpNetwork::election_port() const {
  std::error_code ec;
  return impl_->election_acceptor.local_endpoint(ec).port();
}

std::uint16_t TcpNetwork::quorum_port() const {
  std::error_code ec;
  return impl_->quorum_acceptor.local_endpoint(ec).port();
}

}  // namespace quorum
