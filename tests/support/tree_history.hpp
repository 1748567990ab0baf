// Checks a simulated run's client history against the committed txns (gathered from every
// member's applies): writes are linearizable and reads sequentially consistent per session.
//  - The committed txns form one contiguous sequence; replaying it on a fresh tree reproduces
//    every acknowledged write's reply (error, path, Stat) at the zxid the reply carries.
//  - Real time: a write acknowledged before another was issued has the smaller zxid.
//  - Each getData reply equals the replayed state of its path at the zxid the member had
//    applied when it read; per session those zxids never go back, and never fall below the
//    session's own acknowledged writes.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quorum/node/reply.hpp"
#include "quorum/tree/data_tree.hpp"

namespace quorum::testing {

class TreeHistory {
 public:
  struct Op {
    std::int64_t session = 0;
    bool write = false;
    std::string read_path;  // getData
    Instant invoked{};
    Instant completed{};
    Reply reply;
  };

  /// A member applied `txn` (replays included).
  void applied(const Txn& txn, std::vector<std::string>& violations) {
    auto [it, fresh] = txns_.emplace(txn.zxid, txn);
    if (!fresh && !(it->second == txn))
      violations.push_back("two members applied different txns at " + to_string(txn.zxid));
  }

  void record(Op op) { ops_.push_back(std::move(op)); }

  void check(std::vector<std::string>& violations) {
    // One contiguous committed sequence from the first zxid.
    Zxid previous = Zxid{};
    for (const auto& [zxid, txn] : txns_) {
      if (previous != Zxid{} && !follows(previous, zxid)) {
        violations.push_back("the applied history jumps from " + to_string(previous) + " to " +
                             to_string(zxid));
        return;
      }
      previous = zxid;
    }
    // Replay: each txn's outcome and each touched path's state after it.
    tree::DataTree replay;
    std::map<Zxid, tree::ApplyOutcome> outcomes;
    for (const auto& [zxid, txn] : txns_) {
      replay.apply(txn);
      const tree::ApplyOutcome& o = replay.outcome();
      for (const tree::TreeChange& change : o.changes) {
        if (change.type == tree::EventType::node_children_changed) continue;
        State s;
        s.zxid = zxid;
        const tree::NodeId node = replay.find(change.path);
        if (node != tree::no_node) {
          s.exists = true;
          s.mzxid = replay.stat_of(node).mzxid;
          s.data = std::string(replay.nodes().data(node));
        }
        auto& line = timeline_[change.path];
        if (!line.empty() && line.back().zxid == zxid)
          line.back() = s;  // a multi touched it twice: keep the last
        else
          line.push_back(s);
      }
      outcomes.emplace(zxid, o);
    }
    check_writes(outcomes, violations);
    check_reads(violations);
  }

  std::size_t txns() const noexcept { return txns_.size(); }
  std::size_t ops() const noexcept { return ops_.size(); }

 private:
  struct State {
    Zxid zxid;
    bool exists = false;
    Zxid mzxid;
    std::string data;
  };

  static bool replicated(const Reply& r) {
    // Replies that came from an applied txn (local refusals carry no zxid).
    return r.zxid != Zxid{} && r.error != make_error_code(errc::connection_loss);
  }

  void check_writes(const std::map<Zxid, tree::ApplyOutcome>& outcomes,
                    std::vector<std::string>& violations) {
    std::vector<const Op*> writes;
    for (const Op& op : ops_) {
      if (!op.write || !replicated(op.reply)) continue;
      auto it = outcomes.find(op.reply.zxid);
      if (it == outcomes.end()) {
        violations.push_back("a write acknowledged at " + to_string(op.reply.zxid) +
                             " is not in the committed history");
        continue;
      }
      const tree::ApplyOutcome& o = it->second;
      const std::string at = " at " + to_string(op.reply.zxid);
      if (o.session != op.session)
        violations.push_back("the txn" + at + " belongs to another session");
      if (op.reply.error != make_error_code(o.result.err))
        violations.push_back("a write's reply" + at + " says " + op.reply.error.message() +
                             ", the history " + make_error_code(o.result.err).message());
      if (op.reply.stat != o.result.stat || op.reply.path != o.result.path ||
          op.reply.results != o.multi)
        violations.push_back("a write's reply" + at + " differs from the replayed result");
      writes.push_back(&op);
    }
    // Real-time order: everything acknowledged before a write was issued precedes it.
    std::vector<const Op*> by_completion = writes;
    std::sort(by_completion.begin(), by_completion.end(),
              [](const Op* a, const Op* b) { return a->completed < b->completed; });
    std::vector<Zxid> max_before(by_completion.size());
    Zxid running = Zxid::none();
    for (std::size_t i = 0; i < by_completion.size(); ++i) {
      running = std::max(running, by_completion[i]->reply.zxid);
      max_before[i] = running;
    }
    for (const Op* w : writes) {
      auto end = std::lower_bound(by_completion.begin(), by_completion.end(), w->invoked,
                                  [](const Op* a, Instant t) { return a->completed < t; });
      if (end == by_completion.begin()) continue;
      const Zxid earlier = max_before[static_cast<std::size_t>(end - by_completion.begin()) - 1];
      if (earlier >= w->reply.zxid)
        violations.push_back("write " + to_string(w->reply.zxid) + " was ordered before " +
                             to_string(earlier) + ", acknowledged before it was issued");
    }
  }

  void check_reads(std::vector<std::string>& violations) {
    std::map<std::int64_t, Zxid> session_point;  // the newest state each session has seen
    std::vector<const Op*> ordered;
    for (const Op& op : ops_) ordered.push_back(&op);
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const Op* a, const Op* b) { return a->completed < b->completed; });
    for (const Op* op : ordered) {
      Zxid& point = session_point[op->session];
      if (op->write) {
        if (replicated(op->reply)) point = std::max(point, op->reply.zxid);
        continue;
      }
      if (op->read_path.empty()) continue;
      const bool missing = op->reply.error == make_error_code(errc::no_node);
      if (op->reply.error && !missing) continue;
      const Zxid z = op->reply.zxid;
      if (z < point)
        violations.push_back("a read of " + op->read_path + " at " + to_string(z) +
                             " went back before " + to_string(point) + " in its session");
      point = std::max(point, z);
      const State* s = state_at(op->read_path, z);
      const bool exists = s && s->exists;
      if (missing ? exists
                  : (!exists || s->mzxid != op->reply.stat.mzxid || s->data != op->reply.data))
        violations.push_back("a read of " + op->read_path + " at " + to_string(z) +
                             " does not match the history");
    }
  }

  const State* state_at(const std::string& path, Zxid z) const {
    auto it = timeline_.find(path);
    if (it == timeline_.end()) return nullptr;
    const auto& line = it->second;
    auto after = std::upper_bound(line.begin(), line.end(), z,
                                  [](Zxid v, const State& s) { return v < s.zxid; });
    return after == line.begin() ? nullptr : &*(after - 1);
  }

  std::map<Zxid, Txn> txns_;
  std::vector<Op> ops_;
  std::map<std::string, std::vector<State>> timeline_;
};

}  // namespace quorum::testing
