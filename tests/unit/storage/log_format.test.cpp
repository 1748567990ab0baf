#include "support/catch.hpp"

#include <string>
#include <vector>

#include "quorum/storage/log_format.hpp"

using namespace quorum;
using namespace quorum::storage;
using End = SegmentScan::End;

namespace {

Txn txn(std::uint32_t counter, std::string data = "payload") {
  return Txn{Zxid::make(1, counter), 5, std::move(data)};
}

// A segment of txns 1..n with `zeros` bytes of preallocated space after them; `ends` gets
// each record's end offset.
std::string segment(std::uint32_t n, std::size_t zeros = 64,
                    std::vector<std::size_t>* ends = nullptr) {
  std::string out = encode_segment_header(Zxid::make(1, 1), Zxid{});
  for (std::uint32_t i = 1; i <= n; ++i) {
    append_record(out, txn(i, "data " + std::to_string(i)));
    if (ends) ends->push_back(out.size());
  }
  return out + std::string(zeros, '\0');
}

}  // namespace

TEST_CASE("log records round-trip through a segment") {
  const std::string bytes = segment(3);
  const SegmentScan s = scan_segment(bytes, true);
  CHECK(s.end == End::clean);
  CHECK(s.first == Zxid::make(1, 1));
  REQUIRE(s.records == 3);
  REQUIRE(s.txns.size() == 3);
  CHECK(s.txns[2] == txn(3, "data 3"));
  CHECK(s.last == Zxid::make(1, 3));
  CHECK(s.valid_end == bytes.size() - 64);
  // Without the txns, the same positions.
  const SegmentScan light = scan_segment(bytes, false);
  CHECK(light.records == 3);
  CHECK(light.txns.empty());
  CHECK(light.valid_end == s.valid_end);
}

TEST_CASE("preallocated zeros of any length, even shorter than a length field, end a segment") {
  for (std::size_t zeros = 0; zeros <= 8; ++zeros) {
    INFO(zeros << " zero bytes after the records");
    const SegmentScan s = scan_segment(segment(3, zeros), false);
    CHECK(s.end == End::clean);
    CHECK(s.records == 3);
  }
}

TEST_CASE("segment names are log.<lowercase hex of the first zxid>") {
  CHECK(segment_name(Zxid::make(1, 1)) == "log.100000001");
  CHECK(segment_name(Zxid{0}) == "log.0");
  CHECK(parse_segment_name("log.100000001") == Zxid::make(1, 1));
  CHECK(parse_segment_name("log.1a") == Zxid{0x1a});
  CHECK_FALSE(parse_segment_name("log."));
  CHECK_FALSE(parse_segment_name("log.1A"));
  CHECK_FALSE(parse_segment_name("log.xyz"));
  CHECK_FALSE(parse_segment_name("log.1.tmp"));
  CHECK_FALSE(parse_segment_name("snapshot.1"));
  CHECK_FALSE(parse_segment_name("log.10000000000000000"));
}

TEST_CASE("a torn last record is a torn tail, cut where the last good record ends") {
  std::vector<std::size_t> ends;
  const std::string whole = segment(4, 0, &ends);
  SECTION("cut anywhere inside the last record") {
    for (std::size_t cut = ends[2] + 1; cut < ends[3]; ++cut) {
      const std::string bytes = whole.substr(0, cut);
      const SegmentScan s = scan_segment(bytes, false);
      // A cut that kept only the length's leading zero bytes wrote nothing that counts.
      if (bytes.find_first_not_of('\0', ends[2]) == std::string::npos) {
        CHECK(s.end == End::clean);
        CHECK(s.valid_end == ends[2]);
        continue;
      }
      CHECK(s.end == End::torn);
      CHECK(s.records == 3);
      CHECK(s.valid_end == ends[2]);
      CHECK(s.problem_offset == ends[2]);
    }
  }
  SECTION("the last record's bytes partly never written (zeros)") {
    std::string bytes = whole + std::string(32, '\0');
    for (std::size_t i = ends[3] - 5; i < ends[3]; ++i) bytes[i] = '\0';
    const SegmentScan s = scan_segment(bytes, false);
    CHECK(s.end == End::torn);
    CHECK(s.records == 3);
    CHECK(s.problem.find("checksum") != std::string::npos);
  }
  SECTION("a zero length with garbage after it") {
    std::string bytes = whole + std::string(4, '\0') + "garbage";
    const SegmentScan s = scan_segment(bytes, false);
    CHECK(s.end == End::torn);
    CHECK(s.records == 4);
    CHECK(s.valid_end == ends[3]);
  }
}

