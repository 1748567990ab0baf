// One seeded simulation run of the data tree: sessions on random members issue creates
// (persistent, ephemeral, sequential), setData, deletes, multis, watched reads and syncs while
// members crash and restart, links partition and heal, and clients abandon or move sessions.
// Checked:
//  (a) per session, replies arrive in the order the operations were issued (FIFO) and write
//      zxids strictly increase;
//  (b) watch before data: no read reply shows a change to a watched node before its event;
//  (c) every tree is internally consistent (child counts, ephemerals and their sessions);
//  (d) after healing, every running member holds the identical tree (snapshot bytes);
//  (e) every acknowledged create of a never-deleted node is there, and no acknowledged-closed
//      session still owns an ephemeral;
//  (f) after healing a new session opens and writes within bounded time;
//  (g) writes are linearizable and reads sequentially consistent per session, against the
//      committed history (tree_history.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quorum/election/describe.hpp"
#include "quorum/random.hpp"
#include "quorum/sim/node_cluster.hpp"
#include "support/swarm_faults.hpp"
#include "support/tree_history.hpp"

namespace quorum::testing {

struct TreeSwarmResult {
  std::uint64_t seed = 0;
  std::vector<std::string> violations;
  std::uint64_t replies = 0;
  std::uint64_t events = 0;
  std::uint64_t crashes = 0;
  std::uint64_t expired = 0;
  std::string parameters;
  bool ok() const noexcept { return violations.empty(); }
};

/// (c): the tree's own bookkeeping agrees with its nodes.
inline void check_tree(const tree::DataTree& t, const std::string& who,
                       std::vector<std::string>& violations) {
  std::map<std::int64_t, std::set<std::string>> owned;
  std::vector<tree::NodeId> stack{tree::NodeStore::root()};
  while (!stack.empty()) {
    const tree::NodeId at = stack.back();
    stack.pop_back();
    std::int32_t children = 0;
    t.nodes().for_each_child(at, [&](tree::NodeId c) {
      ++children;
      stack.push_back(c);
    });
    const tree::NodeRecord& n = t.nodes()[at];
    if (children != t.nodes().num_children(at))
      violations.push_back(who + ": " + t.nodes().path(at) + " counts " +
                           std::to_string(t.nodes().num_children(at)) + " children, has " +
                           std::to_string(children));
    const std::int64_t owner = n.ephemeral_owner;
    if (owner != 0 && owner != tree::container_owner && !tree::is_ttl_owner(owner))
      owned[owner].insert(t.nodes().path(at));
  }
  for (const auto& [session, paths] : owned) {
    auto s = t.sessions().find(session);
    if (s == t.sessions().end())
      violations.push_back(who + ": " + *paths.begin() + " outlived its session");
    else if (s->second.ephemerals != paths)
      violations.push_back(who + ": session ephemerals disagree with the nodes");
  }
}

inline TreeSwarmResult run_tree_swarm(std::uint64_t seed,
                                      const std::function<void(const std::string&)>& trace = {}) {
  using std::chrono::milliseconds;
  Prng draw = Prng(seed).fork("tree-swarm");
  const auto ms = [&](std::int64_t lo, std::int64_t hi) {
    return Duration(milliseconds(draw.between(lo, hi)));
  };
  sim::NodeClusterOptions options;
  options.seed = seed;
  options.servers = static_cast<std::size_t>(draw.between(3, 5));
  options.faults.delay_min = Duration(std::chrono::microseconds(draw.between(50, 2000)));
  options.faults.delay_max = options.faults.delay_min + ms(0, 3);
  options.faults.drop = draw.chance(0.5) ? draw.unit() * 0.01 : 0.0;
  options.faults.duplicate = draw.unit() * 0.05;
  options.faults.reorder = draw.unit() * 0.1;
  options.faults.reorder_max = ms(0, 30);
  options.disk_latency_max = options.disk_latency_min + ms(0, 20);
  options.node.replica.tick = ms(50, 150);
  options.node.replica.sync_limit = static_cast<int>(draw.between(2, 5));
  options.node.replica.commit_log_count = static_cast<std::size_t>(draw.between(5, 100));
  options.node.container_check_interval = ms(200, 2000);

  TreeSwarmResult result;
  result.seed = seed;
  result.parameters = std::to_string(options.servers) + " servers, tick " +
                      describe(options.node.replica.tick) + ", drop " +
                      std::to_string(options.faults.drop);
  sim::NodeCluster c(options);
  const auto n = static_cast<ServerId>(options.servers);
  const auto note = [&](const std::string& what) {
    if (trace) trace(describe(c.now().time_since_epoch()) + " ** " + what);
  };
  auto& violations = result.violations;
  TreeHistory history;
  c.set_txn_tap([&](ServerId, const Txn& txn) { history.applied(txn, violations); });
  c.set_tracer([&](ServerId id, const RoleEvent& e) {
    static constexpr const char* kinds[] = {"leading",     "following", "synced",
                                            "established", "failed",    "committed"};
    if (trace && e.kind != RoleEvent::Kind::committed)
      trace(describe(e.at.time_since_epoch()) + " [" + std::to_string(id) + "] " +
            kinds[static_cast<int>(e.kind)] + " leader " + std::to_string(e.leader) + " epoch " +
            std::to_string(e.epoch) + (e.why.empty() ? "" : ": " + e.why));
  });

  // Client-side bookkeeping, per session handle.
  struct Client {
    ServerId at = 0;
    std::int64_t session = 0;
    std::uint64_t issued = 0;     // sequence numbers of operations
    std::uint64_t completed = 0;  // the last one answered
    Zxid last_write = Zxid::none();
    Zxid seen = Zxid::none();           // the newest zxid any reply carried
    std::map<std::string, Zxid> armed;  // data watches: path -> mzxid when set
    bool closed = false;
  };
  std::vector<std::shared_ptr<Client>> clients;
  std::set<std::string> durable_paths;     // acknowledged creates never deleted
  std::set<std::int64_t> closed_sessions;  // acknowledged closes
  std::uint64_t unique = 0;
  std::vector<std::int64_t> abandoned;  // sessions left to expire

  const auto answer = [&](std::shared_ptr<Client> cl, std::uint64_t seq, bool is_write,
                          std::optional<std::string> read_path, bool watch,
                          std::function<void(const Reply&)> extra = {}) -> ReplyHandler {
    const Instant invoked = c.now();
    return [&, cl, seq, is_write, read_path, watch, extra, invoked](Reply r) {
      ++result.replies;
      history.record({cl->session, is_write, read_path.value_or(""), invoked, c.now(), r});
      cl->seen = std::max(cl->seen, r.zxid);
      if (seq <= cl->completed)
        violations.push_back("(a) session " + std::to_string(cl->session) + " answered op " +
                             std::to_string(seq) + " after op " + std::to_string(cl->completed));
      cl->completed = seq;
      if (is_write && r.zxid != Zxid{} && r.error != make_error_code(errc::connection_loss) &&
          r.error != make_error_code(errc::session_expired)) {
        if (r.zxid <= cl->last_write)
          violations.push_back("(a) session write zxids went from " + to_string(cl->last_write) +
                               " to " + to_string(r.zxid));
        cl->last_write = r.zxid;
      }
      if (read_path) {
        auto it = cl->armed.find(*read_path);
        if (it != cl->armed.end()) {
          if (r.error == make_error_code(errc::no_node) || (!r.error && r.stat.mzxid > it->second))
            violations.push_back("(b) session " + std::to_string(cl->session) + " read " +
                                 *read_path + " changed since " + to_string(it->second) +
                                 " before its watch fired");
        }
        if (!r.error && watch && !cl->armed.count(*read_path)) cl->armed[*read_path] = r.stat.mzxid;
      }
      if (extra) extra(r);
    };
  };
  const auto watcher = [&](std::shared_ptr<Client> cl) -> WatchHandler {
    return [&, cl](const tree::WatchedEvent& e) {
      ++result.events;
      if (e.type == tree::EventType::node_data_changed || e.type == tree::EventType::node_deleted ||
          e.type == tree::EventType::node_created)
        cl->armed.erase(e.path);
      if (e.state == tree::KeeperState::expired) {
        ++result.expired;
        cl->closed = true;
      }
    };
  };

  const auto open_client = [&](ServerId at) {
    auto cl = std::make_shared<Client>();
    cl->at = at;
    const std::uint64_t seq = ++cl->issued;
    c.at(at, [&](auto& m, Instant now) {
      m.open_session(static_cast<std::int32_t>(draw.between(100, 3000)), watcher(cl),
                     answer(cl, seq, false, {}, false,
                            [cl](const Reply& r) {
                              if (!r.error)
                                cl->session = r.session;
                              else
                                cl->closed = true;
                            }),
                     now);
    });
    clients.push_back(cl);
  };

  const auto random_op = [&](const std::shared_ptr<Client>& cl) {
    if (cl->closed || cl->session == 0 || !c.is_up(cl->at)) return;
    const std::string key = "/k" + std::to_string(draw.below(6));
    const std::uint64_t seq = ++cl->issued;
    c.at(cl->at, [&](auto& m, Instant now) {
      const std::int64_t s = cl->session;
      switch (draw.below(10)) {
        case 0: {
          const std::string path = "/p" + std::to_string(++unique);
          m.write(s, tree::CreateRequest{path, "d", tree::open_acl_unsafe()},
                  answer(cl, seq, true, {}, false,
                         [&, path](const Reply& r) {
                           if (!r.error) durable_paths.insert(path);
                         }),
                  now);
          break;
        }
        case 1:
          m.write(s,
                  tree::CreateRequest{key, "x", tree::open_acl_unsafe(),
                                      draw.chance(0.5) ? tree::CreateMode::ephemeral
                                                       : tree::CreateMode::persistent},
                  answer(cl, seq, true, {}, false), now);
          break;
        case 2:
          m.write(s,
                  tree::CreateRequest{"/q/s-", "", tree::open_acl_unsafe(),
                                      tree::CreateMode::ephemeral_sequential},
                  answer(cl, seq, true, {}, false), now);
          break;
        case 3:
          m.write(s,
                  tree::SetDataRequest{
                      key, std::to_string(seq),
                      draw.chance(0.5) ? -1 : static_cast<std::int32_t>(draw.below(4))},
                  answer(cl, seq, true, {}, false), now);
          break;
        case 4:
          m.write(s, tree::DeleteRequest{key, -1}, answer(cl, seq, true, {}, false), now);
          break;
        case 5:
          m.write(s,
                  tree::MultiRequest{{tree::CreateRequest{key + "m", "", tree::open_acl_unsafe()},
                                      tree::SetDataRequest{key, "multi", -1},
                                      tree::DeleteRequest{key + "m", -1}}},
                  answer(cl, seq, true, {}, false), now);
          break;
        case 6:
        case 7: {
          const bool watch = draw.chance(0.7);
          m.read(s, ReadRequest{tree::OpCode::get_data, key, watch},
                 answer(cl, seq, false, key, watch), now);
          break;
        }
        case 8:
          m.sync(s, "/", answer(cl, seq, false, {}, false), now);
          break;
        default:
          m.read(s, ReadRequest{tree::OpCode::get_children, "/q", draw.chance(0.5)},
                 answer(cl, seq, false, {}, false), now);
      }
    });
  };

  for (ServerId id = 1; id <= n; ++id) c.start(id);
  if (!c.run_until_serving(std::chrono::minutes(1))) {
    violations.push_back("no leader at the start");
    return result;
  }
  {
    auto setup = std::make_shared<Client>();
    setup->at = 1;
    open_client(1);
    c.run_for(ms(100, 500));
    if (clients[0]->session != 0)
      c.at(1, [&](auto& m, Instant now) {
        m.write(
            clients[0]->session, tree::CreateRequest{"/q", "", tree::open_acl_unsafe()},
            [](Reply) {}, now);
      });
  }
  for (int i = 0; i < static_cast<int>(draw.between(2, 5)); ++i)
    open_client(static_cast<ServerId>(draw.between(1, n)));

  const Instant faults_end = c.now() + ms(3000, 10000);
  while (c.now() < faults_end && violations.empty()) {
    c.run_for(ms(1, 200));
    const auto id = static_cast<ServerId>(draw.between(1, n));
    const auto draw_case = draw.below(14);
    switch (draw_case) {
      case 0:
        if (apply_basic_fault(c, draw, n, id, BasicFault::crash, note)) {
          ++result.crashes;
          for (auto& cl : clients)
            if (cl->at == id) cl->armed.clear();  // its watches died with it
        }
        break;
      case 1:
      case 2:
      case 3:
        apply_basic_fault(c, draw, n, id, static_cast<BasicFault>(draw_case), note);
        break;
      case 4: {
        // A client gives up on its session (no close) and may come back through another member.
        if (clients.empty()) break;
        auto& cl = clients[draw.below(clients.size())];
        if (cl->closed || cl->session == 0) break;
        c.at(cl->at, [&](auto& m, Instant) { m.detach_session(cl->session); });
        cl->armed.clear();
        if (draw.chance(0.5)) {
          // Gone for good: the leader expires it and its ephemerals go.
          note("session " + std::to_string(cl->session) + " abandoned");
          cl->closed = true;
          abandoned.push_back(cl->session);
          break;
        }
        cl->at = id;
        const std::uint64_t seq = ++cl->issued;
        note("session " + std::to_string(cl->session) + " moves to " + std::to_string(id));
        c.at(id, [&](auto& m, Instant now) {
          m.attach_session(cl->session, tree::session_password(cl->session), cl->seen, watcher(cl),
                           answer(cl, seq, false, {}, false,
                                  [cl](const Reply& r) {
                                    if (r.error == make_error_code(errc::session_expired))
                                      cl->closed = true;
                                  }),
                           now);
        });
        break;
      }
      case 5:
        if (!clients.empty()) {
          auto& cl = clients[draw.below(clients.size())];
          if (cl->closed || cl->session == 0 || !c.is_up(cl->at)) break;
          const std::uint64_t seq = ++cl->issued;
          const std::int64_t s = cl->session;
          c.at(cl->at, [&](auto& m, Instant now) {
            m.close_session(s,
                            answer(cl, seq, true, {}, false,
                                   [&, s](const Reply& r) {
                                     if (!r.error) closed_sessions.insert(s);
                                   }),
                            now);
          });
          cl->closed = true;
        }
        break;
      case 6:
        open_client(id);
        break;
      default: {
        // Half the time the members hold this round's writes and submit them together, as
        // Node's thread does for one step's calls.
        const bool batch = draw.chance(0.5);
        if (batch)
          for (ServerId m = 1; m <= n; ++m)
            c.at(m, [](auto& member, Instant) { member.begin_batch(); });
        for (auto& cl : clients)
          for (auto k = draw.between(0, 4); k > 0; --k) random_op(cl);
        if (batch)
          for (ServerId m = 1; m <= n; ++m)
            c.at(m, [](auto& member, Instant) { member.end_batch(); });
      }
    }
  }

  // Healing: links restored, no loss, every member up.
  auto faults = c.network().faults();
  faults.drop = 0;
  c.network().set_faults(faults);
  c.network().heal();
  for (ServerId id = 1; id <= n; ++id)
    if (!c.is_up(id)) c.start(id);
  note("heal everything");
  auto leader = c.run_until_serving(std::chrono::minutes(2));
  if (!leader) {
    violations.push_back("(f) no leader within 2 minutes of healing");
    return result;
  }
  // (f) a fresh session writes; then every member catches up to the leader.
  auto probe = std::make_shared<Client>();
  bool wrote = false;
  for (int attempt = 0; attempt < 5 && !wrote; ++attempt) {
    // Like a client after CONNECTIONLOSS: find the serving leader again and retry.
    if (attempt > 0) leader = c.run_until_serving(std::chrono::minutes(1));
    if (!leader) break;
    probe->session = 0;
    probe->closed = false;
    c.at(*leader, [&](auto& m, Instant now) {
      m.open_session(
          3000, {}, [&](Reply r) { probe->session = r.error ? -1 : r.session; }, now);
    });
    c.run_until([&] { return probe->session != 0; }, std::chrono::seconds(30));
    note("probe session: " + std::to_string(probe->session));
    if (probe->session <= 0) continue;
    std::optional<Reply> done;
    c.at(*leader, [&](auto& m, Instant now) {
      m.write(
          probe->session,
          tree::CreateRequest{"/probe" + std::to_string(attempt), "", tree::open_acl_unsafe()},
          [&](Reply r) { done = r; }, now);
    });
    c.run_until([&] { return done.has_value(); }, std::chrono::seconds(30));
    wrote = done && !done->error;
    note("probe write: " + (done ? done->error.message() : std::string("no reply")));
  }
  if (!wrote || !leader) {
    violations.push_back("(f) no write committed after healing");
    return result;
  }
  const Zxid target = c.member(*leader).tree().last_applied_zxid();
  const bool caught_up = c.run_until(
      [&] {
        for (ServerId id = 1; id <= n; ++id)
          if (c.member(id).tree().last_applied_zxid() < target) return false;
        return true;
      },
      std::chrono::minutes(1));
  if (!caught_up) violations.push_back("(d) members did not catch up with the leader");
  c.run_for(std::chrono::milliseconds(1));

  const tree::DataTree& reference = c.member(*leader).tree();
  const std::string image = reference.snapshot().state;
  for (ServerId id = 1; id <= n; ++id) {
    const tree::DataTree& t = c.member(id).tree();
    check_tree(t, "member " + std::to_string(id), violations);
    if (t.last_applied_zxid() == reference.last_applied_zxid() && t.snapshot().state != image)
      violations.push_back("(d) member " + std::to_string(id) + " holds a different tree at " +
                           to_string(t.last_applied_zxid()));
  }
  history.check(violations);
  for (const std::string& path : durable_paths)
    if (reference.find(path) == tree::no_node)
      violations.push_back("(e) acknowledged " + path + " is missing");
  // Abandoned sessions are gone once their timeout (at most 20 ticks) has passed.
  c.run_for(options.node.replica.tick * (options.node.max_session_ticks + 2));
  for (std::int64_t s : abandoned)
    if (reference.sessions().count(s))
      violations.push_back("(e) abandoned session " + std::to_string(s) + " never expired");
  for (std::int64_t s : closed_sessions)
    if (reference.sessions().count(s))
      violations.push_back("(e) closed session " + std::to_string(s) + " is still live");
  return result;
}

}  // namespace quorum::testing
