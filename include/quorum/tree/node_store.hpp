// Where znodes live: one arena of fixed-size records addressed by 32-bit ids, children as an
// intrusive doubly linked list, each node's name and data in one ByteArena block, and an
// open-addressing index keyed by (parent id, name). No full path is stored.
//
// What only a parent needs (first child, child count, the stored cversion, pzxid) sits in a
// separate Family record that a node gets with its first child: most znodes are leaves, whose
// values are implied (no children, cversion 0, pzxid = czxid). An 80-byte record, the name
// and data rounded up to 8 bytes, and ~8 bytes of index per leaf.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/config.hpp"
#include "quorum/tree/byte_arena.hpp"

namespace quorum::tree {

using NodeId = std::uint32_t;
inline constexpr NodeId no_node = UINT32_MAX;

/// One znode's stored fields (ZooKeeper's StatPersisted less the parent-only ones, plus links).
struct NodeRecord {
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
  std::int64_t ctime = 0;
  std::int64_t mtime = 0;
  std::int64_t ephemeral_owner = 0;
  std::int32_t version = 0;
  std::int32_t aversion = 0;
  NodeId parent = no_node;
  NodeId next_sibling = no_node;
  NodeId prev_sibling = no_node;
  std::uint32_t acl = 0;  ///< index into the ACL cache
  std::uint32_t name_length = 0;
  std::uint32_t data_length = 0;
  BlockRef block = no_block;          ///< name then data; no_block when both are empty
  std::uint32_t family = UINT32_MAX;  ///< index of its Family, once it had a child
};
static_assert(sizeof(NodeRecord) == 80);

/// A parent's fields.
struct Family {
  std::int64_t pzxid = 0;
  std::int32_t cversion = 0;  ///< stored: child creates ever (the sequential counter)
  std::int32_t num_children = 0;
  NodeId first_child = no_node;
};

class NodeStore {
 public:
  NodeStore() { clear(); }

  /// Back to a lone root (id 0, name "").
  void clear() {
    nodes_.clear();
    free_.clear();
    families_.clear();
    free_families_.clear();
    bytes_.clear();
    slots_.assign(16, empty_slot);
    used_slots_ = 0;
    nodes_.emplace_back();
    live_ = 1;
  }

  static constexpr NodeId root() noexcept { return 0; }
  std::size_t size() const noexcept { return live_; }
  /// Every id in use is below this (ids are dense indices, reused after removal).
  std::size_t id_bound() const noexcept { return nodes_.size(); }

  NodeRecord& operator[](NodeId id) noexcept { return nodes_[id]; }
  const NodeRecord& operator[](NodeId id) const noexcept { return nodes_[id]; }

  std::string_view name(NodeId id) const noexcept {
    const NodeRecord& n = nodes_[id];
    return n.name_length == 0 ? std::string_view{}
                              : std::string_view(bytes_.at(n.block), n.name_length);
  }
  std::string_view data(NodeId id) const noexcept {
    const NodeRecord& n = nodes_[id];
    return n.data_length == 0 ? std::string_view{}
                              : std::string_view(bytes_.at(n.block) + n.name_length, n.data_length);
  }
  void set_data(NodeId id, std::string_view data) {
    NodeRecord& n = nodes_[id];
    const std::size_t old_size = n.name_length + n.data_length;
    const std::size_t new_size = n.name_length + data.size();
    if (ByteArena::fits_in_place(old_size, new_size)) {
      std::memmove(bytes_.at(n.block) + n.name_length, data.data(), data.size());
    } else {
      const BlockRef block = make_block(name(id), data);
      bytes_.release(n.block, old_size);
      n.block = block;
    }
    n.data_length = static_cast<std::uint32_t>(data.size());
  }

  // ---- what only parents store; a leaf's values are implied --------------------------------

