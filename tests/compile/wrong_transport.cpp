// Must NOT compile: a transport without send(ServerId, const Message&). The test checks
// that the compiler's error carries Election's explanation.
#include "quorum/election/election.hpp"
#include "quorum/storage/memory.hpp"

struct PigeonTransport {
  void post(int /*coop*/) {}
};

int main() {
  PigeonTransport transport;
  quorum::MemoryStorage storage;
  quorum::Election<PigeonTransport, quorum::MemoryStorage> election(
      quorum::ElectionConfig{.self = 1, .voters = {1}}, transport, storage);
  return static_cast<int>(election.state());
}
