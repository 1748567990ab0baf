// The client protocol byte for byte: tests/process/clients/wire_probe.py sends requests over a
// raw socket (standalone check, multi/multiRead with ops they cannot hold, truncated records,
// unknown opcodes, setWatches with a stale zxid, watch management) to a standalone quorumd and
// to a standalone ZooKeeper 3.8 from Debian's package, and the two transcripts (error codes,
// body lengths, events, closed connections) must be the same. The four-letter words' formats
// are compared the same way (tests/process/clients/four_letter_shapes.py).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/catch.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using quorum::test::Child;

namespace {

// Runs a command to its end (bounded); its stdout and exit code.
std::pair<std::string, int> run(std::vector<std::string> args, std::chrono::seconds limit) {
  Child child(std::move(args));
  std::string out = child.drain(limit);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!child.exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  return {out, child.exited() ? child.exit_code() : -1};
}

// One standalone server (ZooKeeper, or quorumd with `quorumd` set) for the test's lifetime.
class Standalone {
 public:
  Standalone(const std::string& dir, const std::string& quorumd = {}) : dir_(dir) {
    std::vector<std::string> args{PYTHON3, ZK_ENSEMBLE_SCRIPT, "start", dir_, "1"};
    if (!quorumd.empty()) args.insert(args.end(), {"--quorumd", quorumd});
    auto [out, rc] = run(args, 120s);
    INFO(out);
    REQUIRE(rc == 0);
    const auto at = out.find("\"hosts\": \"");
    REQUIRE(at != std::string::npos);
    const auto start = at + 10;
    hosts_ = out.substr(start, out.find('"', start) - start);
  }
  ~Standalone() { run({PYTHON3, ZK_ENSEMBLE_SCRIPT, "stop", dir_}, 60s); }
  Standalone(const Standalone&) = delete;
  Standalone& operator=(const Standalone&) = delete;
  const std::string& hosts() const { return hosts_; }

 private:
  std::string dir_;
  std::string hosts_;
};

// `script HOST:PORT` against a standalone ZooKeeper, then a standalone quorumd: both outputs.
std::pair<std::string, std::string> transcripts(const char* script, const char* name) {
  quorum::test::TempDir dir(name);
  std::pair<std::string, std::string> out;
  for (const bool quorumd : {false, true}) {
    Standalone server((dir.path() / (quorumd ? "quorumd" : "zookeeper")).string(),
                      quorumd ? QUORUMD : "");
    auto [text, rc] = run({PYTHON3, script, server.hosts()}, 120s);
    INFO(text);
    REQUIRE(rc == 0);
    (quorumd ? out.second : out.first) = text;
  }
  return out;
}

}  // namespace

TEST_CASE("client protocol: quorumd answers raw requests byte-compatibly with ZooKeeper 3.8",
          "[zkcompat][wire]") {
  const auto [zookeeper, quorum] = transcripts(WIRE_PROBE_SCRIPT, "zk-wire");
  INFO("ZooKeeper:\n" << zookeeper << "\nquorumd:\n" << quorum);
  CHECK(zookeeper.find("still served") != std::string::npos);
  CHECK(quorum == zookeeper);
}

TEST_CASE("four-letter words: quorumd's formats are ZooKeeper 3.8's", "[zkcompat][wire]") {
  const auto [zookeeper, quorum] = transcripts(FOUR_LETTER_SHAPES_SCRIPT, "zk-4lw");
  INFO("ZooKeeper:\n" << zookeeper << "\nquorumd:\n" << quorum);
  CHECK(zookeeper.find("Mode: standalone") != std::string::npos);
  CHECK(quorum == zookeeper);
}
