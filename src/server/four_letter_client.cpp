#include "quorum/server/four_letter_client.hpp"

#include <asio.hpp>

#include <array>
#include <sstream>

namespace quorum::server {

std::optional<std::string> ask_four_letter_word(const std::string& host, std::uint16_t port,
                                                const std::string& word,
                                                std::chrono::milliseconds timeout,
                                                std::string* why) {
  using asio::ip::tcp;
  asio::io_context io;
  tcp::socket socket(io);
  tcp::resolver resolver(io);
  std::string answer;
  std::error_code failure;
  bool done = false;
  asio::steady_timer timer(io, timeout);
  timer.async_wait([&](std::error_code ec) {
    if (ec) return;
    failure = make_error_code(asio::error::timed_out);
    std::error_code ignored;
    resolver.cancel();
    socket.close(ignored);
  });
  std::array<char, 4096> buffer{};
  std::function<void()> read_more = [&] {
    socket.async_read_some(asio::buffer(buffer), [&](std::error_code ec, std::size_t n) {
      answer.append(buffer.data(), n);
      if (ec) {
        if (ec != asio::error::eof && !failure) failure = ec;
        done = !failure;
        timer.cancel();
        return;
      }
      read_more();
    });
  };
  resolver.async_resolve(host, std::to_string(port), [&](std::error_code ec, auto results) {
    if (ec) {
      if (!failure) failure = ec;
      timer.cancel();
      return;
    }
    asio::async_connect(socket, results, [&](std::error_code ec2, const tcp::endpoint&) {
      if (ec2) {
        if (!failure) failure = ec2;
        timer.cancel();
        return;
      }
      asio::async_write(socket, asio::buffer(word), [&](std::error_code ec3, std::size_t) {
        if (ec3) {
          if (!failure) failure = ec3;
          timer.cancel();
          return;
        }
        std::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        read_more();
      });
    });
  });
  io.run();
  if (!done) {
    if (why) *why = failure ? failure.message() : "no answer";
    return std::nullopt;
  }
  return answer;
}

std::string mode_of(const std::string& srvr_answer) {
  std::istringstream in(srvr_answer);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Mode: ", 0) == 0) return line.substr(6);
  return {};
}

}  // namespace quorum::server
