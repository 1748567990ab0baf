// Fault moves shared by the simulation swarms (elections, and the replicated log).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "quorum/election/describe.hpp"
#include "quorum/random.hpp"

namespace quorum::testing {

using SwarmNote = std::function<void(const std::string&)>;

/// Splits members 1..n into two random sides that cannot talk to each other.
template <class Cluster>
void partition_at_random(Cluster& c, Prng& draw, ServerId n, const SwarmNote& note) {
  std::vector<ServerId> a, b;
  for (ServerId m = 1; m <= n; ++m) (draw.chance(0.5) ? a : b).push_back(m);
  c.network().partition({a, b});
  note("partition " + describe_ids(a) + " | " + describe_ids(b));
}

/// Restores every link and runs all members but a random minority, which is (or stays) down.
/// Returns the members in a random order; the last one is always running.
template <class Cluster>
std::vector<ServerId> heal_leaving_minority_down(Cluster& c, Prng& draw, ServerId n,
                                                 const SwarmNote& note) {
  c.network().heal();
  std::vector<ServerId> ids;
  for (ServerId id = 1; id <= n; ++id) ids.push_back(id);
  for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[draw.below(i)]);
  const auto stay_down = static_cast<std::size_t>(draw.between(0, (n - 1) / 2));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i < stay_down && c.is_up(ids[i])) {
      c.crash(ids[i]);
      note("crash " + std::to_string(ids[i]) + " for good");
    }
    if (i >= stay_down && !c.is_up(ids[i])) {
      c.start(ids[i]);
      note("restart " + std::to_string(ids[i]));
    }
  }
  note("heal everything; " + std::to_string(stay_down) + " stay down");
  return ids;
}

/// The moves every swarm makes: crash a running member, restart a stopped one, split the
/// network at random, heal it.
enum class BasicFault { crash, restart, partition, heal };

/// Applies `fault` to member `id` (crash, restart) or to the network. Returns whether a
/// member was crashed, so the caller can count it and say more.
template <class Cluster>
bool apply_basic_fault(Cluster& c, Prng& draw, ServerId n, ServerId id, BasicFault fault,
                       const SwarmNote& note) {
  switch (fault) {
    case BasicFault::crash:
      if (!c.is_up(id)) return false;
      c.crash(id);
      note("crash " + std::to_string(id));
      return true;
    case BasicFault::restart:
      if (!c.is_up(id)) {
        c.start(id);
        note("restart " + std::to_string(id));
      }
      return false;
    case BasicFault::partition:
      partition_at_random(c, draw, n, note);
      return false;
    case BasicFault::heal:
      c.network().heal();
      note("heal");
      return false;
  }
  return false;
}

}  // namespace quorum::testing
