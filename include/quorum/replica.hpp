// Replica<Transport, Storage, StateMachine>: election, then ZAB as leader or follower, driving a
// state machine with the committed txns in zxid order.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "quorum/concepts.hpp"
#include "quorum/config.hpp"
#include "quorum/election/election.hpp"
#include "quorum/zab/follower.hpp"
#include "quorum/zab/leader.hpp"

namespace quorum {

/// Everything a replica needs to know; defaults are ZooKeeper's.
struct ReplicaConfig {
  ServerId self = 0;
  std::vector<ServerId> voters;
  Duration finalize_wait = std::chrono::milliseconds(200);
  Duration min_notification_interval = std::chrono::milliseconds(200);
  Duration max_notification_interval = std::chrono::seconds(60);
  Duration tick = std::chrono::milliseconds(2000);
  int init_limit = 10;
  int sync_limit = 5;
  std::size_t max_in_flight = 10'000;
  std::size_t commit_log_count = 500;
  std::uint32_t zxid_counter_limit = 0xfffffffeu;
  double snapshot_size_factor = 0.33;

  ElectionConfig election() const {
    return ElectionConfig{
        self, voters, finalize_wait, min_notification_interval, max_notification_interval, {}};
  }
  ZabConfig zab() const {
    return ZabConfig{self,
                     voters,
                     tick,
                     init_limit,
                     sync_limit,
                     max_in_flight,
                     commit_log_count,
                     zxid_counter_limit,
                     snapshot_size_factor};
  }
};

/// A ZAB role began, ended or reached broadcast; txns were committed.
struct RoleEvent {
  enum class Kind { leading, following, synced, established, failed, committed };
  Kind kind = Kind::failed;
  Instant at;
  ServerId leader = 0;
  Epoch epoch = 0;
  Zxid zxid;                                ///< committed: the new commit point
  std::string why;                          ///< failed: the reason
  PacketType sync_mode = PacketType::diff;  ///< synced: how (DIFF, TRUNC or SNAP)
};

/// How a state machine with its own request stage (the data tree) plugs into the roles; every
/// hook runs on the member's thread, inside the replica's step.
struct ReplicaHooks {
  /// Leader: a request becomes the txn to propose, its zxid already set (LeaderCore::Preparer).
  std::function<void(Txn&, ServerId via)> prepare;
  /// Follower: what to attach to each PING reply.
  std::function<std::string()> ping_payload;
  /// Leader: a learner's PING carried data.
  std::function<void(ServerId from, const std::string& data)> learner_ping;
  /// A sync() marker submitted here was answered: everything before it is applied here.
  std::function<void(const std::string& data)> sync_done;
  /// Leader: a learner's REVALIDATE; returns the answer sent back to it.
  std::function<std::string(ServerId from, const std::string& data)> revalidate;
  /// Follower: the leader's answer to a REVALIDATE from here.
  std::function<void(const std::string& data)> revalidated;
};

/// One member of a replicated log. Sans-I/O like its parts: the host feeds messages and ticks
/// and it acts through the policies, in the order ZabEffects documents. Not thread-safe.
template <class TransportPolicy, class StoragePolicy, class MachinePolicy>
class Replica {
  static_assert(Transport<TransportPolicy>, "quorum::Replica: Transport policy required");
  static_assert(Storage<StoragePolicy>, "quorum::Replica: Storage policy required");
  static_assert(StateMachine<MachinePolicy>,
                "quorum::Replica: the state machine must provide apply(const Txn&), "
                "snapshot(), restore(const Snapshot&) and last_applied_zxid()");

 public:
  using ElectionObserver = std::function<void(const ElectionEvent&)>;
  using RoleObserver = std::function<void(const RoleEvent&)>;

  /// The policies must outlive the replica. Throws std::invalid_argument, with the reason,
  /// for settings that cannot work.
  Replica(ReplicaConfig config, TransportPolicy& transport, StoragePolicy& storage,
          MachinePolicy& machine)
      : config_(std::move(config)),
        transport_(transport),
        storage_(storage),
        machine_(machine),
        election_(config_.election(), transport, storage) {
    if (auto why = validate(config_.zab()); !why.empty())
      throw std::invalid_argument("quorum: bad replica config: " + why);
  }

  void set_election_observer(ElectionObserver o) { election_.set_observer(std::move(o)); }
  void set_role_observer(RoleObserver o) { role_observer_ = std::move(o); }
  /// Set before start().
  void set_hooks(ReplicaHooks hooks) { hooks_ = std::move(hooks); }

