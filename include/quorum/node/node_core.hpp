// NodeCore<Transport, Storage>: one member serving the data tree. Election and ZAB (Replica)
// replicate the txns; the leader's prep stage turns requests into txns; the member applies
// them to its tree, fires its sessions' watches and answers its own clients. Sans-I/O: the host
// feeds messages, ticks and client calls on one thread, and replies come back on it.
#pragma once

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "quorum/node/reply.hpp"
#include "quorum/tree/watch_manager.hpp"

namespace quorum {

namespace detail {
// The data tree as Replica's state machine, reporting each applied txn and each restore.
class TreeMachine {
 public:
  std::function<void(const tree::ApplyOutcome&)> on_apply;
  std::function<void(Zxid before)> on_restore;
  std::function<void(const Txn&)> tap;

  void apply(const Txn& txn) {
    tree.apply(txn);
    if (tap) tap(txn);
    // Replays after a restore re-apply what this member applied before: already reported.
    if (txn.zxid > reported_ && on_apply) {
      reported_ = txn.zxid;
      on_apply(tree.outcome());
    }
  }
  Snapshot snapshot() const { return tree.snapshot(); }
  std::error_code restore(const Snapshot& s) {
    const Zxid before = tree.last_applied_zxid();
    const std::error_code ec = tree.restore(s);
    if (!ec) {
      if (tree.last_applied_zxid() > reported_) reported_ = tree.last_applied_zxid();
      if (on_restore) on_restore(before);
    }
    return ec;
  }
  Zxid last_applied_zxid() const { return tree.last_applied_zxid(); }

  tree::DataTree tree;

 private:
  Zxid reported_ = Zxid::none();
};
}  // namespace detail

template <class TransportPolicy, class StoragePolicy>
class NodeCore {
 public:
  using Member = Replica<TransportPolicy, StoragePolicy, detail::TreeMachine>;

  /// Throws std::invalid_argument, with the reason, for settings that cannot work.
  NodeCore(NodeConfig config, TransportPolicy& transport, StoragePolicy& storage)
      : config_(std::move(config)),
        tracker_(config_.replica.tick),
        prep_(machine_.tree, tracker_, config_.limits),
        ids_(config_.replica.self, config_.session_id_clock_ms),
        replica_(config_.replica, transport, storage, machine_) {
    if (config_.min_session_ticks < 1 || config_.max_session_ticks < config_.min_session_ticks)
      throw std::invalid_argument(
          "quorum: bad node config: session bounds need 1 <= min_session_ticks <= "
          "max_session_ticks");
    machine_.tree.set_config_node(config_.config_node);
    machine_.on_apply = [this](const tree::ApplyOutcome& o) { applied(o); };
    // Re-arming waits until the replica's step is over: a restore during recovery is followed
    // by a replay, and only the state after it is what watchers should be compared with.
    machine_.on_restore = [this](Zxid before) {
      if (!rearm_from_ || before < *rearm_from_) rearm_from_ = before;
    };
    replica_.set_role_observer([this](const RoleEvent& e) { role_event(e); });
    ReplicaHooks hooks;
    hooks.prepare = [this](Txn& txn, ServerId via) { prepare(txn, via); };
    hooks.ping_payload = [this] { return ping_payload(); };
    hooks.learner_ping = [this](ServerId from, const std::string& data) {
      learner_ping(from, data);
    };
    hooks.sync_done = [this](const std::string& data) { sync_done(data); };
    hooks.revalidate = [this](ServerId from, const std::string& data) {
      return revalidate(from, data);
    };
    hooks.revalidated = [this](const std::string& data) { revalidated(data); };
    replica_.set_hooks(std::move(hooks));
  }

  NodeCore(const NodeCore&) = delete;
  NodeCore& operator=(const NodeCore&) = delete;

  void set_role_observer(typename Member::RoleObserver o) { user_role_observer_ = std::move(o); }
  /// Sees every txn this member applies (replays after a restore included): for checkers
  /// that rebuild the committed history.
  void set_txn_tap(std::function<void(const Txn&)> tap) { machine_.tap = std::move(tap); }
  void set_election_observer(typename Member::ElectionObserver o) {
    replica_.set_election_observer(std::move(o));
  }

  // ---- the member's inputs --------------------------------------------------------------------

  void start(Instant now) {
    now_ = now;
    replica_.start(now);
    rearm();
  }
  void receive(ServerId from, const Message& m, Instant now) {
    now_ = now;
    replica_.receive(from, m, now);
    rearm();
  }
  void tick(Instant now) {
    now_ = now;
    replica_.tick(now);
    rearm();
    if (leading()) lead_tick(now);
  }
  void log_durable(Instant now) {
    now_ = now;
    replica_.log_durable(now);
    rearm();
  }

  // ---- client calls ---------------------------------------------------------------------------

