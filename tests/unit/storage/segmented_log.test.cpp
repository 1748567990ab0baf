#include "support/catch.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/sim/sim_file_system.hpp"
#include "quorum/storage/log_format.hpp"
#include "quorum/storage/segmented_log.hpp"

using namespace quorum;
using namespace quorum::storage;
using quorum::sim::FileOp;
using quorum::sim::SimFileSystem;

namespace {

const std::string dir = "/data/version-2";

Txn txn(std::uint32_t counter, Epoch epoch = 1) {
  return Txn{Zxid::make(epoch, counter), 5, "txn " + std::to_string(counter)};
}
std::vector<Txn> txns(std::uint32_t from, std::uint32_t to) {
  std::vector<Txn> out;
  for (std::uint32_t i = from; i <= to; ++i) out.push_back(txn(i));
  return out;
}

// Small segments so a few txns span several files.
SegmentedLogOptions small() {
  return {.roll_bytes = 200, .preallocate_bytes = 64};
}

struct Opened {
  std::error_code ec;
  std::string error;
  std::vector<std::string> reports;
};
Opened open(SegmentedLog& log) {
  Opened o;
  o.ec = log.open(o.error, o.reports);
  return o;
}

std::vector<Txn> all(const SegmentedLog& log) {
  std::vector<Txn> out;
  REQUIRE_FALSE(log.read_after(Zxid{}, 1'000'000, out));
  return out;
}

// A log of txns 1..n, synced, in `fs`.
void write_log(SimFileSystem& fs, std::uint32_t n) {
  SegmentedLog log(fs, dir, small());
  REQUIRE_FALSE(open(log).ec);
  REQUIRE_FALSE(log.append(txns(1, n)));
  REQUIRE_FALSE(log.sync());
}

// Puts `bytes` in the file `name` of the log's directory, synced (name and contents).
void put_file(SimFileSystem& fs, const std::string& name, std::string_view bytes) {
  std::unique_ptr<WritableFile> file;
  REQUIRE_FALSE(fs.open(dir + "/" + name, true, file));
  REQUIRE_FALSE(file->write_at(0, bytes));
  REQUIRE_FALSE(file->sync());
  REQUIRE_FALSE(fs.sync_directory(dir));
}

}  // namespace

TEST_CASE("a segmented log appends, rolls, and reads back after reopening") {
  SimFileSystem fs;
  {
    SegmentedLog log(fs, dir, small());
    REQUIRE_FALSE(open(log).ec);
    CHECK(log.empty());
    for (std::uint32_t i = 1; i <= 20; i += 4) REQUIRE_FALSE(log.append(txns(i, i + 3)));
    REQUIRE_FALSE(log.sync());
    CHECK(log.segment_count() > 2);
    CHECK(log.last_zxid() == Zxid::make(1, 20));
  }
  SegmentedLog again(fs, dir, small());
  const Opened o = open(again);
  REQUIRE_FALSE(o.ec);
  CHECK(o.reports.empty());
  CHECK(all(again) == txns(1, 20));
  CHECK(again.first_zxid() == Zxid::make(1, 1));
  std::vector<Txn> some;
  REQUIRE_FALSE(again.read_after(Zxid::make(1, 7), 5, some));
  CHECK(some == txns(8, 12));
  // Appending continues where it left off.
  REQUIRE_FALSE(again.append(txns(21, 22)));
  CHECK(all(again) == txns(1, 22));
  // A txn that does not follow is refused.
  CHECK(again.append(txns(24, 24)));
}

