// The leader <-> learner packets of ZAB, with ZooKeeper's type numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/types.hpp"
#include "quorum/zab/txn.hpp"

namespace quorum {

/// ZooKeeper's packet types (Leader.java), the numbers its peers put on the wire.
enum class PacketType : std::int32_t {
  request = 1,
  proposal = 2,
  ack = 3,
  commit = 4,
  ping = 5,
  revalidate = 6,
  sync = 7,
  inform = 8,
  commit_and_activate = 9,
  newleader = 10,
  followerinfo = 11,
  uptodate = 12,
  diff = 13,
  trunc = 14,
  snap = 15,
  observerinfo = 16,
  leaderinfo = 17,
  ackepoch = 18,
  inform_and_activate = 19,
};

/// "PROPOSAL", "ACKEPOCH", … as ZooKeeper logs them.
constexpr std::string_view to_string(PacketType type) noexcept {
  switch (type) {
    case PacketType::request:
      return "REQUEST";
    case PacketType::proposal:
      return "PROPOSAL";
    case PacketType::ack:
      return "ACK";
    case PacketType::commit:
      return "COMMIT";
    case PacketType::ping:
      return "PING";
    case PacketType::revalidate:
      return "REVALIDATE";
    case PacketType::sync:
      return "SYNC";
    case PacketType::inform:
      return "INFORM";
    case PacketType::commit_and_activate:
      return "COMMITANDACTIVATE";
    case PacketType::newleader:
      return "NEWLEADER";
    case PacketType::followerinfo:
      return "FOLLOWERINFO";
    case PacketType::uptodate:
      return "UPTODATE";
    case PacketType::diff:
      return "DIFF";
    case PacketType::trunc:
      return "TRUNC";
    case PacketType::snap:
      return "SNAP";
    case PacketType::observerinfo:
      return "OBSERVERINFO";
    case PacketType::leaderinfo:
      return "LEADERINFO";
    case PacketType::ackepoch:
      return "ACKEPOCH";
    case PacketType::inform_and_activate:
      return "INFORMANDACTIVATE";
  }
  return "UNKNOWN";
}

/// ZooKeeper's learner protocol version, sent in FOLLOWERINFO and LEADERINFO.
inline constexpr std::int32_t learner_protocol_version = 0x10000;

/// One ZAB packet: ZooKeeper's QuorumPacket{type, zxid, data}, plus our batching frame.
///
/// Field use follows ZooKeeper: FOLLOWERINFO zxid = (acceptedEpoch, 0); LEADERINFO and
/// NEWLEADER zxid = (newEpoch, 0); ACKEPOCH zxid = last logged zxid and `epoch` = currentEpoch
/// or -1 (already acked this epoch); ACK and COMMIT zxid = the acked/committed zxid, which we
/// treat as cumulative (every zxid up to it); TRUNC zxid = truncate-to; DIFF/SNAP zxid as
/// zk-reference §2.5. A PROPOSAL carries one or more txns in `txns` (batching); REQUEST
/// carries the txns a learner forwards. `data` holds SNAP's image or NEWLEADER's config.
struct QuorumPacket {
  PacketType type = PacketType::ping;
  Zxid zxid;
  std::int64_t epoch = 0;
  std::vector<Txn> txns;
  std::string data;

  friend bool operator==(const QuorumPacket&, const QuorumPacket&) = default;
};

}  // namespace quorum
