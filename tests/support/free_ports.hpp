// Ports on 127.0.0.1 nothing listens on right now: bound to port 0, noted, released. Another
// process could take one in between; on a test machine's loopback that is rare enough.
#pragma once

#include <cstdint>
#include <vector>

#include <asio.hpp>  // after a standard header, like everywhere (see src/server/zk_connection.hpp)

namespace quorum::test {

inline std::vector<std::uint16_t> free_ports(std::size_t n) {
  asio::io_context io;
  std::vector<asio::ip::tcp::acceptor> held;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < n; ++i) {
    held.emplace_back(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ports.push_back(held.back().local_endpoint().port());
  }
  return ports;
}

}  // namespace quorum::test
