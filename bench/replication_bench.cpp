// Committed txns/s and commit latency of the replicated log: three in-process members
// (InProcTransport) on MemoryStorage, then on FileStorage (each member its own data directory
// under the system's temporary directory, fsync'ed group commits), 100-byte txns written at the
// leader with 1, 10, 100 and 1,000 proposals in flight. One JSON object per case; nothing here
// is asserted.
//
//   replication_bench [--seconds S]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "quorum/inproc_replica.hpp"
#include "quorum/storage/file_storage.hpp"

using namespace std::chrono_literals;
using quorum::ServerId;
using quorum::Zxid;
using Clock = std::chrono::steady_clock;

namespace {

// Counts what it applies: the bench measures the log, not a data structure.
class CountingMachine {
 public:
  void apply(const quorum::Txn& txn) {
    last_ = txn.zxid;
    bytes_ += txn.data.size();
  }
  quorum::Snapshot snapshot() const { return {last_, std::to_string(bytes_)}; }
  std::error_code restore(const quorum::Snapshot& s) {
    last_ = s.last_zxid;
    return {};
  }
  Zxid last_applied_zxid() const noexcept { return last_; }

 private:
  Zxid last_;
  std::uint64_t bytes_ = 0;
};

struct Commits {
  std::mutex mutex;
  std::condition_variable changed;
  Zxid point;
};

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Runs every case on three members over `storage` (one per id); prints a JSON line per case.
template <class Storage>
int run_cases(std::map<ServerId, Storage*> storage, const char* storage_name, double seconds) {
  const std::vector<ServerId> ids{1, 2, 3};
  quorum::InProcHub hub;
  std::map<ServerId, CountingMachine> machines;
  std::map<ServerId, std::unique_ptr<quorum::InProcReplica<CountingMachine, Storage>>> members;
  Commits commits;
  for (ServerId id : ids) {
    quorum::ReplicaConfig config{.self = id, .voters = ids};
    config.finalize_wait = 20ms;
    config.min_notification_interval = 20ms;
    config.tick = 200ms;
    config.max_in_flight = 10'000;
    members[id] = std::make_unique<quorum::InProcReplica<CountingMachine, Storage>>(
        hub, config, *storage.at(id), machines[id]);
    members[id]->set_role_observer([&commits, id](const quorum::RoleEvent& e) {
      if (id != 3 || e.kind != quorum::RoleEvent::Kind::committed) return;
      {
        std::lock_guard lock(commits.mutex);
        commits.point = e.zxid;
      }
      commits.changed.notify_all();
    });
  }
  for (ServerId id : ids) members[id]->start();
  auto& leader = *members[3];  // equal histories: the largest id leads
  if (!leader.wait_until(
          [](const auto& s) { return s.serving && s.state == quorum::PeerState::leading; }, 10s)) {
    std::fprintf(stderr, "replication_bench: no leader\n");
    return 1;
  }
  for (ServerId id : {1, 2})
    if (!members[id]->wait_until([](const auto& s) { return s.serving; }, 10s)) return 1;
  const quorum::Epoch epoch = leader.status().epoch;

  const std::string payload(100, 'x');
  std::uint32_t next = 1;  // the counter the next submitted txn gets (the leader assigns in order)
  for (std::size_t window : {1u, 10u, 100u, 1000u}) {
    std::vector<Clock::time_point> submitted;  // by counter - first
    const std::uint32_t first = next;
    std::vector<double> latency_us;
    latency_us.reserve(1 << 20);
    std::uint32_t acknowledged = first - 1;  // committed counters seen so far
    const auto begin = Clock::now();
    const auto end =
        begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < end) {
      const std::size_t in_flight = next - 1 - acknowledged;
      if (in_flight < window) {
        std::vector<quorum::Txn> batch;
        const auto now = Clock::now();
        for (std::size_t i = in_flight; i < window; ++i) {
          batch.push_back(quorum::Txn{{}, 1, payload});
          submitted.push_back(now);
          ++next;
        }
        leader.submit(std::move(batch));
      }
      std::unique_lock lock(commits.mutex);
      commits.changed.wait_for(lock, 100ms, [&] {
        return commits.point.epoch() == epoch && commits.point.counter() > acknowledged;
      });
      const std::uint32_t point =
          commits.point.epoch() == epoch ? commits.point.counter() : acknowledged;
      lock.unlock();
      const auto now = Clock::now();
      for (std::uint32_t c = acknowledged + 1; c <= point; ++c)
        latency_us.push_back(
            std::chrono::duration<double, std::micro>(now - submitted[c - first]).count());
      acknowledged = std::max(acknowledged, point);
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
    const auto committed = static_cast<double>(acknowledged - (first - 1));
    // Drain what is still in flight before the next case.
    {
      std::unique_lock lock(commits.mutex);
      commits.changed.wait_for(lock, 10s, [&] { return commits.point.counter() >= next - 1; });
      acknowledged = commits.point.counter();
    }
    nlohmann::json out = {
        {"bench", "replication"},
        {"members", 3},
        {"transport", "inproc"},
        {"storage", storage_name},
        {"txn_bytes", payload.size()},
        {"in_flight", window},
        {"seconds", elapsed},
        {"committed", committed},
        {"committed_per_s", committed / elapsed},
        {"latency_p50_us", percentile(latency_us, 0.5)},
        {"latency_p99_us", percentile(latency_us, 0.99)},
    };
    std::cout << out.dump() << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::max(0.1, std::atof(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  {
    std::map<ServerId, quorum::MemoryStorage> memory;
    if (int rc = run_cases<quorum::MemoryStorage>(
            {{1, &memory[1]}, {2, &memory[2]}, {3, &memory[3]}}, "memory", seconds))
      return rc;
  }
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / "quorum-replication-bench";
  fs::remove_all(root);
  quorum::storage::PosixFileSystem files;
  std::map<ServerId, std::unique_ptr<quorum::storage::FileStorage>> disks;
  std::map<ServerId, quorum::storage::FileStorage*> storage;
  for (ServerId id : {1, 2, 3}) {
    quorum::storage::FileStorageOptions options;
    options.data_dir = (root / ("member-" + std::to_string(id))).string();
    disks[id] = std::make_unique<quorum::storage::FileStorage>(files, options);
    std::string error;
    std::vector<std::string> reports;
    if (disks[id]->open(error, reports)) {
      std::fprintf(stderr, "replication_bench: %s\n", error.c_str());
      return 1;
    }
    storage[id] = disks[id].get();
  }
  const int rc = run_cases<quorum::storage::FileStorage>(storage, "file", seconds);
  disks.clear();
  fs::remove_all(root);
  return rc;
}
