// The README's embedding example: three members of a service elect a leader in-process.
#include <quorum/quorum.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

int main() {
  const std::vector<quorum::ServerId> ids{1, 2, 3};
  quorum::InProcHub hub;                                    // the members' network
  std::map<quorum::ServerId, quorum::MemoryStorage> disks;  // each member's durable state
  std::vector<std::unique_ptr<quorum::InProcMember>> members;
  for (quorum::ServerId id : ids) {
    auto& m = *members.emplace_back(std::make_unique<quorum::InProcMember>(
        hub, quorum::ElectionConfig{.self = id, .voters = ids}, disks[id]));
    m.set_observer([id](const quorum::ElectionEvent& event) {  // runs on the member's thread
      if (auto* d = std::get_if<quorum::Decided>(&event))
        std::printf("member %lld: %s, leader %lld\n", static_cast<long long>(id),
                    quorum::to_string(d->state).data(), static_cast<long long>(d->vote.leader));
    });
    m.start();
  }
  const bool led = members.back()->wait_until(
      [](quorum::PeerState s, const quorum::Vote&) { return s == quorum::PeerState::leading; },
      std::chrono::seconds(10));
  return led ? 0 : 1;
}
