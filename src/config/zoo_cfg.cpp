#include "quorum/config/zoo_cfg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace quorum::config {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\f\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\f\r");
  return s.substr(first, last - first + 1);
}

// One key = value pair and the line it started on.
struct Property {
  std::string key;
  std::string value;
  int line = 0;
};

// Java properties: `#` or `!` comments, `=`, `:` or whitespace between key and value, a
// trailing odd backslash continues the line. Escapes inside keys are not used by zoo.cfg.
std::vector<Property> properties(std::string_view text) {
  std::vector<Property> out;
  int line_no = 0;
  std::string logical;
  int logical_start = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::string_view line = trim(raw);
    if (logical.empty()) {
      if (line.empty() || line.front() == '#' || line.front() == '!') {
        if (end == text.size()) break;
        continue;
      }
      logical_start = line_no;
    }
    std::size_t backslashes = 0;
    while (backslashes < line.size() && line[line.size() - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 1) {
      logical.append(line.substr(0, line.size() - 1));
      if (end == text.size()) break;
      continue;
    }
    logical.append(line);
    const auto sep = logical.find_first_of("=: \t");
    Property p;
    p.line = logical_start;
    if (sep == std::string::npos) {
      p.key = logical;
    } else {
      p.key = std::string(trim(std::string_view(logical).substr(0, sep)));
      std::string_view rest = trim(std::string_view(logical).substr(sep));
      if (!rest.empty() && (rest.front() == '=' || rest.front() == ':'))
        rest = trim(rest.substr(1));
      p.value = std::string(rest);
    }
    out.push_back(std::move(p));
    logical.clear();
    if (end == text.size()) break;
  }
  if (!logical.empty()) out.push_back({logical, {}, logical_start});
  return out;
}

class Parser {
 public:
  explicit Parser(std::string source) { config_.source = std::move(source); }

  ZooConfig run(std::string_view text) {
    std::map<std::string, int> seen;
    for (Property& p : properties(text)) {
      if (auto [it, fresh] = seen.emplace(p.key, p.line); !fresh)
        warn(p.line, fmt::format("{} is set again (line {} is overridden)", p.key, it->second));
      apply(p);
    }
    finish();
    return std::move(config_);
  }

 private:
  [[noreturn]] void fail(int line, const std::string& why) const {
    throw ConfigError(fmt::format("{}:{}: {}", config_.source, line, why));
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw ConfigError(fmt::format("{}: {}", config_.source, why));
  }
  void warn(int line, const std::string& why) {
    config_.warnings.push_back(fmt::format("{}:{}: {}", config_.source, line, why));
  }

  template <class Int>
  Int number(const Property& p, Int min, Int max) const {
    Int value{};
    const char* first = p.value.data();
    const char* last = first + p.value.size();
    const auto [end, error] = std::from_chars(first, last, value);
    if (p.value.empty() || error == std::errc::invalid_argument || end != last)
      fail(p.line, fmt::format("{}: '{}' is not a whole number", p.key, p.value));
    if (error == std::errc::result_out_of_range || value < min || value > max)
      fail(p.line, fmt::format("{}: {} is out of range ({}..{})", p.key, p.value, min, max));
    return value;
  }

  bool boolean(const Property& p) const {
    if (p.value == "true" || p.value == "yes") return true;
    if (p.value == "false" || p.value == "no") return false;
    fail(p.line, fmt::format("{}: '{}' is neither true nor false", p.key, p.value));
  }

