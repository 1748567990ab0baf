// The transport members use inside the simulator.
#pragma once

#include "quorum/concepts.hpp"
#include "quorum/sim/network.hpp"

namespace quorum {

/// One member's handle on a `sim::Network`: what it sends goes through the network's seeded
/// faults and arrives in virtual time. The network must outlive the transport.
class SimTransport {
 public:
  SimTransport(sim::Network& network, ServerId self) noexcept : network_(&network), self_(self) {}

  void send(ServerId to, const Message& message) { network_->send(self_, to, message); }

  ServerId self() const noexcept { return self_; }

 private:
  sim::Network* network_;
  ServerId self_;
};

static_assert(Transport<SimTransport>, "SimTransport must satisfy quorum::Transport");

}  // namespace quorum
