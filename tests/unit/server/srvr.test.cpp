// srvr's text, line for line as ZooKeeper 3.8 prints it (zk-reference §8.2).
#include "quorum/server/client_port.hpp"

#include "support/catch.hpp"

#include <string>

#include "quorum/server/four_letter_client.hpp"
#include "quorum/version.hpp"

using namespace quorum;
using namespace quorum::server;

TEST_CASE("srvr: a leader's lines, with the port's own counters", "[srvr]") {
  const ServerState leader{true, "leader", Zxid::make(1, 0x2a), 5};
  const std::string text = srvr_text(leader, PortCounters{3, 2, 1});
  CHECK(text == std::string("Zookeeper version: 3.8.0-quorum-") + version_string +
                    ", built on unknown\n"
                    "Latency min/avg/max: 0/0.0/0\n"
                    "Received: 3\n"
                    "Sent: 2\n"
                    "Connections: 1\n"
                    "Outstanding: 0\n"
                    "Zxid: 0x10000002a\n"
                    "Mode: leader\n"
                    "Node count: 5\n"
                    "Proposal sizes last/min/max: -1/-1/-1\n");
  CHECK(mode_of(text) == "leader");
}

TEST_CASE("srvr: only the leader has the proposal sizes line; not serving has no Mode", "[srvr]") {
  const std::string follower = srvr_text(ServerState{true, "follower", Zxid::make(2, 1), 4});
  CHECK(follower.find("Mode: follower\n") != std::string::npos);
  CHECK(follower.find("Proposal sizes") == std::string::npos);
  CHECK(mode_of(follower) == "follower");
  const std::string looking = srvr_text(ServerState{false, "", Zxid::none(), 0});
  CHECK(looking == "This ZooKeeper instance is not currently serving requests\n");
  CHECK(mode_of(looking).empty());
}
