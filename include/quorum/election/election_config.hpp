// The settings of one member's election, and their validation.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "quorum/types.hpp"

namespace quorum {

/// How one member runs Fast Leader Election. Defaults are ZooKeeper's.
struct ElectionConfig {
  /// This member's id (its `myid`).
  ServerId self = 0;
  /// Every voting member, this one included.
  std::vector<ServerId> voters;
  /// How long a member that sees a quorum for its proposal waits for a better vote before it
  /// decides (ZooKeeper's finalizeWait, 200 ms).
  Duration finalize_wait = std::chrono::milliseconds(200);
  /// First re-send interval while LOOKING with nothing heard; doubles up to the maximum
  /// (zookeeper.fastleader.minNotificationInterval / maxNotificationInterval).
  Duration min_notification_interval = std::chrono::milliseconds(200);
  Duration max_notification_interval = std::chrono::seconds(60);
  /// The quorum configuration as text, carried in every notification (may be empty).
  std::string quorum_config_text;
};

/// Why `config` cannot run an election, or an empty string when it can.
inline std::string validate(const ElectionConfig& config) {
  const auto id = [](ServerId sid) { return std::to_string(sid); };
  if (config.self < 1 || config.self > 255)
    return "self id " + id(config.self) +
           " is outside 1..255 (the session id layout keeps one byte for it)";
  if (config.voters.empty()) return "the voter list is empty";
  for (ServerId v : config.voters)
    if (v < 1 || v > 255) return "voter id " + id(v) + " is outside 1..255";
  auto sorted = config.voters;
  std::sort(sorted.begin(), sorted.end());
  if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end())
    return "voter id " + id(*dup) + " is listed twice";
  if (!std::binary_search(sorted.begin(), sorted.end(), config.self))
    return "self id " + id(config.self) +
           " is not among the voters (observers are not supported yet)";
  if (config.finalize_wait < Duration::zero()) return "finalize_wait is negative";
  if (config.min_notification_interval <= Duration::zero())
    return "min_notification_interval must be positive";
  if (config.max_notification_interval < config.min_notification_interval)
    return "max_notification_interval is below min_notification_interval";
  // A finalizing member restarts its wait on every vote that is not better; a LOOKING peer
  // re-sending faster than that would hold it in finalize forever.
  if (config.max_notification_interval <= config.finalize_wait)
    return "max_notification_interval must exceed finalize_wait";
  return {};
}

}  // namespace quorum