  /// A new session with `timeout_ms` clamped to the configured bounds; `watcher` hears its
  /// watch events and state changes. Replies once the createSession txn is applied here.
  void open_session(std::int32_t timeout_ms, WatchHandler watcher, ReplyHandler done, Instant now) {
    now_ = now;
    if (!serving()) return done(failure(errc::connection_loss));
    const std::int64_t id = ids_.next();
    const auto tick_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.replica.tick).count();
    const auto lo = static_cast<std::int32_t>(tick_ms * config_.min_session_ticks);
    const auto hi = static_cast<std::int32_t>(tick_ms * config_.max_session_ticks);
    const std::int32_t timeout = std::clamp(timeout_ms, lo, hi);
    Client& c = clients_[id];
    c.watcher = std::move(watcher);
    c.timeout_ms = timeout;
    c.auth.push_back({"ip", "127.0.0.1"});  // in process: the loopback identity
    c.opening = true;
    submit_write(id, c, tree::CreateSessionRequest{timeout},
                 [this, id, timeout, done = std::move(done)](Reply r) mutable {
                   if (!r.error) {
                     r.session = id;
                     r.timeout_ms = timeout;
                     r.password = tree::session_password(id);
                     if (auto it = clients_.find(id); it != clients_.end())
                       it->second.opening = false;
                   } else {
                     clients_.erase(id);
                   }
                   done(std::move(r));
                 });
  }

  /// Reattaches a session created elsewhere (its client moved here). Refused as
  /// SESSIONEXPIRED for an unknown, expiring or closing session or a wrong password, and with
  /// CONNECTIONLOSS when this member has not yet applied `last_zxid_seen` or has no leader to
  /// ask (the client should try another). On a follower the answer waits for the leader's.
  void attach_session(std::int64_t id, const tree::SessionPassword& password, Zxid last_zxid_seen,
                      WatchHandler watcher, ReplyHandler done, Instant now) {
    now_ = now;
    if (!serving()) return done(failure(errc::connection_loss));
    if (last_zxid_seen > machine_.tree.last_applied_zxid())
      return done(failure(errc::connection_loss));
    auto s = machine_.tree.sessions().find(id);
    if (s == machine_.tree.sessions().end() || password != tree::session_password(id))
      return done(failure(errc::session_expired));
    // The session's owner becomes this member: from then on the leader refuses its writes
    // through the member it left (SESSIONMOVED). A follower asks the leader first (ZooKeeper's
    // REVALIDATE) and answers once it hears back, so a client that was answered has no write
    // through its old member accepted after; the leader's own tracker answers at once. Until
    // then the session's later calls here wait behind the reattach, in order.
    std::optional<Reply> answer;
    if (leading()) {
      answer = tracker_.touch(id, config_.replica.self, true, now)
                   ? Reply{}
                   : failure(errc::session_expired);  // expiring or closing
    } else {
      std::string payload;
      tree::encoding::Encoder e(payload);
      e.put(id);
      if (!replica_.revalidate(std::move(payload), now))
        return done(failure(errc::connection_loss));
    }
    auto [entry, fresh] = clients_.try_emplace(id);
    Client& c = entry->second;
    if (fresh) c.opening = true;  // new here: its entry goes if the reattach fails
    Pending p{Pending::Kind::attach,
              0,
              {},
              [this, id, watcher = std::move(watcher), done = std::move(done)](Reply r) mutable {
                if (!r.error) return finish_attach(id, std::move(watcher), std::move(done));
                done(std::move(r));
              }};
    p.closes = answer && answer->error && c.opening;
    p.ready = std::move(answer);
    c.queue.push_back(std::move(p));
    drain(id);
  }

  /// A packet from a remote client (ZooKeeper's client port): its session lives as long as
  /// they keep coming. From the first call on, being attached no longer keeps it alive.
  void touch(std::int64_t id) {
    if (auto it = clients_.find(id); it != clients_.end()) {
      it->second.remote = true;
      it->second.heard = true;
    }
  }

  /// The client leaves without closing: no more heartbeats from here, its watches go, and
  /// what it had pending fails with CONNECTIONLOSS. The session lives on until it expires.
  void detach_session(std::int64_t id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    Client c = std::move(it->second);
    clients_.erase(it);
    watches_.remove_session(id);
    for (Pending& p : c.queue) p.done(failure(errc::connection_loss));
  }

  /// Closes the session: its ephemerals go; replies once that is applied here.
  void close_session(std::int64_t id, ReplyHandler done, Instant now) {
    now_ = now;
    Client* c = client(id, done);
    if (!c) return;
    c->closing = true;
    submit_write(id, *c, tree::CloseSessionRequest{}, std::move(done));
  }

  /// create, delete, setData, setACL, multi (check rides in multi).
  /// The network lost its connection to `peer` (see Replica::connection_lost).
  void connection_lost(ServerId peer, Instant now) {
    now_ = now;
    replica_.connection_lost(peer, now);
    rearm();
  }

