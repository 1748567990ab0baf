// Every public header in two translation units of one program: a definition that is not
// inline (or a static that should be shared) breaks the link or the check below.
#include "quorum/codec/big_endian.hpp"
#include "quorum/codec/notification_codec.hpp"
#include "quorum/fwd.hpp"
#include "quorum/quorum.hpp"
#include "quorum/sim/election_cluster.hpp"
#include "quorum/sim/node_cluster.hpp"
#include "quorum/sim/replica_cluster.hpp"
#include "quorum/tree/request_prep.hpp"

const std::error_category* category_seen_by_b();

int main() {
  // One error category object per process, whichever TU asks.
  return &quorum::error_category() == category_seen_by_b() ? 0 : 1;
}
