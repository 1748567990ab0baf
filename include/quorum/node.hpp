// quorum::Node: one member of a replicated data tree, embedded in a host service. It runs
// NodeCore (election, ZAB, the tree, sessions, watches) on its own thread and hands out
// Sessions. The transport names the network the member joins (`TransportPolicy::Network`):
// InProcHub for members in one process, TcpNetwork (quorum/transport/tcp.hpp) for members
// anywhere; everything else is the same.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "quorum/client/session.hpp"
#include "quorum/inproc/member_loop.hpp"
#include "quorum/node/node_core.hpp"
#include "quorum/storage/memory.hpp"
#include "quorum/transport/inproc.hpp"

namespace quorum {

template <class TransportPolicy = InProcTransport, class StoragePolicy = MemoryStorage>
class Node {
  static_assert(Transport<TransportPolicy>,
                "quorum::Node: the Transport policy must satisfy Transport");
  static_assert(Storage<StoragePolicy>, "quorum::Node: the Storage policy must satisfy Storage");

 public:
  using Core = NodeCore<TransportPolicy, StoragePolicy>;
  /// Where the member's messages travel: the transport's network (InProcHub, TcpNetwork).
  using Network = typename TransportPolicy::Network;

  /// What the member looks like as of its last step.
  struct Status {
    PeerState state = PeerState::looking;
    bool serving = false;
    ServerId leader = 0;
    Epoch epoch = 0;
    Zxid applied;
    std::size_t znodes = 0;
    std::size_t sessions = 0;     ///< live sessions in the tree
    std::string storage_failure;  ///< set when the storage failed and the member stopped
  };

