// Prints a data tree as an indented listing with the Stat fields ZooKeeper users look at.
#pragma once

#include <fmt/core.h>

#include <string>

#include "quorum/node.hpp"

namespace demo {

/// One line per node under `path` (the /zookeeper subtree left out), read through `session`.
inline std::string tree_view(quorum::Session& session, const std::string& path = "/",
                             int depth = 0) {
  std::string out;
  const auto children = session.get_children(path);
  for (const std::string& child : children.children) {
    const std::string full = (path == "/" ? "" : path) + "/" + child;
    if (full == "/zookeeper") continue;
    const auto node = session.get_data(full);
    const auto& s = node.stat;
    const std::string shown = node.data.size() > 24 ? node.data.substr(0, 21) + "..." : node.data;
    out += fmt::format(
        "    {:<28} {:<14} czxid={:<11} mzxid={:<11} v={} cv={} children={}{}\n",
        std::string(static_cast<std::size_t>(2 * depth), ' ') + "/" + child, "\"" + shown + "\"",
        to_string(s.czxid), to_string(s.mzxid), s.version, s.cversion, s.num_children,
        s.ephemeral_owner ? fmt::format(" ephemeral({:#x})", s.ephemeral_owner) : "");
    out += tree_view(session, full, depth + 1);
  }
  return out;
}

}  // namespace demo
