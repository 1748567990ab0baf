#include "support/catch.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "quorum/error.hpp"
#include "quorum/sim/file_disk.hpp"
#include "quorum/sim/sim_file_system.hpp"
#include "quorum/storage/file_storage.hpp"
#include "quorum/storage/log_format.hpp"

using namespace quorum;
using namespace quorum::storage;
using quorum::sim::FileOp;
using quorum::sim::SimFileSystem;

namespace {

Txn txn(std::uint32_t counter, Epoch epoch = 1) {
  return Txn{Zxid::make(epoch, counter), 5, "txn " + std::to_string(counter)};
}
std::vector<Txn> txns(std::uint32_t from, std::uint32_t to, Epoch epoch = 1) {
  std::vector<Txn> out;
  for (std::uint32_t i = from; i <= to; ++i) out.push_back(txn(i, epoch));
  return out;
}

FileStorageOptions options(bool thread = false) {
  FileStorageOptions o;
  o.data_dir = "/zk/data";
  o.data_log_dir = "/zk/log";
  o.log = {.roll_bytes = 300, .preallocate_bytes = 64};
  o.writer_thread = thread;
  return o;
}

struct Opened {
  std::error_code ec;
  std::string error;
  std::vector<std::string> reports;
};
Opened open(FileStorage& s) {
  Opened o;
  o.ec = s.open(o.error, o.reports);
  return o;
}

std::vector<Txn> all_after(const FileStorage& s, Zxid after) {
  std::vector<Txn> out;
  REQUIRE_FALSE(s.read_after(after, 1'000'000, out));
  return out;
}

// A FileDisk whose log holds txns (1,1)..(1,9), synced, with the leader's image at (1,5)
// installed over it.
void boot_and_install_at_5(quorum::sim::FileDisk& disk) {
  std::string error;
  REQUIRE(disk.boot(error));
  disk.storage().append(txns(1, 9));
  disk.storage().flush();
  disk.storage().install_snapshot(Snapshot{Zxid::make(1, 5), "image"});
}

}  // namespace

TEST_CASE("a new FileStorage starts from snapshot.0 and keeps its log and epochs") {
  SimFileSystem fs;
  {
    FileStorage s(fs, options());
    const Opened o = open(s);
    REQUIRE_FALSE(o.ec);
    CHECK(fs.exists("/zk/data/version-2/snapshot.0"));
    CHECK(s.latest_snapshot()->last_zxid == Zxid{0});
    CHECK(s.accepted_epoch() == 0);
    s.set_accepted_epoch(1);
    s.append(txns(1, 10));
    CHECK(s.last_logged_zxid() == Zxid::make(1, 10));
    CHECK(s.durable_zxid() == Zxid{0});  // nothing synced yet
    s.flush();
    CHECK(s.durable_zxid() == Zxid::make(1, 10));
    s.set_current_epoch(1);
    CHECK(fs.exists("/zk/log/version-2/log.100000001"));
  }
  FileStorage again(fs, options());
  const Opened o = open(again);
  REQUIRE_FALSE(o.ec);
  CHECK(o.reports.empty());
  CHECK(again.accepted_epoch() == 1);
  CHECK(again.current_epoch() == 1);
  CHECK(again.last_logged_zxid() == Zxid::make(1, 10));
  CHECK(again.durable_zxid() == Zxid::make(1, 10));
  CHECK(all_after(again, Zxid{0}) == txns(1, 10));
  std::vector<Txn> some;
  REQUIRE_FALSE(again.read_after(Zxid::make(1, 3), 2, some));
  CHECK(some == txns(4, 5));
}

TEST_CASE("currentEpoch is written only after the log before it is durable") {
  SimFileSystem fs;
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  s.append(txns(1, 3));
  s.set_current_epoch(2);
  CHECK(s.durable_zxid() == Zxid::make(1, 3));
}

