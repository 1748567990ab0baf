// A closed-loop load through quorum::Sessions: each session keeps `window` operations
// (create, setData or getData of 100-byte values) outstanding until the time is up. Counts,
// errors and every operation's latency come back; the caller prints them.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "quorum/client/session.hpp"

namespace bench {

struct LoadResult {
  std::uint64_t ops = 0;
  std::uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_us;  ///< sorted

  double per_second() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  double percentile_us(double p) const {
    if (latencies_us.empty()) return 0;
    return latencies_us[static_cast<std::size_t>(p * static_cast<double>(latencies_us.size() - 1))];
  }
};

namespace detail {

using Clock = std::chrono::steady_clock;

struct Loop {
  quorum::Session* session = nullptr;
  std::string kind;
  std::string path;  ///< setData/getData target; create makes children under it
  std::size_t window = 0;
  std::atomic<bool>* stop = nullptr;
  std::mutex mutex;
  std::condition_variable idle;
  std::size_t outstanding = 0;
  std::uint64_t next = 0;
  std::uint64_t done = 0;
  std::uint64_t errors = 0;
  std::vector<double> latencies_us;

  void issue_locked(std::unique_lock<std::mutex>& lock) {
    while (!stop->load() && outstanding < window) {
      ++outstanding;
      const std::uint64_t n = next++;
      const auto started = Clock::now();
      lock.unlock();
      auto finish = [this, started](std::error_code ec) {
        std::unique_lock l(mutex);
        --outstanding;
        ++done;
        errors += ec ? 1u : 0u;
        latencies_us.push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - started).count());
        issue_locked(l);
        idle.notify_all();
      };
      const std::string value(100, 'v');
      if (kind == "create") {
        session->async_create(path + "/c" + std::to_string(n), value, {},
                              [finish](std::error_code ec, quorum::CreateResult) { finish(ec); });
      } else if (kind == "set_data") {
        session->async_set_data(path, value, -1,
                                [finish](std::error_code ec, quorum::tree::Stat) { finish(ec); });
      } else {
        session->async_get_data(path, quorum::Watch::no,
                                [finish](std::error_code ec, quorum::DataResult) { finish(ec); });
      }
      lock.lock();
    }
  }
};

}  // namespace detail

/// Runs `kind` ("create", "set_data", "get_data") through `sessions`, session i on the znode
/// `paths[i]` (which must exist), `window` outstanding per session, for `seconds`; then waits
/// (at most 30 s) for what is in flight.
inline LoadResult run_load(const std::vector<quorum::Session*>& sessions,
                           const std::vector<std::string>& paths, const std::string& kind,
                           std::size_t window, double seconds) {
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<detail::Loop>> loops;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    auto loop = std::make_unique<detail::Loop>();
    loop->session = sessions[i];
    loop->kind = kind;
    loop->path = paths[i];
    loop->window = window;
    loop->stop = &stop;
    loops.push_back(std::move(loop));
  }
  const auto t0 = detail::Clock::now();
  for (auto& loop : loops) {
    std::unique_lock lock(loop->mutex);
    loop->issue_locked(lock);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  LoadResult r;
  for (auto& loop : loops) {
    std::unique_lock lock(loop->mutex);
    loop->idle.wait_for(lock, std::chrono::seconds(30), [&] { return loop->outstanding == 0; });
    r.ops += loop->done;
    r.errors += loop->errors;
    r.latencies_us.insert(r.latencies_us.end(), loop->latencies_us.begin(),
                          loop->latencies_us.end());
  }
  r.seconds = std::chrono::duration<double>(detail::Clock::now() - t0).count();
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  return r;
}

}  // namespace bench
