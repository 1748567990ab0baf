// The process the SIGKILL test kills: three members on FileStorage in one process.
//
//   crash_writer write DIR ROUND   writes /w/r<ROUND>-t<T>-<I> from four sessions until killed
//                                  (or for 60 s), printing "acked <path>" after each success
//                                  (and first "report <what>" for what recovery repaired)
//   crash_writer check DIR         prints, per member, the znodes under /w and a digest of
//                                  them with their Stat (JSON lines), then "key <path>" lines
//
// Small segments and a small snapCount, so the kills land in rolls, snapshots and purges too.
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "quorum/durable_ensemble.hpp"

using namespace std::chrono_literals;
using quorum::ServerId;

namespace {

quorum::DurableInProcEnsemble make_ensemble(const std::string& dir) {
  quorum::NodeConfig base;
  base.replica.finalize_wait = 50ms;
  base.replica.min_notification_interval = 50ms;
  base.replica.tick = 100ms;
  base.snap_count = 400;
  quorum::storage::FileStorageOptions options;
  options.log.roll_bytes = 64 << 10;
  options.log.preallocate_bytes = 16 << 10;
  return quorum::DurableInProcEnsemble({1, 2, 3}, base, quorum::DataDirectories(dir, options));
}

bool is_retryable(const std::system_error& e) {
  return e.code() == make_error_code(quorum::errc::connection_loss) ||
         e.code() == make_error_code(quorum::errc::operation_timeout);
}

int write(const std::string& dir, const std::string& round) {
  auto e = make_ensemble(dir);
  for (ServerId id : e.ids())
    for (const std::string& r : e.disks().reports(id)) std::printf("report %s\n", r.c_str());
  std::fflush(stdout);
  e.start();
  if (!e.leader(30s)) {
    std::fprintf(stderr, "crash_writer: no leader within 30 s\n");
    return 1;
  }
  {
    quorum::Session s = e[1].open_session();
    try {
      s.create("/w");
    } catch (const std::system_error& err) {
      if (err.code() != make_error_code(quorum::errc::node_exists)) throw;
    }
  }
  std::mutex out;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  const std::string value(100, 'v');
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      quorum::Session s = e[static_cast<ServerId>(t % 3 + 1)].open_session();
      for (int i = 0; !stop.load(); ++i) {
        const std::string path = fmt::format("/w/r{}-t{}-{}", round, t, i);
        try {
          s.create(path, value);
        } catch (const std::system_error& err) {
          if (!is_retryable(err)) throw;
          continue;  // unknown outcome: not acknowledged
        }
        std::lock_guard lock(out);
        std::printf("acked %s\n", path.c_str());
        std::fflush(stdout);
      }
    });
  std::this_thread::sleep_for(60s);  // the test kills us long before
  stop = true;
  for (auto& w : writers) w.join();
  return 0;
}

int check(const std::string& dir) {
  auto e = make_ensemble(dir);
  e.start();
  if (!e.leader(30s)) {
    std::fprintf(stderr, "crash_writer: no leader within 30 s\n");
    return 1;
  }
  std::vector<std::string> keys;
  for (ServerId id : {1, 2, 3}) {
    quorum::Session s = e[id].open_session();
    s.sync("/");
    std::uint64_t digest = 0xcbf29ce484222325ull;
    const auto mix = [&](const std::string& bytes) {
      for (char c : bytes) digest = (digest ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    };
    std::vector<std::string> children;
    if (s.exists("/w")) children = s.get_children("/w").children;
    std::sort(children.begin(), children.end());
    for (const std::string& child : children) {
      const auto got = s.get_data("/w/" + child);
      mix(child);
      mix(got.data);
      mix(to_string(got.stat.czxid) + to_string(got.stat.mzxid));
    }
    std::printf("%s\n", nlohmann::json{{"member", id},
                                       {"count", children.size()},
                                       {"digest", fmt::format("{:016x}", digest)},
                                       {"applied", to_string(e[id].status().applied)}}
                            .dump()
                            .c_str());
    if (id == 1) keys = children;
  }
  for (const std::string& k : keys) std::printf("key /w/%s\n", k.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && !std::strcmp(argv[1], "write")) return write(argv[2], argv[3]);
    if (argc == 3 && !std::strcmp(argv[1], "check")) return check(argv[2]);
  } catch (const std::exception& err) {
    std::fprintf(stderr, "crash_writer: %s\n", err.what());
    return 1;
  }
  std::fprintf(stderr, "usage: crash_writer write DIR ROUND | crash_writer check DIR\n");
  return 2;
}