TEST_CASE("after a power loss the log holds every synced txn and a prefix of the rest") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    SimFileSystem fs(seed);
    std::uint32_t synced = 0, appended = 0;
    {
      SegmentedLog log(fs, dir, small());
      REQUIRE_FALSE(open(log).ec);
      for (std::uint32_t i = 1; i <= 30; i += 3) {
        REQUIRE_FALSE(log.append(txns(i, i + 2)));
        appended = i + 2;
        if (i % 2 == 1) {
          REQUIRE_FALSE(log.sync());
          synced = appended;
        }
      }
    }
    fs.power_loss();
    SegmentedLog log(fs, dir, small());
    const Opened o = open(log);
    INFO("seed " << seed << ": " << o.error);
    REQUIRE_FALSE(o.ec);
    const std::vector<Txn> got = all(log);
    REQUIRE(got.size() >= synced);
    CHECK(got == txns(1, static_cast<std::uint32_t>(got.size())));
    // What survives can be appended to.
    const auto next = static_cast<std::uint32_t>(got.size() + 1);
    REQUIRE_FALSE(log.append(txns(next, next)));
    CHECK(all(log) == txns(1, next));
  }
}

TEST_CASE("a torn tail is cut and reported, damage before it refuses to open") {
  SimFileSystem fs;
  {
    SegmentedLog log(fs, dir, {});
    REQUIRE_FALSE(open(log).ec);
    REQUIRE_FALSE(log.append(txns(1, 5)));
    REQUIRE_FALSE(log.sync());
  }
  const std::string path = dir + "/log.100000001";
  const std::string bytes = fs.contents(path);
  const std::size_t last_record = bytes.find("txn 5") - 24;

  SECTION("torn") {
    fs.damage(path, last_record + 26, "XX");
    SegmentedLog log(fs, dir, {});
    const Opened o = open(log);
    REQUIRE_FALSE(o.ec);
    REQUIRE(o.reports.size() == 1);
    CHECK(o.reports[0].find(path + " at offset " + std::to_string(last_record)) == 0);
    CHECK(o.reports[0].find("torn tail cut") != std::string::npos);
    CHECK(all(log) == txns(1, 4));
  }
  SECTION("corrupt") {
    const std::size_t second = bytes.find("txn 2");
    fs.damage(path, second, "Q");
    SegmentedLog log(fs, dir, {});
    const Opened o = open(log);
    CHECK(o.ec);
    CHECK(o.error.find(path + " at offset " + std::to_string(second - 24)) == 0);
    CHECK(o.error.find("checksum") != std::string::npos);
  }
}

TEST_CASE("a missing segment or a misnamed one refuses to open") {
  SimFileSystem fs;
  {
    SegmentedLog log(fs, dir, small());
    REQUIRE_FALSE(open(log).ec);
    for (std::uint32_t i = 1; i <= 24; i += 4) REQUIRE_FALSE(log.append(txns(i, i + 3)));
    REQUIRE_FALSE(log.sync());
    REQUIRE(log.segment_count() >= 3);
  }
  std::vector<std::string> names;
  REQUIRE_FALSE(fs.list(dir, names));
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return *parse_segment_name(a) < *parse_segment_name(b);
  });
  SECTION("missing") {
    REQUIRE_FALSE(fs.remove(dir + "/" + names[1]));
    SegmentedLog log(fs, dir, small());
    const Opened o = open(log);
    CHECK(o.ec);
    CHECK(o.error.find("a segment is missing") != std::string::npos);
    CHECK(o.error.find(dir + "/" + names[2]) == 0);
  }
  SECTION("misnamed") {
    REQUIRE_FALSE(fs.rename(dir + "/" + names[1], dir + "/log.100000003"));
    SegmentedLog log(fs, dir, small());
    const Opened o = open(log);
    CHECK(o.ec);
    CHECK(o.error.find("its header says it starts at") != std::string::npos);
  }
}

