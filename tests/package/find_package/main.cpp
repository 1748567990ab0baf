// A consumer of an installed quorum: elects a leader among three simulated members and
// round-trips a notification through the compiled codec.
#include <quorum/codec/notification_codec.hpp>
#include <quorum/quorum.hpp>
#include <quorum/sim/election_cluster.hpp>

#include <cstdio>

int main() {
  quorum::sim::ElectionCluster cluster({.servers = 3, .seed = 1});
  for (quorum::ServerId id : {1, 2, 3}) cluster.start(id);
  const auto leader = cluster.run_until_settled();
  const quorum::Notification n{.leader = 3, .election_epoch = 1};
  const auto decoded = quorum::codec::decode_notification(quorum::codec::encode_notification(n));
  if (!leader || *leader != 3 || !decoded || decoded.value->leader != 3) {
    std::puts("consumer: unexpected result");
    return 1;
  }
  std::printf("consumer: quorum %s elected %lld\n", quorum::version_string,
              static_cast<long long>(*leader));
  return 0;
}