  /// Boots: the state machine is rebuilt from durable state, then the election starts.
  void start(Instant now) {
    if (!recover_state_machine(now)) return;
    election_.start(now);
    after_election(now);
  }

  void receive(ServerId from, const Message& message, Instant now) {
    if (stopped(now)) return;
    if (const auto* n = std::get_if<Notification>(&message)) {
      election_.receive(from, *n, now);
      after_election(now);
      return;
    }
    const auto& packet = std::get<QuorumPacket>(message);
    if (auto* f = std::get_if<FollowerCore>(&role_)) {
      f->on_packet(from, packet, now);
    } else if (auto* l = std::get_if<LeaderCore>(&role_)) {
      l->on_packet(from, packet, now);
    }
    flush(now);
  }

  void tick(Instant now) {
    if (stopped(now)) return;
    election_.tick(now);
    after_election(now);
    if (auto* f = std::get_if<FollowerCore>(&role_)) f->on_tick(now);
    if (auto* l = std::get_if<LeaderCore>(&role_)) l->on_tick(now);
    flush(now);
  }

  /// Writes from a client of this member: proposed here when leading, forwarded when
  /// following. Returns false while there is no leader to take them (the client retries).
  bool submit(std::vector<Txn> txns, Instant now) {
    if (stopped(now)) return false;
    if (auto* l = std::get_if<LeaderCore>(&role_)) {
      l->propose(std::move(txns), now);
    } else if (auto* f = std::get_if<FollowerCore>(&role_)) {
      f->submit(std::move(txns));
    } else {
      return false;
    }
    flush(now);
    return true;
  }

  /// A client reattaches a session here: a follower asks its leader (REVALIDATE), whose
  /// answer comes to the `revalidated` hook. False when there is no leader to ask.
  bool revalidate(std::string payload, Instant now) {
    if (stopped(now)) return false;
    auto* f = std::get_if<FollowerCore>(&role_);
    if (!f || !f->revalidate(std::move(payload))) return false;
    flush(now);
    return true;
  }

  /// The storage made more of the log durable (a group commit finished): acknowledge it.
  void log_durable(Instant now) {
    if (!stopped(now)) flush(now);
  }

  /// The leader is gone, says the host: look for another.
  void leader_lost(Instant now) {
    if (!stopped(now)) end_role(now, "leader lost (host)");
  }

  /// The transport's connection to `peer` broke (a TCP connection closed). A follower whose
  /// leader it was looks for another at once, as a ZooKeeper learner does when its socket to
  /// the leader fails, instead of waiting syncLimit ticks for silence to tell it.
  void connection_lost(ServerId peer, Instant now) {
    if (stopped(now)) return;
    if (std::holds_alternative<FollowerCore>(role_) && peer == leader())
      end_role(now, "lost the connection to leader " + std::to_string(peer));
  }

  /// Non-empty once the member stopped for good because its storage failed: it sends nothing
  /// more and ignores everything; the host restarts it from disk (a new Replica) if it can.
  const std::string& halted() const noexcept { return halted_; }

  PeerState state() const noexcept { return election_.state(); }
  /// True once the role has reached broadcast (UPTODATE received, or quorum of NEWLEADER acks).
  bool serving() const noexcept { return serving_; }
  ServerId leader() const noexcept { return election_.vote().leader; }
  Epoch epoch() const noexcept { return epoch_; }
  Zxid committed() const noexcept { return machine_.last_applied_zxid(); }
  std::optional<Instant> next_deadline() const noexcept {
    if (!halted_.empty()) return std::nullopt;
    std::optional<Instant> next = election_.next_deadline();
    std::optional<Instant> role;
    if (auto* f = std::get_if<FollowerCore>(&role_)) role = f->next_deadline();
    if (auto* l = std::get_if<LeaderCore>(&role_)) role = l->next_deadline();
    if (role && (!next || *role < *next)) next = role;
    return next;
  }
  const ReplicaConfig& config() const noexcept { return config_; }
  /// While leading: followers connected and followers in broadcast; else {0, 0}.
  std::pair<std::size_t, std::size_t> learners() const noexcept {
    if (auto* l = std::get_if<LeaderCore>(&role_)) return {l->learners(), l->synced_learners()};
    return {0, 0};
  }
  const Election<TransportPolicy, StoragePolicy>& election() const noexcept { return election_; }

