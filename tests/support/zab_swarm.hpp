// One seeded simulation run of the replicated log: election + ZAB + a key-value state machine
// under crashes (losing what the disk had not synced), partitions, loss, duplicated and
// reordered election traffic, then healing. Checked after every step:
//  (a) at most one established leader per epoch;
//  (b) committed txns form one sequence: members agree on every committed zxid's contents and
//      no member skips a committed zxid;
//  (c) no txn reported committed is ever lost (the healed ensemble holds all of them);
//  (d) applied zxids strictly increase, without gaps inside an epoch;
//  (e) after healing a leader is established and new writes commit within bounded time;
//  (f) a disk that reopens after a power loss holds everything it had made durable.
// run_zab_swarm uses MemoryStorage disks; file_zab_swarm.hpp runs the same swarm on FileStorage
// with crash points inside its file operations.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quorum/election/describe.hpp"
#include "quorum/random.hpp"
#include "quorum/sim/replica_cluster.hpp"
#include "support/swarm_faults.hpp"

namespace quorum::testing {

struct ZabSwarmResult {
  std::uint64_t seed = 0;
  std::size_t servers = 0;
  std::vector<std::string> violations;
  std::optional<ServerId> leader;
  std::uint64_t committed = 0;  ///< distinct zxids committed in the run
  std::uint64_t epochs = 0;     ///< leaders established
  std::uint64_t crashes = 0;
  std::uint64_t crash_points = 0;  ///< crash points armed inside file operations
  std::string parameters;

  bool ok() const noexcept { return violations.empty(); }
};

using ZabTrace = std::function<void(const std::string& line)>;

namespace detail {

// Watches every member's applied history against the one committed sequence.
class HistoryChecker {
 public:
  explicit HistoryChecker(std::vector<std::string>& violations) : violations_(violations) {}

  // Member `id` reports commits through `point`: everything it applied up to there is committed.
  template <class Cluster>
  void committed(Cluster& c, ServerId id, Zxid point) {
    const sim::RecordingKv& r = c.recording(id);
    std::size_t& seen = seen_[id];
    if (r.restored_at() != restored_at_[id] || seen > r.applied().size()) {
      seen = 0;  // the state machine was rebuilt
      restored_at_[id] = r.restored_at();
    }
    Zxid previous = seen == 0 ? r.restored_at() : r.applied()[seen - 1].zxid;
    for (; seen < r.applied().size() && r.applied()[seen].zxid <= point; ++seen) {
      const auto& a = r.applied()[seen];
      const std::string who = "member " + std::to_string(id) + " at " + to_string(a.zxid) + ": ";
      if (!follows(previous, a.zxid) && previous != Zxid{})
        violations_.push_back(who + "applied after " + to_string(previous) +
                              " (a gap or a step back)");
      // No committed zxid may lie strictly between what it applied before and this one.
      auto between = committed_.upper_bound(previous);
      if (between != committed_.end() && between->first < a.zxid)
        violations_.push_back(who + "skipped committed " + to_string(between->first));
      auto [it, fresh] = committed_.emplace(a.zxid, a.hash);
      if (!fresh && it->second != a.hash)
        violations_.push_back(who + "committed different contents than another member");
      previous = a.zxid;
    }
  }

  void established(ServerId id, Epoch epoch) {
    auto [it, fresh] = leaders_.emplace(epoch, id);
    if (!fresh && it->second != id)
      violations_.push_back("epoch " + std::to_string(epoch) + " has two leaders: " +
                            std::to_string(it->second) + " and " + std::to_string(id));
  }

  Zxid highest_committed() const {
    return committed_.empty() ? Zxid{} : committed_.rbegin()->first;
  }
  std::size_t committed_count() const { return committed_.size(); }
  std::size_t epochs() const { return leaders_.size(); }

