// One seeded simulation run of elections under faults: the seed decides the ensemble size,
// every fault rate, the histories, the schedule of crashes and partitions, and every tie.
// Shared by the [sim] tests and by tools/quorum_sim, which replays one seed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quorum/election/describe.hpp"
#include "quorum/random.hpp"
#include "quorum/sim/election_cluster.hpp"
#include "support/swarm_faults.hpp"

namespace quorum::testing {

struct SwarmResult {
  std::uint64_t seed = 0;
  std::size_t servers = 0;
  std::vector<std::string> violations;  ///< empty when every check held
  std::optional<ServerId> leader;       ///< who the connected majority settled on
  Duration settle_time{};               ///< from healing until settled
  std::uint64_t trace_hash = 0;
  std::uint64_t events = 0;
  std::uint64_t decisions = 0;
  sim::NetworkStats network;
  std::string parameters;  ///< the drawn swarm parameters, for the failure message

  bool ok() const noexcept { return violations.empty(); }
};

using SwarmTrace = std::function<void(const std::string& line)>;

namespace detail {

// (peerEpoch, zxid) of a member's durable history: what the vote order compares first.
inline std::pair<Epoch, Zxid> history_of(sim::ElectionCluster& c, ServerId id) {
  return {c.storage(id).current_epoch(), c.storage(id).last_logged_zxid()};
}

// Checks one decision against the ground truth of every member's storage.
inline void check_decision(sim::ElectionCluster& c, ServerId member, const Decided& d,
                           std::vector<std::string>& violations) {
  const QuorumVerifier verifier(c.voters());
  const ServerId leader = d.vote.leader;
  const auto where = "member " + std::to_string(member) + " decided " +
                     std::string(to_string(d.state)) + " " + describe(d.vote) + " with " +
                     describe_ids(d.supporters) + ": ";
  if (!verifier.contains_quorum(d.supporters))
    violations.push_back(where + "its supporters are not a quorum");
  if ((d.state == PeerState::leading) != (leader == member))
    violations.push_back(where + "state does not match the leader");
  if (d.path == DecisionPath::looking_quorum) {
    // FLE's promise: the leader's history is the largest among the quorum that elected it.
    const auto mine = history_of(c, leader);
    if (std::pair{d.vote.peer_epoch, d.vote.zxid} != mine)
      violations.push_back(where + "the vote misreports the leader's history");
    for (ServerId s : d.supporters)
      if (history_of(c, s) > mine)
        violations.push_back(where + "supporter " + std::to_string(s) +
                             " has a larger (epoch, zxid) than the leader");
  } else if (leader != member &&
             std::find(d.supporters.begin(), d.supporters.end(), leader) == d.supporters.end()) {
    violations.push_back(where + "joined a leader that did not itself say LEADING");
  }
}

}  // namespace detail

/// Runs seed `seed`: a fault phase (crashes, restarts, partitions, loss, duplication,
/// reordering), then healing with a minority possibly still down, after which the connected
/// majority must settle on one leader within bounded virtual time and stay there.
inline SwarmResult run_election_swarm(std::uint64_t seed, const SwarmTrace& trace = {}) {
  using namespace std::chrono_literals;
  using std::chrono::milliseconds;
  Prng draw = Prng(seed).fork("swarm");
  const auto ms = [&](std::int64_t lo, std::int64_t hi) {
    return Duration(milliseconds(draw.between(lo, hi)));
  };

  sim::ClusterOptions options;
  options.seed = seed;
  options.servers = static_cast<std::size_t>(draw.between(3, 7));
  options.faults.delay_min = Duration(std::chrono::microseconds(draw.between(50, 5000)));
  options.faults.delay_max = options.faults.delay_min + ms(0, 20);
  options.faults.drop = draw.unit() * 0.2;
  options.faults.duplicate = draw.unit() * 0.1;
  options.faults.reorder = draw.unit() * 0.2;
  options.faults.reorder_max = ms(0, 200);
  options.finalize_wait = ms(0, 200);
  options.min_notification_interval = ms(20, 200);
  options.max_notification_interval =
      std::max(options.min_notification_interval, 2 * options.finalize_wait) + ms(1, 4000);
  options.liveness = sim::LeaderLiveness{
      .follower_timeout = ms(200, 800), .leader_timeout = ms(500, 2000), .check_period = 50ms};

  SwarmResult result;
  result.seed = seed;
  result.servers = options.servers;
  result.parameters =
      std::to_string(options.servers) + " servers, delay " + describe(options.faults.delay_min) +
      ".." + describe(options.faults.delay_max) + ", drop " + std::to_string(options.faults.drop) +
      ", duplicate " + std::to_string(options.faults.duplicate) + ", reorder " +
      std::to_string(options.faults.reorder) + ", finalize " + describe(options.finalize_wait);

  sim::ElectionCluster c(options);
  const auto n = static_cast<ServerId>(options.servers);
  for (ServerId id = 1; id <= n; ++id) {
    // Sometimes a member has synced with a newer epoch before logging any txn in it, so
    // currentEpoch and the zxid's epoch disagree and the order of the rules matters.
    const Epoch logged_epoch = draw.between(0, 2);
    const Epoch current_epoch = logged_epoch + (draw.chance(0.3) ? 1 : 0);
    c.storage(id).set_current_epoch(current_epoch);
    c.storage(id).set_accepted_epoch(current_epoch);
    c.storage(id).set_last_logged_zxid(
        Zxid::make(logged_epoch, static_cast<std::uint32_t>(draw.between(0, 5))));
  }
  c.set_tracer([&](ServerId member, const ElectionEvent& e) {
    if (const auto* d = std::get_if<Decided>(&e))
      detail::check_decision(c, member, *d, result.violations);
    if (trace)
      trace(describe(event_time(e).time_since_epoch()) + " [" + std::to_string(member) + "] " +
            describe(e));
  });
  const auto note = [&](const std::string& what) {
    if (trace) trace(describe(c.now().time_since_epoch()) + " ** " + what);
  };
  note("swarm: " + result.parameters);

  // Members boot at random moments in the first two seconds.
  std::vector<std::pair<Duration, ServerId>> boots;
  for (ServerId id = 1; id <= n; ++id) boots.emplace_back(ms(0, 2000), id);
  std::sort(boots.begin(), boots.end());
  for (auto [at, id] : boots) {
    c.run_for(at - c.now().time_since_epoch());
    c.start(id);
    note("start " + std::to_string(id));
  }

  // Fault phase: a random schedule of crashes, restarts, partitions and heals.
  const Instant faults_end = c.now() + ms(5000, 30000);
  while (c.now() < faults_end) {
    c.run_for(ms(100, 3000));
    const auto id = static_cast<ServerId>(draw.between(1, n));
    switch (draw.below(4)) {
      case 0:
        if (c.is_up(id)) {
          c.crash(id);
          note("crash " + std::to_string(id));
        }
        break;
      case 1:
        if (!c.is_up(id)) {
          c.start(id);
          note("restart " + std::to_string(id));
        }
        break;
      case 2:
        partition_at_random(c, draw, n, note);
        break;
      default:
        c.network().heal();
        note("heal");
    }
  }

  // Healing: links restored, all but a random minority running.
  heal_leaving_minority_down(c, draw, n, note);

  const Instant healed = c.now();
  result.leader = c.run_until_settled(std::chrono::minutes(5));
  result.settle_time = c.now() - healed;
  if (!result.leader) {
    result.violations.push_back(
        "the connected majority did not settle on a leader within 5 minutes of virtual time");
  } else {
    // Settled means settled: nothing changes while nothing fails.
    const ServerId leader = *result.leader;
    c.run_for(10s);
    if (c.settled_leader() != leader)
      result.violations.push_back("the settled leader " + std::to_string(leader) + " did not last");
  }
  result.trace_hash = c.trace_hash();
  result.events = c.events();
  result.decisions = c.decisions().size();
  result.network = c.network().stats();
  return result;
}

}  // namespace quorum::testing
