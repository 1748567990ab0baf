// Everything members send each other. Transports carry `Message` values.
#pragma once

#include <variant>

#include "quorum/election/vote.hpp"

namespace quorum {

/// A message between members. Election notifications today; the ZAB packets join this
/// variant, so transports never change when the protocol grows.
using Message = std::variant<Notification>;

}  // namespace quorum