  std::uint16_t port(const Property& p, std::string_view text, std::string_view what) const {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < 1 ||
        value > 65535)
      fail(p.line, fmt::format("{}: {} '{}' is not a port (1..65535)", p.key, what, text));
    return static_cast<std::uint16_t>(value);
  }

  void apply(const Property& p) {
    const std::string& k = p.key;
    if (k == "tickTime") {
      config_.tick_time_ms = number<int>(p, 1, 3'600'000);
    } else if (k == "initLimit") {
      config_.init_limit = number<int>(p, 1, 1'000'000);
    } else if (k == "syncLimit") {
      config_.sync_limit = number<int>(p, 1, 1'000'000);
    } else if (k == "dataDir") {
      if (p.value.empty()) fail(p.line, "dataDir is empty");
      config_.data_dir = p.value;
    } else if (k == "dataLogDir") {
      if (p.value.empty()) fail(p.line, "dataLogDir is empty");
      config_.data_log_dir = p.value;
    } else if (k == "clientPort") {
      config_.client_port = port(p, p.value, "clientPort");
    } else if (k == "clientPortAddress") {
      config_.client_port_address = p.value;
    } else if (k == "maxClientCnxns") {
      config_.max_client_cnxns = number<int>(p, 0, 1'000'000);
    } else if (k == "minSessionTimeout") {
      config_.min_session_timeout_ms = number<int>(p, -1, 1'000'000'000);
    } else if (k == "maxSessionTimeout") {
      config_.max_session_timeout_ms = number<int>(p, -1, 1'000'000'000);
    } else if (k == "autopurge.snapRetainCount") {
      const int n = number<int>(p, 0, 1'000'000);
      if (n < 3) warn(p.line, fmt::format("autopurge.snapRetainCount {} is below 3: using 3", n));
      config_.snap_retain_count = std::max(n, 3);
    } else if (k == "autopurge.purgeInterval") {
      config_.purge_interval_hours = number<int>(p, 0, 1'000'000);
    } else if (k == "snapCount") {
      config_.snap_count = number<std::uint64_t>(p, 2, 1'000'000'000'000ull);
    } else if (k == "fastleader.finalizeWait") {
      config_.finalize_wait_ms = number<int>(p, 0, 60'000);
    } else if (k == "fastleader.minNotificationInterval") {
      config_.min_notification_interval_ms = number<int>(p, 1, 3'600'000);
    } else if (k == "fastleader.maxNotificationInterval") {
      config_.max_notification_interval_ms = number<int>(p, 1, 3'600'000);
    } else if (k == "standaloneEnabled") {
      config_.standalone_enabled = boolean(p);
    } else if (k == "4lw.commands.whitelist") {
      config_.four_letter_words.clear();
      std::string_view rest = p.value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view word = trim(rest.substr(0, comma));
        if (!word.empty()) config_.four_letter_words.emplace_back(word);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (k == "electionAlg") {
      if (number<int>(p, 0, 3) != 3)
        fail(p.line, "electionAlg: only 3 (fast leader election) exists since ZooKeeper 3.6");
    } else if (k.rfind("server.", 0) == 0) {
      server(p);
    } else if (k == "peerType") {
      if (p.value == "observer")
        fail(p.line, "peerType: observers are not supported yet (participants only)");
      if (p.value != "participant")
        fail(p.line, fmt::format("peerType: '{}' is neither participant nor observer", p.value));
    } else if (k == "reconfigEnabled" || k == "dynamicConfigFile" || k.rfind("group.", 0) == 0 ||
               k.rfind("weight.", 0) == 0) {
      fail(p.line, fmt::format("{}: not supported yet (static majority quorums only)", k));
    } else if (known_passthrough(k)) {
      // ZooKeeper settings with no effect here yet; accepted silently, as ZooKeeper does.
    } else {
      warn(p.line, fmt::format("unknown key '{}' (ignored)", k));
    }
  }

  static bool known_passthrough(const std::string& k) {
    static const char* const keys[] = {"admin.enableServer",
                                       "admin.serverPort",
                                       "metricsProvider.className",
                                       "preAllocSize",
                                       "forceSync",
                                       "syncEnabled",
                                       "globalOutstandingLimit",
                                       "commitLogCount",
                                       "snapshotSizeFactor",
                                       "jute.maxbuffer",
                                       "quorumListenOnAllIPs",
                                       "cnxTimeout",
                                       "maxCnxns",
                                       "connectToLearnerMasterLimit",
                                       "localSessionsEnabled",
                                       "localSessionsUpgradingEnabled",
                                       "fsync.warningthresholdms",
                                       "digest.enabled"};
    return std::any_of(std::begin(keys), std::end(keys), [&](const char* key) { return k == key; });
  }

  // server.A=B:C:D[:participant|observer][;[clientHost:]clientPort]
  void server(const Property& p) {
    const std::string_view id_text = std::string_view(p.key).substr(7);
    ServerEntry s;
    s.line = p.line;
    std::uint64_t id = 0;
    const auto [id_end, id_error] =
        std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (id_text.empty() || id_error != std::errc{} || id_end != id_text.data() + id_text.size() ||
        id < 1 || id > 0x7fffffffffffffffull)
      fail(p.line,
           fmt::format("{}: the server id '{}' is not a positive whole number", p.key, id_text));
    s.id = static_cast<ServerId>(id);
    if (config_.server(s.id))
      fail(p.line, fmt::format("{}: server {} is already defined on line {}", p.key, s.id,
                               config_.server(s.id)->line));
    std::string_view value = p.value;
    std::string_view client_part;
    if (const auto semi = value.find(';'); semi != std::string_view::npos) {
      client_part = trim(value.substr(semi + 1));
      value = trim(value.substr(0, semi));
    }
    if (value.find('|') != std::string_view::npos)
      fail(p.line,
           fmt::format("{}: several addresses (multiAddress) are not supported yet", p.key));
    std::vector<std::string_view> parts;
    // host:quorum:election[:role]; a bracketed IPv6 host keeps its colons.
    std::string_view rest = value;
    if (!rest.empty() && rest.front() == '[') {
      const auto close = rest.find(']');
      if (close == std::string_view::npos)
        fail(p.line, fmt::format("{}: '[' without ']' in the host", p.key));
      parts.push_back(rest.substr(1, close - 1));
      rest = rest.substr(close + 1);
      if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
    }
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      parts.push_back(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
    if (parts.size() < 3 || parts.size() > 4)
      fail(p.line, fmt::format("{}: expected host:quorumPort:electionPort[:participant|observer], "
                               "got '{}'",
                               p.key, value));
    s.host = std::string(trim(parts[0]));
    if (s.host.empty()) fail(p.line, fmt::format("{}: the host is empty", p.key));
    s.quorum_port = port(p, trim(parts[1]), "quorum port");
    s.election_port = port(p, trim(parts[2]), "election port");
    if (s.quorum_port == s.election_port)
      fail(p.line, fmt::format("{}: the quorum port and the election port are both {}", p.key,
                               s.quorum_port));
    if (parts.size() == 4) {
      const std::string_view role = trim(parts[3]);
      if (role == "observer")
        fail(p.line, fmt::format("{}: observers are not supported yet (participants only)", p.key));
      if (role != "participant")
        fail(p.line, fmt::format("{}: role '{}' is neither participant nor observer", p.key, role));
    }
    if (!client_part.empty()) {
      HostPort client;
      const auto colon = client_part.rfind(':');
      if (colon == std::string_view::npos) {
        client.port = port(p, client_part, "client port");
      } else {
        client.host = std::string(trim(client_part.substr(0, colon)));
        client.port = port(p, trim(client_part.substr(colon + 1)), "client port");
      }
      s.client = client;
    }
    config_.servers.push_back(std::move(s));
  }

  void finish() {
    ZooConfig& c = config_;
    if (c.data_dir.empty()) fail("dataDir is not set");
    std::sort(c.servers.begin(), c.servers.end(),
              [](const ServerEntry& a, const ServerEntry& b) { return a.id < b.id; });
    if (c.min_session_timeout_ms == -1) c.min_session_timeout_ms = 2 * c.tick_time_ms;
    if (c.max_session_timeout_ms == -1) c.max_session_timeout_ms = 20 * c.tick_time_ms;
    if (c.min_session_timeout_ms > c.max_session_timeout_ms)
      fail(fmt::format("minSessionTimeout {} is above maxSessionTimeout {}",
                       c.min_session_timeout_ms, c.max_session_timeout_ms));
    if (c.min_notification_interval_ms > c.max_notification_interval_ms)
      fail(
          fmt::format("fastleader.minNotificationInterval {} is above "
                      "fastleader.maxNotificationInterval {}",
                      c.min_notification_interval_ms, c.max_notification_interval_ms));
    if (!c.standalone()) {
      if (c.init_limit == 0) fail("initLimit is not set (required with more than one server)");
      if (c.sync_limit == 0) fail("syncLimit is not set (required with more than one server)");
      for (std::size_t i = 0; i < c.servers.size(); ++i)
        for (std::size_t j = 0; j < i; ++j) {
          const ServerEntry& a = c.servers[j];
          const ServerEntry& b = c.servers[i];
          for (std::uint16_t pa : {a.quorum_port, a.election_port})
            for (std::uint16_t pb : {b.quorum_port, b.election_port})
              if (a.host == b.host && pa == pb)
                fail(b.line, fmt::format("server.{}: port {} on {} is also server.{}'s (line {})",
                                         b.id, pb, b.host, a.id, a.line));
        }
      const std::size_t voters = c.voters().size();
      const int line = c.servers.back().line;
      if (voters % 2 == 0)
        warn(line, fmt::format("{} voters tolerate no more failures than {}: an odd number is "
                               "usual",
                               voters, voters - 1));
      if (voters > 11)
        warn(line, fmt::format("{} voters: every write waits for a majority of them; sizing "
                               "guidance is 3 voters for ~10 machines, 5 for ~20, 11 for 100-200",
                               voters));
    }
    if (!c.client_port && std::none_of(c.servers.begin(), c.servers.end(),
                                       [](const ServerEntry& s) { return s.client.has_value(); }))
      config_.warnings.push_back(
          fmt::format("{}: no clientPort: the member serves no ZooKeeper clients", c.source));
  }

  ZooConfig config_;
};

}  // namespace

std::vector<ServerId> ZooConfig::voters() const {
  std::vector<ServerId> out;
  for (const ServerEntry& s : servers)
    if (s.role == PeerRole::participant) out.push_back(s.id);
  return out;
}

const ServerEntry* ZooConfig::server(ServerId id) const {
  for (const ServerEntry& s : servers)
    if (s.id == id) return &s;
  return nullptr;
}

bool ZooConfig::standalone() const {
  return servers.empty() || (standalone_enabled && voters().size() == 1 && servers.size() == 1);
}

ZooConfig parse_zoo_cfg(std::string_view text, std::string source) {
  return Parser(std::move(source)).run(text);
}

ZooConfig load_zoo_cfg(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot be read", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: read error", file.string()));
  return parse_zoo_cfg(text.str(), file.string());
}

ServerId read_myid(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = data_dir / "myid";
  std::ifstream in(file);
  if (!in)
    throw ConfigError(
        fmt::format("{}: cannot be read (it holds this server's id, as in "
                    "server.<id> of zoo.cfg)",
                    file.string()));
  std::string line;
  std::getline(in, line);
  const std::string_view text = trim(line);
  std::uint64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || id < 1 ||
      id > 0x7fffffffffffffffull)
    throw ConfigError(fmt::format("{}:1: '{}' is not a server id (a positive whole number)",
                                  file.string(), text));
  return static_cast<ServerId>(id);
}