 private:
  std::vector<std::string>& violations_;
  std::map<Zxid, std::uint64_t> committed_;
  std::map<Epoch, ServerId> leaders_;
  std::map<ServerId, std::size_t> seen_;
  std::map<ServerId, Zxid> restored_at_;
};

}  // namespace detail

/// Faults a kind of disk adds to the swarm.
template <class Cluster>
struct DiskFaults {
  /// Offered three fault moves in thirteen when set; returns what it did, for the trace, or "".
  std::function<std::string(Cluster&, Prng& draw, ServerId member)> strike;
  /// Called as the network heals: faults still pending must stop.
  std::function<void(Cluster&)> heal;
  /// Sees the cluster before it goes.
  std::function<void(Cluster&)> at_end;
};

/// The swarm over disks of type `Disk`.
template <class Disk>
ZabSwarmResult run_zab_swarm_on(std::uint64_t seed, const ZabTrace& trace,
                                typename sim::BasicReplicaCluster<Disk>::MakeDisk make_disk,
                                const DiskFaults<sim::BasicReplicaCluster<Disk>>& disk_faults) {
  using namespace std::chrono_literals;
  using Cluster = sim::BasicReplicaCluster<Disk>;
  using std::chrono::milliseconds;
  Prng draw = Prng(seed).fork("zab-swarm");
  const auto ms = [&](std::int64_t lo, std::int64_t hi) {
    return Duration(milliseconds(draw.between(lo, hi)));
  };

  sim::ReplicaClusterOptions options;
  options.seed = seed;
  options.servers = static_cast<std::size_t>(draw.between(3, 5));
  options.faults.delay_min = Duration(std::chrono::microseconds(draw.between(50, 3000)));
  options.faults.delay_max = options.faults.delay_min + ms(0, 5);
  options.faults.drop = draw.chance(0.5) ? draw.unit() * 0.02 : 0.0;
  options.faults.duplicate = draw.unit() * 0.05;
  options.faults.reorder = draw.unit() * 0.1;
  options.faults.reorder_max = ms(0, 50);
  options.disk_latency_min = Duration(std::chrono::microseconds(draw.between(50, 2000)));
  options.disk_latency_max = options.disk_latency_min + ms(0, 60);
  options.replica.finalize_wait = ms(5, 100);
  options.replica.min_notification_interval = ms(20, 100);
  options.replica.max_notification_interval =
      std::max(options.replica.min_notification_interval, 2 * options.replica.finalize_wait) +
      ms(1, 1000);
  options.replica.tick = ms(50, 200);
  options.replica.init_limit = static_cast<int>(draw.between(5, 10));
  options.replica.sync_limit = static_cast<int>(draw.between(2, 5));
  options.replica.max_in_flight = static_cast<std::size_t>(draw.between(1, 200));
  options.replica.commit_log_count = static_cast<std::size_t>(draw.between(5, 100));
  options.replica.snapshot_size_factor = std::array{-1.0, 0.33, 10.0}[draw.below(3)];

  ZabSwarmResult result;
  result.seed = seed;
  result.servers = options.servers;
  result.parameters =
      std::to_string(options.servers) + " servers, delay " + describe(options.faults.delay_min) +
      ".." + describe(options.faults.delay_max) + ", drop " + std::to_string(options.faults.drop) +
      ", disk " + describe(options.disk_latency_min) + ".." + describe(options.disk_latency_max) +
      ", tick " + describe(options.replica.tick) + ", window " +
      std::to_string(options.replica.max_in_flight) + ", commit log " +
      std::to_string(options.replica.commit_log_count);

  using Member = typename Cluster::Member;
  Cluster c(options, std::move(make_disk));
  detail::HistoryChecker history(result.violations);
  const auto n = static_cast<ServerId>(options.servers);
  const auto note = [&](const std::string& what) {
    if (trace) trace(describe(c.now().time_since_epoch()) + " ** " + what);
  };
  c.set_tracer([&](ServerId id, const RoleEvent& e) {
    static constexpr const char* kinds[] = {"leading",     "following", "synced",
                                            "established", "failed",    "committed"};
    if (trace)
      trace(
          describe(e.at.time_since_epoch()) + " [" + std::to_string(id) + "] " +
          kinds[static_cast<int>(e.kind)] + " leader " + std::to_string(e.leader) + " epoch " +
          std::to_string(e.epoch) + (e.why.empty() ? "" : ": " + e.why) +
          (e.kind == RoleEvent::Kind::synced ? " by " + std::string(to_string(e.sync_mode)) : "") +
          (e.kind == RoleEvent::Kind::committed ? " through " + to_string(e.zxid) : ""));
    if (e.kind == RoleEvent::Kind::committed) history.committed(c, id, e.zxid);
    if (e.kind == RoleEvent::Kind::established && e.leader == id) history.established(id, e.epoch);
  });
  if (trace)
    c.set_election_tracer([&](ServerId id, const ElectionEvent& e) {
      if (std::holds_alternative<NotificationSent>(e)) return;
      trace(describe(event_time(e).time_since_epoch()) + " [" + std::to_string(id) + "] " +
            describe(e));
    });
  note("zab swarm: " + result.parameters);

  const auto disk_state = [&](ServerId m) {
    const auto& p = c.promised(m);
    return "  member " + std::to_string(m) + " had made its log durable through " +
           to_string(p.durable) + ", acceptedEpoch " + std::to_string(p.accepted_epoch) +
           ", currentEpoch " + std::to_string(p.current_epoch);
  };
  std::uint64_t writes = 0;
  const auto write_burst = [&](ServerId at, int count) {
    std::vector<Txn> txns;
    for (int i = 0; i < count; ++i) {
      ++writes;
      txns.push_back(
          KvStateMachine::set("k" + std::to_string(draw.below(50)), "w" + std::to_string(writes)));
    }
    c.submit(at, std::move(txns));
  };

  for (ServerId id = 1; id <= n; ++id) {
    c.run_for(ms(0, 300));
    c.start(id);
  }

  // Fault phase: crashes, restarts, partitions and heals among bursts of writes.
  const Instant faults_end = c.now() + ms(3000, 15000);
  std::size_t disk_violations_seen = 0;
  const auto check_disks = [&] {
    for (; disk_violations_seen < c.disk_violations().size(); ++disk_violations_seen)
      result.violations.push_back("(f) " + c.disk_violations()[disk_violations_seen]);
  };
  while (c.now() < faults_end && result.violations.empty()) {
    c.run_for(ms(1, 500));
    check_disks();
    const auto id = static_cast<ServerId>(draw.between(1, n));
    const auto draw_case = draw.below(disk_faults.strike ? 13 : 10);
    switch (draw_case) {
      case 0:
        if (apply_basic_fault(c, draw, n, id, BasicFault::crash, note)) {
          ++result.crashes;
          note(disk_state(id));
        }
        break;
      case 1:
      case 2:
      case 3:
        apply_basic_fault(c, draw, n, id, static_cast<BasicFault>(draw_case), note);
        break;
      case 4: {
        // A power cut in the middle of writes: a majority goes down at once, losing whatever
        // its disks had not synced; it comes back a moment later.
        write_burst(id, static_cast<int>(draw.between(1, 50)));
        c.run_for(Duration(std::chrono::microseconds(draw.between(0, 30000))));
        std::vector<ServerId> cut;
        for (ServerId m = 1; m <= n; ++m)
          if (c.is_up(m) && cut.size() < static_cast<std::size_t>(n / 2 + 1)) cut.push_back(m);
        for (ServerId m : cut) c.crash(m);
        result.crashes += cut.size();
        note("power cut " + describe_ids(cut));
        for (ServerId m : cut) note(disk_state(m));
        c.run_for(ms(0, 300));
        for (ServerId m : cut) c.start(m);
        break;
      }
      case 5:
        // A member snapshots its state machine (only committed state, already durable here),
        // which lets it DIFF-sync learners from its log within the snapshot-size budget.
        if (c.is_up(id) && c.recording(id).last_applied_zxid() <= c.storage(id).durable_zxid()) {
          note("snapshot at " + std::to_string(id));
          c.save_snapshot(id);
        }
        break;
      case 10:
      case 11:
      case 12:
        if (const std::string what = disk_faults.strike(c, draw, id); !what.empty()) {
          ++result.crash_points;
          note(what);
        }
        break;
      default:
        write_burst(id, static_cast<int>(draw.between(1, 50)));
    }
  }

  // Healing: no more loss, links restored, all but a minority running.
  auto faults = c.network().faults();
  faults.drop = 0;
  c.network().set_faults(faults);
  if (disk_faults.heal) disk_faults.heal(c);
  const std::vector<ServerId> ids = heal_leaving_minority_down(c, draw, n, note);

  // (e): a leader serves and new writes commit everywhere. Like a ZooKeeper client after
  // CONNECTIONLOSS, the writer retries when a leadership ends under its writes.
  const ServerId writer = ids.back();
  bool committed = false;
  for (int attempt = 0; attempt < 5 && !committed; ++attempt) {
    result.leader = c.run_until_serving(std::chrono::minutes(2));
    if (!result.leader) break;
    Member& leader = c.replica(*result.leader);
    if (attempt == 0 && leader.committed() < history.highest_committed())
      result.violations.push_back("(c) the healed leader lacks committed " +
                                  to_string(history.highest_committed()));
    const Epoch epoch = leader.epoch();
    const Zxid before = leader.committed();
    const Zxid target = Zxid::make(epoch, (before.epoch() == epoch ? before.counter() : 0) + 10);
    write_burst(writer, 10);
    committed = c.run_until(
        [&] {
          for (ServerId id = 1; id <= n; ++id)
            if (c.is_up(id) && c.replica(id).committed() < target) return false;
          return true;
        },
        std::chrono::minutes(1));
  }
  check_disks();
  if (!result.leader) {
    for (ServerId id = 1; id <= n; ++id)
      if (c.is_up(id))
        note("member " + std::to_string(id) + " is " +
             std::string(to_string(c.replica(id).state())) + ", votes " +
             describe(c.replica(id).election().vote()) +
             (c.replica(id).serving() ? ", serving" : ", not serving"));
    result.violations.push_back("(e) no leader serving within 2 minutes of healing");
  } else if (!committed) {
    result.violations.push_back("(e) new writes did not commit everywhere after 5 attempts");
  }
  result.committed = history.committed_count();
  result.epochs = history.epochs();
  if (disk_faults.at_end) disk_faults.at_end(c);
  return result;
}

inline ZabSwarmResult run_zab_swarm(std::uint64_t seed, const ZabTrace& trace = {}) {
  return run_zab_swarm_on<sim::MemoryDisk>(
      seed, trace, [](ServerId) { return std::make_unique<sim::MemoryDisk>(); }, {});
}

}  // namespace quorum::testing
