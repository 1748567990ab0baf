#include "support/catch.hpp"

#include <memory>
#include <string>

#include "quorum/sim/sim_file_system.hpp"
#include "quorum/storage/atomic_file.hpp"

using namespace quorum;
using quorum::sim::FileOp;
using quorum::sim::SimFileSystem;
using quorum::storage::WritableFile;

namespace {
std::unique_ptr<WritableFile> open(SimFileSystem& fs, const std::string& path) {
  std::unique_ptr<WritableFile> f;
  REQUIRE_FALSE(fs.open(path, true, f));
  return f;
}
}  // namespace

TEST_CASE("synced bytes and directory entries survive a power loss") {
  SimFileSystem fs(3);
  auto f = open(fs, "/d/a");
  REQUIRE_FALSE(f->write_at(0, "hello"));
  REQUIRE_FALSE(f->sync());
  REQUIRE_FALSE(fs.sync_directory("/d"));
  fs.power_loss();
  CHECK(fs.contents("/d/a") == "hello");
  // The old handle is dead after the power loss.
  CHECK(f->write_at(5, "x"));
}

TEST_CASE("a file never made durable in its directory can vanish at a power loss") {
  bool vanished = false, kept = false;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SimFileSystem fs(seed);
    auto f = open(fs, "/d/new");
    REQUIRE_FALSE(f->write_at(0, "data"));
    REQUIRE_FALSE(f->sync());
    fs.power_loss();
    (fs.exists("/d/new") ? kept : vanished) = true;
  }
  CHECK(vanished);
  CHECK(kept);
}

TEST_CASE("unsynced writes survive as an ordered prefix, the last possibly torn") {
  std::size_t lengths_seen[12] = {};
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    SimFileSystem fs(seed);
    auto f = open(fs, "/d/log");
    REQUIRE_FALSE(fs.sync_directory("/d"));
    REQUIRE_FALSE(f->write_at(0, "aaaa"));
    REQUIRE_FALSE(f->sync());
    REQUIRE_FALSE(f->write_at(4, "bbbb"));
    REQUIRE_FALSE(f->write_at(8, "cc"));
    fs.power_loss();
    const std::string c = fs.contents("/d/log");
    REQUIRE(c.size() <= 10);
    CHECK(std::string("aaaabbbbcc").substr(0, c.size()) == c);
    ++lengths_seen[c.size()];
  }
  for (std::size_t n = 4; n <= 10; ++n) CHECK(lengths_seen[n] > 0);
  for (std::size_t n = 0; n < 4; ++n) CHECK(lengths_seen[n] == 0);
}

TEST_CASE("the fault hook fails operations without effect and counts them") {
  SimFileSystem fs(1);
  auto f = open(fs, "/d/a");
  fs.set_fault_hook([](FileOp op, const std::string&) {
    return op == FileOp::sync ? std::make_error_code(std::errc::io_error) : std::error_code{};
  });
  CHECK_FALSE(f->write_at(0, "x"));
  CHECK(f->sync() == std::make_error_code(std::errc::io_error));
  CHECK(fs.count(FileOp::sync) == 1);
  CHECK(fs.count(FileOp::write) == 1);
}

TEST_CASE("epoch files are replaced atomically and recovered from a leftover .tmp") {
  SimFileSystem fs(7);
  REQUIRE_FALSE(storage::write_atomically(fs, "/d/currentEpoch", "3\n"));
  fs.power_loss();
  auto read = storage::read_epoch_file(fs, "/d/currentEpoch");
  CHECK(read.value == 3);
  CHECK(read.error.empty());

  SECTION("a crash before the rename keeps the old value") {
    bool failed_rename = false;
    fs.set_fault_hook([&](FileOp op, const std::string&) {
      if (op != FileOp::rename) return std::error_code{};
      failed_rename = true;
      return std::make_error_code(std::errc::io_error);
    });
    CHECK(storage::write_atomically(fs, "/d/currentEpoch", "4\n"));
    CHECK(failed_rename);
    fs.set_fault_hook({});
    fs.power_loss();
    CHECK(storage::read_epoch_file(fs, "/d/currentEpoch").value == 3);
  }
  SECTION("only a complete .tmp stands for a missing file") {
    SimFileSystem empty(1);
    auto tmp = open(empty, "/d/acceptedEpoch.tmp");
    REQUIRE_FALSE(tmp->write_at(0, "12\n"));
    auto r = storage::read_epoch_file(empty, "/d/acceptedEpoch");
    CHECK(r.value == 12);
    CHECK(r.recovered_from_tmp);
    REQUIRE_FALSE(tmp->truncate(1));
    r = storage::read_epoch_file(empty, "/d/acceptedEpoch");
    CHECK_FALSE(r.value);
    CHECK(r.error.empty());
  }
  SECTION("a damaged epoch file is an error naming it") {
    fs.damage("/d/currentEpoch", 0, "x");
    const auto r = storage::read_epoch_file(fs, "/d/currentEpoch");
    CHECK_FALSE(r.value);
    CHECK(r.error.find("/d/currentEpoch") != std::string::npos);
  }
}

TEST_CASE("epoch file text is a decimal and a newline") {
  CHECK(storage::parse_epoch_file("0\n") == 0);
  CHECK(storage::parse_epoch_file("123\n") == 123);
  CHECK_FALSE(storage::parse_epoch_file("123"));
  CHECK_FALSE(storage::parse_epoch_file("\n"));
  CHECK_FALSE(storage::parse_epoch_file("-1\n"));
  CHECK_FALSE(storage::parse_epoch_file("1 \n"));
  CHECK_FALSE(storage::parse_epoch_file("1x\n"));
}