void check_member(const ZooConfig& config, ServerId self) {
  if (config.servers.empty()) return;  // standalone without server lines
  const ServerEntry* me = config.server(self);
  if (!me)
    throw ConfigError(
        fmt::format("{}: myid is {} but there is no server.{} line", config.source, self, self));
}

std::uint64_t ensemble_identity(const ZooConfig& config) {
  // FNV-1a over a canonical text of the server lines (sorted by id).
  std::vector<const ServerEntry*> sorted;
  for (const ServerEntry& s : config.servers) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->id < b->id; });
  std::string canonical;
  for (const ServerEntry* s : sorted)
    canonical +=
        fmt::format("server.{}={}:{}:{}:{};", s->id, s->host, s->quorum_port, s->election_port,
                    s->role == PeerRole::participant ? "participant" : "observer");
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : canonical) h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

NodeConfig node_config(const ZooConfig& config, ServerId self) {
  NodeConfig n;
  n.replica.self = self;
  n.replica.voters = config.voters();
  if (n.replica.voters.empty()) n.replica.voters = {self};
  n.replica.tick = std::chrono::milliseconds(config.tick_time_ms);
  n.replica.init_limit = config.init_limit > 0 ? config.init_limit : 10;
  n.replica.sync_limit = config.sync_limit > 0 ? config.sync_limit : 5;
  // Session bounds are in ticks here: the minimum rounds up, the maximum down (at least 1).
  const int tick = config.tick_time_ms;
  n.min_session_ticks = std::max(1, (config.min_session_timeout_ms + tick - 1) / tick);
  n.max_session_ticks = std::max(n.min_session_ticks, config.max_session_timeout_ms / tick);
  n.snap_count = config.snap_count;
  n.replica.finalize_wait = std::chrono::milliseconds(config.finalize_wait_ms);
  n.replica.min_notification_interval =
      std::chrono::milliseconds(config.min_notification_interval_ms);
  n.replica.max_notification_interval =
      std::chrono::milliseconds(config.max_notification_interval_ms);
  n.config_node = membership_text(config);
  return n;
}

