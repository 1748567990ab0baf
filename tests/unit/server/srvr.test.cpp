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

TEST_CASE("the client port's words as text and as JSON, whitelist applied to text only") {
  ClientPortOptions o;
  o.address = "127.0.0.1";
  o.four_letter_words = {"mntr"};
  o.state = [] { return ServerState{true, "leader", Zxid::make(1, 7), 5}; };
  o.conf = [] { return std::string("clientPort=2181\n"); };
  server::ClientPort port(std::move(o));
  CHECK(port.text("srvr").find("Mode: leader\n") != std::string::npos);
  CHECK(port.text("mntr").find("zk_server_state\tleader\n") != std::string::npos);
  CHECK(port.text("conf") == "conf is not executed because it is not in the whitelist.\n");
  const std::string srvr = port.json("srvr");
  CHECK(srvr.find("\"server_state\":\"leader\"") != std::string::npos);
  CHECK(srvr.find("\"zxid\":4294967303") != std::string::npos);
  CHECK(port.json("conf").find("\"text\":\"clientPort=2181\\n\"") != std::string::npos);
  CHECK(port.json("frob").find("\"error\"") != std::string::npos);
}
