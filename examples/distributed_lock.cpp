// A distributed lock on the data tree, ZooKeeper's recipe: each contender creates an
// ephemeral sequential node under the lock; the lowest holds it; every other watches only its
// predecessor (no herd effect) and checks again when that node goes. Four workers on three
// members take the lock in turn and update a shared counter with compare-and-set; the run
// fails loudly if two ever hold the lock at once.
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "quorum/inproc_ensemble.hpp"

using namespace std::chrono_literals;
using quorum::ServerId;
using quorum::Session;

namespace {

// Wakes a waiting contender when the node it watches changes.
class Doorbell {
 public:
  quorum::WatchHandler handler() {
    return [this](const quorum::tree::WatchedEvent&) {
      std::lock_guard lock(mutex_);
      ++rings_;
      rang_.notify_all();
    };
  }
  std::uint64_t rings() {
    std::lock_guard lock(mutex_);
    return rings_;
  }
  // Waits for a ring after `seen`; bounded so a lost event cannot hang the example.
  bool wait_after(std::uint64_t seen) {
    std::unique_lock lock(mutex_);
    return rang_.wait_for(lock, 10s, [&] { return rings_ > seen; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable rang_;
  std::uint64_t rings_ = 0;
};

class DistributedLock {
 public:
  DistributedLock(Session& session, Doorbell& bell, std::string dir)
      : session_(session), bell_(bell), dir_(std::move(dir)) {}

  void lock() {
    mine_ =
        session_
            .create(dir_ + "/lock-", "", {.mode = quorum::tree::CreateMode::ephemeral_sequential})
            .path;
    const std::string my_name = mine_.substr(dir_.size() + 1);
    for (;;) {
      const std::uint64_t seen = bell_.rings();
      auto children = session_.get_children(dir_).children;
      std::sort(children.begin(), children.end());
      auto me = std::find(children.begin(), children.end(), my_name);
      if (me == children.begin()) return;  // lowest: ours
      // Watch the one just before us; if it is already gone, look again at once.
      if (session_.exists(dir_ + "/" + *(me - 1), quorum::Watch::yes)) {
        if (!bell_.wait_after(seen)) throw std::runtime_error("lock: no event within 10 s");
      }
    }
  }
  void unlock() { session_.remove(mine_); }

 private:
  Session& session_;
  Doorbell& bell_;
  std::string dir_;
  std::string mine_;
};

}  // namespace

int main() {
  quorum::NodeConfig base;
  base.replica.finalize_wait = base.replica.min_notification_interval = 20ms;
  base.replica.tick = 100ms;
  quorum::InProcEnsemble nodes({1, 2, 3}, base);
  const std::vector<ServerId>& ids = nodes.ids();
  nodes.start();
  if (!nodes.wait_serving(30s)) {
    fmt::print(stderr, "lock: the ensemble did not start serving\n");
    return 1;
  }

  {
    Session admin = nodes[1].open_session();
    admin.create("/locks");
    admin.create("/locks/counter-lock");
    admin.create("/counter", "0");
  }

  constexpr int workers = 4, rounds = 5;
  std::atomic<int> holders{0}, overlaps{0}, cas_failures{0};
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Doorbell bell;
      const ServerId at = ids[static_cast<std::size_t>(w) % ids.size()];
      Session session = nodes[at].open_session({.timeout = 4000ms, .watcher = bell.handler()});
      DistributedLock lock(session, bell, "/locks/counter-lock");
      for (int r = 0; r < rounds; ++r) {
        lock.lock();
        if (holders.fetch_add(1) != 0) ++overlaps;
        {
          std::lock_guard guard(order_mutex);
          order.push_back(w);
        }
        session.sync("/counter");  // read the latest value, wherever this session is attached
        const auto current = session.get_data("/counter");
        try {
          session.set_data("/counter", std::to_string(std::stoi(current.data) + 1),
                           current.stat.version);
        } catch (const std::system_error&) {
          ++cas_failures;  // someone else changed it: the lock did not exclude them
        }
        std::this_thread::sleep_for(2ms);
        holders.fetch_sub(1);
        lock.unlock();
      }
    });
  }
  for (auto& t : threads) t.join();

  Session reader = nodes[2].open_session();
  reader.sync("/counter");
  const int counter = std::stoi(reader.get_data("/counter").data);
  std::string sequence;
  for (int w : order) sequence += std::to_string(w);
  fmt::print("lock holders in order: {}\n", sequence);
  fmt::print("counter = {} (expected {}), overlapping holders: {}, failed compare-and-set: {}\n",
             counter, workers * rounds, overlaps.load(), cas_failures.load());
  const bool ok = counter == workers * rounds && overlaps == 0 && cas_failures == 0;
  fmt::print("{}\n", ok ? "mutual exclusion held" : "MUTUAL EXCLUSION VIOLATED");
  return ok ? 0 : 1;
}
