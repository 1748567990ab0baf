// Calls into a simulated ensemble's members as a client would, recording replies and events in
// the order the member delivered them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "quorum/sim/node_cluster.hpp"

namespace quorum::test {

/// One session's view: replies and watch events in delivery order.
struct SimClient {
  struct Entry {
    bool is_event = false;
    Reply reply;
    tree::WatchedEvent event;
  };

  sim::NodeCluster& cluster;
  ServerId at = 0;
  std::int64_t session = 0;
  std::shared_ptr<std::vector<Entry>> log = std::make_shared<std::vector<Entry>>();

  WatchHandler watcher() {
    auto l = log;
    return [l](const tree::WatchedEvent& e) { l->push_back({true, {}, e}); };
  }
  ReplyHandler recorder(std::shared_ptr<std::optional<Reply>> slot) {
    auto l = log;
    return [l, slot](Reply r) {
      l->push_back({false, r, {}});
      *slot = std::move(r);
    };
  }

  /// Runs a call and waits (in virtual time) for its reply; nullopt if none came.
  template <class Call>
  std::optional<Reply> call(Call&& c, Duration limit = std::chrono::seconds(10)) {
    auto slot = std::make_shared<std::optional<Reply>>();
    cluster.at(at, [&](auto& member, Instant now) { c(member, recorder(slot), now); });
    cluster.run_until([&] { return slot->has_value(); }, limit);
    return *slot;
  }

  bool open(std::int32_t timeout_ms = 1000) {
    auto r = call([&](auto& m, ReplyHandler done, Instant now) {
      m.open_session(timeout_ms, watcher(), std::move(done), now);
    });
    if (!r || r->error) return false;
    session = r->session;
    return true;
  }
  std::optional<Reply> create(std::string path, std::string data = {},
                              tree::CreateMode mode = tree::CreateMode::persistent) {
    return call([&](auto& m, ReplyHandler done, Instant now) {
      m.write(
          session,
          tree::CreateRequest{path, data, tree::open_acl_unsafe(), mode, 0, tree::OpCode::create2},
          std::move(done), now);
    });
  }
  std::optional<Reply> set(std::string path, std::string data, std::int32_t version = -1) {
    return call([&](auto& m, ReplyHandler done, Instant now) {
      m.write(session, tree::SetDataRequest{path, data, version}, std::move(done), now);
    });
  }
  std::optional<Reply> remove(std::string path, std::int32_t version = -1) {
    return call([&](auto& m, ReplyHandler done, Instant now) {
      m.write(session, tree::DeleteRequest{path, version}, std::move(done), now);
    });
  }
  std::optional<Reply> read(tree::OpCode op, std::string path, bool watch = false) {
    return call([&](auto& m, ReplyHandler done, Instant now) {
      m.read(session, ReadRequest{op, path, watch}, std::move(done), now);
    });
  }
  std::optional<Reply> sync(std::string path) {
    return call([&](auto& m, ReplyHandler done, Instant now) {
      m.sync(session, path, std::move(done), now);
    });
  }
  std::vector<tree::WatchedEvent> events() const {
    std::vector<tree::WatchedEvent> out;
    for (const Entry& e : *log)
      if (e.is_event) out.push_back(e.event);
    return out;
  }
};

}  // namespace quorum::test
