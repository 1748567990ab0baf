// The member's client port (ZooKeeper's clientPort). A connection whose first four bytes are a
// four-letter word gets its text answer and is closed, as ZooKeeper does (zk-reference §8.1);
// `srvr` (always allowed, zkServer.sh status relies on it), `ruok` and `isro` are answered
// here. Any other connection speaks ZooKeeper's client protocol (src/server/zk_connection):
// sessions, reads, writes, watches. Runs on a thread of its own; the member's state comes from
// a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "quorum/client/session.hpp"
#include "quorum/config.hpp"
#include "quorum/types.hpp"

namespace quorum::server {

/// What `srvr` reports, as of the call.
struct ServerState {
  bool serving = false;
  std::string mode;  ///< leader, follower, standalone
  Zxid zxid;         ///< last applied
  std::size_t node_count = 0;
};

struct ClientPortOptions {
  std::string address = "0.0.0.0";  ///< clientPortAddress (every interface by default)
  std::uint16_t port = 0;           ///< 0: any free port (see ClientPort::port())
  /// 4lw.commands.whitelist: `*` for all; `srvr` is always allowed.
  std::vector<std::string> four_letter_words{"srvr"};
  std::function<ServerState()> state;
  /// The member's client calls (Node::client_port()): with them, connections that are not a
  /// four-letter word speak ZooKeeper's client protocol; without, they are closed.
  std::shared_ptr<quorum::ClientPort> sessions;
  /// The largest packet accepted (jute.maxbuffer, 1 MiB, plus header room); a longer length
  /// prefix closes the connection, as ZooKeeper does.
  std::uint32_t max_packet = 1024 * 1024 + 1024;
  std::function<void(const std::string&)> log;
};

/// What the client port itself counts, for `srvr`'s Received / Sent / Connections lines.
struct PortCounters {
  std::uint64_t received = 0;     ///< requests read (four-letter words so far)
  std::uint64_t sent = 0;         ///< answers written
  std::uint64_t connections = 0;  ///< open now
};

/// `srvr`'s text (ZooKeeper 3.8's lines; a member not serving answers the line
/// "This ZooKeeper instance is not currently serving requests"). Latency and Outstanding are
/// about client requests, which this port does not take yet: 0/0.0/0 and 0, as ZooKeeper
/// prints them before its first request.
QUORUM_API std::string srvr_text(const ServerState& state, const PortCounters& counters = {});

class QUORUM_API ClientPort {
 public:
  /// Binds and starts serving; std::system_error naming the address when it cannot bind.
  explicit ClientPort(ClientPortOptions options);
  ClientPort(const ClientPort&) = delete;
  ClientPort& operator=(const ClientPort&) = delete;
  ~ClientPort();

  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorum::server
