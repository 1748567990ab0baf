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

/// What the member's own thread knows, for the words that report on sessions, watches and
/// the tree (mntr, wchs, wchc, wchp, dump). ClientPortOptions::report gathers it there
/// (member_report() in quorum/server/member_report.hpp does it for a Node).
struct MemberReport {
  ServerState state;
  std::string peer_state;       ///< mntr's zk_peer_state: "leading - broadcast", "following - ..."
  std::size_t quorum_size = 0;  ///< voters
  std::size_t learners = 0;     ///< leader only: followers connected
  std::size_t synced_followers = 0;         ///< leader only: followers in broadcast
  std::uint64_t approximate_data_size = 0;  ///< bytes of data and paths in the tree
  struct Session {
    std::int64_t id = 0;
    std::int32_t timeout_ms = 0;
    std::vector<std::string> ephemerals;
  };
  std::vector<Session> sessions;  ///< every session the tree holds, by id
  /// This member's watch registrations: (session, path, is_data_watch), by path then session.
  struct Watch {
    std::int64_t session = 0;
    std::string path;
    bool data = true;  ///< a data-kind watch (getData/exists/persistent); else children only
  };
  std::vector<Watch> watches;
};

struct ClientPortOptions {
  std::string address = "0.0.0.0";  ///< clientPortAddress (every interface by default)
  std::uint16_t port = 0;           ///< 0: any free port (see ClientPort::port())
  /// 4lw.commands.whitelist: `*` for all; `srvr` is always allowed.
  std::vector<std::string> four_letter_words{"srvr"};
  std::function<ServerState()> state;
  /// The fuller report (mntr, wchs, wchc, wchp, dump); without it they report what `state`
  /// says and no sessions or watches.
  std::function<MemberReport()> report;
  /// `conf`'s text (config::conf_text()); empty: conf answers with the port's own lines.
  std::function<std::string()> conf;
  /// The member's client calls (Node::client_port()): with them, connections that are not a
  /// four-letter word speak ZooKeeper's client protocol; without, they are closed.
  std::shared_ptr<quorum::ClientPort> sessions;
  /// The largest packet accepted: jute.maxbuffer, whose default is 0xfffff (1 MiB - 1); a
  /// longer length prefix closes the connection, as ZooKeeper's readLength does.
  std::uint32_t max_packet = 0xfffff;
  std::function<void(const std::string&)> log;
};

/// What the client port itself counts, for `srvr`'s Received / Sent / Connections lines.
struct PortCounters {
  std::uint64_t received = 0;     ///< packets read
  std::uint64_t sent = 0;         ///< packets written
  std::uint64_t connections = 0;  ///< open now
  std::int64_t outstanding = 0;   ///< requests in flight
  std::int64_t min_latency_ms = 0;
  double avg_latency_ms = 0;
  std::int64_t max_latency_ms = 0;
};

/// `srvr`'s text (ZooKeeper 3.8's lines; a member not serving answers the line
/// "This ZooKeeper instance is not currently serving requests").
QUORUM_API std::string srvr_text(const ServerState& state, const PortCounters& counters = {});

class QUORUM_API ClientPort {
 public:
  /// Binds and starts serving; std::system_error naming the address when it cannot bind.
  explicit ClientPort(ClientPortOptions options);
  ClientPort(const ClientPort&) = delete;
  ClientPort& operator=(const ClientPort&) = delete;
  ~ClientPort();

  std::uint16_t port() const;

  /// The four-letter word `command` (srvr, stat, mntr, conf, cons, envi, wchs, wchc, wchp,
  /// dump, ruok, isro) as a JSON document, for a service to serve on its own HTTP endpoint
  /// (the fields of ZooKeeper's AdminServer where it has them). Not limited by the whitelist;
  /// an unknown command gives {"error": ...}. Not from the port's own thread.
  std::string json(const std::string& command) const;
  /// The text a four-letter word gets on the port (whitelist applied).
  std::string text(const std::string& word) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorum::server