  void write(std::int64_t id, tree::RequestBody body, ReplyHandler done, Instant now) {
    now_ = now;
    Client* c = client(id, done);
    if (!c) return;
    submit_write(id, *c, std::move(body), std::move(done));
  }

  /// A read served from this member's tree, after the session's earlier operations.
  void read(std::int64_t id, ReadRequest request, ReplyHandler done, Instant now) {
    now_ = now;
    Client* c = client(id, done);
    if (!c) return;
    enqueue_local(
        id, *c, [this, id, request = std::move(request)] { return serve_read(id, request); },
        std::move(done));
  }

  /// multiRead: each op succeeds or fails alone.
  void multi_read(std::int64_t id, std::vector<ReadRequest> reads, ReplyHandler done, Instant now) {
    now_ = now;
    Client* c = client(id, done);
    if (!c) return;
    enqueue_local(
        id, *c,
        [this, id, reads = std::move(reads)] {
          Reply all;
          all.zxid = machine_.tree.last_applied_zxid();
          for (ReadRequest r : reads) {
            // Only getData and getChildren, and never a watch (ZooKeeper's multiRead).
            r.watch = false;
            const bool allowed =
                r.op == tree::OpCode::get_data || r.op == tree::OpCode::get_children;
            all.reads.push_back(allowed ? serve_read(id, r) : failure(errc::bad_arguments));
          }
          return all;
        },
        std::move(done));
  }

  /// addWatch / removeWatches / checkWatches, in order with the session's other operations.
  void watch(std::int64_t id, WatchRequest request, ReplyHandler done, Instant now) {
    now_ = now;
    Client* c = client(id, done);
    if (!c) return;
    enqueue_local(
        id, *c, [this, id, request = std::move(request)] { return serve_watch(id, request); },
        std::move(done));
  }

  /// setWatches(2): re-registers a reconnected client's watches, in order with its other
  /// operations; the changes it missed since `relative_zxid` fire before the reply.
  void set_watches(std::int64_t id, SetWatchesRequest request, ReplyHandler done, Instant now) {
    now_ = now;
    Client* c = client(id, done);
    if (!c) return;
    enqueue_local(
        id, *c, [this, id, request = std::move(request)] { return serve_set_watches(id, request); },
        std::move(done));
  }

  /// sync(path): replies once everything the leader had proposed before it is applied here.
  void sync(std::int64_t id, std::string path, ReplyHandler done, Instant now) {
    now_ = now;
    Client* c = client(id, done);
    if (!c) return;
    // ZooKeeper does not validate sync's path: it answers 0 and echoes it.
    const std::int32_t cxid = next_cxid();
    std::string marker = std::to_string(id) + ":" + std::to_string(cxid);
    // Queued before submitting: a leader may answer within submit().
    c->queue.push_back(
        Pending{Pending::Kind::sync, cxid, {}, [path, done = std::move(done)](Reply r) mutable {
                  r.path = path;
                  done(std::move(r));
                }});
    submit(id, cxid, Txn{{}, txn_type_sync_marker, marker});
  }

  /// Between begin_batch() and end_batch(), writes and syncs are held and then submitted
  /// together (the driver brackets each step's client calls with them).
  void begin_batch() { ++batch_depth_; }
  void end_batch() {
    if (batch_depth_ > 0 && --batch_depth_ == 0) flush_outbox();
  }

  /// addAuth: digest "user:password" adds the id user:BASE64(SHA1(user:password)).
  void add_auth(std::int64_t id, const std::string& scheme, const std::string& auth,
                ReplyHandler done) {
    Client* c = client(id, done);
    if (!c) return;
    if (scheme != "digest" || auth.find(':') == std::string::npos)
      return done(failure(errc::auth_failed));
    tree::Id who{"digest", tree::digest_id(auth)};
    if (std::find(c->auth.begin(), c->auth.end(), who) == c->auth.end()) c->auth.push_back(who);
    done(Reply{});
  }

  // ---- queries ----------------------------------------------------------------------------------

  const tree::DataTree& tree() const noexcept { return machine_.tree; }
  /// Txns applied here since this core was made (replays after a restore not counted again).
  std::uint64_t applied_txns() const noexcept { return applied_txns_; }
  const Member& replica() const noexcept { return replica_; }
  const tree::WatchManager& watches() const noexcept { return watches_; }
  bool serving() const noexcept { return replica_.serving(); }
  bool leading() const noexcept {
    return replica_.serving() && replica_.state() == PeerState::leading;
  }
  std::optional<Instant> next_deadline() const noexcept { return replica_.next_deadline(); }
  std::size_t attached_sessions() const noexcept { return clients_.size(); }
  const NodeConfig& config() const noexcept { return config_; }

