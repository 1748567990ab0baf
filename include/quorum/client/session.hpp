// quorum::Session: a client session of the data tree, held by a service that embeds a member.
// Every operation is asynchronous (async_*, with a completion token: a callback or
// quorum::use_future) and synchronous (same name without the prefix; throws
// std::system_error carrying ZooKeeper's code). Results carry the node's Stat.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "quorum/client/completion.hpp"
#include "quorum/node/reply.hpp"
#include "quorum/tree/watch_manager.hpp"

namespace quorum {

/// What a Session talks to: a member's client calls, run on the member's thread. Replies and
/// watch events are delivered there too.
class ClientPort {
 public:
  virtual ~ClientPort() = default;
  virtual void open_session(std::int32_t timeout_ms, WatchHandler watcher, ReplyHandler done) = 0;
  virtual void attach_session(std::int64_t id, tree::SessionPassword password, Zxid last_seen,
                              WatchHandler watcher, ReplyHandler done) = 0;
  virtual void detach_session(std::int64_t id) = 0;
  /// A remote client's packet: its session stays alive while they come (see NodeCore::touch).
  virtual void touch(std::int64_t id) = 0;
  virtual void close_session(std::int64_t id, ReplyHandler done) = 0;
  virtual void write(std::int64_t id, tree::RequestBody body, ReplyHandler done) = 0;
  virtual void read(std::int64_t id, ReadRequest request, ReplyHandler done) = 0;
  virtual void multi_read(std::int64_t id, std::vector<ReadRequest> reads, ReplyHandler done) = 0;
  virtual void watch(std::int64_t id, WatchRequest request, ReplyHandler done) = 0;
  virtual void set_watches(std::int64_t id, SetWatchesRequest request, ReplyHandler done) = 0;
  virtual void sync(std::int64_t id, std::string path, ReplyHandler done) = 0;
  virtual void add_auth(std::int64_t id, std::string scheme, std::string auth,
                        ReplyHandler done) = 0;
  /// True on the member's own thread, where waiting for a reply would deadlock.
  virtual bool on_member_thread() const = 0;
};

struct SessionOptions {
  std::chrono::milliseconds timeout{10'000};  ///< negotiated into [2, 20] ticks by default
  WatchHandler watcher;  ///< hears watch events and Expired; runs on the member's thread
};

struct CreateOptions {
  tree::CreateMode mode = tree::CreateMode::persistent;
  tree::AclList acl = tree::open_acl_unsafe();
  std::chrono::milliseconds ttl{0};  ///< for the TTL modes
};

enum class Watch : bool { no = false, yes = true };
enum class AddWatchMode : std::int32_t { persistent = 0, persistent_recursive = 1 };

struct CreateResult {
  std::string path;
  tree::Stat stat;
};
struct DataResult {
  std::string data;
  tree::Stat stat;
};
struct ChildrenResult {
  std::vector<std::string> children;
  tree::Stat stat;
};
struct AclResult {
  tree::AclList acl;
  tree::Stat stat;
};

class Session {
 private:
  struct State {
    std::atomic<std::int64_t> seen{-1};
  };

  ClientPort& port() { return *port_; }  // only inside start(), which checks it first

  void end() {
    if (port_) port_->close_session(id_, [](Reply) {});
    port_.reset();
  }

  // Submits, turning the Reply into the token's (error, value). `keep_value`: the value is
  // delivered even with an error (multi's per-op results).
  template <class T, class Token, class Submit, class Convert = std::nullptr_t>
  auto start(Token&& token, Submit&& submit, Convert convert = nullptr, bool keep_value = false) {
    detail::Completion<T, Token> completion(std::forward<Token>(token));
    auto state = state_;
    auto on_reply = [handler = std::move(completion.handler), convert, keep_value,
                     state](Reply reply) mutable {
      if (state && reply.zxid.value > state->seen.load()) state->seen.store(reply.zxid.value);
      if constexpr (std::is_void_v<T>) {
        (void)convert;
        (void)keep_value;
        handler(reply.error);
      } else {
        if (reply.error && !keep_value) return handler(reply.error, T{});
        handler(reply.error, convert(reply));
      }
    };
    if (port_) {
      submit(std::move(on_reply));
    } else {
      // Closed or released: the operation completes at once with SESSIONEXPIRED.
      Reply expired;
      expired.error = make_error_code(errc::session_expired);
      on_reply(std::move(expired));
    }
    return completion.result();
  }