 private:
  // Starts the role the election decided, once.
  void after_election(Instant now) {
    const PeerState s = election_.state();
    if (s == PeerState::looking || !std::holds_alternative<std::monostate>(role_)) return;
    const ServerId leader = election_.vote().leader;
    if (s == PeerState::leading) {
      // The state machine stays at what is known committed: a SNAP must never carry state a
      // later leader could truncate (zk-reference §10 item 8). The rest of the log follows
      // the image as proposals, committed when this leadership is established.
      auto& l = role_.template emplace<LeaderCore>(config_.zab(), history(true), now);
      if (hooks_.prepare) l.set_preparer(hooks_.prepare);
      report({RoleEvent::Kind::leading, now, leader, 0, {}, {}});
    } else {
      auto& f = role_.template emplace<FollowerCore>(config_.zab(), leader, history(false), now);
      if (hooks_.ping_payload) f.set_ping_payload(hooks_.ping_payload);
      report({RoleEvent::Kind::following, now, leader, 0, {}, {}});
    }
    flush(now);
  }

  ZabHistory history(bool with_recent) const {
    ZabHistory h{storage_.accepted_epoch(),   storage_.current_epoch(),
                 storage_.last_logged_zxid(), machine_.last_applied_zxid(),
                 storage_.log_start_zxid(),   {}};
    if (with_recent) {
      // Every txn not known committed, and at least the newest commit_log_count, for DIFF.
      std::vector<Txn> tail;
      if (storage_.read_after(storage_.log_start_zxid(), SIZE_MAX, tail)) tail.clear();
      std::size_t drop =
          tail.size() > config_.commit_log_count ? tail.size() - config_.commit_log_count : 0;
      while (drop > 0 && tail[drop - 1].zxid > h.last_committed) --drop;
      tail.erase(tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(drop));
      h.recent = std::move(tail);
    }
    return h;
  }

  template <class Role>
  void flush_role(Role& r, Instant now) {
    // Bounded: each round either consumes effects or stops; durability can only advance.
    for (int round = 0; round < 64; ++round) {
      if (stopped(now)) return;
      ZabEffects& e = r.effects();
      bool appended = false;
      for (StorageStep& step : e.storage) {
        appended |= perform(step);
        // Nothing decided after a failed write may leave the member: not an ACK for a txn
        // that is not on disk, nor an ACKEPOCH for an epoch that is not recorded.
        if (stopped(now)) return;
      }
      if (e.commit_through) {
        if (!apply_through(*e.commit_through, now)) return;
        storage_.set_last_committed_zxid(machine_.last_applied_zxid());
        report(
            {RoleEvent::Kind::committed, now, leader(), epoch_, machine_.last_applied_zxid(), {}});
      }
      serve_disk_syncs(e);
      for (std::size_t index : e.snapshot_requests) {
        Snapshot image = machine_.snapshot();
        QuorumPacket& p = e.messages[index].packet;
        p.zxid = image.last_zxid;
        p.data = std::move(image.state).take();  // the image is this packet's alone
      }
      for (OutboundPacket& out : e.messages)
        transport_.send(out.to, Message{std::move(out.packet)});
      if (e.sync_mode)
        report({RoleEvent::Kind::synced, now, leader(), epoch_, {}, {}, *e.sync_mode});
      if (hooks_.sync_done)
        for (const std::string& data : e.syncs) hooks_.sync_done(data);
      if (hooks_.learner_ping)
        for (const auto& ping : e.learner_pings) hooks_.learner_ping(ping.from, ping.data);
      if (hooks_.revalidate)
        for (const auto& ask : e.revalidations)
          transport_.send(ask.from, Message{QuorumPacket{PacketType::revalidate,
                                                         Zxid::none(),
                                                         0,
                                                         {},
                                                         hooks_.revalidate(ask.from, ask.data)}});
      if (hooks_.revalidated)
        for (const std::string& answer : e.revalidated) hooks_.revalidated(answer);
      std::optional<Epoch> established = e.established;
      std::optional<std::string> failed = e.failed;
      e.clear();
      if (established) {
        epoch_ = *established;
        serving_ = true;
        election_.epoch_established(*established);
        report({RoleEvent::Kind::established, now, leader(), *established, committed(), {}});
      }
      if (failed) return end_role(now, *failed);
      if constexpr (std::is_same_v<Role, LeaderCore>) r.on_applied(machine_.last_applied_zxid());
      const Zxid durable = storage_.durable_zxid();
      if (durable == reported_durable_ && !appended && !has_effects(r.effects())) return;
      if (durable != reported_durable_ || appended) {
        reported_durable_ = durable;
        r.on_log_durable(durable);
      }
    }
  }