TEST_CASE("damage before the last record is corruption, not a torn tail") {
  std::vector<std::size_t> ends;
  const std::string whole = segment(5, 64, &ends);
  for (std::size_t offset : {ends[0] + 2, ends[0] + 6, ends[1] + 20, ends[2] - 1}) {
    std::string bytes = whole;
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x40);
    const SegmentScan s = scan_segment(bytes, false);
    CHECK(s.end == End::corrupt);
    CHECK(s.problem.find("followed by a valid record") != std::string::npos);
  }
}

TEST_CASE("records out of zxid order or a gap within an epoch are corruption") {
  std::string bytes = encode_segment_header(Zxid::make(1, 1), Zxid{});
  append_record(bytes, txn(1));
  append_record(bytes, txn(3));  // 2 is missing
  SegmentScan s = scan_segment(bytes, false);
  CHECK(s.end == End::corrupt);
  CHECK(s.records == 1);
  CHECK(s.problem == "zxid 0x100000003 does not follow 0x100000001");

  bytes = encode_segment_header(Zxid::make(1, 1), Zxid{});
  append_record(bytes, txn(2));  // not what the header promised
  s = scan_segment(bytes, false);
  CHECK(s.end == End::corrupt);
  CHECK(s.problem == "zxid 0x100000002 does not follow the header's 0x100000001");

  // A new epoch starts at counter 1.
  bytes = encode_segment_header(Zxid::make(1, 1), Zxid{});
  append_record(bytes, txn(1));
  append_record(bytes, Txn{Zxid::make(2, 1), 5, "x"});
  CHECK(scan_segment(bytes, false).end == End::clean);
}

TEST_CASE("segment headers: missing is torn, wrong is corrupt") {
  CHECK(scan_segment("", false).end == End::torn);
  CHECK(scan_segment(std::string(10, '\0'), false).end == End::torn);
  CHECK(scan_segment(std::string(4096, '\0'), false).end == End::torn);
  std::string bad = segment(1);
  bad[0] = 'X';
  const SegmentScan s = scan_segment(bad, false);
  CHECK(s.end == End::corrupt);
  CHECK(s.problem.find("magic") != std::string::npos);
  CHECK(scan_segment("QLOG", false).end == End::corrupt);
}

TEST_CASE("an absurd record length is refused before anything is allocated") {
  std::string bytes = encode_segment_header(Zxid::make(1, 1), Zxid{});
  bytes += std::string("\xff\xff\xff\xff", 4) + std::string(40, 'x');
  const SegmentScan s = scan_segment(bytes, true);
  CHECK(s.end == End::torn);
  CHECK(s.problem.find("record length") != std::string::npos);
  CHECK(s.txns.empty());
}

TEST_CASE("snapshot files round-trip and refuse any damage") {
  const Snapshot snapshot{Zxid::make(3, 9), std::string("state \0 bytes", 13)};
  const std::string file = encode_snapshot_file(snapshot);
  std::string problem;
  const auto back = decode_snapshot_file(file, problem);
  REQUIRE(back);
  CHECK(back->last_zxid == snapshot.last_zxid);
  CHECK(back->state == snapshot.state);
  const auto moved = decode_snapshot_file(std::string(file), problem);  // keeps the buffer
  REQUIRE(moved);
  CHECK(moved->state == snapshot.state);
  CHECK(moved->last_zxid == snapshot.last_zxid);
  CHECK(snapshot_name(Zxid::make(3, 9)) == "snapshot.300000009");
  CHECK(parse_snapshot_name("snapshot.300000009") == Zxid::make(3, 9));
  CHECK(parse_snapshot_name("snapshot.0") == Zxid{0});
  CHECK_FALSE(parse_snapshot_name("snapshot.300000009.tmp"));
  CHECK_FALSE(parse_snapshot_name("log.1"));

  // Every single damaged byte and every truncation is caught.
  for (std::size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CHECK_FALSE(decode_snapshot_file(bad, problem));
  }
  for (std::size_t n = 0; n < file.size(); ++n)
    CHECK_FALSE(decode_snapshot_file(file.substr(0, n), problem));
  CHECK_FALSE(decode_snapshot_file(file + "x", problem));
  CHECK(problem.find("bytes of state") != std::string::npos);
}