TEST_CASE("after a power loss FileStorage keeps every txn it called durable") {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    SimFileSystem fs(seed);
    Zxid durable;
    {
      FileStorage s(fs, options());
      REQUIRE_FALSE(open(s).ec);
      for (std::uint32_t i = 1; i <= 40; i += 5) {
        s.append(txns(i, i + 4));
        if ((i / 5) % 2 == 0) s.flush();
      }
      durable = s.durable_zxid();
      fs.power_loss();  // before the destructor could flush the rest
    }
    FileStorage s(fs, options());
    const Opened o = open(s);
    INFO("seed " << seed << ": " << o.error);
    REQUIRE_FALSE(o.ec);
    CHECK(s.last_logged_zxid() >= durable);
    const std::vector<Txn> got = all_after(s, Zxid{0});
    CHECK(got == txns(1, static_cast<std::uint32_t>(got.size())));
  }
}

TEST_CASE("FileStorage refuses a log without a base snapshot, or with txns missing after it") {
  SimFileSystem fs;
  {
    FileStorage s(fs, options());
    REQUIRE_FALSE(open(s).ec);
    for (std::uint32_t i = 1; i <= 30; i += 3) {
      s.append(txns(i, i + 2));
      s.flush();
    }
    s.flush();
  }
  SECTION("no snapshot") {
    REQUIRE_FALSE(fs.remove("/zk/data/version-2/snapshot.0"));
    FileStorage s(fs, options());
    const Opened o = open(s);
    CHECK(o.ec);
    CHECK(o.error.find("without a base snapshot") != std::string::npos);
  }
  SECTION("the log's first segments gone") {
    std::vector<std::string> names;
    REQUIRE_FALSE(fs.list("/zk/log/version-2", names));
    REQUIRE(names.size() > 2);
    REQUIRE_FALSE(fs.remove("/zk/log/version-2/log.100000001"));
    FileStorage s(fs, options());
    const Opened o = open(s);
    CHECK(o.ec);
    CHECK(o.error.find("txns are missing") != std::string::npos);
  }
  SECTION("every snapshot damaged") {
    fs.damage("/zk/data/version-2/snapshot.0", 0, "X");
    FileStorage s(fs, options());
    const Opened o = open(s);
    CHECK(o.ec);
    CHECK(o.error.find("none of the 1 snapshots is readable") != std::string::npos);
  }
}

TEST_CASE("a damaged newest snapshot falls back to an older one, and says so") {
  SimFileSystem fs;
  {
    FileStorage s(fs, options());
    REQUIRE_FALSE(open(s).ec);
    s.set_accepted_epoch(1);
    s.set_current_epoch(1);
    s.append(txns(1, 6));
    s.flush();
    s.save_snapshot(Snapshot{Zxid::make(1, 3), "three"});
    s.save_snapshot(Snapshot{Zxid::make(1, 6), "six"});
  }
  fs.damage("/zk/data/version-2/snapshot.100000006", 33, "?");
  FileStorage s(fs, options());
  const Opened o = open(s);
  REQUIRE_FALSE(o.ec);
  REQUIRE(o.reports.size() == 1);
  CHECK(o.reports[0].find("snapshot.100000006: the state's checksum does not match") !=
        std::string::npos);
  CHECK(s.latest_snapshot()->state == "three");
  CHECK(all_after(s, Zxid::make(1, 3)) == txns(4, 6));
}

TEST_CASE("TRUNC cuts the log and the snapshots past it") {
  SimFileSystem fs;
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  s.append(txns(1, 20));
  s.flush();
  s.save_snapshot(Snapshot{Zxid::make(1, 5), "five"});
  s.save_snapshot(Snapshot{Zxid::make(1, 15), "fifteen"});
  REQUIRE_FALSE(s.truncate_after(Zxid::make(1, 8)));
  s.remove_snapshots_after(Zxid::make(1, 8));
  CHECK(s.last_logged_zxid() == Zxid::make(1, 8));
  CHECK(s.latest_snapshot()->state == "five");
  CHECK_FALSE(fs.exists("/zk/data/version-2/snapshot.10000000f"));
  s.append(txns(1, 2, 2));
  s.flush();
  FileStorage again(fs, options());
  REQUIRE_FALSE(open(again).ec);
  std::vector<Txn> expected = txns(6, 8);
  for (const Txn& t : txns(1, 2, 2)) expected.push_back(t);
  CHECK(all_after(again, Zxid::make(1, 5)) == expected);
  CHECK(again.truncate_after(Zxid::make(1, 1)) ==
        quorum::make_error_code(quorum::errc::data_inconsistency));
}

