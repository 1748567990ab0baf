// Everything members send each other. Transports carry `Message` values.
#pragma once

#include <variant>

#include "quorum/election/vote.hpp"
#include "quorum/zab/packets.hpp"

namespace quorum {

/// A message between members: an election notification (ZooKeeper's election port) or a ZAB
/// packet (its quorum port). Transports never look inside.
using Message = std::variant<Notification, QuorumPacket>;

}  // namespace quorum