  static bool has_effects(const ZabEffects& e) {
    return !e.storage.empty() || e.commit_through || !e.messages.empty() || !e.syncs.empty() ||
           !e.learner_pings.empty() || !e.revalidations.empty() || !e.revalidated.empty() ||
           e.sync_mode || e.established || e.failed;
  }

  void flush(Instant now) {
    if (auto* f = std::get_if<FollowerCore>(&role_)) return flush_role(*f, now);
    if (auto* l = std::get_if<LeaderCore>(&role_)) return flush_role(*l, now);
  }

  // DIFFs that start on disk: the txns between the learner and the in-memory window, read from
  // the log. Continuity is checked at both seams (ZOOKEEPER-2418) and the bytes against the
  // snapshot-size budget; if either fails, the DIFF becomes a SNAP.
  void serve_disk_syncs(ZabEffects& e) {
    std::sort(e.disk_syncs.begin(), e.disk_syncs.end(),
              [](const auto& a, const auto& b) { return a.index > b.index; });
    for (const ZabEffects::DiskSync& d : e.disk_syncs) {
      std::vector<Txn> txns;
      QuorumPacket& mode = e.messages[d.index].packet;
      if (!disk_diff(d.after, d.before, txns)) {
        mode.type = PacketType::snap;
        e.snapshot_requests.push_back(d.index);
        continue;
      }
      if (txns.empty()) continue;
      const Zxid last = txns.back().zxid;
      const ServerId to = e.messages[d.index].to;
      e.messages.insert(
          e.messages.begin() + static_cast<std::ptrdiff_t>(d.index) + 1,
          OutboundPacket{to, QuorumPacket{PacketType::proposal, last, 0, std::move(txns), {}}});
      for (std::size_t& index : e.snapshot_requests)
        if (index > d.index) ++index;
    }
  }

  // The txns in (after, before), contiguous at both ends and within the byte budget.
  bool disk_diff(Zxid after, Zxid before, std::vector<Txn>& out) const {
    if (config_.snapshot_size_factor < 0) return false;
    std::optional<std::uint64_t> snapshot_bytes;
    if constexpr (requires { storage_.latest_snapshot_bytes(); }) {
      snapshot_bytes = storage_.latest_snapshot_bytes();  // without reading a large image
    } else if (const std::optional<Snapshot> snapshot = storage_.latest_snapshot()) {
      snapshot_bytes = snapshot->state.size();
    }
    if (!snapshot_bytes) return false;
    const double budget = config_.snapshot_size_factor * static_cast<double>(*snapshot_bytes);
    std::vector<Txn> chunk;
    // The learner's last zxid must be one the leader has: a txn it never had must be truncated
    // first, which only the in-memory walk does (ZooKeeper's queueCommittedProposals).
    if (after != storage_.log_start_zxid() && after.counter() != 0) {
      if (storage_.read_after(Zxid{after.value - 1}, 1, chunk) || chunk.empty() ||
          chunk.front().zxid != after)
        return false;
    }
    double bytes = 0;
    Zxid previous = after;
    for (;;) {
      chunk.clear();
      if (storage_.read_after(previous, 1024, chunk) || chunk.empty()) return false;
      for (Txn& txn : chunk) {
        if (txn.zxid >= before) return follows(previous, before);
        if (!follows(previous, txn.zxid)) return false;
        bytes += static_cast<double>(txn.data.size());
        if (bytes > budget) return false;
        previous = txn.zxid;
        out.push_back(std::move(txn));
      }
    }
  }