TEST_CASE("a crash anywhere while installing a snapshot keeps the old log or the new image") {
  // Dropping the log before the image is durable would leave neither (a member that had
  // acknowledged txns would come back without them).
  bool completed = false;
  for (std::uint64_t k = 1; k <= 60 && !completed; ++k) {
    INFO("crash at file operation #" << k);
    quorum::sim::FileDisk disk(k, options());
    std::string error;
    REQUIRE(disk.boot(error));
    disk.storage().append(txns(1, 9));
    disk.storage().flush();
    disk.arm_crash_point(k);
    disk.storage().install_snapshot(Snapshot{Zxid::make(2, 4), "leader's"});
    completed = !disk.crash_point_hit();
    disk.power_loss();
    INFO(error);
    REQUIRE(disk.boot(error));
    FileStorage& s = disk.storage();
    if (s.latest_snapshot()->last_zxid == Zxid::make(2, 4)) {
      CHECK(s.latest_snapshot()->state == "leader's");
      CHECK(s.last_logged_zxid() >= Zxid::make(2, 4));
    } else {
      CHECK(s.last_logged_zxid() == Zxid::make(1, 9));
      CHECK(all_after(s, s.log_start_zxid()) == txns(1, 9));
    }
    if (completed) CHECK(s.last_logged_zxid() == Zxid::make(2, 4));
  }
  CHECK(completed);
}

TEST_CASE("installing a snapshot resets the log so it continues after it") {
  SimFileSystem fs;
  {
    FileStorage s(fs, options());
    REQUIRE_FALSE(open(s).ec);
    s.append(txns(1, 9));  // a divergent history the leader replaces
    s.flush();
    s.install_snapshot(Snapshot{Zxid::make(2, 4), "leader's"});
    s.append(txns(5, 6, 2));
    s.flush();
  }
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  CHECK(s.log_start_zxid() == Zxid::make(2, 4));
  CHECK(s.latest_snapshot()->state == "leader's");
  CHECK(all_after(s, Zxid::make(2, 4)) == txns(5, 6, 2));
}

TEST_CASE("old snapshots and the log only they need are purged") {
  SimFileSystem fs;
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  for (std::uint32_t i = 1; i <= 50; i += 10) {
    s.append(txns(i, i + 9));
    s.flush();
    s.save_snapshot(Snapshot{Zxid::make(1, i + 9), "at " + std::to_string(i + 9)});
  }
  std::vector<std::string> names;
  REQUIRE_FALSE(fs.list("/zk/data/version-2", names));
  std::size_t snapshots = 0;
  for (const std::string& n : names) snapshots += parse_snapshot_name(n).has_value();
  CHECK(snapshots == 3);
  CHECK_FALSE(fs.exists("/zk/data/version-2/snapshot.0"));
  CHECK_FALSE(fs.exists("/zk/log/version-2/log.100000001"));
  // The log no longer starts at 0: a DIFF from before the oldest kept snapshot must be refused
  // (so it becomes a SNAP) rather than silently skip the purged txns.
  CHECK(s.log_start_zxid() == Zxid::make(1, 30));
  std::vector<Txn> purged;
  CHECK(s.read_after(Zxid::make(1, 5), 10, purged));
  // Everything after the oldest kept snapshot is still there.
  FileStorage again(fs, options());
  REQUIRE_FALSE(open(again).ec);
  std::vector<Txn> after;
  REQUIRE_FALSE(again.read_after(Zxid::make(1, 50), 100, after));
  CHECK(after.empty());
  CHECK(again.latest_snapshot()->state == "at 50");
}

TEST_CASE("a failed sync is fatal: nothing more becomes durable and failure() says why") {
  SimFileSystem fs;
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  s.append(txns(1, 2));
  s.flush();
  fs.set_fault_hook([](FileOp op, const std::string&) {
    return op == FileOp::sync ? std::make_error_code(std::errc::io_error) : std::error_code{};
  });
  s.append(txns(3, 4));
  s.flush();
  CHECK(s.durable_zxid() == Zxid::make(1, 2));
  CHECK(s.failure().find("/zk/log/version-2") != std::string::npos);
  fs.set_fault_hook({});
  s.append(txns(5, 5));
  s.flush();
  CHECK(s.durable_zxid() == Zxid::make(1, 2));
}

