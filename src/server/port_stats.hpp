// What the client port counts for the four-letter words (ZooKeeper's ServerStats and
// per-connection stats): packets each way, requests in flight and their latency. Touched only
// on the port's I/O thread. Private to src/server.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

namespace quorum::server {

/// Request latency in ms: min/avg/max as ZooKeeper prints them (0/0.0/0 before any).
struct LatencyStats {
  std::uint64_t count = 0;
  double total_ms = 0;
  std::int64_t min_ms = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_ms = 0;
  std::int64_t last_ms = 0;

  void add(std::chrono::steady_clock::duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    ++count;
    total_ms += static_cast<double>(ms);
    min_ms = std::min(min_ms, ms);
    max_ms = std::max(max_ms, ms);
    last_ms = ms;
  }
  std::int64_t min() const noexcept { return count ? min_ms : 0; }
  double avg() const noexcept { return count ? total_ms / static_cast<double>(count) : 0.0; }
  std::int64_t max() const noexcept { return max_ms; }
};

/// The whole port's (srvr, stat, mntr; reset by srst).
struct PortStats {
  std::uint64_t received = 0;    ///< packets read (requests, pings, four-letter words)
  std::uint64_t sent = 0;        ///< packets written (replies, events, answers)
  std::int64_t outstanding = 0;  ///< requests handed to the member, not yet answered
  LatencyStats latency;
  void reset() {
    received = sent = 0;
    latency = {};
  }
};

}  // namespace quorum::server