std::string membership_text(const ZooConfig& config) {
  if (config.servers.empty()) return {};
  std::string out;
  for (const ServerEntry& s : config.servers) {
    out += fmt::format("server.{}={}:{}:{}:{}", s.id, s.host, s.quorum_port, s.election_port,
                       s.role == PeerRole::participant ? "participant" : "observer");
    if (s.client)
      out += fmt::format(";{}:{}", s.client->host.empty() ? "0.0.0.0" : s.client->host,
                         s.client->port);
    out += '\n';
  }
  return out + "version=0";
}

}  // namespace quorum::config

namespace quorum::config {

namespace {
std::uintmax_t directory_size(const std::filesystem::path& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_error;
    if (it->is_regular_file(size_error)) total += it->file_size(size_error);
  }
  return total;
}
}  // namespace

std::string conf_text(const ZooConfig& c, ServerId self) {
  const std::filesystem::path log_dir = c.data_log_dir.empty() ? c.data_dir : c.data_log_dir;
  const int tick = c.tick_time_ms;
  const ServerEntry* me = c.server(self);
  std::uint16_t client_port = c.client_port.value_or(0);
  if (me && me->client) client_port = me->client->port;
  std::string out;
  out += fmt::format("clientPort={}\nsecureClientPort=-1\n", client_port);
  out +=
      fmt::format("dataDir={}\ndataDirSize={}\n", c.data_dir.string(), directory_size(c.data_dir));
  out += fmt::format("dataLogDir={}\ndataLogSize={}\n", log_dir.string(), directory_size(log_dir));
  out += fmt::format("tickTime={}\nmaxClientCnxns={}\n", tick, c.max_client_cnxns);
  out += fmt::format("minSessionTimeout={}\nmaxSessionTimeout={}\n",
                     c.min_session_timeout_ms > 0 ? c.min_session_timeout_ms : 2 * tick,
                     c.max_session_timeout_ms > 0 ? c.max_session_timeout_ms : 20 * tick);
  out += fmt::format("clientPortListenBacklog=-1\nserverId={}\n", self);
  if (!c.servers.empty()) {
    out += fmt::format("initLimit={}\nsyncLimit={}\nelectionAlg=3\n", c.init_limit, c.sync_limit);
    if (me)
      out += fmt::format("electionPort={}\nquorumPort={}\npeerType=0\n", me->election_port,
                         me->quorum_port);
    out += "membership: \n" + membership_text(c) + "\n";
  }
  return out;
}

}  // namespace quorum::config
