// quorum-logdump: prints the records of a log segment or a snapshot's summary, or checks a data
// directory.
//
//   quorum-logdump log.<zxid>                 one line per record
//   quorum-logdump snapshot.<zxid>            the snapshot's zxid, size and seal
//   quorum-logdump --verify DATA_DIR [LOG_DIR]
//
// Exit status: 0 when everything is intact, 1 when something is damaged (corrupt), 3 when the
// only damage is a torn log tail (which a member cuts when it starts), 2 for bad usage or a file
// that cannot be read.
#include <cstring>
#include <iostream>
#include <string>

#include "quorum/storage/file_system.hpp"
#include "quorum/storage/log_format.hpp"
#include "quorum/storage/verify.hpp"
#include "quorum/tree/record_codec.hpp"

namespace {

using namespace quorum;

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The data tree's view of a txn, when it is one.
std::string describe(const Txn& txn) {
  tree::TxnRecord record;
  if (!tree::encoding::decode(txn.data.str(), record)) return "(not a data tree txn)";
  std::string out = "session 0x" + to_string(Zxid{record.session}).substr(2) + " cxid " +
                    std::to_string(record.cxid);
  std::visit(
      [&](const auto& body) {
        if constexpr (requires { body.path; }) out += " " + std::string(body.path);
      },
      record.body);
  return out;
}

int dump_segment(storage::FileSystem& fs, const std::string& path) {
  std::string bytes;
  if (auto ec = fs.read_all(path, bytes)) {
    std::cerr << path << ": " << ec.message() << "\n";
    return 2;
  }
  const storage::SegmentScan s = storage::scan_segment(bytes, true);
  std::cout << path << ": segment from " << to_string(s.first) << " (after "
            << to_string(s.previous) << "), " << s.records << " records, " << s.valid_end << " of "
            << bytes.size() << " bytes used\n";
  for (const Txn& t : s.txns)
    std::cout << to_string(t.zxid) << " type " << t.type << " " << t.data.size() << " bytes "
              << describe(t) << "\n";
  if (s.end == storage::SegmentScan::End::clean) return 0;
  std::cout << path << " at offset " << s.problem_offset << ": "
            << (s.end == storage::SegmentScan::End::torn ? "torn tail: " : "CORRUPT: ") << s.problem
            << "\n";
  return s.end == storage::SegmentScan::End::torn ? 3 : 1;
}

int dump_snapshot(storage::FileSystem& fs, const std::string& path) {
  std::string bytes, problem;
  if (auto ec = fs.read_all(path, bytes)) {
    std::cerr << path << ": " << ec.message() << "\n";
    return 2;
  }
  const auto s = storage::decode_snapshot_file(bytes, problem);
  if (!s) {
    std::cout << path << ": DAMAGED: " << problem << "\n";
    return 1;
  }
  std::cout << path << ": snapshot at " << to_string(s->last_zxid) << ", " << s->state.size()
            << " bytes of state, seal ok\n";
  return 0;
}

int usage() {
  std::cerr << "usage: quorum-logdump log.<zxid> | snapshot.<zxid>\n"
               "       quorum-logdump --verify DATA_DIR [LOG_DIR]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  storage::PosixFileSystem fs;
  if (argc >= 3 && argc <= 4 && !std::strcmp(argv[1], "--verify")) {
    const std::string data = argv[2];
    const std::string log = argc == 4 ? argv[3] : data;
    const storage::VerifyReport r = storage::verify_data_directory(fs, data, log);
    for (const std::string& line : r.lines) std::cout << line << "\n";
    std::cout << r.snapshots << " snapshots, " << r.segments << " segments, " << r.records
              << " records: "
              << (r.corrupt ? "DAMAGED"
                  : r.torn  ? "a torn tail, otherwise intact"
                            : "intact")
              << "\n";
    return r.corrupt ? 1 : r.torn ? 3 : 0;
  }
  if (argc != 2) return usage();
  const std::string path = argv[1];
  const std::string name = base_name(path);
  if (storage::parse_segment_name(name)) return dump_segment(fs, path);
  if (storage::parse_snapshot_name(name)) return dump_snapshot(fs, path);
  std::cerr << path << ": neither log.<hex zxid> nor snapshot.<hex zxid>\n";
  return usage();
}