TEST_CASE("an interrupted epoch update is recovered from its .tmp") {
  SimFileSystem fs;
  {
    FileStorage s(fs, options());
    REQUIRE_FALSE(open(s).ec);
    s.set_accepted_epoch(4);
  }
  // As if the crash came after the .tmp was synced but before the rename reached the disk.
  REQUIRE_FALSE(
      fs.rename("/zk/data/version-2/acceptedEpoch", "/zk/data/version-2/acceptedEpoch.tmp"));
  FileStorage s(fs, options());
  const Opened o = open(s);
  REQUIRE_FALSE(o.ec);
  CHECK(s.accepted_epoch() == 4);
  REQUIRE(o.reports.size() == 1);
  CHECK(o.reports[0].find("recovered from") != std::string::npos);
  CHECK(fs.exists("/zk/data/version-2/acceptedEpoch"));
}

TEST_CASE("the writer thread syncs in groups and tells the host") {
  SimFileSystem fs;
  FileStorageOptions o = options(true);
  o.log.roll_bytes = 1 << 20;  // one segment: every sync below is a group commit's
  FileStorage s(fs, o);
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  s.set_durability_listener([&] {
    std::lock_guard lock(m);
    ++calls;
    cv.notify_all();
  });
  REQUIRE_FALSE(open(s).ec);
  for (std::uint32_t i = 1; i <= 200; ++i) s.append(txns(i, i));
  {
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(10),
                        [&] { return s.durable_zxid() == Zxid::make(1, 200); }));
    CHECK(calls >= 1);
    CHECK(calls <= 200);
  }
  CHECK(fs.count(FileOp::sync) < 200 + 10);  // at most one per batch, plus set-up
  CHECK(all_after(s, Zxid{0}) == txns(1, 200));
}

TEST_CASE("after a SNAP the old log stays on disk while the leader repeats it") {
  // A follower that had acknowledged (1,6)..(1,9) installs the leader's image at (1,5); the
  // leader then streams (1,6), (1,7) and a new epoch. Until the stream differs, a crash must
  // leave the acknowledged txns on disk.
  quorum::sim::FileDisk disk(7, options());
  boot_and_install_at_5(disk);
  std::string error;
  CHECK(disk.storage().last_logged_zxid() == Zxid::make(1, 5));
  CHECK(disk.storage().log_start_zxid() == Zxid::make(1, 5));
  disk.power_loss();
  REQUIRE(disk.boot(error));
  CHECK(disk.storage().last_logged_zxid() == Zxid::make(1, 9));
  CHECK(all_after(disk.storage(), Zxid::make(1, 5)) == txns(6, 9));

  FileStorage& s = disk.storage();
  s.install_snapshot(Snapshot{Zxid::make(1, 5), "image"});
  s.append(txns(6, 7));  // repeated: durable at once, nothing written
  CHECK(s.durable_zxid() == Zxid::make(1, 7));
  CHECK(all_after(s, Zxid::make(1, 5)) == txns(6, 7));
  s.append(std::vector<Txn>{txn(1, 2)});  // differs: (1,8) and (1,9) go
  s.flush();
  disk.power_loss();
  REQUIRE(disk.boot(error));
  std::vector<Txn> expected = txns(6, 7);
  expected.push_back(txn(1, 2));
  CHECK(all_after(disk.storage(), Zxid::make(1, 5)) == expected);
}

TEST_CASE("after a SNAP, recording the new epoch cuts what the leader did not repeat") {
  quorum::sim::FileDisk disk(8, options());
  boot_and_install_at_5(disk);
  std::string error;
  disk.storage().append(txns(6, 6));
  disk.storage().set_accepted_epoch(2);
  disk.storage().set_current_epoch(2);
  disk.power_loss();
  INFO(error);
  REQUIRE(disk.boot(error));
  CHECK(disk.storage().last_logged_zxid() == Zxid::make(1, 6));
  CHECK(disk.storage().current_epoch() == 2);
}

