// The member's client port (ZooKeeper's clientPort). A connection whose first four bytes are a
// four-letter word gets its text answer and is closed, as ZooKeeper does (zk-reference §8.1);
// `srvr` (always allowed, zkServer.sh status relies on it), `ruok` and `isro` are answered
// here. Anything else is closed: ZooKeeper's session protocol on this port comes with the
// client wire protocol. Runs on a thread of its own; the member's state comes from a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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
  std::function<void(const std::string&)> log;
};

/// `srvr`'s text for `state` (ZooKeeper 3.8's lines; a member not serving answers the line
/// "This ZooKeeper instance is not currently serving requests").
QUORUM_API std::string srvr_text(const ServerState& state);

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