 private:
  struct Pending {
    // attach: a reattach waiting for the leader's REVALIDATE answer (ready once it came).
    enum class Kind { write, sync, local, attach };
    Kind kind = Kind::write;
    std::int32_t cxid = 0;
    std::function<Reply()> run;  // local: what to do when it reaches the head
    ReplyHandler done;
    std::optional<Reply> ready;  // write: applied, waiting for a sync ahead of it
    bool closes = false;         // ready is the session's closeSession
  };
  struct Client {
    WatchHandler watcher;
    std::int32_t timeout_ms = 0;
    std::vector<tree::Id> auth;
    std::deque<Pending> queue;  // per-session FIFO
    bool opening = false;
    bool closing = false;
    // A remote client (touch() was called for it) keeps its session alive only by sending
    // packets, as ZooKeeper's clients do; an in-process one by being attached.
    bool remote = false;
    bool heard = false;  // a packet since the last report to the session tracker
  };

  // Whether a client counts as heard from now (and, for a remote one, starts a new period).
  static bool alive(Client& c) { return !c.remote || std::exchange(c.heard, false); }

  static Reply failure(errc e) {
    Reply r;
    r.error = make_error_code(e);
    return r;
  }

  Client* client(std::int64_t id, const ReplyHandler& done) {
    auto it = clients_.find(id);
    if (it == clients_.end() || it->second.closing) {
      done(failure(errc::session_expired));
      return nullptr;
    }
    if (!serving()) {
      done(failure(errc::connection_loss));
      return nullptr;
    }
    return &it->second;
  }

  // An applied txn finds the request waiting for it by (session, cxid), so a cxid must not
  // repeat while an older request could still be applied here: not when a session's client
  // entry is made again (a detach and reattach here), nor between members (a request through
  // the member a session moved away from is applied here too). One counter for the member,
  // with the member's id in the top bits; it wraps after 16M writes.
  std::int32_t next_cxid() {
    next_cxid_ = (next_cxid_ + 1) & 0xFFFFFFu;
    if (next_cxid_ == 0) next_cxid_ = 1;
    const auto member = static_cast<std::uint32_t>(config_.replica.self) & 0x7Fu;
    return static_cast<std::int32_t>(member << 24 | next_cxid_);
  }

  std::int64_t wall_ms(Instant now) const {
    return config_.wall_clock_offset_ms +
           std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  }

  void submit_write(std::int64_t id, Client& c, const tree::RequestBody& body, ReplyHandler done) {
    const std::int32_t cxid = next_cxid();
    const auto type =
        static_cast<std::int32_t>(std::visit([](const auto& b) { return op_of(b); }, body));
    std::string bytes = tree::encoding::encode_request(id, cxid, wall_ms(now_), c.auth, body);
    // Queued before submitting: a lone member commits within submit().
    c.queue.push_back(Pending{Pending::Kind::write, cxid, {}, std::move(done)});
    submit(id, cxid, Txn{{}, type, std::move(bytes)});
  }

  // Hands a queued operation to the replica, or holds it for the batch the driver is building.
  void submit(std::int64_t id, std::int32_t cxid, Txn txn) {
    outbox_.push_back({id, cxid});
    outbox_txns_.push_back(std::move(txn));
    if (batch_depth_ == 0) flush_outbox();
  }

  // One submission for everything held: a follower forwards it as one REQUEST, a leader
  // proposes it as one batch. If there is no leader to take it, each operation fails.
  void flush_outbox() {
    if (outbox_txns_.empty()) return;
    std::vector<std::pair<std::int64_t, std::int32_t>> sent = std::move(outbox_);
    outbox_.clear();
    const bool taken = replica_.submit(std::exchange(outbox_txns_, {}), now_);
    rearm();
    if (taken) return;
    std::vector<Pending> lost;
    for (const auto& [id, cxid] : sent) {
      auto it = clients_.find(id);
      if (it == clients_.end()) continue;
      auto& queue = it->second.queue;
      for (auto p = queue.begin(); p != queue.end(); ++p)
        if (p->kind != Pending::Kind::local && p->cxid == cxid) {
          lost.push_back(std::move(*p));
          queue.erase(p);
          break;
        }
    }
    for (Pending& p : lost) p.done(failure(errc::connection_loss));
  }

  static tree::OpCode op_of(const tree::CreateRequest& r) { return r.op; }
  static tree::OpCode op_of(const tree::DeleteRequest&) { return tree::OpCode::remove; }
  static tree::OpCode op_of(const tree::SetDataRequest&) { return tree::OpCode::set_data; }
  static tree::OpCode op_of(const tree::SetAclRequest&) { return tree::OpCode::set_acl; }
  static tree::OpCode op_of(const tree::CheckRequest&) { return tree::OpCode::check; }
  static tree::OpCode op_of(const tree::MultiRequest&) { return tree::OpCode::multi; }
  static tree::OpCode op_of(const tree::CreateSessionRequest&) {
    return tree::OpCode::create_session;
  }
  static tree::OpCode op_of(const tree::CloseSessionRequest&) {
    return tree::OpCode::close_session;
  }
  static tree::OpCode op_of(const tree::DeleteContainerRequest&) {
    return tree::OpCode::delete_container;
  }