TEST_CASE("a log that ends before the newest snapshot is cleared at open, and the log goes on") {
  // A SNAP installed at (2,4), then a crash while its old log was being removed.
  SimFileSystem fs;
  {
    FileStorage s(fs, options());
    REQUIRE_FALSE(open(s).ec);
    s.append(txns(1, 9));
    s.flush();
  }
  {
    FileStorage s(fs, options());
    REQUIRE_FALSE(open(s).ec);
    s.save_snapshot(Snapshot{Zxid::make(2, 4), "leader's"});
  }
  FileStorage s(fs, options());
  const Opened o = open(s);
  REQUIRE_FALSE(o.ec);
  bool reported = false;
  for (const std::string& r : o.reports) reported |= r.find("before the newest snapshot") != r.npos;
  CHECK(reported);
  CHECK(s.last_logged_zxid() == Zxid::make(2, 4));
  s.append(txns(5, 6, 2));  // follows the snapshot, not the old log
  s.flush();
  CHECK(s.failure().empty());
  FileStorage again(fs, options());
  REQUIRE_FALSE(open(again).ec);
  CHECK(all_after(again, Zxid::make(2, 4)) == txns(5, 6, 2));
}

TEST_CASE("a sync that ends before the new epoch lets the old log count again") {
  // The member lost its leader in the middle of a SNAP sync: it must vote with (1,9), which
  // it still holds, not with the image's (1,5) — or a member lacking a committed txn of
  // (1,6)..(1,9) could win the election.
  quorum::sim::FileDisk disk(9, options());
  boot_and_install_at_5(disk);
  FileStorage& s = disk.storage();
  s.append(txns(6, 6));  // repeated by the leader
  s.abandon_sync();
  CHECK(s.last_logged_zxid() == Zxid::make(1, 9));
  CHECK(s.durable_zxid() == Zxid::make(1, 9));
  CHECK(all_after(s, Zxid::make(1, 5)) == txns(6, 9));
  s.append(txns(10, 10));  // and the log goes on from there
  s.flush();
  CHECK(s.failure().empty());
  disk.power_loss();
  std::string error;
  REQUIRE(disk.boot(error));
  CHECK(all_after(disk.storage(), Zxid::make(1, 5)) == txns(6, 10));
}

TEST_CASE("an empty log whose only segment holds no records continues from the snapshot") {
  // A SNAP install at (1,5) emptied the log, a segment for (1,6) was created (header synced)
  // but its records never reached the disk, and a snapshot at (1,8) was written meanwhile.
  SimFileSystem fs;
  {
    FileStorage s(fs, options());
    REQUIRE_FALSE(open(s).ec);
    s.install_snapshot(Snapshot{Zxid::make(1, 5), "image"});
    s.save_snapshot(Snapshot{Zxid::make(1, 8), "later"});
  }
  std::unique_ptr<WritableFile> file;
  const std::string segment = "/zk/log/version-2/" + segment_name(Zxid::make(1, 6));
  REQUIRE_FALSE(fs.open(segment, true, file));
  REQUIRE_FALSE(file->write_at(0, encode_segment_header(Zxid::make(1, 6), Zxid::make(1, 5))));
  REQUIRE_FALSE(file->sync());
  REQUIRE_FALSE(fs.sync_directory("/zk/log/version-2"));
  {
    FileStorage s(fs, options());
    const Opened o = open(s);
    INFO(o.error);
    REQUIRE_FALSE(o.ec);
    CHECK(s.last_logged_zxid() == Zxid::make(1, 8));
    s.append(txns(9, 9));  // follows the snapshot, not the empty segment's (1,5)
    s.flush();
    CHECK(s.failure().empty());
  }
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  CHECK(all_after(s, Zxid::make(1, 8)) == txns(9, 9));
}

TEST_CASE("a snapshot past the log's end is not adopted and purges nothing") {
  // A background snapshot at (1,8) finishes after a SNAP install moved the log back to (1,5).
  SimFileSystem fs;
  FileStorageOptions o = options();
  o.snapshots_retained = 1;
  FileStorage s(fs, o);
  REQUIRE_FALSE(open(s).ec);
  s.append(txns(1, 5));
  s.flush();
  REQUIRE(s.write_snapshot_file(Snapshot{Zxid::make(1, 8), "ahead"}, true));
  s.adopt_snapshot(Snapshot{Zxid::make(1, 8), "ahead"});
  CHECK(s.latest_snapshot()->last_zxid == Zxid{});
  CHECK(s.log_start_zxid() <= s.last_logged_zxid());
  CHECK(all_after(s, Zxid{}) == txns(1, 5));
}

