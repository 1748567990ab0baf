#include "support/catch.hpp"

#include <string>
#include <vector>

#include "quorum/sim/sim_file_system.hpp"
#include "quorum/storage/file_storage.hpp"
#include "quorum/storage/log_format.hpp"
#include "quorum/storage/verify.hpp"

using namespace quorum;
using namespace quorum::storage;
using quorum::sim::SimFileSystem;

namespace {

// A store with several segments, a snapshot and both epochs.
void fill(SimFileSystem& fs) {
  FileStorageOptions o;
  o.data_dir = "/d";
  o.log = {.roll_bytes = 300, .preallocate_bytes = 64};
  o.writer_thread = false;
  FileStorage s(fs, o);
  std::string error;
  std::vector<std::string> reports;
  REQUIRE_FALSE(s.open(error, reports));
  s.set_accepted_epoch(1);
  s.set_current_epoch(1);
  for (std::uint32_t i = 1; i <= 30; i += 3) {
    s.append(std::vector<Txn>{{Zxid::make(1, i), 5, "a"},
                              {Zxid::make(1, i + 1), 5, "b"},
                              {Zxid::make(1, i + 2), 5, "c"}});
    s.flush();
  }
  s.save_snapshot({Zxid::make(1, 30), "state"});
}

std::string first_segment() {
  return "/d/version-2/" + segment_name(Zxid::make(1, 1));
}

std::string last_segment(SimFileSystem& fs) {
  std::vector<std::string> names;
  REQUIRE_FALSE(fs.list("/d/version-2", names));
  Zxid newest{};
  for (const std::string& n : names)
    if (auto z = parse_segment_name(n)) newest = std::max(newest, *z);
  return "/d/version-2/" + segment_name(newest);
}

}  // namespace

TEST_CASE("verify finds an intact data directory intact") {
  SimFileSystem fs;
  fill(fs);
  const VerifyReport r = verify_data_directory(fs, "/d", "/d");
  CHECK_FALSE(r.damaged());
  CHECK(r.records == 30);
  CHECK(r.segments > 2);
  CHECK(r.snapshots == 2);  // snapshot.0 and snapshot.10000001e
}

TEST_CASE("verify reports each kind of damage and changes nothing") {
  SimFileSystem fs;
  fill(fs);
  SECTION("a flipped byte in an old segment is corruption") {
    fs.damage(first_segment(), 30, "\x7f");
    const std::string before = fs.contents(first_segment());
    const VerifyReport r = verify_data_directory(fs, "/d", "/d");
    CHECK(r.corrupt == 1);
    CHECK(fs.contents(first_segment()) == before);
  }
  SECTION("a cut last segment is a torn tail") {
    const std::string path = last_segment(fs);
    const std::string bytes = fs.contents(path);
    SimFileSystem cut;
    std::unique_ptr<WritableFile> f;
    fill(cut);
    REQUIRE_FALSE(cut.open(path, false, f));
    REQUIRE_FALSE(f->truncate(bytes.find('c', 40)));
    REQUIRE_FALSE(f->sync());
    const VerifyReport r = verify_data_directory(cut, "/d", "/d");
    CHECK(r.corrupt == 0);
    CHECK(r.torn == 1);
  }
  SECTION("a damaged snapshot, a garbled epoch, a log without snapshots") {
    fs.damage("/d/version-2/snapshot.10000001e", 33, "?");
    fs.damage("/d/version-2/currentEpoch", 0, "x");
    VerifyReport r = verify_data_directory(fs, "/d", "/d");
    CHECK(r.corrupt == 2);
    REQUIRE_FALSE(fs.remove("/d/version-2/snapshot.10000001e"));
    REQUIRE_FALSE(fs.remove("/d/version-2/snapshot.0"));
    r = verify_data_directory(fs, "/d", "/d");
    CHECK(r.corrupt == 2);  // the epoch, and the log without a snapshot
    bool named = false;
    for (const std::string& line : r.lines)
      named = named || line.find("a log without any snapshot") != std::string::npos;
    CHECK(named);
  }
}