  void enqueue_local(std::int64_t id, Client& c, std::function<Reply()> run, ReplyHandler done) {
    if (c.queue.empty()) return done(run());
    c.queue.push_back(Pending{Pending::Kind::local, 0, std::move(run), std::move(done)});
    (void)id;
  }

  // Answers what is ready at the head of a session's queue: local operations, and writes
  // applied while a sync ahead of them waited.
  void drain(std::int64_t id) {
    for (;;) {
      auto it = clients_.find(id);
      if (it == clients_.end() || it->second.queue.empty()) return;
      Pending& head = it->second.queue.front();
      if (head.kind != Pending::Kind::local && !head.ready) return;
      Pending p = std::move(head);
      it->second.queue.pop_front();
      if (p.closes) return closed(id, std::move(p));
      p.done(p.ready ? std::move(*p.ready) : p.run());
    }
  }

  // ---- reads ------------------------------------------------------------------------------------

  Reply serve_read(std::int64_t id, const ReadRequest& r) {
    using tree::OpCode;
    const tree::DataTree& t = machine_.tree;
    Reply out;
    out.zxid = t.last_applied_zxid();
    const std::vector<tree::Id>& auth = clients_.at(id).auth;
    if (r.op == OpCode::whoami) {
      out.ids = clients_.at(id).auth;
      return out;
    }
    if (r.op == OpCode::get_ephemerals) {
      if (auto s = t.sessions().find(id); s != t.sessions().end())
        for (const std::string& p : s->second.ephemerals)
          if (p.compare(0, r.path.size(), r.path) == 0) out.children.push_back(p);
      return out;
    }
    // Like ZooKeeper, reads do not validate the path: one that names no node is NONODE.
    const tree::NodeId node = t.find(r.path);
    if (node == tree::no_node) {
      // exists() leaves a watch on a missing node, to hear of its creation.
      if (r.op == OpCode::exists && r.watch) watches_.add(id, r.path, tree::WatchKind::exist);
      Reply missing = failure(errc::no_node);
      missing.zxid = out.zxid;
      return missing;
    }
    const tree::AclList& acl = t.acl_of(node);
    const bool can_read = tree::acl_allows(acl, tree::perm::read, auth);
    switch (r.op) {
      case OpCode::exists:  // ZooKeeper 3.8.0 checks no permission for exists
        if (r.watch) watches_.add(id, r.path, tree::WatchKind::exist);
        break;
      case OpCode::get_data:
        if (!can_read) return failure(errc::no_auth);
        if (r.watch) watches_.add(id, r.path, tree::WatchKind::data);
        out.data = std::string(t.nodes().data(node));
        break;
      case OpCode::get_children:
      case OpCode::get_children2:
        if (!can_read) return failure(errc::no_auth);
        if (r.watch) watches_.add(id, r.path, tree::WatchKind::child);
        out.children = t.children_of(node);
        break;
      case OpCode::get_all_children_number:
        if (!can_read) return failure(errc::no_auth);
        out.number = t.descendants_of(node);
        break;
      case OpCode::get_acl: {
        const bool admin = tree::acl_allows(acl, tree::perm::admin, auth);
        if (!can_read && !admin) return failure(errc::no_auth);
        out.acl = acl;
        // Without ADMIN, a digest id's hash is masked: "user:x" (ZooKeeper 3.8).
        if (!admin)
          for (tree::Acl& a : out.acl)
            if (a.id.scheme == "digest") a.id.id = a.id.id.substr(0, a.id.id.find(':')) + ":x";
        break;
      }
      default:
        return failure(errc::unimplemented);
    }
    out.stat = t.stat_of(node);
    return out;
  }

  Reply serve_watch(std::int64_t id, const WatchRequest& r) {
    if (!tree::validate_path(r.path).empty()) return failure(errc::bad_arguments);
    if (r.op == tree::OpCode::add_watch) {
      if (r.mode != 0 && r.mode != 1) return failure(errc::bad_arguments);
      watches_.add(
          id, r.path,
          r.mode == 0 ? tree::WatchKind::persistent : tree::WatchKind::persistent_recursive);
      return Reply{};
    }
    if (r.mode < 1 || r.mode > 3) return failure(errc::bad_arguments);
    const auto type = static_cast<tree::WatcherType>(r.mode);
    const bool found = r.op == tree::OpCode::remove_watches ? watches_.remove(id, r.path, type)
                                                            : watches_.contains(id, r.path, type);
    return found ? Reply{} : failure(errc::no_watcher);
  }