  std::int64_t pzxid(NodeId id) const noexcept {
    const NodeRecord& n = nodes_[id];
    return n.family == no_family ? n.czxid : families_[n.family].pzxid;
  }
  std::int32_t stored_cversion(NodeId id) const noexcept {
    const NodeRecord& n = nodes_[id];
    return n.family == no_family ? 0 : families_[n.family].cversion;
  }
  std::int32_t num_children(NodeId id) const noexcept {
    const NodeRecord& n = nodes_[id];
    return n.family == no_family ? 0 : families_[n.family].num_children;
  }
  /// The node's Family, made (with its implied values) if it has none yet.
  Family& family(NodeId id) {
    NodeRecord& n = nodes_[id];
    if (n.family == no_family) {
      Family f;
      f.pzxid = n.czxid;
      if (!free_families_.empty()) {
        n.family = free_families_.back();
        free_families_.pop_back();
        families_[n.family] = f;
      } else {
        QUORUM_ASSERT(families_.size() < no_family, "too many parents");
        n.family = static_cast<std::uint32_t>(families_.size());
        families_.push_back(f);
      }
    }
    return families_[n.family];
  }

  // ---- lookup ------------------------------------------------------------------------------

  /// The child of `parent` called `name`, or no_node.
  NodeId find(NodeId parent, std::string_view name) const noexcept {
    std::size_t i = hash(parent, name) & (slots_.size() - 1);
    for (;; i = (i + 1) & (slots_.size() - 1)) {
      const NodeId id = slots_[i];
      if (id == empty_slot) return no_node;
      if (id != tombstone && nodes_[id].parent == parent && this->name(id) == name) return id;
    }
  }

  /// The node at a valid absolute path, or no_node.
  /// The node at `path`, or no_node. Only a canonical path names a node ("/a/b"; "" is the
  /// root, as in ZooKeeper's node table): "/a//b", "/a/" or "a" name none.
  NodeId lookup(std::string_view path) const noexcept {
    if (path.empty()) return root();
    if (path[0] != '/') return no_node;
    NodeId at = root();
    std::size_t i = 1;
    while (i < path.size() && at != no_node) {
      std::size_t slash = path.find('/', i);
      if (slash == std::string_view::npos) slash = path.size();
      if (slash == i) return no_node;  // an empty name
      at = find(at, path.substr(i, slash - i));
      i = slash + 1;
      if (i == path.size()) return no_node;  // a trailing '/'
    }
    return at;
  }

  // ---- shape -------------------------------------------------------------------------------

  /// Adds a leaf under `parent` and counts it among the parent's children; no_node (and
  /// nothing changes) when `parent` already has a child called `name`. One probe of the index.
  NodeId add(NodeId parent, std::string_view name, std::string_view data) {
    if ((used_slots_ + 1) * 10 > slots_.size() * 7) rehash();
    const std::size_t slot = slot_for_new(parent, name);
    if (slot == taken) return no_node;
    NodeId id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      nodes_[id] = NodeRecord{};
    } else {
      QUORUM_ASSERT(nodes_.size() < no_node - 2, "the node arena is full");
      id = static_cast<NodeId>(nodes_.size());
      nodes_.emplace_back();
    }
    const BlockRef block = make_block(name, data);
    NodeRecord& n = nodes_[id];
    n.block = block;
    n.name_length = static_cast<std::uint32_t>(name.size());
    n.data_length = static_cast<std::uint32_t>(data.size());
    n.parent = parent;
    Family& p = family(parent);
    n.next_sibling = p.first_child;
    if (p.first_child != no_node) nodes_[p.first_child].prev_sibling = id;
    p.first_child = id;
    ++p.num_children;
    ++live_;
    if (slots_[slot] == empty_slot) ++used_slots_;
    slots_[slot] = id;
    return id;
  }

  /// Room for `n` nodes without growing the arena or the index.
  void reserve(std::size_t n) {
    nodes_.reserve(n);
    std::size_t capacity = slots_.size();
    while ((n + 1) * 10 > capacity * 5) capacity *= 2;
    if (capacity > slots_.size()) rehash_to(capacity);
  }

