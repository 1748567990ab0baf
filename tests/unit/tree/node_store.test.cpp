#include "support/catch.hpp"

#include <map>
#include <string>

#include "quorum/random.hpp"
#include "quorum/tree/node_store.hpp"

using namespace quorum;
using namespace quorum::tree;

TEST_CASE("the node store agrees with a map under random adds and removes") {
  NodeStore store;
  std::map<std::string, NodeId> model;  // path -> id, the root excluded
  Prng prng(11);
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || prng.below(3) != 0) {
      // Add a leaf under the root or under a random existing node.
      NodeId parent = NodeStore::root();
      std::string parent_path = "";
      if (!model.empty() && prng.below(2) == 0) {
        auto it = std::next(model.begin(), static_cast<long>(prng.below(model.size())));
        parent = it->second;
        parent_path = it->first;
      }
      const std::string name = "n" + std::to_string(prng.below(50));
      const std::string path = parent_path + "/" + name;
      if (model.count(path)) {
        CHECK(store.find(parent, name) == model[path]);
        continue;
      }
      const NodeId id = store.add(parent, name, "data:" + path);
      model[path] = id;
    } else if (prng.below(3) == 0) {
      // Replace a random node's data with a size that may or may not fit its block.
      auto it = std::next(model.begin(), static_cast<long>(prng.below(model.size())));
      const std::size_t size = prng.below(4) == 0 ? prng.below(2000) : prng.below(40);
      const std::string data = "data:" + it->first + std::string(size, 'x');
      store.set_data(it->second, data);
    } else {
      // Remove a random leaf.
      auto it = std::next(model.begin(), static_cast<long>(prng.below(model.size())));
      if (store.num_children(it->second) != 0) continue;
      store.remove(it->second);
      model.erase(it);
    }
  }
  CHECK(store.size() == model.size() + 1);
  for (const auto& entry : model) {
    const std::string& path = entry.first;  // a lambda below uses it (Clang 14: no bindings)
    const NodeId id = entry.second;
    CHECK(store.lookup(path) == id);
    CHECK(store.path(id) == path);
    CHECK(store.data(id).substr(0, path.size() + 5) == "data:" + path);
    CHECK(store.data(id).find_first_not_of('x', path.size() + 5) == std::string_view::npos);
    // The parent's count and list agree with the model's children.
    std::size_t children = 0;
    store.for_each_child(id, [&](NodeId c) {
      ++children;
      CHECK(model.at(path + "/" + std::string(store.name(c))) == c);
    });
    CHECK(store.num_children(id) == static_cast<std::int32_t>(children));
  }
  CHECK(store.lookup("/not/there") == no_node);
  CHECK(store.lookup("/") == NodeStore::root());
}

TEST_CASE("a node's data can be replaced and its name stays") {
  NodeStore store;
  const NodeId id = store.add(NodeStore::root(), "name", "");
  CHECK(store.data(id).empty());
  store.set_data(id, "payload");
  CHECK(store.name(id) == "name");
  CHECK(store.data(id) == "payload");
  store.set_data(id, "");
  CHECK(store.data(id).empty());
  CHECK(store.name(id) == "name");
}

TEST_CASE("a leaf has the implied parent fields until its first child") {
  NodeStore store;
  const NodeId a = store.add(NodeStore::root(), "a", "");
  store[a].czxid = 7;
  CHECK(store.pzxid(a) == 7);
  CHECK(store.stored_cversion(a) == 0);
  CHECK(store.num_children(a) == 0);
  const NodeId b = store.add(a, "b", "");
  CHECK(store.num_children(a) == 1);
  CHECK(store.pzxid(a) == 7);  // the Family starts from the implied values
  store.family(a).pzxid = 9;
  store.family(a).cversion = 3;
  store.remove(b);
  CHECK(store.num_children(a) == 0);
  CHECK(store.pzxid(a) == 9);
  CHECK(store.stored_cversion(a) == 3);
  // A removed parent's Family is reused with fresh values.
  store.remove(a);
  const NodeId c = store.add(NodeStore::root(), "c", "");
  store[c].czxid = 11;
  store.add(c, "d", "");
  CHECK(store.pzxid(c) == 11);
  CHECK(store.stored_cversion(c) == 0);
  CHECK(store.num_children(c) == 1);
}

TEST_CASE("adding a child that exists changes nothing and says so") {
  NodeStore store;
  const NodeId a = store.add(NodeStore::root(), "a", "first");
  REQUIRE(a != no_node);
  CHECK(store.add(NodeStore::root(), "a", "second") == no_node);
  CHECK(store.size() == 2);
  CHECK(store.num_children(NodeStore::root()) == 1);
  CHECK(store.data(a) == "first");
  // A removed name can be added again, reusing the tombstoned slot.
  store.remove(a);
  const NodeId again = store.add(NodeStore::root(), "a", "third");
  REQUIRE(again != no_node);
  CHECK(store.lookup("/a") == again);
  store.reserve(100'000);
  CHECK(store.lookup("/a") == again);
}
