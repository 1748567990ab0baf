// zoo.cfg and myid as ZooKeeper reads them (zk-reference §9.1): Java-properties lines, the keys
// an ensemble needs, `server.A=B:C:D[:participant|observer][;[clientHost:]clientPort]`. The same
// settings can be built in C++ (ZooConfig is a plain struct) and turned into a NodeConfig.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/node/reply.hpp"
#include "quorum/types.hpp"

namespace quorum::config {

/// A configuration that cannot run: the message names the file, the line and what is wrong
/// ("zoo.cfg:7: server.2: the quorum port and the election port are both 2888").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class PeerRole { participant, observer };

struct HostPort {
  std::string host;  ///< a name (resolved when used) or an address; empty = every interface
  std::uint16_t port = 0;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

/// One `server.A=B:C:D...` line.
struct ServerEntry {
  ServerId id = 0;
  std::string host;
  std::uint16_t quorum_port = 0;    ///< C: followers to the leader
  std::uint16_t election_port = 0;  ///< D: leader election
  PeerRole role = PeerRole::participant;
  std::optional<HostPort> client;  ///< after `;`: this server's client address
  int line = 0;                    ///< where it was read (0 when built in C++)
  friend bool operator==(const ServerEntry&, const ServerEntry&) = default;
};

struct ZooConfig {
  std::string source = "zoo.cfg";  ///< the file name errors and warnings cite
  int tick_time_ms = 3000;
  int init_limit = 0;  ///< required with more than one server
  int sync_limit = 0;  ///< required with more than one server
  std::filesystem::path data_dir;
  std::filesystem::path data_log_dir;  ///< empty: dataDir
  std::optional<std::uint16_t> client_port;
  std::string client_port_address;  ///< empty: every interface
  int max_client_cnxns = 60;
  int min_session_timeout_ms = -1;  ///< -1: 2 × tickTime
  int max_session_timeout_ms = -1;  ///< -1: 20 × tickTime
  int snap_retain_count = 3;
  int purge_interval_hours = 0;
  std::uint64_t snap_count = 100'000;
  bool standalone_enabled = true;
  /// Election timing (ms). fastleader.minNotificationInterval / maxNotificationInterval are
  /// ZooKeeper's (zookeeper.fastleader.*: the re-send interval while LOOKING, doubling);
  /// fastleader.finalizeWait is ours (ZooKeeper's is a fixed 200 ms): how long a member that
  /// sees a quorum for its vote waits for a better one. A LAN can use a few tens of ms.
  int finalize_wait_ms = 200;
  int min_notification_interval_ms = 200;
  int max_notification_interval_ms = 60'000;
  std::vector<std::string> four_letter_words{"srvr"};  ///< 4lw.commands.whitelist
  std::vector<ServerEntry> servers;
  /// Unknown keys, duplicates, even or oversized ensembles: "zoo.cfg:9: ..." each.
  std::vector<std::string> warnings;

  std::vector<ServerId> voters() const;
  const ServerEntry* server(ServerId id) const;
  /// ZooKeeper's rule: no server lines, or one participant with standaloneEnabled.
  bool standalone() const;
  std::filesystem::path log_dir() const { return data_log_dir.empty() ? data_dir : data_log_dir; }
};

/// Parses zoo.cfg text; `source` names it in messages. Throws ConfigError at the first error;
/// what is only doubtful goes to `warnings`.
QUORUM_API ZooConfig parse_zoo_cfg(std::string_view text, std::string source = "zoo.cfg");

/// Reads and parses a zoo.cfg file (ConfigError when it cannot be read).
QUORUM_API ZooConfig load_zoo_cfg(const std::filesystem::path& file);

/// The id in `data_dir/myid` (ASCII decimal, first line). Throws ConfigError naming the file.
QUORUM_API ServerId read_myid(const std::filesystem::path& data_dir);

/// Checks that `self` (from myid) has a server line in `config`. Throws ConfigError.
QUORUM_API void check_member(const ZooConfig& config, ServerId self);

/// What two members must agree on to form one ensemble: every server line (id, host, ports,
/// role), as a 64-bit fingerprint. A member whose lines differ is refused at the handshake.
QUORUM_API std::uint64_t ensemble_identity(const ZooConfig& config);

/// The member settings a zoo.cfg implies for `self`: voters, tick, limits, session bounds,
/// snapCount.
QUORUM_API NodeConfig node_config(const ZooConfig& config, ServerId self);

/// The membership as ZooKeeper publishes it in /zookeeper/config: one
/// `server.N=host:quorumPort:electionPort:participant[;clientHost:clientPort]` line per server,
/// then `version=0` (a static configuration's version). Empty for a standalone server.
QUORUM_API std::string membership_text(const ZooConfig& config);

/// What the four-letter word `conf` prints for member `self` (ZooKeeper 3.8's keys and order:
/// clientPort ... serverId, the quorum keys, then `membership:` and membership_text()). The
/// directory sizes are measured now.
QUORUM_API std::string conf_text(const ZooConfig& config, ServerId self);

}  // namespace quorum::config