  /// Removes a leaf (uncounting it from its parent's children).
  void remove(NodeId id) {
    NodeRecord& n = nodes_[id];
    QUORUM_ASSERT(num_children(id) == 0 && id != root(), "only leaves can be removed");
    unindex(id);
    Family& p = families_[nodes_[n.parent].family];
    if (n.prev_sibling != no_node)
      nodes_[n.prev_sibling].next_sibling = n.next_sibling;
    else
      p.first_child = n.next_sibling;
    if (n.next_sibling != no_node) nodes_[n.next_sibling].prev_sibling = n.prev_sibling;
    --p.num_children;
    bytes_.release(n.block, n.name_length + n.data_length);
    if (n.family != no_family) free_families_.push_back(n.family);
    n = NodeRecord{};
    free_.push_back(id);
    --live_;
  }

  /// The absolute path of a node, rebuilt from its ancestors.
  std::string path(NodeId id) const {
    if (id == root()) return "/";
    std::vector<std::string_view> parts;
    for (NodeId at = id; at != root(); at = nodes_[at].parent) parts.push_back(name(at));
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      out.push_back('/');
      out.append(*it);
    }
    return out;
  }

  template <class F>
  void for_each_child(NodeId parent, F&& f) const {
    const NodeRecord& n = nodes_[parent];
    if (n.family == no_family) return;
    for (NodeId c = families_[n.family].first_child; c != no_node; c = nodes_[c].next_sibling) f(c);
  }

 private:
  static constexpr NodeId empty_slot = UINT32_MAX;
  static constexpr NodeId tombstone = UINT32_MAX - 1;

  static constexpr std::uint32_t no_family = UINT32_MAX;

  BlockRef make_block(std::string_view name, std::string_view data) {
    if (name.empty() && data.empty()) return no_block;
    const BlockRef block = bytes_.allocate(name.size() + data.size());
    char* at = bytes_.at(block);
    if (!name.empty()) std::memcpy(at, name.data(), name.size());
    if (!data.empty()) std::memcpy(at + name.size(), data.data(), data.size());
    return block;
  }

  static std::size_t hash(NodeId parent, std::string_view name) noexcept {
    std::uint64_t h = 1469598103934665603ull ^ parent;  // FNV-1a over the parent and the name
    h *= 1099511628211ull;
    for (char c : name) {
      h ^= static_cast<std::uint8_t>(c);
      h *= 1099511628211ull;
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }

  static constexpr std::size_t taken = SIZE_MAX;

  // Where a new child `name` of `parent` goes in the index (the first tombstone or empty slot
  // on its probe sequence), or `taken` when the child exists.
  std::size_t slot_for_new(NodeId parent, std::string_view name) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t insert = taken;
    for (std::size_t i = hash(parent, name) & mask;; i = (i + 1) & mask) {
      const NodeId id = slots_[i];
      if (id == empty_slot) return insert != taken ? insert : i;
      if (id == tombstone) {
        if (insert == taken) insert = i;
      } else if (nodes_[id].parent == parent && this->name(id) == name) {
        return taken;
      }
    }
  }

  void unindex(NodeId id) {
    std::size_t i = hash(nodes_[id].parent, name(id)) & (slots_.size() - 1);
    while (slots_[i] != id) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = tombstone;
  }

  void rehash() {
    std::size_t live_slots = 0;
    for (NodeId id : slots_) live_slots += (id != empty_slot && id != tombstone);
    std::size_t capacity = slots_.size();
    while ((live_slots + 1) * 10 > capacity * 5) capacity *= 2;  // leave room to grow
    rehash_to(capacity);
  }

  void rehash_to(std::size_t capacity) {
    std::vector<NodeId> old = std::move(slots_);
    slots_.assign(capacity, empty_slot);
    used_slots_ = 0;
    for (NodeId id : old)
      if (id != empty_slot && id != tombstone) {
        std::size_t i = hash(nodes_[id].parent, name(id)) & (slots_.size() - 1);
        while (slots_[i] != empty_slot) i = (i + 1) & (slots_.size() - 1);
        slots_[i] = id;
        ++used_slots_;
      }
  }

  std::vector<NodeRecord> nodes_;
  std::vector<NodeId> free_;
  std::vector<Family> families_;
  std::vector<std::uint32_t> free_families_;
  ByteArena bytes_;
  std::vector<NodeId> slots_;
  std::size_t used_slots_ = 0;  // live entries plus tombstones
  std::size_t live_ = 0;
};

}  // namespace quorum::tree
