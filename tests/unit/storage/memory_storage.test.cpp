#include "support/catch.hpp"

#include <vector>

#include "quorum/storage/memory.hpp"

using quorum::MemoryStorage;
using quorum::Txn;
using quorum::Zxid;

namespace {
std::vector<Txn> txns(quorum::Epoch epoch, std::uint32_t first, std::uint32_t last) {
  std::vector<Txn> out;
  for (auto c = first; c <= last; ++c) out.push_back(Txn{Zxid::make(epoch, c), 1, "t"});
  return out;
}
}  // namespace

TEST_CASE("zxids follow each other without gaps inside an epoch", "[unit]") {
  CHECK(quorum::follows(Zxid::make(1, 7), Zxid::make(1, 8)));
  CHECK_FALSE(quorum::follows(Zxid::make(1, 7), Zxid::make(1, 9)));  // a hole
  CHECK_FALSE(quorum::follows(Zxid::make(1, 7), Zxid::make(1, 7)));
  CHECK(quorum::follows(Zxid::make(1, 7), Zxid::make(2, 1)));        // a new epoch starts at 1
  CHECK_FALSE(quorum::follows(Zxid::make(1, 7), Zxid::make(2, 2)));  // its first txn is missing
  CHECK_FALSE(quorum::follows(Zxid{}, Zxid::make(1, 3)));
  CHECK_FALSE(quorum::follows(Zxid::make(2, 1), Zxid::make(1, 9)));
}

TEST_CASE("appends are durable at once by default", "[unit]") {
  MemoryStorage s;
  s.append(txns(1, 1, 3));
  CHECK(s.last_logged_zxid() == Zxid::make(1, 3));
  CHECK(s.durable_zxid() == Zxid::make(1, 3));
  CHECK(s.log_start_zxid() == Zxid{});
}

TEST_CASE("in manual mode only what was made durable survives a power loss", "[unit]") {
  MemoryStorage s;
  s.set_durability(MemoryStorage::Durability::manual);
  s.append(txns(1, 1, 5));
  CHECK(s.durable_zxid() == Zxid{});
  s.make_durable(Zxid::make(1, 3));
  CHECK(s.durable_zxid() == Zxid::make(1, 3));
  s.lose_pending();
  CHECK(s.last_logged_zxid() == Zxid::make(1, 3));
  s.make_durable(Zxid::make(9, 9));  // never past what is logged
  CHECK(s.durable_zxid() == Zxid::make(1, 3));
}

TEST_CASE("read_after returns the txns after a zxid, bounded", "[unit]") {
  MemoryStorage s;
  s.append(txns(1, 1, 5));
  std::vector<Txn> out;
  REQUIRE_FALSE(s.read_after(Zxid::make(1, 2), 2, out));
  REQUIRE(out.size() == 2);
  CHECK(out[0].zxid == Zxid::make(1, 3));
  CHECK(out[1].zxid == Zxid::make(1, 4));
  out.clear();
  REQUIRE_FALSE(s.read_after(Zxid::make(1, 5), 10, out));
  CHECK(out.empty());
}

TEST_CASE("TRUNC drops the txns after a zxid; a snapshot beyond it is removed", "[unit]") {
  MemoryStorage s;
  s.append(txns(1, 1, 5));
  s.save_snapshot({Zxid::make(1, 4), "image"});
  REQUIRE_FALSE(s.truncate_after(Zxid::make(1, 2)));
  CHECK(s.last_logged_zxid() == Zxid::make(1, 2));
  CHECK(s.durable_zxid() == Zxid::make(1, 2));
  s.remove_snapshots_after(Zxid::make(1, 2));
  CHECK_FALSE(s.latest_snapshot().has_value());
  s.append(txns(2, 1, 1));  // a new epoch continues the log
  CHECK(s.last_logged_zxid() == Zxid::make(2, 1));
}

TEST_CASE("a compacted log refuses reads and truncation before its start", "[unit]") {
  MemoryStorage s;
  s.append(txns(1, 1, 5));
  s.save_snapshot({Zxid::make(1, 3), "image"});
  s.compact_through(Zxid::make(1, 3));
  CHECK(s.log_start_zxid() == Zxid::make(1, 3));
  std::vector<Txn> out;
  CHECK(s.read_after(Zxid::make(1, 1), 10, out) == quorum::errc::data_inconsistency);
  CHECK(s.truncate_after(Zxid::make(1, 1)) == quorum::errc::data_inconsistency);
  REQUIRE_FALSE(s.read_after(Zxid::make(1, 3), 10, out));
  CHECK(out.size() == 2);
}

TEST_CASE("after a SNAP the old durable log survives a crash until the leader's stream differs",
          "[unit]") {
  MemoryStorage s;
  s.set_durability(MemoryStorage::Durability::manual);
  s.append(txns(1, 1, 9));
  s.make_durable(Zxid::make(1, 8));  // (1,9) never reached the disk
  s.install_snapshot({Zxid::make(1, 5), "image"});
  CHECK(s.last_logged_zxid() == Zxid::make(1, 5));
  s.append(txns(1, 6, 7));  // the leader repeats them: durable already
  CHECK(s.durable_zxid() == Zxid::make(1, 7));
  s.lose_pending();
  CHECK(s.last_logged_zxid() == Zxid::make(1, 8));

  s.install_snapshot({Zxid::make(1, 5), "image"});
  s.append(txns(1, 6, 6));
  s.append(txns(2, 1, 1));  // differs: (1,7) and (1,8) go
  s.make_durable(Zxid::make(2, 1));
  s.lose_pending();
  REQUIRE(s.txns().size() == 2);
  CHECK(s.txns().back().zxid == Zxid::make(2, 1));

  s.install_snapshot({Zxid::make(1, 5), "image"});  // the old log after it: (1,6), (2,1)
  s.set_current_epoch(3);  // nothing repeated before the epoch is recorded: they go
  s.lose_pending();
  CHECK(s.last_logged_zxid() == Zxid::make(1, 5));
}

TEST_CASE("a sync abandoned after a SNAP install lets the old log count again", "[unit]") {
  MemoryStorage s;
  s.append(txns(1, 1, 9));
  s.install_snapshot({Zxid::make(1, 5), "image"});
  s.append(txns(1, 6, 6));
  CHECK(s.held_zxid() == Zxid::make(1, 9));
  s.abandon_sync();
  CHECK(s.last_logged_zxid() == Zxid::make(1, 9));
  CHECK(s.durable_zxid() == Zxid::make(1, 9));
  s.append(txns(1, 10, 10));
  CHECK(s.txns().back().zxid == Zxid::make(1, 10));
}