  /// Throws std::invalid_argument, with the reason, for settings that cannot work. The network
  /// and the storage must outlive the node.
  Node(Network& hub, NodeConfig config, StoragePolicy& storage)
      : hub_(hub),
        transport_(hub, config.replica.self),
        config_(std::move(config)),
        storage_(storage),
        port_(std::make_shared<Port>(*this)),
        loop_(hub, config_.replica.self) {
    for (const std::string& why :
         {validate(config_.replica.election()), validate(config_.replica.zab())})
      if (!why.empty()) throw std::invalid_argument("quorum: bad node config: " + why);
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node() {
    stop();
    port_->detach();
  }

  /// Sees role changes on the member's thread. Set before start().
  void set_role_observer(std::function<void(const RoleEvent&)> o) { role_observer_ = std::move(o); }

  /// Boots the member over its storage (also after stop(): a restart).
  void start() {
    if (loop_.running()) return;
    NodeConfig config = config_;
    const auto since_zero = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    const auto hub_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(hub_.now().time_since_epoch());
    config.wall_clock_offset_ms = since_zero.count() - hub_ms.count();
    config.session_id_clock_ms = since_zero.count();
    if constexpr (ThreadedStorage<StoragePolicy>)
      storage_.set_durability_listener([this] { loop_.post([](Work& w) { w.durable = true; }); });
    // A network that sees connections break (TCP) says so; the member reacts on its thread.
    if constexpr (requires { hub_.set_peer_lost(std::function<void(ServerId)>{}); })
      hub_.set_peer_lost(
          [this](ServerId peer) { loop_.post([peer](Work& w) { w.lost_peers.push_back(peer); }); });
    core_ = std::make_unique<Core>(config, transport_, storage_);
    if (role_observer_) core_->set_role_observer(role_observer_);
    port_->set_running(true);
    loop_.start([this](auto& inbox, Work& work) { return step(inbox, work); }, Work{true, {}});
  }

  /// Stops at once: to the others this member has crashed; its storage keeps what it had
  /// (a snapshot being written is finished first). Operations in flight fail with
  /// CONNECTIONLOSS.
  void stop() {
    port_->set_running(false);
    if constexpr (ThreadedStorage<StoragePolicy>) storage_.set_durability_listener({});
    if constexpr (requires { hub_.set_peer_lost(std::function<void(ServerId)>{}); })
      hub_.set_peer_lost({});
    loop_.stop();
    // The member thread, which starts snapshots, is gone; one still being written finishes
    // (its result, posted to the stopped loop, is dropped at the next start: the file stays
    // and is found when the storage is next opened).
    if (snapshot_thread_.joinable()) snapshot_thread_.join();
    core_.reset();
    snapshot_running_ = false;
  }

  /// A new session, once the ensemble has committed it. Throws std::system_error
  /// (CONNECTIONLOSS while there is no leader).
  Session open_session(SessionOptions options = {}) {
    return async_open_session(std::move(options), use_future).get();
  }

  template <class Token>
  auto async_open_session(SessionOptions options, Token&& token) {
    detail::Completion<Session, Token> completion(std::forward<Token>(token));
    auto port = port_;
    port_->open_session(static_cast<std::int32_t>(options.timeout.count()),
                        std::move(options.watcher),
                        [port, handler = std::move(completion.handler)](Reply r) mutable {
                          if (r.error) return handler(r.error, Session{});
                          handler({}, Session(port, r.session, r.timeout_ms));
                        });
    return completion.result();
  }

  /// Takes over a session created elsewhere (its id and password). Throws std::system_error:
  /// SESSIONEXPIRED for an unknown session or a wrong password.
  Session attach_session(std::int64_t id, tree::SessionPassword password,
                         SessionOptions options = {}, Zxid last_zxid_seen = Zxid::none()) {
    std::promise<Reply> promise;
    auto future = promise.get_future();
    port_->attach_session(id, password, last_zxid_seen, std::move(options.watcher),
                          [&promise](Reply r) { promise.set_value(std::move(r)); });
    Reply r = future.get();
    if (r.error) throw std::system_error(r.error);
    return Session(port_, r.session, r.timeout_ms);
  }

  /// Runs `f(const Core&)` on the member's thread and returns its result (for inspection:
  /// the tree, the watches). Throws std::system_error when the member is not running.
  template <class F>
  auto inspect(F&& f) -> std::invoke_result_t<F, const Core&> {
    using R = std::invoke_result_t<F, const Core&>;
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    auto fn = std::function<void(const Core&)>([promise, f = std::forward<F>(f)](const Core& core) {
      if constexpr (std::is_void_v<R>) {
        f(core);
        promise->set_value();
      } else {
        promise->set_value(f(core));
      }
    });
    if (!loop_.running()) throw std::system_error(make_error_code(errc::connection_loss));
    loop_.post([fn = std::move(fn)](Work& w) mutable {
      w.calls.push_back(
          Call{[fn = std::move(fn)](Core& core, Instant, ReplyHandler) { fn(core); }, {}});
    });
    return future.get();
  }

  Status status() const { return loop_.status(); }
  /// The member's client calls, for a server that hands sessions to remote clients (the
  /// ZooKeeper client port); outlives the node and then answers CONNECTIONLOSS.
  std::shared_ptr<ClientPort> client_port() const { return port_; }
  template <class Predicate>
  bool wait_until(Predicate done, std::chrono::milliseconds timeout) const {
    return loop_.wait_until(done, timeout);
  }
  ServerId id() const noexcept { return config_.replica.self; }

 private:
  // One client call; if it is dropped unrun (the member stopped), its handler hears
  // CONNECTIONLOSS instead of never.
  struct Call {
    std::function<void(Core&, Instant, ReplyHandler)> run;
    ReplyHandler done;
    Call(std::function<void(Core&, Instant, ReplyHandler)> r, ReplyHandler d)
        : run(std::move(r)), done(std::move(d)) {}
    Call(Call&&) = default;
    Call& operator=(Call&&) = default;
    ~Call() {
      if (done) {
        Reply lost;
        lost.error = make_error_code(errc::connection_loss);
        done(std::move(lost));
      }
    }
  };
  struct Work {
    bool start = false;
    std::vector<Call> calls;
    bool durable = false;  // the storage's writer made more of the log durable
    // Written in the background, to adopt: (zxid, state size).
    std::vector<std::pair<Zxid, std::uint64_t>> snapshots;
    std::vector<ServerId> lost_peers;  // the network's connections to them broke
  };

  // The ClientPort of this node; outlives it when Sessions do, and then answers CONNECTIONLOSS.
  class Port final : public ClientPort {
   public:
    explicit Port(Node& node) : node_(&node) {}
    void detach() {
      std::lock_guard lock(mutex_);
      node_ = nullptr;
    }
    void set_running(bool running) {
      std::lock_guard lock(mutex_);
      running_ = running;
    }

    void open_session(std::int32_t timeout_ms, WatchHandler watcher, ReplyHandler done) override {
      post(std::move(done), [timeout_ms, watcher = std::move(watcher)](Core& c, Instant now,
                                                                       ReplyHandler d) mutable {
        c.open_session(timeout_ms, std::move(watcher), std::move(d), now);
      });
    }
    void attach_session(std::int64_t id, tree::SessionPassword password, Zxid last_seen,
                        WatchHandler watcher, ReplyHandler done) override {
      post(std::move(done),
           [=, watcher = std::move(watcher)](Core& c, Instant now, ReplyHandler d) mutable {
             c.attach_session(id, password, last_seen, std::move(watcher), std::move(d), now);
           });
    }
    void detach_session(std::int64_t id) override {
      post({}, [id](Core& c, Instant, ReplyHandler) { c.detach_session(id); });
    }
    void touch(std::int64_t id) override {
      post({}, [id](Core& c, Instant, ReplyHandler) { c.touch(id); });
    }
    void close_session(std::int64_t id, ReplyHandler done) override {
      post(std::move(done),
           [id](Core& c, Instant now, ReplyHandler d) { c.close_session(id, std::move(d), now); });
    }
    void write(std::int64_t id, tree::RequestBody body, ReplyHandler done) override {
      post(std::move(done),
           [id, body = std::move(body)](Core& c, Instant now, ReplyHandler d) mutable {
             c.write(id, std::move(body), std::move(d), now);
           });
    }
    void read(std::int64_t id, ReadRequest request, ReplyHandler done) override {
      post(std::move(done),
           [id, request = std::move(request)](Core& c, Instant now, ReplyHandler d) mutable {
             c.read(id, std::move(request), std::move(d), now);
           });
    }
    void multi_read(std::int64_t id, std::vector<ReadRequest> reads, ReplyHandler done) override {
      post(std::move(done),
           [id, reads = std::move(reads)](Core& c, Instant now, ReplyHandler d) mutable {
             c.multi_read(id, std::move(reads), std::move(d), now);
           });
    }
    void watch(std::int64_t id, WatchRequest request, ReplyHandler done) override {
      post(std::move(done),
           [id, request = std::move(request)](Core& c, Instant now, ReplyHandler d) mutable {
             c.watch(id, std::move(request), std::move(d), now);
           });
    }
    void set_watches(std::int64_t id, SetWatchesRequest request, ReplyHandler done) override {
      post(std::move(done),
           [id, request = std::move(request)](Core& c, Instant now, ReplyHandler d) mutable {
             c.set_watches(id, std::move(request), std::move(d), now);
           });
    }
    void sync(std::int64_t id, std::string path, ReplyHandler done) override {
      post(std::move(done),
           [id, path = std::move(path)](Core& c, Instant now, ReplyHandler d) mutable {
             c.sync(id, std::move(path), std::move(d), now);
           });
    }
    void add_auth(std::int64_t id, std::string scheme, std::string auth,
                  ReplyHandler done) override {
      post(std::move(done), [id, scheme = std::move(scheme), auth = std::move(auth)](
                                Core& c, Instant, ReplyHandler d) mutable {
        c.add_auth(id, scheme, auth, std::move(d));
      });
    }
    bool on_member_thread() const override {
      return member_thread_.load() == std::this_thread::get_id();
    }
    void set_member_thread(std::thread::id id) { member_thread_.store(id); }

   private:
    void post(ReplyHandler done, std::function<void(Core&, Instant, ReplyHandler)> run) {
      std::unique_lock lock(mutex_);
      if (!node_ || !running_) {
        lock.unlock();
        if (done) {
          Reply lost;
          lost.error = make_error_code(errc::connection_loss);
          done(std::move(lost));
        }
        return;
      }
      node_->loop_.post([&](Work& w) { w.calls.push_back(Call{std::move(run), std::move(done)}); });
    }

    std::mutex mutex_;
    Node* node_;
    bool running_ = false;
    std::atomic<std::thread::id> member_thread_{};
  };

  std::pair<Status, std::optional<Instant>> step(std::vector<inproc::Incoming>& inbox, Work& work) {
    Core& c = *core_;
    const Instant now = hub_.now();
    if constexpr (ThreadedStorage<StoragePolicy>) {
      // A failed write or sync stops the member for good: to the others it has crashed, and
      // its clients' calls fail (the Calls are dropped unrun: CONNECTIONLOSS).
      if (std::string why = storage_.failure(); !why.empty()) {
        work.calls.clear();
        Status s;
        s.storage_failure = std::move(why);
        return {s, std::nullopt};
      }
    }
    if (work.start) {
      port_->set_member_thread(std::this_thread::get_id());
      next_snapshot_at_ = snapshot_interval();
      c.start(now);
    }
    if constexpr (ThreadedStorage<StoragePolicy>) {
      for (const auto& [zxid, bytes] : work.snapshots) storage_.adopt_snapshot_file(zxid, bytes);
      if (!work.snapshots.empty()) snapshot_running_ = false;
      work.snapshots.clear();
    }
    if (work.durable) c.log_durable(now);
    for (ServerId peer : work.lost_peers) c.connection_lost(peer, now);
    for (auto& in : inbox) c.receive(in.from, in.message, now);
    c.begin_batch();  // the step's writes travel to the leader together
    for (Call& call : work.calls) {
      auto run = std::move(call.run);
      run(c, now, std::exchange(call.done, nullptr));
    }
    c.end_batch();
    work.calls.clear();
    c.tick(now);
    if constexpr (ThreadedStorage<StoragePolicy>) maybe_snapshot(c);
    const auto& r = c.replica();
    Status s{r.state(),
             r.serving(),
             r.leader(),
             r.epoch(),
             c.tree().last_applied_zxid(),
             c.tree().node_count() - 1,
             c.tree().sessions().size(),
             {}};
    return {s, c.next_deadline()};
  }

  // ZooKeeper's snapCount rule: between half and all of snap_count txns, here spread by id.
  std::uint64_t snapshot_interval() const noexcept {
    const std::uint64_t half = config_.snap_count / 2;
    if (half == 0) return config_.snap_count;
    const auto self = static_cast<std::uint64_t>(config_.replica.self);
    return half + (self * 0x9e3779b97f4a7c15ull) % half;
  }

  // Every snap_count-ish applied txns: copy the tree (memory speed, the only pause here), and
  // serialize and write the copy on a thread of its own, a piece at a time; the member adopts the
  // snapshot (and purges) when that thread posts it back. The copy is as of an applied — committed
  // — zxid.
  void maybe_snapshot(Core& c) {
    if (config_.snap_count == 0 || snapshot_running_ || c.applied_txns() < next_snapshot_at_)
      return;
    next_snapshot_at_ = c.applied_txns() + snapshot_interval();
    if (snapshot_thread_.joinable()) snapshot_thread_.join();  // finished: it posted its result
    snapshot_running_ = true;
    auto copy = std::make_shared<const tree::DataTree>(c.tree());
    // Streamed to the file in pieces: the image of a large tree is never whole in memory.
    snapshot_thread_ = std::thread([this, copy = std::move(copy)]() mutable {
      const Zxid zxid = copy->last_applied_zxid();
      const std::optional<std::uint64_t> bytes = storage_.stream_snapshot_file(
          zxid, [&](const auto& sink) { copy->write_snapshot(sink); }, true);
      copy.reset();
      if (!bytes) return;  // the storage failed: it stops
      loop_.post([zxid, size = *bytes](Work& w) { w.snapshots.emplace_back(zxid, size); });
    });
  }

  Network& hub_;
  TransportPolicy transport_;
  const NodeConfig config_;
  StoragePolicy& storage_;
  std::function<void(const RoleEvent&)> role_observer_;
  std::shared_ptr<Port> port_;
  std::unique_ptr<Core> core_;  // touched only on the member's thread while it runs
  // Member thread only: whether a background snapshot is out, and when the next one is due.
  bool snapshot_running_ = false;
  std::uint64_t next_snapshot_at_ = 0;
  std::thread snapshot_thread_;                     // serializes and writes one snapshot
  inproc::MemberLoop<Work, Status, Network> loop_;  // last: its thread stops before the rest goes
};

}  // namespace quorum
