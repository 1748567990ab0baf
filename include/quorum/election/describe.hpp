// Human-readable one-line renderings of votes, notifications and election events.
#pragma once

#include <string>
#include <type_traits>
#include <variant>

#include "quorum/election/election_events.hpp"

namespace quorum {

/// "412.250ms": a duration in milliseconds with microsecond precision.
inline std::string describe(Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  const auto abs_us = us < 0 ? -us : us;
  std::string frac = std::to_string(abs_us % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  return (us < 0 ? "-" : "") + std::to_string(abs_us / 1000) + "." + frac + "ms";
}

/// "(leader 2, zxid 0x100000008, round 1, peerEpoch 1)".
inline std::string describe(const Vote& v) {
  return "(leader " + std::to_string(v.leader) + ", zxid " + to_string(v.zxid) + ", round " +
         std::to_string(v.election_epoch) + ", peerEpoch " + std::to_string(v.peer_epoch) + ")";
}

/// "LOOKING (leader 2, zxid 0x0, round 1, peerEpoch 0)".
inline std::string describe(const Notification& n) {
  return std::string(to_string(n.state)) + " " + describe(Vote::from(n));
}

inline std::string describe_ids(const std::vector<ServerId>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "}";
}

/// One line for an event, without its time.
inline std::string describe(const ElectionEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, RoundStarted>)
          return "round " + std::to_string(e.round) + " starts, votes for itself " +
                 describe(e.initial_vote);
        else if constexpr (std::is_same_v<E, ProposalChanged>)
          return "now proposes " + describe(e.proposal) + " after hearing from " +
                 std::to_string(e.because_of);
        else if constexpr (std::is_same_v<E, QuorumReached>)
          return "quorum " + describe_ids(e.supporters) + " for leader " +
                 std::to_string(e.proposal.leader) + ", finalize wait begins";
        else if constexpr (std::is_same_v<E, Decided>)
          return std::string(to_string(e.state)) + " leader " + std::to_string(e.vote.leader) +
                 (e.path == DecisionPath::joined_leader ? " (joined the established leader)" : "") +
                 ", supporters " + describe_ids(e.supporters);
        else if constexpr (std::is_same_v<E, NotificationsResent>)
          return "heard nothing, re-sends round " + std::to_string(e.round) + " votes (next wait " +
                 describe(e.next_interval) + ")";
        else if constexpr (std::is_same_v<E, NotificationSent>)
          return "-> " + std::to_string(e.to) + " " + describe(e.notification);
        else
          return "<- " + std::to_string(e.from) + " " + describe(e.notification);
      },
      event);
}

/// When an event happened.
inline Instant event_time(const ElectionEvent& event) {
  return std::visit([](const auto& e) { return e.at; }, event);
}

}  // namespace quorum