  Reply serve_set_watches(std::int64_t id, const SetWatchesRequest& r) {
    using tree::EventType;
    using tree::WatchKind;
    const tree::DataTree& t = machine_.tree;
    const Zxid rel = r.relative_zxid;
    // Registers `kind` on `path`, unless the client missed a change there: then it hears it.
    const auto rearm = [&](const std::string& path, WatchKind kind) {
      if (!tree::validate_path(path).empty()) return;
      const tree::NodeId node = t.find(path);
      std::optional<EventType> missed;
      if (node == tree::no_node) {
        if (kind == WatchKind::data || kind == WatchKind::child) missed = EventType::node_deleted;
      } else {
        const tree::Stat st = t.stat_of(node);
        if (kind == WatchKind::exist) missed = EventType::node_created;
        if (kind == WatchKind::data && st.mzxid > rel) missed = EventType::node_data_changed;
        if (kind == WatchKind::child && st.pzxid > rel) missed = EventType::node_children_changed;
      }
      if (missed)
        notify(id, {*missed, tree::KeeperState::sync_connected, path});
      else
        watches_.add(id, path, kind);
    };
    for (const std::string& p : r.data) rearm(p, WatchKind::data);
    for (const std::string& p : r.exist) rearm(p, WatchKind::exist);
    for (const std::string& p : r.child) rearm(p, WatchKind::child);
    for (const std::string& p : r.persistent) rearm(p, WatchKind::persistent);
    for (const std::string& p : r.persistent_recursive) rearm(p, WatchKind::persistent_recursive);
    Reply out;
    out.zxid = t.last_applied_zxid();
    return out;
  }

  // ---- what the replica reports -----------------------------------------------------------------

  // A txn was applied here: watches first (watch-before-data), then the reply.
  void applied(const tree::ApplyOutcome& o) {
    ++applied_txns_;
    for (const tree::TreeChange& change : o.changes)
      for (auto& [session, event] : watches_.trigger(change))
        if (may_read(session, change)) notify(session, event);
    for (std::int64_t closed : o.closed_sessions) {
      if (leading()) tracker_.remove(closed);
      if (closed != o.session || !clients_.count(closed) || !clients_.at(closed).closing)
        expire_locally(closed);
    }
    auto it = clients_.find(o.session);
    if (it == clients_.end() || it->second.queue.empty()) return;
    auto pending = std::find_if(it->second.queue.begin(), it->second.queue.end(), [&](auto& q) {
      return q.kind == Pending::Kind::write && q.cxid == o.cxid && !q.ready;
    });
    if (pending == it->second.queue.end()) return;
    Reply r;
    r.zxid = o.zxid;
    r.error = make_error_code(o.result.err);
    r.path = o.result.path;
    r.stat = o.result.stat;
    r.results = o.multi;
    pending->closes = o.result.op == tree::OpCode::close_session;
    // Behind a sync still waiting for the leader: held, and answered in order once it is.
    if (pending != it->second.queue.begin()) {
      pending->ready = std::move(r);
      return;
    }
    pending->ready = std::move(r);
    drain(o.session);
  }

