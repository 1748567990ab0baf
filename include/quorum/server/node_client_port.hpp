// open_client_port(): a ZooKeeper client port for a Node in this process, configured from
// zoo.cfg as quorumd configures its own: the address (clientPort / clientPortAddress, or the
// server line's `;host:port`), the four-letter-word whitelist, srvr's Mode and the fuller
// reports (gathered on the member's thread), conf. A service that embeds a member serves
// ZooKeeper's clients with it — no separate process.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "quorum/config/zoo_cfg.hpp"
#include "quorum/server/client_port.hpp"
#include "quorum/server/member_report.hpp"

namespace quorum::server {

/// The port, listening, or nullptr when zoo.cfg names no client address for `self`. Throws
/// std::system_error naming the address when it cannot listen. The port must be destroyed
/// before the node.
template <class NodeT>
std::unique_ptr<ClientPort> open_client_port(NodeT& node, const config::ZooConfig& c, ServerId self,
                                             std::function<void(const std::string&)> log = {}) {
  std::optional<config::HostPort> address;
  if (c.client_port) address = config::HostPort{c.client_port_address, *c.client_port};
  if (const auto* me = c.server(self); me && me->client) address = me->client;
  if (!address) return nullptr;
  const bool standalone = c.standalone();
  ClientPortOptions o;
  o.address = address->host.empty() ? "0.0.0.0" : address->host;
  o.port = address->port;
  o.four_letter_words = c.four_letter_words;
  o.state = [&node, standalone] {
    const auto s = node.status();
    return ServerState{s.serving, s.serving ? mode_name(s.state, standalone) : std::string(),
                       s.applied, s.znodes + 1};
  };
  o.report = [&node, standalone]() -> MemberReport {
    try {
      return node.inspect(
          [standalone](const auto& core) { return member_report(core, standalone); });
    } catch (const std::system_error&) {
      return MemberReport{};  // not running: not serving
    }
  };
  o.conf = [c, self] { return config::conf_text(c, self); };
  o.sessions = node.client_port();
  o.log = std::move(log);
  return std::make_unique<ClientPort>(std::move(o));
}

}  // namespace quorum::server
