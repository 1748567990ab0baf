#include "four_letter_words.hpp"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "quorum/version.hpp"
#include "zk_connection.hpp"

namespace quorum::server {

namespace {

constexpr const char* not_serving = "This ZooKeeper instance is not currently serving requests\n";

std::string version_text() {
  return fmt::format("3.8.0-quorum-{}", version_string);
}

// A double as Java prints one (3.0, 0.1538): ZooKeeper's latency averages, to 4 places.
std::string java_double(double v) {
  const double rounded = std::round(v * 10'000) / 10'000;
  if (rounded == std::floor(rounded)) return fmt::format("{:.1f}", rounded);
  return fmt::format("{}", rounded);
}

std::string hex(std::int64_t v) {
  return fmt::format("0x{:x}", static_cast<std::uint64_t>(v));
}

std::size_t open_descriptors() {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

std::uint64_t max_descriptors() {
  rlimit limit{};
  return ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 0;
}

// The lines srvr and stat share after their first ones.
std::string server_lines(const WordInputs& in) {
  const ServerState& s = in.report.state;
  const PortCounters& c = in.counters;
  std::string out = fmt::format("Latency min/avg/max: {}/{}/{}\n", c.min_latency_ms,
                                java_double(c.avg_latency_ms), c.max_latency_ms);
  out += fmt::format("Received: {}\nSent: {}\nConnections: {}\nOutstanding: {}\n", c.received,
                     c.sent, c.connections, c.outstanding);
  out += fmt::format("Zxid: {:#x}\n",
                     static_cast<std::uint64_t>(std::max<std::int64_t>(s.zxid.value, 0)));
  out += fmt::format("Mode: {}\n", s.mode);
  out += fmt::format("Node count: {}\n", s.node_count);
  if (s.mode == "leader") out += "Proposal sizes last/min/max: -1/-1/-1\n";
  return out;
}

std::string stat_text(const WordInputs& in) {
  if (!in.report.state.serving) return not_serving;
  std::string out =
      fmt::format("Zookeeper version: {}, built on unknown\nClients:\n", version_text());
  for (const auto& c : in.connections) out += " " + c->describe(false) + "\n";
  out += " " + in.asker + "\n";
  return out + "\n" + server_lines(in);
}

std::string cons_text(const WordInputs& in) {
  std::string out;
  for (const auto& c : in.connections) out += " " + c->describe(true) + "\n";
  out += " " + in.asker + "\n";
  return out + "\n";
}

// wchs, wchc, wchp: the data-kind watches, as ZooKeeper reports its data-watch manager.
std::string wchs_text(const MemberReport& r) {
  std::set<std::int64_t> sessions;
  std::set<std::string> paths;
  std::size_t total = 0;
  for (const auto& w : r.watches)
    if (w.data) sessions.insert(w.session), paths.insert(w.path), ++total;
  return fmt::format("{} connections watching {} paths\nTotal watches:{}\n", sessions.size(),
                     paths.size(), total);
}

std::string wchc_text(const MemberReport& r) {
  std::map<std::int64_t, std::vector<std::string>> by_session;
  for (const auto& w : r.watches)
    if (w.data) by_session[w.session].push_back(w.path);
  std::string out;
  for (const auto& [session, paths] : by_session) {
    out += hex(session) + "\n";
    for (const auto& p : paths) out += "\t" + p + "\n";
  }
  return out + "\n";
}

std::string wchp_text(const MemberReport& r) {
  std::map<std::string, std::vector<std::int64_t>> by_path;
  for (const auto& w : r.watches)
    if (w.data) by_path[w.path].push_back(w.session);
  std::string out;
  for (const auto& [path, sessions] : by_path) {
    out += path + "\n";
    for (std::int64_t s : sessions) out += "\t" + hex(s) + "\n";
  }
  return out + "\n";
}

// dump: the sessions (with their timeouts: expiry times are the leader's alone) and their
// ephemerals.
std::string dump_text(const WordInputs& in) {
  const MemberReport& r = in.report;
  std::string out = fmt::format("SessionTracker dump:\nGlobal Sessions({}):\n", r.sessions.size());
  for (const auto& s : r.sessions) out += fmt::format("{}\t{}ms\n", hex(s.id), s.timeout_ms);
  std::size_t with = 0;
  for (const auto& s : r.sessions) with += s.ephemerals.empty() ? 0u : 1u;
  out += fmt::format("ephemeral nodes dump:\nSessions with Ephemerals ({}):\n", with);
  for (const auto& s : r.sessions) {
    if (s.ephemerals.empty()) continue;
    out += hex(s.id) + ":\n";
    for (const auto& p : s.ephemerals) out += "\t" + p + "\n";
  }
  out += fmt::format("Connections dump:\nConnections ({}):\n", in.connections.size());
  for (const auto& c : in.connections)
    if (c->session() != 0) out += fmt::format("{}: {}\n", hex(c->session()), c->describe(false));
  return out;
}

std::vector<std::pair<std::string, std::string>> envi_pairs() {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("zookeeper.version", version_text());
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  out.emplace_back("host.name", host);
  utsname u{};
  if (::uname(&u) == 0) {
    out.emplace_back("os.name", u.sysname);
    out.emplace_back("os.arch", u.machine);
    out.emplace_back("os.version", u.release);
  }
  const char* user = std::getenv("USER");
  const char* home = std::getenv("HOME");
  out.emplace_back("user.name", user ? user : "");
  out.emplace_back("user.home", home ? home : "");
  std::error_code ec;
  out.emplace_back("user.dir", std::filesystem::current_path(ec).string());
  out.emplace_back("process.id", std::to_string(::getpid()));
  return out;
}

// mntr's keys in the order monitoring scripts usually list them (ZooKeeper's is hash order).
std::vector<std::pair<std::string, std::string>> mntr_pairs(const WordInputs& in) {
  const MemberReport& r = in.report;
  const PortCounters& c = in.counters;
  std::size_t ephemerals = 0;
  for (const auto& s : r.sessions) ephemerals += s.ephemerals.size();
  std::vector<std::pair<std::string, std::string>> out{
      {"zk_version", version_text()},
      {"zk_server_state", r.state.mode},
  };
  if (!r.peer_state.empty()) out.emplace_back("zk_peer_state", r.peer_state);
  const auto add = [&](const char* key, auto value) {
    out.emplace_back(key, fmt::format("{}", value));
  };
  out.emplace_back("zk_avg_latency", java_double(c.avg_latency_ms));
  add("zk_max_latency", c.max_latency_ms);
  add("zk_min_latency", c.min_latency_ms);
  add("zk_packets_received", c.received);
  add("zk_packets_sent", c.sent);
  add("zk_num_alive_connections", c.connections);
  add("zk_outstanding_requests", c.outstanding);
  add("zk_znode_count", r.state.node_count);
  add("zk_watch_count", r.watches.size());
  add("zk_ephemerals_count", ephemerals);
  add("zk_approximate_data_size", r.approximate_data_size);
  add("zk_open_file_descriptor_count", open_descriptors());
  add("zk_max_file_descriptor_count", max_descriptors());
  if (r.quorum_size > 0) add("zk_quorum_size", r.quorum_size);
  if (r.state.mode == "leader") {
    add("zk_learners", r.learners);
    add("zk_synced_followers", r.synced_followers);
    add("zk_synced_non_voting_followers", 0);
    add("zk_synced_observers", 0);
    add("zk_pending_syncs", 0);
    add("zk_last_proposal_size", -1);
    add("zk_max_proposal_size", -1);
    add("zk_min_proposal_size", -1);
  }
  return out;
}

std::string lines(const std::vector<std::pair<std::string, std::string>>& pairs,
                  const char* separator) {
  std::string out;
  for (const auto& [k, v] : pairs) out += k + separator + v + "\n";
  return out;
}

nlohmann::json with(nlohmann::json a, const nlohmann::json& b) {
  a.update(b);
  return a;
}

nlohmann::json object_of(const std::vector<std::pair<std::string, std::string>>& pairs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : pairs) out[k] = v;
  return out;
}

}  // namespace

std::string srvr_text(const ServerState& state, const PortCounters& counters) {
  if (!state.serving) return not_serving;
  WordInputs in;
  in.report.state = state;
  in.counters = counters;
  return fmt::format("Zookeeper version: {}, built on unknown\n", version_text()) +
         server_lines(in);
}

std::string word_text(const std::string& word, const WordInputs& in) {
  const bool serving = in.report.state.serving;
  if (word == "ruok") return "imok";
  if (word == "isro") return serving ? "rw" : "null";
  if (word == "srvr") return srvr_text(in.report.state, in.counters);
  if (word == "stat") return stat_text(in);
  if (word == "envi") return "Environment:\n" + lines(envi_pairs(), "=");
  if (word == "conf") return in.conf;
  if (word == "cons") return cons_text(in);
  if (word == "crst") return "Connection stats reset.\n";
  if (word == "srst") return "Server stats reset.\n";
  if (!serving) return not_serving;
  if (word == "mntr") return lines(mntr_pairs(in), "\t");
  if (word == "wchs") return wchs_text(in.report);
  if (word == "wchc") return wchc_text(in.report);
  if (word == "wchp") return wchp_text(in.report);
  if (word == "dump") return dump_text(in);
  if (word == "dirs" || word == "gtmk" || word == "stmk" || word == "hash") return {};
  return {};
}

nlohmann::json word_json(const std::string& word, const WordInputs& in) {
  const MemberReport& r = in.report;
  const PortCounters& c = in.counters;
  nlohmann::json out{{"command", word}};
  if (word == "ruok") return out;
  if (word == "isro") return with(out, {{"read_only", false}, {"serving", r.state.serving}});
  if (word == "envi") return with(out, object_of(envi_pairs()));
  if (word == "conf") return with(out, {{"text", in.conf}});
  if (word == "cons" || word == "stat") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& conn : in.connections) list.push_back(conn->info());
    out["connections"] = list;
    if (word == "cons") return out;
  }
  if (word == "srvr" || word == "stat")
    return with(out, {{"version", version_text()},
                      {"serving", r.state.serving},
                      {"server_state", r.state.mode},
                      {"zxid", r.state.zxid.value},
                      {"node_count", r.state.node_count},
                      {"packets_received", c.received},
                      {"packets_sent", c.sent},
                      {"num_alive_connections", c.connections},
                      {"outstanding_requests", c.outstanding},
                      {"min_latency", c.min_latency_ms},
                      {"avg_latency", c.avg_latency_ms},
                      {"max_latency", c.max_latency_ms}});
  if (word == "mntr") return with(out, object_of(mntr_pairs(in)));
  if (word == "wchs" || word == "wchc" || word == "wchp") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& w : r.watches)
      list.push_back({{"session_id", hex(w.session)}, {"path", w.path}, {"data", w.data}});
    return with(out, {{"watches", list}});
  }
  if (word == "dump") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : r.sessions)
      list.push_back(
          {{"session_id", hex(s.id)}, {"timeout", s.timeout_ms}, {"ephemerals", s.ephemerals}});
    return with(out, {{"sessions", list}});
  }
  return {{"command", word}, {"error", "no such command: " + word}};
}

}  // namespace quorum::server