  // The session's close was applied and is answered: the client goes, and what it still had
  // queued fails.
  void closed(std::int64_t id, Pending p) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return p.done(std::move(*p.ready));
    Client c = std::move(it->second);
    clients_.erase(it);
    watches_.remove_session(id);
    p.done(std::move(*p.ready));
    for (Pending& rest : c.queue) rest.done(failure(errc::session_expired));
  }

  // ZooKeeper 3.8 drops a watch event the session may not READ (the node's ACL at the time).
  bool may_read(std::int64_t session, const tree::TreeChange& change) const {
    auto c = clients_.find(session);
    if (c == clients_.end()) return false;
    if (change.deleted_acl)
      return tree::acl_allows(*change.deleted_acl, tree::perm::read, c->second.auth);
    const tree::NodeId node = machine_.tree.find(change.path);
    return node == tree::no_node ||
           tree::acl_allows(machine_.tree.acl_of(node), tree::perm::read, c->second.auth);
  }

  void notify(std::int64_t session, const tree::WatchedEvent& event) {
    auto it = clients_.find(session);
    if (it != clients_.end() && it->second.watcher) it->second.watcher(event);
  }

  // The session was closed by the leader (expiry): its client hears Expired, then its
  // pending operations fail.
  void expire_locally(std::int64_t id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    Client c = std::move(it->second);
    clients_.erase(it);
    watches_.remove_session(id);
    if (c.watcher) c.watcher({tree::EventType::none, tree::KeeperState::expired, {}});
    for (Pending& p : c.queue) p.done(failure(errc::session_expired));
  }

  void rearm() {
    if (!rearm_from_) return;
    const Zxid before = *rearm_from_;
    rearm_from_.reset();
    if (machine_.tree.last_applied_zxid() > before) restored(before);
  }

  // The tree jumped (a SNAP from the leader): re-arm watches as ZooKeeper's setWatches does
  // against the zxid this member had applied.
  void restored(Zxid before) {
    const tree::DataTree& t = machine_.tree;
    std::vector<std::tuple<std::int64_t, std::string, std::uint8_t>> regs;
    watches_.for_each([&](std::int64_t s, const std::string& p, std::uint8_t bits) {
      regs.emplace_back(s, p, bits);
    });
    const auto has = [](std::uint8_t bits, tree::WatchKind k) {
      return (bits & static_cast<std::uint8_t>(k)) != 0;
    };
    for (const auto& [session, path, bits] : regs) {
      const tree::NodeId node = t.find(path);
      std::optional<tree::EventType> fire;
      if (node == tree::no_node) {
        if (has(bits, tree::WatchKind::data) || has(bits, tree::WatchKind::child))
          fire = tree::EventType::node_deleted;
      } else {
        const tree::Stat st = t.stat_of(node);
        if (has(bits, tree::WatchKind::exist) && st.czxid > before)
          fire = tree::EventType::node_created;
        else if ((has(bits, tree::WatchKind::data) || has(bits, tree::WatchKind::exist)) &&
                 st.mzxid > before)
          fire = tree::EventType::node_data_changed;
        else if (has(bits, tree::WatchKind::child) && st.pzxid > before)
          fire = tree::EventType::node_children_changed;
      }
      if (!fire) continue;
      watches_.clear_one_shot(session, path, bits);
      notify(session, {*fire, tree::KeeperState::sync_connected, path});
    }
  }

  void role_event(const RoleEvent& e) {
    if (e.kind == RoleEvent::Kind::leading) prep_.reset();
    if (e.kind == RoleEvent::Kind::established && replica_.state() == PeerState::leading) {
      prep_.reset();
      tracker_.adopt(machine_.tree.sessions(), e.at);
      next_container_check_ = e.at + config_.container_check_interval;
    }
    if (e.kind == RoleEvent::Kind::failed) {
      // Whatever was in flight may or may not commit: the client hears CONNECTIONLOSS, as a
      // ZooKeeper client does when its server loses the leader.
      // Handlers run after the bookkeeping: they may call back into this member.
      std::vector<Pending> lost;
      for (auto& [id, c] : clients_) {
        for (Pending& p : c.queue) lost.push_back(std::move(p));
        c.queue.clear();
      }
      std::erase_if(clients_, [](const auto& entry) { return entry.second.opening; });
      // Remote clients are disconnected, as ZooKeeper closes its client connections when it
      // stops serving: they go on through another server. The sessions live on.
      std::vector<WatchHandler> disconnected;
      for (auto it = clients_.begin(); it != clients_.end();) {
        if (!it->second.remote) {
          ++it;
          continue;
        }
        watches_.remove_session(it->first);
        disconnected.push_back(std::move(it->second.watcher));
        it = clients_.erase(it);
      }
      for (Pending& p : lost) p.done(failure(errc::connection_loss));
      for (WatchHandler& w : disconnected)
        if (w) w({tree::EventType::none, tree::KeeperState::disconnected, {}});
    }
    if (user_role_observer_) user_role_observer_(e);
  }

  // ---- reattaching -------------------------------------------------------------------------

  // The reattach's turn came and the leader agreed: the client is this session's here.
  void finish_attach(std::int64_t id, WatchHandler watcher, ReplyHandler done) {
    auto s = machine_.tree.sessions().find(id);
    auto it = clients_.find(id);
    if (s == machine_.tree.sessions().end() || it == clients_.end())
      return done(failure(errc::session_expired));
    Client& c = it->second;
    c.opening = false;
    // Attached here already: that client is superseded (ZooKeeper closes its connection).
    if (WatchHandler old = std::exchange(c.watcher, std::move(watcher)))
      old({tree::EventType::none, tree::KeeperState::disconnected, {}});
    c.timeout_ms = s->second.timeout_ms;
    if (c.auth.empty()) c.auth.push_back({"ip", "127.0.0.1"});
    Reply r;
    r.session = id;
    r.timeout_ms = c.timeout_ms;
    r.password = tree::session_password(id);  // the ConnectResponse carries it again
    r.zxid = machine_.tree.last_applied_zxid();
    done(std::move(r));
  }

  // Leader: a learner's client reattached session `id` there; it is the owner now, unless the
  // session is gone or closing (then the client hears SESSIONEXPIRED).
  std::string revalidate(ServerId from, const std::string& data) {
    tree::encoding::Decoder d(data);
    std::int64_t id = 0;
    d.get(id);
    const bool valid = d.done() && tracker_.touch(id, from, true, now_);
    std::string out;
    tree::encoding::Encoder e(out);
    e.put(id), e.put(static_cast<std::uint8_t>(valid ? 1 : 0));
    return out;
  }

  // Follower: the leader's answer for the oldest reattach of that session still waiting.
  void revalidated(const std::string& data) {
    tree::encoding::Decoder d(data);
    std::int64_t id = 0;
    std::uint8_t valid = 0;
    d.get(id), d.get(valid);
    if (!d.done()) return;
    auto it = clients_.find(id);
    if (it == clients_.end()) return;  // detached or expired meanwhile: already answered
    for (Pending& p : it->second.queue) {
      if (p.kind != Pending::Kind::attach || p.ready) continue;
      p.ready = valid != 0 ? Reply{} : failure(errc::session_expired);
      // A refused reattach of a session new here ends its client entry (and what queued).
      p.closes = valid == 0 && it->second.opening;
      break;
    }
    drain(id);
  }

  // ---- leader duties ----------------------------------------------------------------------------

  void prepare(Txn& txn, ServerId via) {
    tree::Request& request = prep_scratch_;
    tree::TxnRecord record;
    if (!tree::encoding::decode(txn.data, request)) {
      record.body = tree::ErrorTxn{errc::marshalling_error, static_cast<tree::OpCode>(txn.type)};
    } else {
      // A session reattached elsewhere has a new owner: writes through another member are
      // SESSIONMOVED (via is this member's own id for its clients' writes).
      record = prep_.prepare(request, txn.zxid, via, now_);
    }
    txn.type = static_cast<std::int32_t>(tree::txn_type(record.body));
    txn.data = tree::encoding::encode(record);
  }

  void lead_tick(Instant now) {
    for (auto& [id, c] : clients_)
      if (!c.opening && alive(c)) tracker_.touch(id, config_.replica.self, false, now);
    for (std::int64_t id : tracker_.expire(now)) leader_request(id, tree::CloseSessionRequest{});
    if (now >= next_container_check_) {
      next_container_check_ = now + config_.container_check_interval;
      for (std::string& path : machine_.tree.cleanup_candidates(wall_ms(now)))
        leader_request(0, tree::DeleteContainerRequest{std::move(path)});
    }
  }

  void leader_request(std::int64_t session, tree::RequestBody body) {
    tree::Request request{session, 0, wall_ms(now_), {}, std::move(body)};
    const auto type =
        static_cast<std::int32_t>(std::visit([](const auto& b) { return op_of(b); }, request.body));
    replica_.submit({Txn{{}, type, tree::encoding::encode(request)}}, now_);
  }

  // Followers tell the leader which sessions their clients keep alive, on each PING reply.
  std::string ping_payload() {
    std::string out;
    tree::encoding::Encoder e(out);
    std::uint32_t live = 0;
    for (auto& entry : clients_) live += entry.second.remote && !entry.second.heard ? 0 : 1;
    e.put(live);
    for (auto& [id, c] : clients_) {
      if (!alive(c)) continue;
      e.put(id);
      e.put(std::uint8_t{0});  // reserved: owners move by REVALIDATE, never by a ping
    }
    return out;
  }

  void learner_ping(ServerId from, const std::string& data) {
    tree::encoding::Decoder d(data);
    const std::uint32_t n = d.count(9);
    for (std::uint32_t i = 0; i < n && d.ok(); ++i) {
      std::int64_t id = 0;
      std::uint8_t reserved = 0;  // owners move by REVALIDATE only
      d.get(id), d.get(reserved);
      if (d.ok()) tracker_.touch(id, from, false, now_);
    }
  }

  void sync_done(const std::string& marker) {
    // The marker comes back from the leader; one that does not parse answers no one.
    const auto colon = marker.find(':');
    if (colon == std::string::npos) return;
    std::int64_t id = 0;
    std::int32_t cxid = 0;
    const char* const end = marker.data() + marker.size();
    const auto [id_end, id_error] = std::from_chars(marker.data(), marker.data() + colon, id);
    const auto [cxid_end, cxid_error] = std::from_chars(marker.data() + colon + 1, end, cxid);
    if (id_error != std::errc{} || id_end != marker.data() + colon || cxid_error != std::errc{} ||
        cxid_end != end)
      return;
    auto it = clients_.find(id);
    if (it == clients_.end() || it->second.queue.empty()) return;
    Pending& head = it->second.queue.front();
    if (head.kind != Pending::Kind::sync || head.cxid != cxid) return;
    Pending p = std::move(head);
    it->second.queue.pop_front();
    Reply r;
    r.zxid = machine_.tree.last_applied_zxid();
    p.done(std::move(r));
    drain(id);
  }

  NodeConfig config_;
  detail::TreeMachine machine_;
  tree::SessionTracker tracker_;

  tree::RequestPrep prep_;
  tree::WatchManager watches_;
  tree::SessionIdGenerator ids_;
  Member replica_;
  std::map<std::int64_t, Client> clients_;
  typename Member::RoleObserver user_role_observer_;
  Instant now_{};
  Instant next_container_check_{};
  std::optional<Zxid> rearm_from_;
  int batch_depth_ = 0;
  std::uint64_t applied_txns_ = 0;
  tree::Request prep_scratch_;  // each request the leader prepares, decoded into the same buffers
  std::uint32_t next_cxid_ = 0;
  std::vector<std::pair<std::int64_t, std::int32_t>> outbox_;  // (session, cxid) of held ops
  std::vector<Txn> outbox_txns_;
};

}  // namespace quorum
