// zoo.cfg and myid: the seed's file, Java-properties syntax, and every error naming file and
// line.
#include "quorum/config/zoo_cfg.hpp"

#include "support/catch.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

using namespace quorum;
using namespace quorum::config;

namespace {

// The seed's zoo.cfg (three servers, node1..node3 from /etc/hosts).
const char* const seed_cfg = R"(# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
syncLimit=5
dataDir=/opt/zookeeper/data
clientPort=2181
server.1=node1:2888:3888
server.2=node2:2888:3888
server.3=node3:2888:3888
)";

std::string error_of(const std::string& text) {
  try {
    parse_zoo_cfg(text, "zoo.cfg");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

const std::string base = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n";

}  // namespace

TEST_CASE("the seed's zoo.cfg: three participants with their ports", "[config]") {
  const ZooConfig c = parse_zoo_cfg(seed_cfg);
  CHECK(c.tick_time_ms == 2000);
  CHECK(c.init_limit == 10);
  CHECK(c.sync_limit == 5);
  CHECK(c.data_dir == "/opt/zookeeper/data");
  CHECK(c.log_dir() == "/opt/zookeeper/data");
  CHECK(c.client_port == std::uint16_t{2181});
  REQUIRE(c.servers.size() == 3);
  CHECK(c.servers[1] == ServerEntry{2, "node2", 2888, 3888, PeerRole::participant, {}, 10});
  CHECK(c.voters() == std::vector<ServerId>{1, 2, 3});
  CHECK_FALSE(c.standalone());
  CHECK(c.warnings.empty());
  // Defaults derived from tickTime, as ZooKeeper derives them.
  CHECK(c.min_session_timeout_ms == 4000);
  CHECK(c.max_session_timeout_ms == 40000);
}

TEST_CASE("Java properties syntax: separators, comments, whitespace, continuation", "[config]") {
  const ZooConfig c = parse_zoo_cfg(
      "  # indented comment\n"
      "! bang comment\n"
      "\n"
      "tickTime : 1000  \n"
      "initLimit 7\r\n"
      "syncLimit\t=\t3\n"
      "dataDir=/var/lib/\\\n"
      "    quorum\n"
      "dataLogDir = /fast/log\n"
      "server.2 = 127.0.0.1:2889:3889:participant;127.0.0.1:2182\n"
      "server.1=127.0.0.1:2888:3888;2181\n"
      "server.3=[::1]:2890:3890\n");
  CHECK(c.tick_time_ms == 1000);
  CHECK(c.init_limit == 7);
  CHECK(c.sync_limit == 3);
  CHECK(c.data_dir == "/var/lib/quorum");
  CHECK(c.log_dir() == "/fast/log");
  REQUIRE(c.servers.size() == 3);
  CHECK(c.servers[0].id == 1);  // sorted by id
  CHECK(c.servers[0].client == HostPort{"", 2181});
  CHECK(c.servers[1].client == HostPort{"127.0.0.1", 2182});
  CHECK(c.servers[2].host == "::1");
  CHECK(c.servers[2].quorum_port == 2890);
}

TEST_CASE("a single server, or none, is standalone", "[config]") {
  CHECK(parse_zoo_cfg("dataDir=/d\nclientPort=2181\n").standalone());
  CHECK(parse_zoo_cfg("dataDir=/d\nclientPort=2181\nserver.1=h:2888:3888\n").standalone());
  CHECK_FALSE(parse_zoo_cfg("dataDir=/d\nclientPort=2181\nstandaloneEnabled=false\ninitLimit=5\n"
                            "syncLimit=2\nserver.1=h:2888:3888\n")
                  .standalone());
}

TEST_CASE("each error names the file, the line and what is wrong", "[config]") {
  CHECK(error_of("dataDir=/d\ntickTime=abc\n") ==
        "zoo.cfg:2: tickTime: 'abc' is not a whole number");
  CHECK(error_of("dataDir=/d\ntickTime=0\n") ==
        "zoo.cfg:2: tickTime: 0 is out of range (1..3600000)");
  CHECK(error_of("dataDir=/d\ntickTime=99999999999999999999\n") ==
        "zoo.cfg:2: tickTime: 99999999999999999999 is out of range (1..3600000)");
  CHECK(error_of("dataDir=/d\ninitLimit=10x\n") ==
        "zoo.cfg:2: initLimit: '10x' is not a whole number");
  CHECK(error_of("dataDir=/d\nclientPort=70000\n") ==
        "zoo.cfg:2: clientPort: clientPort '70000' is not a port (1..65535)");
  CHECK(error_of("clientPort=2181\n") == "zoo.cfg: dataDir is not set");
  CHECK(error_of("dataDir=\n") == "zoo.cfg:1: dataDir is empty");
  CHECK(error_of("dataDir=/d\nstandaloneEnabled=maybe\n") ==
        "zoo.cfg:2: standaloneEnabled: 'maybe' is neither true nor false");
  CHECK(error_of("dataDir=/d\nelectionAlg=1\n") ==
        "zoo.cfg:2: electionAlg: only 3 (fast leader election) exists since ZooKeeper 3.6");
  CHECK(error_of(base + "minSessionTimeout=50000\nmaxSessionTimeout=40000\n") ==
        "zoo.cfg: minSessionTimeout 50000 is above maxSessionTimeout 40000");
}

TEST_CASE("server lines: every malformed part is refused", "[config]") {
  CHECK(error_of(base + "server.x=h:2888:3888\n") ==
        "zoo.cfg:6: server.x: the server id 'x' is not a positive whole number");
  CHECK(error_of(base + "server.0=h:2888:3888\n") ==
        "zoo.cfg:6: server.0: the server id '0' is not a positive whole number");
  CHECK(error_of(base + "server.1=h:2888\n") ==
        "zoo.cfg:6: server.1: expected host:quorumPort:electionPort[:participant|observer], got "
        "'h:2888'");
  CHECK(error_of(base + "server.1=h:2888:3888:participant:extra\n") ==
        "zoo.cfg:6: server.1: expected host:quorumPort:electionPort[:participant|observer], got "
        "'h:2888:3888:participant:extra'");
  CHECK(error_of(base + "server.1=:2888:3888\n") == "zoo.cfg:6: server.1: the host is empty");
  CHECK(error_of(base + "server.1=h:28x8:3888\n") ==
        "zoo.cfg:6: server.1: quorum port '28x8' is not a port (1..65535)");
  CHECK(error_of(base + "server.1=h:2888:0\n") ==
        "zoo.cfg:6: server.1: election port '0' is not a port (1..65535)");
  CHECK(error_of(base + "server.1=h:2888:2888\n") ==
        "zoo.cfg:6: server.1: the quorum port and the election port are both 2888");
  CHECK(error_of(base + "server.1=h:2888:3888:leader\n") ==
        "zoo.cfg:6: server.1: role 'leader' is neither participant nor observer");
  CHECK(error_of(base + "server.1=h:2888:3888:observer\n") ==
        "zoo.cfg:6: server.1: observers are not supported yet (participants only)");
  CHECK(error_of(base + "server.1=h:2888:3888;h:99999\n") ==
        "zoo.cfg:6: server.1: client port '99999' is not a port (1..65535)");
  CHECK(error_of(base + "server.1=[::1:2888:3888\n") ==
        "zoo.cfg:6: server.1: '[' without ']' in the host");
  CHECK(error_of(base + "server.1=a:2888:3888|b:2888:3888\n") ==
        "zoo.cfg:6: server.1: several addresses (multiAddress) are not supported yet");
  CHECK(error_of(base + "server.1=h:2888:3888\nserver.2=g:2888:3888\nserver.1=i:2888:3888\n") ==
        "zoo.cfg:8: server.1: server 1 is already defined on line 6");
  CHECK(error_of(base + "server.1=h:2888:3888\nserver.2=h:3888:4888\n") ==
        "zoo.cfg:7: server.2: port 3888 on h is also server.1's (line 6)");
}

TEST_CASE("quorum mode needs initLimit and syncLimit", "[config]") {
  CHECK(error_of("dataDir=/d\nsyncLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n") ==
        "zoo.cfg: initLimit is not set (required with more than one server)");
  CHECK(error_of("dataDir=/d\ninitLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n") ==
        "zoo.cfg: syncLimit is not set (required with more than one server)");
}

TEST_CASE("unsupported ZooKeeper features are refused by name", "[config]") {
  CHECK(error_of(base + "peerType=observer\n") ==
        "zoo.cfg:6: peerType: observers are not supported yet (participants only)");
  CHECK(error_of(base + "group.1=1:2:3\n") ==
        "zoo.cfg:6: group.1: not supported yet (static majority quorums only)");
  CHECK(error_of(base + "dynamicConfigFile=/x\n") ==
        "zoo.cfg:6: dynamicConfigFile: not supported yet (static majority quorums only)");
}

TEST_CASE("warnings: unknown keys, repeats, even and oversized ensembles", "[config]") {
  std::string text = base + "colour=blue\ntickTime=2000\nautopurge.snapRetainCount=1\n";
  for (int i = 1; i <= 4; ++i)
    text += "server." + std::to_string(i) + "=h" + std::to_string(i) + ":2888:3888\n";
  const ZooConfig c = parse_zoo_cfg(text);
  REQUIRE(c.warnings.size() == 4);
  CHECK(c.warnings[0] == "zoo.cfg:6: unknown key 'colour' (ignored)");
  CHECK(c.warnings[1] == "zoo.cfg:7: tickTime is set again (line 1 is overridden)");
  CHECK(c.warnings[2] == "zoo.cfg:8: autopurge.snapRetainCount 1 is below 3: using 3");
  CHECK(c.warnings[3] ==
        "zoo.cfg:12: 4 voters tolerate no more failures than 3: an odd number is usual");
  CHECK(c.snap_retain_count == 3);

  std::string big = base;
  for (int i = 1; i <= 13; ++i)
    big += "server." + std::to_string(i) + "=h" + std::to_string(i) + ":2888:3888\n";
  const ZooConfig b = parse_zoo_cfg(big);
  REQUIRE(b.warnings.size() == 1);
  CHECK(b.warnings[0] ==
        "zoo.cfg:18: 13 voters: every write waits for a majority of them; sizing guidance is 3 "
        "voters for ~10 machines, 5 for ~20, 11 for 100-200");

  CHECK(parse_zoo_cfg("dataDir=/d\n").warnings ==
        std::vector<std::string>{"zoo.cfg: no clientPort: the member serves no ZooKeeper clients"});
}

TEST_CASE("4lw.commands.whitelist is a comma-separated list", "[config]") {
  CHECK(parse_zoo_cfg(base).four_letter_words == std::vector<std::string>{"srvr"});
  CHECK(parse_zoo_cfg(base + "4lw.commands.whitelist=stat, ruok ,conf\n").four_letter_words ==
        std::vector<std::string>{"stat", "ruok", "conf"});
  CHECK(parse_zoo_cfg(base + "4lw.commands.whitelist=*\n").four_letter_words ==
        std::vector<std::string>{"*"});
}

TEST_CASE("myid: the first line's number, errors naming the file", "[config]") {
  quorum::test::TempDir dir;
  std::ofstream(dir.path() / "myid") << "  3\nignored\n";
  CHECK(read_myid(dir.path()) == 3);
  std::ofstream(dir.path() / "myid") << "three\n";
  CHECK_THROWS_WITH(
      read_myid(dir.path()),
      (dir.path() / "myid").string() + ":1: 'three' is not a server id (a positive whole number)");
  std::filesystem::remove(dir.path() / "myid");
  CHECK_THROWS_WITH(read_myid(dir.path()),
                    (dir.path() / "myid").string() +
                        ": cannot be read (it holds this server's id, as in server.<id> of "
                        "zoo.cfg)");
}

TEST_CASE("a member's id must have a server line", "[config]") {
  const ZooConfig c = parse_zoo_cfg(seed_cfg);
  CHECK_NOTHROW(check_member(c, 2));
  CHECK_THROWS_WITH(check_member(c, 4), "zoo.cfg: myid is 4 but there is no server.4 line");
}

TEST_CASE("ensemble identity: equal server lines agree, any difference does not", "[config]") {
  const ZooConfig a = parse_zoo_cfg(seed_cfg);
  std::string reordered =
      "dataDir=/elsewhere\ninitLimit=3\nsyncLimit=2\nclientPort=2182\n"
      "server.3=node3:2888:3888\nserver.1=node1:2888:3888\n"
      "server.2=node2:2888:3888\n";
  CHECK(ensemble_identity(a) == ensemble_identity(parse_zoo_cfg(reordered)));
  std::string moved = seed_cfg;
  moved.replace(moved.find("node3:2888"), 10, "node3:2889");
  CHECK(ensemble_identity(a) != ensemble_identity(parse_zoo_cfg(moved)));
}

TEST_CASE("node_config carries voters, ticks, limits and session bounds", "[config]") {
  const NodeConfig n = node_config(parse_zoo_cfg(std::string(seed_cfg) + "snapCount=5000\n"), 2);
  CHECK(n.replica.self == 2);
  CHECK(n.replica.voters == std::vector<ServerId>{1, 2, 3});
  CHECK(n.replica.tick == std::chrono::milliseconds(2000));
  CHECK(n.replica.init_limit == 10);
  CHECK(n.replica.sync_limit == 5);
  CHECK(n.min_session_ticks == 2);
  CHECK(n.max_session_ticks == 20);
  CHECK(n.snap_count == 5000);
  const NodeConfig odd =
      node_config(parse_zoo_cfg(base + "minSessionTimeout=5000\nmaxSessionTimeout=9000\n"), 1);
  CHECK(odd.min_session_ticks == 3);  // 2.5 ticks rounds up
  CHECK(odd.max_session_ticks == 4);  // 4.5 ticks rounds down
}

TEST_CASE("election timing keys: ZooKeeper's fastleader.* and our finalizeWait", "[config]") {
  const NodeConfig n = node_config(
      parse_zoo_cfg(base + "fastleader.finalizeWait=30\nfastleader.minNotificationInterval=25\n"
                           "fastleader.maxNotificationInterval=400\n"),
      1);
  CHECK(n.replica.finalize_wait == std::chrono::milliseconds(30));
  CHECK(n.replica.min_notification_interval == std::chrono::milliseconds(25));
  CHECK(n.replica.max_notification_interval == std::chrono::milliseconds(400));
  const NodeConfig d = node_config(parse_zoo_cfg(base), 1);
  CHECK(d.replica.finalize_wait == std::chrono::milliseconds(200));
  CHECK(error_of(base + "fastleader.minNotificationInterval=500\n"
                        "fastleader.maxNotificationInterval=400\n") ==
        "zoo.cfg: fastleader.minNotificationInterval 500 is above "
        "fastleader.maxNotificationInterval 400");
  CHECK(error_of(base + "fastleader.finalizeWait=-1\n") ==
        "zoo.cfg:6: fastleader.finalizeWait: -1 is out of range (0..60000)");
}

TEST_CASE("zoo.cfg: /zookeeper/config's text is the membership as ZooKeeper writes it") {
  ZooConfig c;
  c.servers.push_back({1, "127.0.0.1", 2888, 3888, PeerRole::participant, std::nullopt, 0});
  c.servers.push_back({2, "127.0.0.2", 2889, 3889, PeerRole::participant, HostPort{"", 2182}, 0});
  CHECK(membership_text(c) ==
        "server.1=127.0.0.1:2888:3888:participant\n"
        "server.2=127.0.0.2:2889:3889:participant;0.0.0.0:2182\n"
        "version=0");
  CHECK(node_config(c, 1).config_node == membership_text(c));
  CHECK(membership_text(ZooConfig{}).empty());  // standalone
}
