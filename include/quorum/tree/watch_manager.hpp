// A member's watches (ZooKeeper's WatchManager pair plus persistent watches): per-session,
// per-path registrations of one-shot data, one-shot child, persistent and persistent-recursive
// kinds, kept side by side (ZOOKEEPER-4466), matched against each change the tree makes.
// Not replicated: each member keeps the watches of the sessions attached to it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quorum/tree/events.hpp"
#include "quorum/tree/path.hpp"

namespace quorum::tree {

/// AddWatchMode (0, 1) and the two one-shot kinds.
enum class WatchKind : std::uint8_t {
  data = 1,                  ///< getData: NodeCreated, NodeDataChanged, NodeDeleted
  child = 2,                 ///< getChildren: NodeChildrenChanged, NodeDeleted
  persistent = 4,            ///< addWatch PERSISTENT: every event on the path
  persistent_recursive = 8,  ///< addWatch PERSISTENT_RECURSIVE: the path and below, no child events
  exist = 16,                ///< exists: as data, but set on a missing node (re-arming tells apart)
};

/// removeWatches / checkWatches' WatcherType.
enum class WatcherType : std::int32_t { children = 1, data = 2, any = 3 };

class WatchManager {
 public:
  void add(std::int64_t session, std::string_view path, WatchKind kind) {
    std::uint8_t& bits = by_path_[std::string(path)][session];
    if (kind == WatchKind::persistent_recursive && !(bits & any_recursive)) ++recursive_;
    bits |= bit(kind);
    // ZooKeeper registers a persistent watch with both its data and its child watch
    // managers; removeWatches of one type leaves the other (the *_child bits).
    if (kind == WatchKind::persistent) bits |= persistent_child;
    if (kind == WatchKind::persistent_recursive) bits |= recursive_child;
    by_session_[session].insert(std::string(path));
  }

  /// Who hears about `change`, one event per session, sessions in id order. One-shot watches
  /// that fire are gone afterwards.
  std::vector<std::pair<std::int64_t, WatchedEvent>> trigger(const TreeChange& change) {
    std::map<std::int64_t, bool> hit;  // sessions to notify
    const EventType type = change.type;
    if (auto it = by_path_.find(change.path); it != by_path_.end()) {
      for (auto& [session, bits] : it->second) {
        std::uint8_t fired = 0;
        switch (type) {
          case EventType::node_created:
          case EventType::node_data_changed:
            fired = bits & (one_shot_data | bit(WatchKind::persistent));
            break;
          case EventType::node_deleted:
            fired = bits & (one_shot_data | bit(WatchKind::child) | bit(WatchKind::persistent) |
                            persistent_child);
            break;
          case EventType::node_children_changed:
            fired = bits & (bit(WatchKind::child) | persistent_child);
            break;
          default:
            break;
        }
        if (fired) hit[session] = true;
        bits = static_cast<std::uint8_t>(bits & ~(fired & (one_shot_data | bit(WatchKind::child))));
      }
      prune(it);
    }
    // Recursive watches on the path or any ancestor; never for child events. A delete reaches
    // the child manager's copy too.
    if (recursive_ > 0 && type != EventType::node_children_changed) {
      const std::uint8_t mask =
          type == EventType::node_deleted ? any_recursive : bit(WatchKind::persistent_recursive);
      std::string_view at = change.path;
      for (;;) {
        if (auto it = by_path_.find(std::string(at)); it != by_path_.end())
          for (auto& [session, bits] : it->second)
            if (bits & mask) hit[session] = true;
        if (at.size() <= 1) break;
        at = parent_path(at);
      }
    }
    std::vector<std::pair<std::int64_t, WatchedEvent>> out;
    out.reserve(hit.size());
    for (const auto& entry : hit)
      out.push_back({entry.first, WatchedEvent{type, KeeperState::sync_connected, change.path}});
    return out;
  }

