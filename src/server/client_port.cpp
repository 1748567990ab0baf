#include "quorum/server/client_port.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "four_letter_words.hpp"
#include "quorum/version.hpp"
#include "zk_connection.hpp"

namespace quorum::server {

using asio::ip::tcp;

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

  // What a word needs, gathered now (on the port's thread).
  WordInputs inputs() {
    WordInputs in;
    if (options.report) {
      in.report = options.report();
    } else if (options.state) {
      in.report.state = options.state();
    }
    std::erase_if(zk_connections, [](const auto& w) { return w.expired(); });
    for (const auto& w : zk_connections)
      if (auto c = w.lock()) in.connections.push_back(std::move(c));
    in.counters = PortCounters{stats.received,     stats.sent,          connections.load(),
                               stats.outstanding,  stats.latency.min(), stats.latency.avg(),
                               stats.latency.max()};
    in.conf = options.conf ? options.conf() : std::string();
    return in;
  }

  std::string answer(const std::string& word, const tcp::socket* asker = nullptr) {
    if (!allowed(word)) return word + " is not executed because it is not in the whitelist.\n";
    WordInputs in = inputs();
    std::error_code ec;
    if (asker)
      if (const auto peer = asker->remote_endpoint(ec); !ec)
        in.asker = fmt::format("/{}:{}[1](queued=0,recved=1,sent=0)", peer.address().to_string(),
                               peer.port());
    if (word == "crst")
      for (const auto& c : in.connections) c->reset_stats();
    if (word == "srst") stats.reset();
    return word_text(word, in);
  }

  // Runs `f` on the port's thread and waits for its result.
  template <class F>
  auto on_port_thread(F f) {
    std::promise<decltype(f())> promise;
    auto future = promise.get_future();
    asio::post(io, [&] { promise.set_value(f()); });
    return future.get();
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
        auto zk = std::make_shared<ZkConnection>(std::move(c->socket), io, options.sessions,
                                                 options.max_packet, c->word, c, stats);
        zk_connections.push_back(zk);
        zk->start();
        return;
      }
      ++stats.received;
      c->reply = answer(word, &c->socket);
      asio::async_write(c->socket, asio::buffer(c->reply),
                        [this, c](std::error_code ec2, std::size_t) {
                          if (!ec2) ++stats.sent;
                          std::error_code ignored;
                          c->timer.cancel();
                          c->socket.shutdown(tcp::socket::shutdown_both, ignored);
                          c->socket.close(ignored);
                        });
    });
  }

  ClientPortOptions options;
  std::atomic<std::uint64_t> connections{0};
  PortStats stats;  // on the port's thread only
  std::vector<std::weak_ptr<ZkConnection>> zk_connections;
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

std::string ClientPort::json(const std::string& command) const {
  return impl_->on_port_thread([&] { return word_json(command, impl_->inputs()).dump(); });
}

std::string ClientPort::text(const std::string& word) const {
  return impl_->on_port_thread([&] { return impl_->answer(word); });
}

}  // namespace quorum::server
