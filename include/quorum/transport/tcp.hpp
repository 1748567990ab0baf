// Members in different processes or machines, over TCP (standalone Asio), as ZooKeeper's
// QuorumCnxManager connects them: a listener on the election port and one on the quorum port
// of `server.A=B:C:D`; between two members one connection per port, the one dialled by the
// larger id; a hello on each new connection (protocol version, ensemble identity, server id)
// that refuses strangers with a log line; length-prefixed frames whose size is checked before
// anything is allocated; queued frames written together (gather I/O, TCP_NODELAY); redial with
// a capped backoff. I/O runs on the network's own thread; arriving messages are handed to the
// attached member (which queues them for its own thread). The implementation is compiled
// (src/transport/tcp_network.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "quorum/codec/peer_codec.hpp"
#include "quorum/concepts.hpp"
#include "quorum/config.hpp"
#include "quorum/message.hpp"
#include "quorum/types.hpp"

namespace quorum {

namespace config {
struct ZooConfig;
}

enum class LogLevel { debug, info, warn, error };
QUORUM_API const char* to_string(LogLevel level) noexcept;

/// Where a member is reached: the host (a name or an address) and its two ports.
struct TcpPeer {
  std::string host;
  std::uint16_t quorum_port = 0;
  std::uint16_t election_port = 0;
};

struct TcpOptions {
  ServerId self = 0;
  /// Every member, this one included (its entry says where to listen).
  std::map<ServerId, TcpPeer> peers;
  /// What the hello carries: members whose server lines differ refuse each other.
  std::uint64_t ensemble = 0;
  /// Listen on every interface instead of this member's host (quorumListenOnAllIPs).
  bool listen_on_all_ips = false;
  /// The largest frame accepted: ZooKeeper's 512 KiB on the election port; the quorum port
  /// carries SNAP images (a whole tree), so its limit is much larger.
  std::uint32_t max_election_frame = 512 * 1024;
  std::uint32_t max_quorum_frame = 1024u * 1024u * 1024u;
  /// Connect, and hello, within this (ZooKeeper's cnxTimeout).
  std::chrono::milliseconds connect_timeout{5000};
  /// Redial after a failure: first wait, doubled up to the cap.
  std::chrono::milliseconds redial_min{20};
  std::chrono::milliseconds redial_max{1000};
  /// Bytes queued for one peer's quorum channel before its connection is dropped as too slow
  /// (the protocols recover from the loss).
  std::size_t max_queued_bytes = 256u * 1024u * 1024u;
  /// One line per event that matters; none when empty.
  std::function<void(LogLevel, const std::string&)> log;

  /// The options a zoo.cfg implies for member `self`.
  static TcpOptions from(const config::ZooConfig& config, ServerId self);
};

/// Counters for tests and metrics.
struct TcpStats {
  std::uint64_t connections_accepted = 0;  ///< hellos that passed
  std::uint64_t connections_dialled = 0;   ///< dials whose hello passed
  std::uint64_t rejected_hellos = 0;       ///< bad magic or version, wrong ensemble, unknown id
  std::uint64_t bad_frames = 0;            ///< oversized, empty or undecodable
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t frames_dropped = 0;  ///< given up while a peer was unreachable or too slow
  std::uint64_t write_batches = 0;   ///< gathered writes (frames_sent / write_batches per write)
};

/// One member's end of the network. Thread-safe. Binds its listeners in the constructor
/// (std::system_error naming the address when it cannot) and stops its thread in the
/// destructor.
class QUORUM_API TcpNetwork {
 public:
  /// Called on the network's thread; must queue and return.
  using Deliver = std::function<void(ServerId from, Message message)>;

  explicit TcpNetwork(TcpOptions options);
  TcpNetwork(const TcpNetwork&) = delete;
  TcpNetwork& operator=(const TcpNetwork&) = delete;
  ~TcpNetwork();

  /// Messages for `id` (this member) go to `deliver` from now on.
  void attach(ServerId id, Deliver deliver);
  /// No more deliveries; when it returns none is in progress.
  void detach(ServerId id);
  /// Called (on the network's thread) when an established quorum-port connection to a peer
  /// breaks; the member's thread should hear of it (Node wires this to connection_lost).
  /// When it returns, no call of the previous observer is in progress.
  void set_peer_lost(std::function<void(ServerId peer)> observer);
  /// Queues `message` for `to`; lost if `to` stays unreachable (the protocols retry).
  void send(ServerId from, ServerId to, const Message& message);

  /// Real time as protocol time.
  Instant now() const;
  std::chrono::steady_clock::time_point to_steady(Instant t) const;

  ServerId self() const noexcept;
  TcpStats stats() const;
  /// The ports actually bound (useful when the options asked for port 0 in tests).
  std::uint16_t election_port() const;
  std::uint16_t quorum_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One member's handle on its TcpNetwork: the Transport policy.
class AsioTcpTransport {
 public:
  using Network = TcpNetwork;
  AsioTcpTransport(TcpNetwork& network, ServerId self) noexcept : network_(&network), self_(self) {}
  void send(ServerId to, const Message& message) { network_->send(self_, to, message); }
  ServerId self() const noexcept { return self_; }

 private:
  TcpNetwork* network_;
  ServerId self_;
};

static_assert(Transport<AsioTcpTransport>, "AsioTcpTransport must satisfy quorum::Transport");

}  // namespace quorum
