// The seed's two elections, narrated: members on their own threads in this process elect a
// leader with ZooKeeper's Fast Leader Election rules; then replication and the data tree.
//
//   three_node_inproc [--verbose] [--finalize-ms N] [--data-dir DIR]
//
// With --data-dir the data tree's members (Part 4) keep their state in DIR/member-N, and a
// second run finds the first run's tree there; without it, in a temporary directory removed
// at the end.
#include <fmt/core.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "demo_parts.hpp"
#include "quorum/inproc_replica.hpp"
#include "quorum/quorum.hpp"
#include "quorum/state_machine/kv_state_machine.hpp"

using namespace std::chrono_literals;
using quorum::ElectionEvent;
using quorum::InProcHub;
using quorum::InProcMember;
using quorum::MemoryStorage;
using quorum::PeerState;
using quorum::ServerId;
using quorum::Vote;
using quorum::Zxid;

namespace {

constexpr auto wait_bound = 30s;  // a demo that hangs this long has a bug; say so and stop

struct Options {
  bool verbose = false;
  std::chrono::milliseconds finalize_wait = 200ms;
};

double seconds(quorum::Instant t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
double millis(quorum::Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// An in-process ensemble whose members tell the narrator what they do.
class Ensemble {
 public:
  Ensemble(std::vector<ServerId> ids, const Options& options) : options_(options), ids_(ids) {
    for (ServerId id : ids) {
      storage_[id];
      resends_[id] = 0;
      took_[id] = {};
    }
    for (ServerId id : ids) {
      quorum::ElectionConfig config{.self = id, .voters = ids};
      config.finalize_wait = options.finalize_wait;
      config.min_notification_interval = std::max<quorum::Duration>(options.finalize_wait, 1ms);
      auto member = std::make_unique<InProcMember>(hub_, config, storage_[id]);
      member->set_observer([this, id](const ElectionEvent& e) { narrate(id, e); });
      members_[id] = std::move(member);
    }
  }
  ~Ensemble() { members_.clear(); }  // stop the threads before the hub and storage go

  MemoryStorage& storage(ServerId id) { return storage_.at(id); }
  // Off: events are still recorded (election times), but not printed.
  void set_narrating(bool on) { narrating_ = on; }
  InProcMember& operator[](ServerId id) { return *members_.at(id); }

  void say(const std::string& line) {
    std::lock_guard lock(mutex_);
    fmt::print("  [{:7.3f}s] {}\n", seconds(hub_.now()), line);
  }

  void start(ServerId id) {
    up_[id] = true;
    members_.at(id)->start();
  }
  void crash(ServerId id) {
    up_[id] = false;
    members_.at(id)->stop();
  }

  // Waits until `id` is in `state` following `leader`; exits loudly if it never happens.
  void expect(ServerId id, PeerState state, ServerId leader) {
    const bool ok = members_.at(id)->wait_until(
        [&](PeerState s, const Vote& v) { return s == state && v.leader == leader; }, wait_bound);
    if (!ok) {
      fmt::print(stderr, "demo: server {} did not become {} of {} within {}s\n", id,
                 to_string(state), leader, wait_bound.count());
      std::exit(1);
    }
  }

  // Waits until `id` has re-sent its vote `count` times with nobody answering.
  void expect_resends(ServerId id, int count) {
    const bool ok = members_.at(id)->wait_until(
        [&](PeerState, const Vote&) { return resends_.at(id) >= count; }, wait_bound);
    if (!ok) std::exit(1);
  }

  quorum::Duration took(ServerId id) {
    std::lock_guard lock(mutex_);
    return took_.at(id);
  }

  void print_table(const std::vector<ServerId>& ids) {
    fmt::print("\n    {:<5} {:<13} {:<7} {:<10} {}\n", "SID", "ZXID", "Epoch", "state", "leader");
    for (ServerId id : ids) {
      const auto& s = storage_.at(id);
      if (!up_[id]) {
        fmt::print("    {:<5} {:<13} {:<7} {:<10} {}\n", id, to_string(s.last_logged_zxid()),
                   s.current_epoch(), "down", "-");
        continue;
      }
      const auto& m = *members_.at(id);
      fmt::print("    {:<5} {:<13} {:<7} {:<10} {}\n", id, to_string(s.last_logged_zxid()),
                 s.current_epoch(), to_string(m.state()), m.vote().leader);
    }
    fmt::print("\n");
  }

 private:
  void narrate(ServerId id, const ElectionEvent& event) {
    std::lock_guard lock(mutex_);
    const auto at = seconds(quorum::event_time(event));
    const auto line = [&](const std::string& text) {
      if (!narrating_) return;
      fmt::print("  [{:7.3f}s] server {} {}\n", at, id, text);
    };
    if (const auto* round = std::get_if<quorum::RoundStarted>(&event)) {
      started_[id] = round->at;
      line(fmt::format("is LOOKING (round {}) and votes for itself: zxid {}, epoch {}",
                       round->round, to_string(round->initial_vote.zxid),
                       round->initial_vote.peer_epoch));
    } else if (const auto* change = std::get_if<quorum::ProposalChanged>(&event)) {
      line(fmt::format("hears from {} and now votes for {} (zxid {}, epoch {})", change->because_of,
                       change->proposal.leader, to_string(change->proposal.zxid),
                       change->proposal.peer_epoch));
    } else if (const auto* quorum_seen = std::get_if<quorum::QuorumReached>(&event)) {
      line(fmt::format("sees {} of {} votes for {} {}: a majority; waits {} ms for a better vote",
                       quorum_seen->supporters.size(), ids_.size(), quorum_seen->proposal.leader,
                       quorum::describe_ids(quorum_seen->supporters),
                       options_.finalize_wait.count()));
    } else if (const auto* decided = std::get_if<quorum::Decided>(&event)) {
      took_[id] = decided->at - started_[id];
      const bool joined = decided->path == quorum::DecisionPath::joined_leader;
      line(fmt::format("is {}{} (election took {:.1f} ms{})", to_string(decided->state),
                       decided->state == PeerState::leading
                           ? ""
                           : fmt::format(" leader {}", decided->vote.leader),
                       millis(took_[id]), joined ? ", joined the leader that said LEADING" : ""));
    } else if (std::holds_alternative<quorum::NotificationsResent>(event)) {
      ++resends_[id];
      if (options_.verbose) line(quorum::describe(event));
    } else if (options_.verbose) {
      line(quorum::describe(event));
    }
  }

  Options options_;
  std::vector<ServerId> ids_;
  InProcHub hub_;
  std::mutex mutex_;
  std::map<ServerId, MemoryStorage> storage_;
  std::map<ServerId, std::atomic<int>> resends_;
  std::map<ServerId, quorum::Instant> started_;
  std::map<ServerId, quorum::Duration> took_;
  std::map<ServerId, bool> up_;
  std::atomic<bool> narrating_ = true;
  std::map<ServerId, std::unique_ptr<InProcMember>> members_;
};

void first_start(const Options& options) {
  fmt::print("Part 1 · First start: three servers, started one after another\n\n");
  Ensemble e({1, 2, 3}, options);

  e.say("server 1 starts");
  e.start(1);
  e.expect_resends(1, 3);
  e.say("server 1 is still LOOKING after 3 re-sends: 1 vote of 3 is not a majority (needs 2)");

  e.say("server 2 starts");
  e.start(2);
  e.expect(2, PeerState::leading, 2);
  e.expect(1, PeerState::following, 2);

  e.say("server 3 starts, although its id is the largest");
  e.start(3);
  e.expect(3, PeerState::following, 2);
  e.print_table({1, 2, 3});
  fmt::print(
      "  Outcome: server 2 leads; server 3 joined it instead of taking over ({:.1f} ms).\n\n",
      millis(e.took(3)));
}

void restart(const Options& options) {
  fmt::print("Part 2 · Restart: five servers with history; the leader and a follower fail\n\n");
  Ensemble e({1, 2, 3, 4, 5}, options);
  const std::map<ServerId, std::uint32_t> zxid{{1, 8}, {2, 8}, {3, 8}, {4, 7}, {5, 7}};
  for (auto [id, counter] : zxid) {
    e.storage(id).set_current_epoch(1);
    e.storage(id).set_accepted_epoch(1);
    e.storage(id).set_last_logged_zxid(Zxid::make(1, counter));
  }
  e.set_narrating(options.verbose);
  for (ServerId id : {1, 2, 3, 4, 5}) e.start(id);
  e.expect(3, PeerState::leading, 3);
  for (ServerId id : {1, 2, 4, 5}) e.expect(id, PeerState::following, 3);
  e.set_narrating(true);
  e.say(
      fmt::format("the five start with the seed's data and elect server 3 ({:.1f} ms): equal\n"
                  "              epochs, zxid 8 beats 7, and among zxid 8 the largest sid wins",
                  millis(e.took(3))));
  fmt::print("\n  Before: the seed's table\n");
  e.print_table({1, 2, 3, 4, 5});

  e.say("servers 3 (the leader) and 5 fail");
  e.crash(3);
  e.crash(5);
  e.say("servers 1, 2 and 4 lose their leader and look for a new one");
  for (ServerId id : {1, 2, 4}) e[id].leader_lost();
  e.expect(2, PeerState::leading, 2);
  e.expect(1, PeerState::following, 2);
  e.expect(4, PeerState::following, 2);

  fmt::print("\n  After: 3 of 5 remain, still a majority\n");
  e.print_table({1, 2, 3, 4, 5});
  fmt::print(
      "  Outcome: server 2 leads (election took {:.1f} ms). Epochs are equal, so zxid\n"
      "  decides: 8 beats 7; among zxid 8, sid 2 beats sid 1. Server 4 follows a leader\n"
      "  that holds txn 8.\n",
      millis(e.took(2)));
}

// Part 3: the replicated log. Three members run election + ZAB + a key-value state machine.
class ReplicatedEnsemble {
 public:
  using Member = quorum::InProcReplica<quorum::KvStateMachine>;

  explicit ReplicatedEnsemble(const Options& options) {
    const std::vector<ServerId> ids{1, 2, 3};
    for (ServerId id : ids) {
      storage_[id];
      machine_[id];
    }
    for (ServerId id : ids) {
      quorum::ReplicaConfig config{.self = id, .voters = ids};
      config.finalize_wait = options.finalize_wait;
      config.min_notification_interval = std::max<quorum::Duration>(options.finalize_wait, 1ms);
      config.tick = 200ms;  // a follower gives up on a silent leader after syncLimit = 5 ticks
      auto m = std::make_unique<Member>(hub_, config, storage_[id], machine_[id]);
      m->set_role_observer([this, id](const quorum::RoleEvent& e) { narrate(id, e); });
      members_[id] = std::move(m);
    }
  }
  ~ReplicatedEnsemble() { members_.clear(); }

  Member& operator[](ServerId id) { return *members_.at(id); }

  void say(const std::string& line) {
    std::lock_guard lock(mutex_);
    fmt::print("  [{:7.3f}s] {}\n", seconds(hub_.now()), line);
  }

  void start(ServerId id) {
    up_[id] = true;
    members_.at(id)->start();
  }
  void stop(ServerId id) {
    up_[id] = false;
    members_.at(id)->stop();
  }

  // Waits until `id` serves in `epoch` with everything up to `committed` applied.
  void expect(ServerId id, quorum::Epoch epoch, Zxid committed) {
    const bool ok = members_.at(id)->wait_until(
        [&](const Member::Status& s) {
          return s.serving && s.epoch == epoch && s.committed >= committed;
        },
        wait_bound);
    if (!ok) {
      fmt::print(stderr, "demo: server {} did not reach epoch {} with {} committed\n", id, epoch,
                 to_string(committed));
      std::exit(1);
    }
  }

  void write(ServerId through, const std::string& prefix, int count) {
    std::vector<quorum::Txn> txns;
    for (int i = 1; i <= count; ++i)
      txns.push_back(
          quorum::KvStateMachine::set(prefix + std::to_string(i), "value " + std::to_string(i)));
    members_.at(through)->submit(std::move(txns));
  }

  void print_table() {
    std::lock_guard lock(mutex_);  // keys_ is written by the members' threads
    fmt::print("\n    {:<5} {:<10} {:<7} {:<13} {:<6} {}\n", "SID", "state", "epoch", "committed",
               "keys", "acceptedEpoch/currentEpoch");
    for (auto& [id, m] : members_) {
      if (!up_[id]) {
        fmt::print("    {:<5} {:<10}\n", id, "down");
        continue;
      }
      const auto s = m->status();
      fmt::print("    {:<5} {:<10} {:<7} {:<13} {:<6} {}/{}\n", id, to_string(s.state), s.epoch,
                 to_string(s.committed), keys_.count(id) ? std::to_string(keys_[id]) : "-",
                 s.accepted_epoch, s.current_epoch);
    }
    fmt::print("\n");
  }

 private:
  void narrate(ServerId id, const quorum::RoleEvent& e) {
    std::lock_guard lock(mutex_);
    const auto line = [&](const std::string& text) {
      fmt::print("  [{:7.3f}s] server {} {}\n", seconds(e.at), id, text);
    };
    using Kind = quorum::RoleEvent::Kind;
    switch (e.kind) {
      case Kind::leading:
        line("leads; asks the others for their epochs (discovery)");
        break;
      case Kind::following:
        line(fmt::format("follows {}; sends FOLLOWERINFO", e.leader));
        break;
      case Kind::synced:
        line(fmt::format("synchronizes with {} by {}", e.leader, quorum::to_string(e.sync_mode)));
        break;
      case Kind::established:
        line(fmt::format("is up to date in epoch {} (committed {})", e.epoch, to_string(e.zxid)));
        break;
      case Kind::failed:
        line("leaves its role: " + e.why);
        break;
      case Kind::committed:
        keys_[id] = machine_[id].size();  // on the member's own thread: safe
        break;
    }
  }

  InProcHub hub_;
  std::mutex mutex_;
  std::map<ServerId, MemoryStorage> storage_;
  std::map<ServerId, quorum::KvStateMachine> machine_;
  std::map<ServerId, std::size_t> keys_;
  std::map<ServerId, bool> up_;
  std::map<ServerId, std::unique_ptr<Member>> members_;
};

void replication(const Options& options) {
  fmt::print("Part 3 · Replication: writes, a failed leader, a new epoch, and catching up\n\n");
  ReplicatedEnsemble e(options);
  e.say("servers 1, 2 and 3 start one after another, as in Part 1");
  e.start(1);
  e.start(2);
  e.expect(2, 1, Zxid{});
  e.start(3);
  e.expect(3, 1, Zxid{});

  e.say("a client of server 1 (a follower) writes 5 keys; 1 forwards them to leader 2");
  e.write(1, "a", 5);
  for (ServerId id : {1, 2, 3}) e.expect(id, 1, Zxid::make(1, 5));
  e.say("all three have committed zxids 0x100000001..0x100000005, in order");
  e.print_table();

  e.say("server 2 (the leader) stops");
  e.stop(2);
  e.expect(3, 2, Zxid::make(1, 5));
  e.expect(1, 2, Zxid::make(1, 5));
  e.say("a new leader in a new epoch; the client of server 1 writes 5 more keys");
  e.write(1, "b", 5);
  for (ServerId id : {1, 3}) e.expect(id, 2, Zxid::make(2, 5));
  e.print_table();

  e.say("server 2 restarts with its log and catches up");
  e.start(2);
  e.expect(2, 2, Zxid::make(2, 5));
  e.print_table();
  fmt::print("  Outcome: one history on all three: epoch 1's five writes, then epoch 2's five.\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string data_dir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--verbose")) {
      options.verbose = true;
    } else if (!std::strcmp(argv[i], "--finalize-ms") && i + 1 < argc) {
      options.finalize_wait = std::chrono::milliseconds(std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--data-dir") && i + 1 < argc) {
      data_dir = argv[++i];
    } else {
      fmt::print(stderr, "usage: {} [--verbose] [--finalize-ms N] [--data-dir DIR]\n", argv[0]);
      return 2;
    }
  }
  // Without --data-dir: a fresh directory of our own, removed when the demo ends.
  std::string scratch;
  if (data_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "quorum-demo-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      fmt::print(stderr, "demo: cannot create a temporary directory: {}\n", std::strerror(errno));
      return 1;
    }
    data_dir = scratch = pattern;
  }
  fmt::print("quorum {} · leader election as the seed describes it\n", quorum::version_string);
  fmt::print(
      "Members run on their own threads in this process; ZooKeeper's Fast Leader\n"
      "Election rules; finalize wait {} ms.{}\n\n",
      options.finalize_wait.count(),
      options.verbose ? "" : " (--verbose shows every notification)");
  first_start(options);
  restart(options);
  fmt::print("\n");
  replication(options);
  fmt::print("\n");
  data_tree_part(options.finalize_wait, data_dir);
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  return 0;
}
