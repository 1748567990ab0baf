#include "quorum/server/client_port.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <atomic>
#include <thread>

#include "quorum/version.hpp"
#include "zk_connection.hpp"

namespace quorum::server {

using asio::ip::tcp;

std::string srvr_text(const ServerState& s, const PortCounters& c) {
  if (!s.serving) return "This ZooKeeper instance is not currently serving requests\n";
  std::string out =
      fmt::format("Zookeeper version: 3.8.0-quorum-{}, built on unknown\n", version_string);
  out += "Latency min/avg/max: 0/0.0/0\n";
  out += fmt::format("Received: {}\nSent: {}\nConnections: {}\nOutstanding: 0\n", c.received,
                     c.sent, c.connections);
  out += fmt::format("Zxid: {:#x}\n",
                     static_cast<std::uint64_t>(std::max<std::int64_t>(s.zxid.value, 0)));
  out += fmt::format("Mode: {}\n", s.mode);
  out += fmt::format("Node count: {}\n", s.node_count);
  if (s.mode == "leader") out += "Proposal sizes last/min/max: -1/-1/-1\n";
  return out;
}

struct ClientPort::Impl {
  explicit Impl(ClientPortOptions o) : options(std::move(o)), acceptor(io) {
    std::error_code ec;
    const auto address = asio::ip::make_address(options.address, ec);
    tcp::endpoint endpoint(address, options.port);
    if (!ec) acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::system_error(ec, fmt::format("quorum: cannot listen on client port {}:{}",
                                              options.address, options.port));
    accept();
    thread = std::thread([this] { io.run(); });
  }
  ~Impl() {
    io.stop();
    if (thread.joinable()) thread.join();
  }

  bool allowed(const std::string& word) const {
    if (word == "srvr") return true;
    const auto& list = options.four_letter_words;
    return std::find(list.begin(), list.end(), "*") != list.end() ||
           std::find(list.begin(), list.end(), word) != list.end();
  }

  std::string answer(const std::string& word) const {
    if (!allowed(word)) return word + " is not executed because it is not in the whitelist.\n";
    const ServerState s = options.state ? options.state() : ServerState{};
    if (word == "srvr")
      return srvr_text(s, PortCounters{received.load(), sent.load(), connections.load()});
    if (word == "ruok") return "imok";
    if (word == "isro") return s.serving ? "rw" : "null";
    return {};
  }

  // Counts itself among the open connections for as long as it lives.
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(tcp::socket s, asio::io_context& io, std::atomic<std::uint64_t>& open)
        : socket(std::move(s)), timer(io), open_count(open) {
      ++open_count;
    }
    ~Connection() { --open_count; }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    tcp::socket socket;
    asio::steady_timer timer;
    std::array<char, 4> word{};
    std::string reply;
    std::atomic<std::uint64_t>& open_count;
  };

  void accept() {
    acceptor.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (!ec) serve(std::make_shared<Connection>(std::move(socket), io, connections));
      accept();
    });
  }

  void serve(const std::shared_ptr<Connection>& c) {
    // A client that sends nothing is closed after 5 s (the reference clients' own timeout).
    c->timer.expires_after(std::chrono::seconds(5));
    c->timer.async_wait([c](std::error_code ec) {
      if (!ec) c->socket.close(ec);
    });
    asio::async_read(c->socket, asio::buffer(c->word), [this, c](std::error_code ec, std::size_t) {
      if (ec) return;
      const std::string word(c->word.data(), c->word.size());
      static const char* const known[] = {"conf", "cons", "crst", "dirs", "dump", "envi",
                                          "gtmk", "ruok", "stmk", "srst", "srvr", "stat",
                                          "wchc", "wchp", "wchs", "mntr", "isro", "hash"};
      const bool is_word =
          std::any_of(std::begin(known), std::end(known), [&](const char* k) { return word == k; });
      if (!is_word) {
        std::error_code ignored;
        c->timer.cancel();
        if (!options.sessions) {
          if (options.log)
            options.log(
                "client port: a ZooKeeper session request, and no member to serve it: "
                "closed");
          c->socket.close(ignored);
          return;
        }
        std::make_shared<ZkConnection>(std::move(c->socket), io, options.sessions,
                                       options.max_packet, c->word, c)
            ->start();
        return;
      }
      ++received;
      c->reply = answer(word);
      asio::async_write(c->socket, asio::buffer(c->reply),
                        [this, c](std::error_code ec2, std::size_t) {
                          if (!ec2) ++sent;
                          std::error_code ignored;
                          c->timer.cancel();
                          c->socket.shutdown(tcp::socket::shutdown_both, ignored);
                          c->socket.close(ignored);
                        });
    });
  }

  ClientPortOptions options;
  std::atomic<std::uint64_t> received{0}, sent{0}, connections{0};
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
};

ClientPort::ClientPort(ClientPortOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ClientPort::~ClientPort() = default;

std::uint16_t ClientPort::port() const {
  std::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

}  // namespace quorum::server
