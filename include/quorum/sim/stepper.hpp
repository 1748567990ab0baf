// The run loop shared by the simulator's clusters: step until a condition holds or virtual
// time runs out, with a hard bound on the number of steps.
#pragma once

#include <cstdint>

#include "quorum/config.hpp"
#include "quorum/types.hpp"

namespace quorum::sim {

/// Gives a cluster `run_for` and `run_until` over its own `now()` and `step(end)`, which must
/// deliver one message or move time to the next deadline, and return false when nothing can
/// happen before `end` (time then stands at `end`).
template <class Cluster>
class Stepper {
 public:
  /// Runs until virtual time has moved `span` further.
  void run_for(Duration span) {
    run_until([] { return false; }, span);
  }

  /// Runs until `done()` holds (checked after every step) or `limit` of virtual time passes.
  /// Returns whether `done()` held.
  template <class Predicate>
  bool run_until(Predicate done, Duration limit) {
    Cluster& c = static_cast<Cluster&>(*this);
    const Instant end = c.now() + limit;
    if (done()) return true;
    for (std::uint64_t steps = 0; steps < max_steps; ++steps) {
      if (!c.step(end)) return done();
      if (done()) return true;
    }
    QUORUM_ASSERT(false, "simulation step bound reached");
    return false;
  }

 private:
  static constexpr std::uint64_t max_steps = 100'000'000;
};

}  // namespace quorum::sim
