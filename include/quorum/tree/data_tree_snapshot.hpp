// DataTree's image: every node in depth-first order (siblings last-first, so a restore rebuilds
// the same child order), the ACLs they use, and the live sessions. Restoring validates all of
// it into a fresh tree and swaps only on success, so a damaged image changes nothing.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "quorum/tree/data_tree.hpp"

namespace quorum::tree {

namespace detail {
inline constexpr std::uint32_t snapshot_magic = 0x51545245;  // "QTRE"
inline constexpr std::uint32_t snapshot_version = 1;
}  // namespace detail

template <class Flush>
void DataTree::encode_snapshot(std::string& out, Flush&& flush, std::size_t chunk) const {
  // Node ids and ACL slots are dense, so plain vectors index them (a snapshot of a large tree
  // is mostly this loop: no hashing per node).
  constexpr std::uint32_t unset = UINT32_MAX;
  std::vector<std::uint32_t> acl_index(acls_.slot_bound(), unset);
  std::vector<std::uint32_t> acl_order;
  std::vector<NodeId> order;
  order.reserve(nodes_.size());
  constexpr std::size_t fixed_per_node = 4 + 4 + 4 + 8 * 6 + 4 * 3 + 4;
  std::size_t bytes = 64 + sessions_.size() * 12;  // the whole image, to size `out` once
  std::vector<NodeId> stack{NodeStore::root()};
  while (!stack.empty()) {
    const NodeId at = stack.back();
    stack.pop_back();
    order.push_back(at);
    bytes += fixed_per_node + nodes_.name(at).size() + nodes_.data(at).size();
    nodes_.for_each_child(at, [&](NodeId c) { stack.push_back(c); });
    std::uint32_t& slot = acl_index[nodes_[at].acl];
    if (slot == unset) {
      slot = static_cast<std::uint32_t>(acl_order.size());
      acl_order.push_back(nodes_[at].acl);
    }
  }
  const std::size_t want = std::min(bytes, chunk) + 64 * 1024;
  if (out.capacity() < want) out.reserve(want);
  encoding::Encoder e(out);
  e.put(detail::snapshot_magic);
  e.put(detail::snapshot_version);
  e.put(static_cast<std::uint32_t>(acl_order.size()));
  for (std::uint32_t slot : acl_order) e.put(acls_[slot]);
  e.put(static_cast<std::uint32_t>(order.size()));
  std::vector<std::uint32_t> position(nodes_.id_bound(), unset);
  for (std::uint32_t i = 0; i < order.size(); ++i) {
    const NodeId id = order[i];
    position[id] = i;
    const NodeRecord& n = nodes_[id];
    e.put(i == 0 ? unset : position[n.parent]);
    e.put(nodes_.name(id));
    e.put(nodes_.data(id));
    e.put(n.czxid), e.put(n.mzxid), e.put(nodes_.pzxid(id)), e.put(n.ctime), e.put(n.mtime);
    e.put(n.ephemeral_owner), e.put(n.version), e.put(nodes_.stored_cversion(id));
    e.put(n.aversion);
    e.put(acl_index[n.acl]);
    if (out.size() >= chunk) flush(out);
  }
  e.put(static_cast<std::uint32_t>(sessions_.size()));
  for (const auto& [id, s] : sessions_) e.put(id), e.put(s.timeout_ms);
  flush(out);
}

inline Snapshot DataTree::snapshot() const {
  std::string out;
  encode_snapshot(
      out, [](std::string&) {}, SIZE_MAX);
  return Snapshot{last_applied_, std::move(out)};
}

template <class Sink>
void DataTree::write_snapshot(Sink&& sink, std::size_t chunk) const {
  std::string buffer;
  encode_snapshot(
      buffer,
      [&](std::string& out) {
        if (out.empty()) return;
        sink(std::string_view(out));
        out.clear();
      },
      chunk);
}

inline std::error_code DataTree::restore(const Snapshot& snapshot) {
  const auto damaged = [] { return make_error_code(errc::marshalling_error); };
  DataTree fresh;
  if (snapshot.state.empty()) {
    fresh.last_applied_ = snapshot.last_zxid;
    fresh.config_text_ = std::move(config_text_);
    *this = std::move(fresh);
    write_config_node();
    return {};
  }
  encoding::Decoder d(snapshot.state);
  std::uint32_t magic = 0, version = 0;
  d.get(magic), d.get(version);
  if (!d.ok() || magic != detail::snapshot_magic || version != detail::snapshot_version)
    return damaged();
  std::vector<AclList> acl_lists(d.count(4));
  for (AclList& acl : acl_lists) d.get(acl);
  // Each node record takes at least 4 + 4 + 4 + 8*6 + 4*3 + 4 bytes.
  const std::uint32_t count = d.count(76);
  if (!d.ok() || count == 0) return damaged();
  fresh.nodes_.clear();
  fresh.nodes_.reserve(count);
  fresh.acls_.clear();
  std::vector<NodeId> ids(count);
  std::string name, data;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t parent = 0, acl = 0;
    d.get(parent), d.get(name), d.get(data);
    NodeRecord fields;
    std::int64_t pzxid = 0;
    std::int32_t cversion = 0;
    d.get(fields.czxid), d.get(fields.mzxid), d.get(pzxid), d.get(fields.ctime);
    d.get(fields.mtime), d.get(fields.ephemeral_owner), d.get(fields.version);
    d.get(cversion), d.get(fields.aversion), d.get(acl);
    if (!d.ok() || acl >= acl_lists.size()) return damaged();
    NodeId id = NodeStore::root();
    if (i == 0) {
      if (parent != UINT32_MAX || !name.empty()) return damaged();
      fresh.nodes_.set_data(id, data);
    } else {
      // A parent comes before its children; a name is one valid path segment, unique there.
      if (parent >= i || name.empty() || name.find('/') != std::string::npos ||
          !validate_path("/" + name).empty())
        return damaged();
      id = fresh.nodes_.add(ids[parent], name, data);
      if (id == no_node) return damaged();
    }
    ids[i] = id;
    NodeRecord& n = fresh.nodes_[id];
    n.czxid = fields.czxid, n.mzxid = fields.mzxid;
    n.ctime = fields.ctime, n.mtime = fields.mtime, n.ephemeral_owner = fields.ephemeral_owner;
    n.version = fields.version, n.aversion = fields.aversion;
    n.acl = fresh.acls_.intern(acl_lists[acl]);
    // Only a node that ever had children differs from a leaf's implied values.
    if (pzxid != fields.czxid || cversion != 0) {
      Family& f = fresh.nodes_.family(id);
      f.pzxid = pzxid;
      f.cversion = cversion;
    }
  }
  const std::uint32_t sessions = d.count(12);
  for (std::uint32_t i = 0; i < sessions; ++i) {
    std::int64_t id = 0;
    std::int32_t timeout = 0;
    d.get(id), d.get(timeout);
    fresh.sessions_[id].timeout_ms = timeout;
  }
  if (!d.done()) return damaged();
  for (std::uint32_t i = 1; i < count; ++i) {
    const std::int64_t owner = fresh.nodes_[ids[i]].ephemeral_owner;
    if (owner == 0) continue;
    std::string path = fresh.nodes_.path(ids[i]);
    if (owner == container_owner) {
      fresh.containers_.insert(std::move(path));
    } else if (is_ttl_owner(owner)) {
      fresh.ttls_.insert(std::move(path));
    } else {
      auto s = fresh.sessions_.find(owner);
      if (s == fresh.sessions_.end()) return damaged();  // an ephemeral without its session
      s->second.ephemerals.insert(std::move(path));
    }
  }
  fresh.last_applied_ = snapshot.last_zxid;
  fresh.config_text_ = std::move(config_text_);
  *this = std::move(fresh);
  write_config_node();
  return {};
}

}  // namespace quorum::tree
