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
  const NodeId parents[] = {NodeStore::root()};
  (void)parents;
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
    } else {
      // Remove a random leaf.
      auto it = std::next(model.begin(), static_cast<long>(prng.below(model.size())));
      if (store[it->second].first_child != no_node) continue;
      store.remove(it->second);
      model.erase(it);
    }
  }
  CHECK(store.size() == model.size() + 1);
  for (const auto& [path, id] : model) {
    CHECK(store.lookup(path) == id);
    CHECK(store.path(id) == path);
    CHECK(store.data(id) == "data:" + path);
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