  /// removeWatches: drops this session's watches of `type` on `path`. False when none matched
  /// (ZooKeeper's NOWATCHER). A persistent kind is a data and a child watch, removed one type
  /// at a time as ZooKeeper's two managers hold it.
  bool remove(std::int64_t session, std::string_view path, WatcherType type) {
    return match(session, path, type, true);
  }
  /// checkWatches: whether such a watch exists.
  bool contains(std::int64_t session, std::string_view path, WatcherType type) {
    return match(session, path, type, false);
  }
  /// The kinds this session watches on `path` (bits of WatchKind).
  std::uint8_t kinds(std::int64_t session, std::string_view path) const {
    auto it = by_path_.find(std::string(path));
    if (it == by_path_.end()) return 0;
    auto s = it->second.find(session);
    return s == it->second.end() ? 0 : static_cast<std::uint8_t>(s->second & public_kinds);
  }

  /// Every watch of a session goes (it closed, expired or moved away).
  void remove_session(std::int64_t session) {
    auto s = by_session_.find(session);
    if (s == by_session_.end()) return;
    for (const std::string& path : s->second) {
      auto it = by_path_.find(path);
      if (it == by_path_.end()) continue;
      auto w = it->second.find(session);
      if (w != it->second.end()) {
        if (w->second & any_recursive) --recursive_;
        it->second.erase(w);
      }
      if (it->second.empty()) by_path_.erase(it);
    }
    by_session_.erase(s);
  }

  /// Registrations (session, path) in all: wchs' count.
  std::size_t size() const {
    std::size_t n = 0;
    for (const auto& [path, sessions] : by_path_) n += sessions.size();
    return n;
  }
  std::size_t paths() const noexcept { return by_path_.size(); }

  /// Every (session, path, kinds) registration, for re-arming after the tree jumped (SNAP).
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [path, sessions] : by_path_)
      for (const auto& [session, bits] : sessions) f(session, path, bits);
  }
  /// Drops the one-shot kinds in `kinds` of one registration (they fired while re-arming).
  void clear_one_shot(std::int64_t session, std::string_view path, std::uint8_t kinds) {
    auto it = by_path_.find(std::string(path));
    if (it == by_path_.end()) return;
    auto w = it->second.find(session);
    if (w == it->second.end()) return;
    w->second =
        static_cast<std::uint8_t>(w->second & ~(kinds & (one_shot_data | bit(WatchKind::child))));
    prune(it);
  }

 private:
  using Table = std::unordered_map<std::string, std::map<std::int64_t, std::uint8_t>>;

  static constexpr std::uint8_t bit(WatchKind k) noexcept { return static_cast<std::uint8_t>(k); }
  static constexpr std::uint8_t one_shot_data = 1 | 16;  // data | exist
  static constexpr std::uint8_t persistent_child = 32;   // persistent, in the child manager
  static constexpr std::uint8_t recursive_child = 64;    // recursive, in the child manager
  static constexpr std::uint8_t any_recursive = 8 | recursive_child;
  static constexpr std::uint8_t public_kinds = 1 | 2 | 4 | 8 | 16;

  bool match(std::int64_t session, std::string_view path, WatcherType type, bool erase) {
    auto it = by_path_.find(std::string(path));
    if (it == by_path_.end()) return false;
    auto w = it->second.find(session);
    if (w == it->second.end()) return false;
    unsigned mask = 0;
    if (type == WatcherType::data || type == WatcherType::any)
      mask |=
          0u + one_shot_data + bit(WatchKind::persistent) + bit(WatchKind::persistent_recursive);
    if (type == WatcherType::children || type == WatcherType::any)
      mask |= 0u + bit(WatchKind::child) + persistent_child + recursive_child;
    const auto found = static_cast<std::uint8_t>(w->second & mask);
    if (!found) return false;
    if (erase) {
      const bool was_recursive = w->second & any_recursive;
      w->second = static_cast<std::uint8_t>(w->second & ~found);
      if (was_recursive && !(w->second & any_recursive)) --recursive_;
      prune(it);
    }
    return true;
  }

  void prune(Table::iterator it) {
    for (auto w = it->second.begin(); w != it->second.end();) {
      if (w->second == 0) {
        if (auto s = by_session_.find(w->first); s != by_session_.end()) {
          s->second.erase(it->first);
          if (s->second.empty()) by_session_.erase(s);
        }
        w = it->second.erase(w);
      } else {
        ++w;
      }
    }
    if (it->second.empty()) by_path_.erase(it);
  }

  Table by_path_;
  std::unordered_map<std::int64_t, std::set<std::string>> by_session_;
  std::size_t recursive_ = 0;
};

}  // namespace quorum::tree