  // Returns whether the log grew.
  bool perform(StorageStep& step) {
    switch (step.kind) {
      case StorageStep::Kind::set_accepted_epoch:
        storage_.set_accepted_epoch(step.epoch);
        return false;
      case StorageStep::Kind::set_current_epoch:
        storage_.set_current_epoch(step.epoch);
        return false;
      case StorageStep::Kind::append:
        storage_.append(step.txns);
        return true;
      case StorageStep::Kind::truncate_after: {
        // A failed TRUNC must never be ignored (ZOOKEEPER-3701): it would split the history.
        // A disk failure halts the member (the caller checks); anything else is a bug.
        const std::error_code ec = storage_.truncate_after(step.zxid);
        if (ec && storage_failed()) return false;
        QUORUM_ASSERT(!ec, "TRUNC failed; continuing would diverge from the leader");
        storage_.remove_snapshots_after(step.zxid);
        reported_durable_ = Zxid::none();
        return false;
      }
      case StorageStep::Kind::install_snapshot: {
        const std::error_code ec = machine_.restore(step.snapshot);
        QUORUM_ASSERT(!ec, "the leader's snapshot did not restore");
        storage_.install_snapshot(std::move(step.snapshot));
        storage_.set_last_committed_zxid(machine_.last_applied_zxid());
        reported_durable_ = Zxid::none();
        return false;
      }
    }
    return false;
  }

  // Applies logged txns up to `zxid` (those already applied are skipped). False when the
  // storage failed reading them: the member has halted.
  bool apply_through(Zxid zxid, Instant now) {
    std::vector<Txn> batch;
    while (machine_.last_applied_zxid() < zxid) {
      batch.clear();
      // Read no further than needed: the log may hold many proposals beyond the commit point.
      const Zxid from = machine_.last_applied_zxid();
      std::size_t want = 4096;
      if (from.epoch() == zxid.epoch() && from.value >= 0)
        want = std::min<std::size_t>(want, zxid.counter() - from.counter());
      if (storage_.read_after(from, want, batch) || batch.empty()) break;
      for (const Txn& txn : batch) {
        if (txn.zxid > zxid) return true;
        machine_.apply(txn);
      }
    }
    if (stopped(now)) return false;
    QUORUM_ASSERT(machine_.last_applied_zxid() >= zxid, "a committed txn is missing from the log");
    return true;
  }

  // Rebuilds the state machine from durable state only: the snapshot, then the log up to what
  // is known committed. In-memory state from an interrupted role is thrown away (ZOOKEEPER-3642).
  // False when the storage failed: the member has halted.
  bool recover_state_machine(Instant now) {
    if (stopped(now)) return false;
    const std::optional<Snapshot> snapshot = storage_.latest_snapshot();
    if (stopped(now)) return false;  // the newest snapshot could not be read
    const std::error_code ec = machine_.restore(snapshot ? *snapshot : Snapshot{});
    QUORUM_ASSERT(!ec, "the stored snapshot did not restore");
    const Zxid upto = std::min(storage_.last_committed_zxid(), storage_.last_logged_zxid());
    return upto <= machine_.last_applied_zxid() || apply_through(upto, now);
  }

  bool storage_failed() const {
    if constexpr (FailingStorage<StoragePolicy>)
      return storage_.failed();
    else
      return false;
  }

  // True when the member has halted, halting it now if its storage has just failed.
  bool stopped(Instant now) {
    if (!halted_.empty()) return true;
    if (!storage_failed()) return false;
    if constexpr (FailingStorage<StoragePolicy>) halted_ = "storage failed: " + storage_.failure();
    role_ = std::monostate{};
    serving_ = false;
    report({RoleEvent::Kind::failed, now, leader(), epoch_, {}, halted_});
    return true;
  }

  void end_role(Instant now, const std::string& why) {
    if (std::holds_alternative<std::monostate>(role_) && election_.state() == PeerState::looking)
      return;
    role_ = std::monostate{};
    serving_ = false;
    reported_durable_ = Zxid::none();
    report({RoleEvent::Kind::failed, now, leader(), epoch_, {}, why});
    // A sync that installed a snapshot and did not reach the new epoch: the old log it left
    // on disk counts again, so the next vote carries every txn this member holds.
    storage_.abandon_sync();
    if (!recover_state_machine(now)) return;
    election_.leader_lost(now);
    after_election(now);
  }

  void report(RoleEvent event) {
    if (role_observer_) role_observer_(event);
  }

  ReplicaConfig config_;
  TransportPolicy& transport_;
  StoragePolicy& storage_;
  MachinePolicy& machine_;
  Election<TransportPolicy, StoragePolicy> election_;
  std::variant<std::monostate, LeaderCore, FollowerCore> role_;
  RoleObserver role_observer_;
  ReplicaHooks hooks_;
  Epoch epoch_ = 0;
  bool serving_ = false;
  Zxid reported_durable_ = Zxid::none();
  std::string halted_;
};

}  // namespace quorum