TEST_CASE("a streamed snapshot is the same file as a whole one, and is read back when asked") {
  SimFileSystem fs;
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  s.append(txns(1, 6));
  s.flush();
  const std::string state = "the image, in pieces of any size";
  REQUIRE(s.write_snapshot_file(Snapshot{Zxid::make(1, 3), state}));
  const std::optional<std::uint64_t> size = s.stream_snapshot_file(
      Zxid::make(1, 6),
      [&](const FileStorage::SnapshotSink& sink) {
        sink(std::string_view(state).substr(0, 3));
        sink({});  // an empty piece writes nothing
        sink(std::string_view(state).substr(3, 10));
        sink(std::string_view(state).substr(13));
      },
      true);
  REQUIRE(size == state.size());
  std::string whole, streamed;
  REQUIRE_FALSE(fs.read_all("/zk/data/version-2/snapshot.100000003", whole));
  REQUIRE_FALSE(fs.read_all("/zk/data/version-2/snapshot.100000006", streamed));
  // Same layout: only the zxid and the checksum seeded with it differ.
  CHECK(streamed == encode_snapshot_file(Snapshot{Zxid::make(1, 6), state}));
  CHECK(whole == encode_snapshot_file(Snapshot{Zxid::make(1, 3), state}));

  s.adopt_snapshot_file(Zxid::make(1, 6), *size);
  CHECK(s.latest_snapshot_bytes() == state.size());
  const std::optional<Snapshot> latest = s.latest_snapshot();
  REQUIRE(latest);
  CHECK(latest->last_zxid == Zxid::make(1, 6));
  CHECK(latest->state == state);
  CHECK(s.failure().empty());

  // A newer image held in memory takes over from the streamed one.
  s.append(txns(7, 8));
  s.flush();
  s.save_snapshot(Snapshot{Zxid::make(1, 8), "eight"});
  CHECK(s.latest_snapshot()->state == "eight");
  CHECK(s.latest_snapshot_bytes() == 5);
}

TEST_CASE("a streamed snapshot damaged after it was written fails the storage when read") {
  SimFileSystem fs;
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  s.append(txns(1, 4));
  s.flush();
  const auto size = s.stream_snapshot_file(
      Zxid::make(1, 4), [](const FileStorage::SnapshotSink& sink) { sink("four"); });
  REQUIRE(size);
  s.adopt_snapshot_file(Zxid::make(1, 4), *size);
  fs.damage("/zk/data/version-2/snapshot.100000004", snapshot_header_size + 1, "?");
  CHECK_FALSE(s.latest_snapshot());
  CHECK(s.failed());
  CHECK(s.failure().find("snapshot.100000004: the state's checksum does not match") !=
        std::string::npos);
}

TEST_CASE("a failed write while streaming a snapshot leaves no snapshot and fails the storage") {
  SimFileSystem fs;
  FileStorage s(fs, options());
  REQUIRE_FALSE(open(s).ec);
  s.append(txns(1, 4));
  s.flush();
  // The second piece's write fails (the disk is full).
  int writes = 0;
  fs.set_fault_hook([&](FileOp op, const std::string& path) {
    if (op != FileOp::write || path.find("snapshot.") == std::string::npos)
      return std::error_code{};
    return ++writes == 2 ? std::make_error_code(std::errc::no_space_on_device) : std::error_code{};
  });
  int pieces = 0;
  const auto size = s.stream_snapshot_file(Zxid::make(1, 4), [&](const auto& sink) {
    for (int i = 0; i < 5; ++i, ++pieces) sink("piece");
  });
  CHECK_FALSE(size);
  CHECK(pieces == 5);  // the producer runs to its end; nothing more is written
  CHECK(writes == 2);
  CHECK(s.failed());
  CHECK_FALSE(fs.exists("/zk/data/version-2/snapshot.100000004"));
}

TEST_CASE("a streaming checksum equals the one-shot checksum") {
  const std::string bytes(10'000, 'x');
  StreamingChecksum sum(42);
  sum.update(std::string_view(bytes).substr(0, 1));
  sum.update(std::string_view(bytes).substr(1, 4095));
  sum.update(std::string_view(bytes).substr(4096));
  CHECK(sum.digest() == checksum(bytes, 42));
  CHECK(StreamingChecksum(7).digest() == checksum({}, 7));
}