  // Runs an async operation with use_future and waits; never on the member's own thread.
  template <class Async>
  auto wait(Async&& async) {
    if (port_ && port_->on_member_thread())
      throw std::logic_error(
          "quorum::Session: a blocking call on the member's thread (inside a watcher or a "
          "completion) would deadlock; use the async_ form");
    return async(use_future).get();
  }

 public:
  Session() = default;
  Session(std::shared_ptr<ClientPort> port, std::int64_t id, std::int32_t timeout_ms)
      : port_(std::move(port)),
        state_(std::make_shared<State>()),
        id_(id),
        timeout_ms_(timeout_ms) {}
  Session(Session&& other) noexcept { *this = std::move(other); }
  Session& operator=(Session&& other) noexcept {
    if (this != &other) {
      end();
      port_ = std::move(other.port_);
      state_ = std::move(other.state_);
      id_ = other.id_;
      timeout_ms_ = other.timeout_ms_;
    }
    return *this;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  /// Closes the session (without waiting), so its ephemerals go at once; `release()` first
  /// to leave it open (it then expires unless reattached).
  ~Session() { end(); }

  std::int64_t id() const noexcept { return id_; }
  tree::SessionPassword password() const { return tree::session_password(id_); }
  std::int32_t timeout_ms() const noexcept { return timeout_ms_; }
  /// The newest zxid a reply carried: pass it when reattaching elsewhere.
  Zxid last_zxid_seen() const noexcept { return Zxid{state_ ? state_->seen.load() : -1}; }
  bool valid() const noexcept { return port_ != nullptr; }

  /// Stops heartbeating from this handle without closing; the session lives until it expires
  /// or is reattached elsewhere with its id and password.
  void release() {
    if (port_) port_->detach_session(id_);
    port_.reset();
  }

  // ---- writes -----------------------------------------------------------------------------

  template <class Token>
  auto async_create(std::string path, std::string data, CreateOptions options, Token&& token) {
    tree::OpCode op = tree::OpCode::create2;
    if (options.mode == tree::CreateMode::container) op = tree::OpCode::create_container;
    if (tree::is_ttl(options.mode)) op = tree::OpCode::create_ttl;
    tree::CreateRequest r{std::move(path), std::move(data),     std::move(options.acl),
                          options.mode,    options.ttl.count(), op};
    return start<CreateResult>(
        std::forward<Token>(token),
        [&](ReplyHandler done) { port().write(id_, std::move(r), std::move(done)); },
        [](Reply& reply) {
          return CreateResult{std::move(reply.path), reply.stat};
        });
  }
  CreateResult create(std::string path, std::string data = {}, CreateOptions options = {}) {
    return wait([&](auto token) {
      return async_create(std::move(path), std::move(data), std::move(options), token);
    });
  }

  template <class Token>
  auto async_remove(std::string path, std::int32_t version, Token&& token) {
    return start<void>(std::forward<Token>(token), [&](ReplyHandler done) {
      port().write(id_, tree::DeleteRequest{std::move(path), version}, std::move(done));
    });
  }
  void remove(std::string path, std::int32_t version = tree::any_version) {
    wait([&](auto token) { return async_remove(std::move(path), version, token); });
  }

  template <class Token>
  auto async_set_data(std::string path, std::string data, std::int32_t version, Token&& token) {
    tree::SetDataRequest r{std::move(path), std::move(data), version};
    return start<tree::Stat>(
        std::forward<Token>(token),
        [&](ReplyHandler done) { port().write(id_, std::move(r), std::move(done)); },
        [](Reply& reply) { return reply.stat; });
  }
  tree::Stat set_data(std::string path, std::string data,
                      std::int32_t version = tree::any_version) {
    return wait([&](auto token) {
      return async_set_data(std::move(path), std::move(data), version, token);
    });
  }

  template <class Token>
  auto async_set_acl(std::string path, tree::AclList acl, std::int32_t version, Token&& token) {
    tree::SetAclRequest r{std::move(path), std::move(acl), version};
    return start<tree::Stat>(
        std::forward<Token>(token),
        [&](ReplyHandler done) { port().write(id_, std::move(r), std::move(done)); },
        [](Reply& reply) { return reply.stat; });
  }
  tree::Stat set_acl(std::string path, tree::AclList acl,
                     std::int32_t version = tree::any_version) {
    return wait(
        [&](auto token) { return async_set_acl(std::move(path), std::move(acl), version, token); });
  }

  /// All or nothing. On failure the error is the first failing op's and the results say
  /// which op failed (0 before it, its code, -2 after), as ZooKeeper reports them.
  template <class Token>
  auto async_multi(std::vector<tree::MultiOp> ops, Token&& token) {
    return start<std::vector<tree::OpResult>>(
        std::forward<Token>(token),
        [&](ReplyHandler done) {
          port().write(id_, tree::MultiRequest{std::move(ops)},
                       [done = std::move(done)](Reply reply) mutable {
                         for (const tree::OpResult& r : reply.results)
                           if (r.err != errc::ok && r.err != errc::runtime_inconsistency) {
                             if (!reply.error) reply.error = make_error_code(r.err);
                             break;
                           }
                         done(std::move(reply));
                       });
        },
        [](Reply& reply) { return std::move(reply.results); }, true);
  }
  std::vector<tree::OpResult> multi(std::vector<tree::MultiOp> ops) {
    return wait([&](auto token) { return async_multi(std::move(ops), token); });
  }

  // ---- reads (served by the member this session is attached to) ----------------------------

  /// multiRead: getData and getChildren requests (`ReadRequest{OpCode::get_data, path}`),
  /// answered from one point of this member's tree; each succeeds or fails on its own.
  template <class Token>
  auto async_multi_read(std::vector<ReadRequest> reads, Token&& token) {
    return start<std::vector<Reply>>(
        std::forward<Token>(token),
        [&](ReplyHandler done) { port().multi_read(id_, std::move(reads), std::move(done)); },
        [](Reply& reply) { return std::move(reply.reads); });
  }
  std::vector<Reply> multi_read(std::vector<ReadRequest> reads) {
    return wait([&](auto token) { return async_multi_read(std::move(reads), token); });
  }

  /// The Stat, or nullopt when the node does not exist (then a watch waits for its creation).
  template <class Token>
  auto async_exists(std::string path, Watch watch, Token&& token) {
    return start<std::optional<tree::Stat>>(
        std::forward<Token>(token),
        [&](ReplyHandler done) {
          port().read(id_, ReadRequest{tree::OpCode::exists, std::move(path), watch == Watch::yes},
                      [done = std::move(done)](Reply reply) mutable {
                        if (reply.error == make_error_code(errc::no_node)) {
                          reply.error = {};
                          reply.number = -1;  // marks "missing"
                        }
                        done(std::move(reply));
                      });
        },
        [](Reply& reply) {
          return reply.number == -1 ? std::nullopt : std::optional<tree::Stat>(reply.stat);
        });
  }
  std::optional<tree::Stat> exists(std::string path, Watch watch = Watch::no) {
    return wait([&](auto token) { return async_exists(std::move(path), watch, token); });
  }

  template <class Token>
  auto async_get_data(std::string path, Watch watch, Token&& token) {
    return start<DataResult>(
        std::forward<Token>(token),
        [&](ReplyHandler done) {
          port().read(id_,
                      ReadRequest{tree::OpCode::get_data, std::move(path), watch == Watch::yes},
                      std::move(done));
        },
        [](Reply& reply) {
          return DataResult{std::move(reply.data), reply.stat};
        });
  }
  DataResult get_data(std::string path, Watch watch = Watch::no) {
    return wait([&](auto token) { return async_get_data(std::move(path), watch, token); });
  }

  /// Children's names, sorted, and the parent's Stat (getChildren2).
  template <class Token>
  auto async_get_children(std::string path, Watch watch, Token&& token) {
    return start<ChildrenResult>(
        std::forward<Token>(token),
        [&](ReplyHandler done) {
          port().read(
              id_, ReadRequest{tree::OpCode::get_children2, std::move(path), watch == Watch::yes},
              std::move(done));
        },
        [](Reply& reply) {
          return ChildrenResult{std::move(reply.children), reply.stat};
        });
  }
  ChildrenResult get_children(std::string path, Watch watch = Watch::no) {
    return wait([&](auto token) { return async_get_children(std::move(path), watch, token); });
  }

  template <class Token>
  auto async_get_acl(std::string path, Token&& token) {
    return start<AclResult>(
        std::forward<Token>(token),
        [&](ReplyHandler done) {
          port().read(id_, ReadRequest{tree::OpCode::get_acl, std::move(path), false},
                      std::move(done));
        },
        [](Reply& reply) {
          return AclResult{std::move(reply.acl), reply.stat};
        });
  }
  AclResult get_acl(std::string path) {
    return wait([&](auto token) { return async_get_acl(std::move(path), token); });
  }

  template <class Token>
  auto async_get_all_children_number(std::string path, Token&& token) {
    return start<std::int32_t>(
        std::forward<Token>(token),
        [&](ReplyHandler done) {
          port().read(id_,
                      ReadRequest{tree::OpCode::get_all_children_number, std::move(path), false},
                      std::move(done));
        },
        [](Reply& reply) { return reply.number; });
  }
  std::int32_t get_all_children_number(std::string path) {
    return wait([&](auto token) { return async_get_all_children_number(std::move(path), token); });
  }

  /// This session's ephemeral nodes whose paths start with `prefix`.
  template <class Token>
  auto async_get_ephemerals(std::string prefix, Token&& token) {
    return start<std::vector<std::string>>(
        std::forward<Token>(token),
        [&](ReplyHandler done) {
          port().read(id_, ReadRequest{tree::OpCode::get_ephemerals, std::move(prefix), false},
                      std::move(done));
        },
        [](Reply& reply) { return std::move(reply.children); });
  }
  std::vector<std::string> get_ephemerals(std::string prefix = "/") {
    return wait([&](auto token) { return async_get_ephemerals(std::move(prefix), token); });
  }

  /// Replies once this member has applied everything the leader had proposed before.
  template <class Token>
  auto async_sync(std::string path, Token&& token) {
    return start<std::string>(
        std::forward<Token>(token),
        [&](ReplyHandler done) { port().sync(id_, std::move(path), std::move(done)); },
        [](Reply& reply) { return std::move(reply.path); });
  }
  std::string sync(std::string path = "/") {
    return wait([&](auto token) { return async_sync(std::move(path), token); });
  }

  // ---- watches and auth ---------------------------------------------------------------------

  template <class Token>
  auto async_add_watch(std::string path, AddWatchMode mode, Token&& token) {
    return start<void>(std::forward<Token>(token), [&](ReplyHandler done) {
      port().watch(
          id_,
          WatchRequest{tree::OpCode::add_watch, std::move(path), static_cast<std::int32_t>(mode)},
          std::move(done));
    });
  }
  void add_watch(std::string path, AddWatchMode mode) {
    wait([&](auto token) { return async_add_watch(std::move(path), mode, token); });
  }

  /// Fails with NOWATCHER when this session has no such watch.
  template <class Token>
  auto async_remove_watches(std::string path, tree::WatcherType type, Token&& token) {
    return start<void>(std::forward<Token>(token), [&](ReplyHandler done) {
      port().watch(id_,
                   WatchRequest{tree::OpCode::remove_watches, std::move(path),
                                static_cast<std::int32_t>(type)},
                   std::move(done));
    });
  }
  void remove_watches(std::string path, tree::WatcherType type = tree::WatcherType::any) {
    wait([&](auto token) { return async_remove_watches(std::move(path), type, token); });
  }

  template <class Token>
  auto async_check_watches(std::string path, tree::WatcherType type, Token&& token) {
    return start<void>(std::forward<Token>(token), [&](ReplyHandler done) {
      port().watch(id_,
                   WatchRequest{tree::OpCode::check_watches, std::move(path),
                                static_cast<std::int32_t>(type)},
                   std::move(done));
    });
  }
  void check_watches(std::string path, tree::WatcherType type = tree::WatcherType::any) {
    wait([&](auto token) { return async_check_watches(std::move(path), type, token); });
  }

  /// addAuth: "digest" with "user:password".
  template <class Token>
  auto async_add_auth(std::string scheme, std::string auth, Token&& token) {
    return start<void>(std::forward<Token>(token), [&](ReplyHandler done) {
      port().add_auth(id_, std::move(scheme), std::move(auth), std::move(done));
    });
  }
  void add_auth(std::string scheme, std::string auth) {
    wait([&](auto token) { return async_add_auth(std::move(scheme), std::move(auth), token); });
  }

  /// Closes the session: its ephemerals are deleted and its watches go.
  template <class Token>
  auto async_close(Token&& token) {
    return start<void>(std::forward<Token>(token), [&](ReplyHandler done) {
      std::exchange(port_, nullptr)->close_session(id_, std::move(done));
    });
  }
  void close() {
    wait([&](auto token) { return async_close(token); });
  }

 private:
  std::shared_ptr<ClientPort> port_;
  std::shared_ptr<State> state_;
  std::int64_t id_ = 0;
  std::int32_t timeout_ms_ = 0;
};

}  // namespace quorum
