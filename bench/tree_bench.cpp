// The data tree's costs: memory and allocations per znode, apply rate, snapshot and restore
// time for 1,000,000 znodes; then end-to-end operations/s and latency through Sessions on a
// three-member in-process ensemble (create, setData, getData of 100-byte values, with 1, 16
// and 64 sessions keeping up to 100 operations outstanding each). One JSON object per case.
//
//   tree_bench [--znodes N] [--seconds S]
#include <sys/resource.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "quorum/inproc_ensemble.hpp"
#include "session_load.hpp"
#include "tree_txns.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Counts heap allocations, so a znode's cost in allocations is measured, not guessed. The
// replacements pair malloc with free, which GCC cannot see through.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<std::uint64_t> allocations{0};
}
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

// CPU time of the whole process (every member's thread and the clients'): per operation it
// says what a target rate needs from the machine's cores, whatever their number.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

using bench::create_txn;

void memory_case(std::size_t znodes) {
  const std::size_t per_dir = 1000;
  const std::string data(16, 'd');
  // The txns are built first, so the tree's own cost is what the counters see.
  std::vector<quorum::Txn> txns;
  txns.reserve(znodes + znodes / per_dir + 2);
  std::uint32_t counter = 0;
  txns.push_back(create_txn(++counter, "/bench", "", 1));
  for (std::size_t i = 0; i < znodes; ++i) {
    const std::string dir = "/bench/d" + std::to_string(i / per_dir);
    if (i % per_dir == 0)
      txns.push_back(create_txn(++counter, dir, "", static_cast<std::int32_t>(i / per_dir + 1)));
    txns.push_back(create_txn(++counter, dir + "/n" + std::to_string(i % per_dir), data,
                              static_cast<std::int32_t>(i % per_dir + 1)));
  }
  auto tree = std::make_unique<quorum::tree::DataTree>();
  const std::size_t rss_before = resident_bytes();
  const std::uint64_t allocs_before = allocations.load();
  const auto t0 = Clock::now();
  for (const quorum::Txn& txn : txns) tree->apply(txn);
  const double apply_s = seconds_since(t0);
  const std::size_t rss_after = resident_bytes();
  const std::uint64_t allocs = allocations.load() - allocs_before;
  const std::size_t nodes = tree->node_count() - 5;  // the ones this case created
  txns.clear();
  txns.shrink_to_fit();

  // One member's cost of applying a committed setData (100-byte values), which each of the
  // three members pays for every write.
  std::vector<quorum::Txn> sets;
  const std::size_t set_count = std::min<std::size_t>(znodes, 200'000);
  sets.reserve(set_count);
  const std::string value(100, 'v');
  for (std::size_t i = 0; i < set_count; ++i) {
    const std::string path =
        "/bench/d" + std::to_string(i / per_dir) + "/n" + std::to_string(i % per_dir);
    quorum::tree::TxnRecord record{0, 0, 1'700'000'000'000,
                                   quorum::tree::SetDataTxn{path, value, 1}};
    sets.push_back(
        quorum::Txn{quorum::Zxid::make(1, ++counter), 5, quorum::tree::encoding::encode(record)});
  }
  const auto ts = Clock::now();
  for (const quorum::Txn& txn : sets) tree->apply(txn);
  const double set_s = seconds_since(ts);
  sets.clear();

  const auto t1 = Clock::now();
  const quorum::Snapshot image = tree->snapshot();
  const double snapshot_s = seconds_since(t1);
  quorum::tree::DataTree restored;
  const auto t2 = Clock::now();
  const std::error_code ec = restored.restore(image);
  const double restore_s = seconds_since(t2);
  const double rss_per_node =
      static_cast<double>(rss_after - rss_before) / static_cast<double>(nodes);
  // Payload: the name and the 16 data bytes each node must hold anyway.
  const double payload = 16.0 + 4.0;
  std::cout << nlohmann::json{{"bench", "tree_memory"},
                              {"znodes", nodes},
                              {"rss_bytes_per_znode", rss_per_node},
                              {"rss_overhead_bytes_per_znode", rss_per_node - payload},
                              {"allocations_per_znode",
                               static_cast<double>(allocs) / static_cast<double>(nodes)},
                              {"apply_txns_per_s", static_cast<double>(nodes) / apply_s},
                              {"apply_set_data_per_s", static_cast<double>(set_count) / set_s},
                              {"snapshot_s", snapshot_s},
                              {"snapshot_bytes", image.state.size()},
                              {"restore_s", restore_s},
                              {"restore_ok", !ec}}
                   .dump()
            << std::endl;
}

quorum::NodeConfig bench_config() {
  quorum::NodeConfig base;
  base.replica.finalize_wait = base.replica.min_notification_interval = 20ms;
  base.replica.tick = 200ms;
  return base;
}

void throughput_case(quorum::InProcEnsemble& e, const std::string& kind, std::size_t sessions,
                     std::size_t window, double seconds) {
  static int round = 0;
  ++round;
  std::vector<quorum::Session> owned;
  std::vector<quorum::Session*> ptrs;
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < sessions; ++i) {
    owned.push_back(e[static_cast<quorum::ServerId>(1 + i % 3)].open_session());
    paths.push_back("/r" + std::to_string(round) + "s" + std::to_string(i));
    owned.back().create(paths.back(), std::string(100, 'v'));
  }
  for (auto& s : owned) ptrs.push_back(&s);
  const double cpu0 = process_cpu_seconds();
  const std::uint64_t allocations0 = allocations.load();
  const bench::LoadResult r = bench::run_load(ptrs, paths, kind, window, seconds);
  const double cpu = process_cpu_seconds() - cpu0;
  const double per_op = r.ops ? 1.0 / static_cast<double>(r.ops) : 0.0;
  const double allocs = static_cast<double>(allocations.load() - allocations0);
  std::cout << nlohmann::json{{"bench", "tree_ops"},
                              {"op", kind},
                              {"sessions", sessions},
                              {"outstanding_per_session", window},
                              {"ops", r.ops},
                              {"errors", r.errors},
                              {"ops_per_s", r.per_second()},
                              {"p50_us", r.percentile_us(0.50)},
                              {"p99_us", r.percentile_us(0.99)},
                              {"cpu_us_per_op", cpu * 1e6 * per_op},
                              {"allocations_per_op", allocs * per_op},
                              {"cores", std::thread::hardware_concurrency()}}
                   .dump()
            << std::endl;
  for (auto& s : owned) s.close();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t znodes = 1'000'000;
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--znodes") && i + 1 < argc) {
      znodes = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::cerr << "usage: tree_bench [--znodes N] [--seconds S]\n";
      return 2;
    }
  }
  std::vector<std::string> kinds{"create", "set_data", "get_data"};
  if (const char* only = std::getenv("TREE_BENCH_ONLY")) kinds = {only};
  if (znodes > 0) memory_case(znodes);
  quorum::InProcEnsemble e({1, 2, 3}, bench_config());
  e.start();
  if (!e.wait_serving(30s)) {
    std::cerr << "tree_bench: no leader\n";
    return 1;
  }
  for (const std::string& kind : kinds)
    for (std::size_t sessions : {std::size_t{1}, std::size_t{16}, std::size_t{64}})
      throughput_case(e, kind, sessions, 100, seconds);
  return 0;
}