TEST_CASE("truncate_after cuts the log durably, across segments") {
  SimFileSystem fs(9);
  SegmentedLog log(fs, dir, small());
  REQUIRE_FALSE(open(log).ec);
  for (std::uint32_t i = 1; i <= 24; i += 4) REQUIRE_FALSE(log.append(txns(i, i + 3)));
  REQUIRE_FALSE(log.sync());
  REQUIRE_FALSE(log.truncate_after(Zxid::make(1, 9)));
  CHECK(log.last_zxid() == Zxid::make(1, 9));
  CHECK(all(log) == txns(1, 9));
  // A new epoch continues after the cut; all of it survives a power loss once synced.
  std::vector<Txn> next{txn(1, 2), txn(2, 2)};
  REQUIRE_FALSE(log.append(next));
  REQUIRE_FALSE(log.sync());
  fs.power_loss();
  SegmentedLog again(fs, dir, small());
  REQUIRE_FALSE(open(again).ec);
  std::vector<Txn> expected = txns(1, 9);
  expected.insert(expected.end(), next.begin(), next.end());
  CHECK(all(again) == expected);
  // Truncating before the first txn empties it.
  REQUIRE_FALSE(again.truncate_after(Zxid{}));
  CHECK(again.empty());
  CHECK(again.segment_count() == 0);
}

TEST_CASE("purging keeps every txn after the purge point") {
  SimFileSystem fs;
  SegmentedLog log(fs, dir, small());
  REQUIRE_FALSE(open(log).ec);
  for (std::uint32_t i = 1; i <= 24; i += 4) REQUIRE_FALSE(log.append(txns(i, i + 3)));
  REQUIRE_FALSE(log.sync());
  const std::size_t before = log.segment_count();
  REQUIRE_FALSE(log.remove_segments_through(Zxid::make(1, 14)));
  CHECK(log.segment_count() < before);
  std::vector<Txn> after;
  REQUIRE_FALSE(log.read_after(Zxid::make(1, 14), 100, after));
  CHECK(after == txns(15, 24));
  CHECK(log.first_zxid() <= Zxid::make(1, 15));
}

TEST_CASE("a failed sync is reported, not swallowed") {
  SimFileSystem fs;
  SegmentedLog log(fs, dir, {});
  REQUIRE_FALSE(open(log).ec);
  REQUIRE_FALSE(log.append(txns(1, 2)));
  fs.set_fault_hook([](FileOp op, const std::string&) {
    return op == FileOp::sync ? std::make_error_code(std::errc::io_error) : std::error_code{};
  });
  CHECK(log.sync() == std::make_error_code(std::errc::io_error));
}

