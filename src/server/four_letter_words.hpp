// The four-letter words' answers (zk-reference §8.2: ZooKeeper 3.8's formats) and their JSON
// view, from what the member reports and what the port counts. Private to src/server.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quorum/server/client_port.hpp"

namespace quorum::server {

class ZkConnection;

/// Everything a word may need, gathered on the port's thread when it is asked.
struct WordInputs {
  MemberReport report;
  PortCounters counters;
  std::vector<std::shared_ptr<ZkConnection>> connections;  ///< open client connections
  std::string conf;                                        ///< conf's text
  /// The connection asking, as stat and cons list it among the others (ZooKeeper counts it).
  std::string asker = "/0.0.0.0:0[1](queued=0,recved=1,sent=0)";
};

/// The text of `word` (one of the words ZooKeeper knows, already allowed); crst and srst are
/// answered by the port, which resets its counters.
std::string word_text(const std::string& word, const WordInputs& in);

/// The same data as JSON; {"error": ...} for a word without a JSON form.
nlohmann::json word_json(const std::string& word, const WordInputs& in);

}  // namespace quorum::server