TEST_CASE("reads start near the asked zxid and span read windows and large records") {
  SimFileSystem fs;
  const auto big = [](std::uint32_t i) {
    return Txn{Zxid::make(1, i), 5,
               std::string(i == 2500 ? 3u << 20 : 500u, static_cast<char>('a' + i % 26))};
  };
  {
    SegmentedLog log(fs, dir, {});
    REQUIRE_FALSE(open(log).ec);
    for (std::uint32_t i = 1; i <= 5000; i += 100) {
      std::vector<Txn> batch;
      for (std::uint32_t j = i; j < i + 100; ++j) batch.push_back(big(j));
      REQUIRE_FALSE(log.append(batch));
    }
    REQUIRE_FALSE(log.sync());
  }
  // Marks come from appends in the first log, from the scan in the reopened one.
  for (int reopened = 0; reopened < 2; ++reopened) {
    SegmentedLog log(fs, dir, {});
    REQUIRE_FALSE(open(log).ec);
    if (reopened == 0) {
      // Same checks on a log written in this process.
      REQUIRE_FALSE(log.append(std::vector<Txn>{big(5001)}));
    }
    for (std::uint32_t after : {0u, 1u, 1023u, 1024u, 1025u, 2048u, 2495u, 3000u, 4990u}) {
      std::vector<Txn> got;
      REQUIRE_FALSE(log.read_after(Zxid::make(1, after), 10, got));
      REQUIRE(got.size() == 10);
      for (std::uint32_t k = 0; k < 10; ++k) CHECK(got[k] == big(after + 1 + k));
    }
    std::vector<Txn> all_of_it;
    REQUIRE_FALSE(log.read_after(Zxid{}, 100'000, all_of_it));
    CHECK(all_of_it.size() == 5001);  // the first pass appended 5001
  }
}

TEST_CASE("a last segment whose header never reached the disk is removed and reported") {
  SimFileSystem fs;
  write_log(fs, 3);
  // A roll that a power loss interrupted: the name is there, part of the header is not.
  const std::string header = encode_segment_header(Zxid::make(1, 4), Zxid::make(1, 3));
  put_file(fs, segment_name(Zxid::make(1, 4)), header.substr(0, 5));
  {
    SegmentedLog log(fs, dir, small());
    const Opened o = open(log);
    REQUIRE_FALSE(o.ec);
    REQUIRE(o.reports.size() == 1);
    CHECK(o.reports[0].find("an unfinished segment") != std::string::npos);
    CHECK(all(log) == txns(1, 3));
    CHECK_FALSE(fs.exists(dir + "/" + segment_name(Zxid::make(1, 4))));
  }
  // Five bytes that are not the start of its header are damage, not an unfinished roll.
  put_file(fs, segment_name(Zxid::make(1, 4)), "XXXXX");
  SegmentedLog log(fs, dir, small());
  const Opened o = open(log);
  CHECK(o.ec);
  CHECK(o.error.find(segment_name(Zxid::make(1, 4))) != std::string::npos);
}

TEST_CASE("an empty last segment is replaced when the log continues at another zxid") {
  SimFileSystem fs;
  write_log(fs, 3);
  // A segment for (1,4) that holds only its header, as a roll whose records were lost leaves.
  put_file(fs, segment_name(Zxid::make(1, 4)),
           encode_segment_header(Zxid::make(1, 4), Zxid::make(1, 3)));
  {
    SegmentedLog log(fs, dir, small());
    REQUIRE_FALSE(open(log).ec);
    // A new leader's epoch follows (1,3): its first txn must not land in "log.100000004".
    REQUIRE_FALSE(log.append(std::vector<Txn>{txn(1, 2)}));
    REQUIRE_FALSE(log.sync());
  }
  SegmentedLog log(fs, dir, small());
  const Opened o = open(log);
  INFO(o.error);
  REQUIRE_FALSE(o.ec);
  std::vector<Txn> expected = txns(1, 3);
  expected.push_back(txn(1, 2));
  CHECK(all(log) == expected);
  CHECK_FALSE(fs.exists(dir + "/" + segment_name(Zxid::make(1, 4))));
}

TEST_CASE("a missing segment that held a whole epoch refuses to open") {
  // Zxid continuity alone would accept (1,1) -> (3,1): each segment names its predecessor's
  // last txn, so the lost epoch 2 is found.
  SimFileSystem fs;
  const std::string big(300, 'x');  // one record fills a segment: every append rolls
  {
    SegmentedLog log(fs, dir, small());
    REQUIRE_FALSE(open(log).ec);
    for (Epoch e = 1; e <= 3; ++e)
      REQUIRE_FALSE(log.append(std::vector<Txn>{Txn{Zxid::make(e, 1), 5, big}}));
    REQUIRE_FALSE(log.sync());
    REQUIRE(log.segment_count() == 3);
  }
  REQUIRE_FALSE(fs.remove(dir + "/" + segment_name(Zxid::make(2, 1))));
  REQUIRE_FALSE(fs.sync_directory(dir));
  SegmentedLog log(fs, dir, small());
  const Opened o = open(log);
  CHECK(o.ec);
  CHECK(o.error.find(segment_name(Zxid::make(3, 1))) != std::string::npos);
  CHECK(o.error.find("a segment is missing") != std::string::npos);
}

TEST_CASE("a damaged segment header is corruption, not a torn tail") {
  SimFileSystem fs;
  write_log(fs, 3);
  fs.damage(dir + "/" + segment_name(Zxid::make(1, 1)), 20, "\x7f");  // in `previous`
  SegmentedLog log(fs, dir, small());
  const Opened o = open(log);
  CHECK(o.ec);
  CHECK(o.error.find("damaged segment header") != std::string::npos);
}
