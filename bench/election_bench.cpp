// Election time for 3, 5 and 7 members, with 0% and 5% message loss: in virtual time
// (SimTransport, loopback-like delays) and in wall time (InProcTransport, real threads).
// Prints one JSON object per case; nothing here is asserted.
//
//   election_bench [--runs N] [--finalize-ms N]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "quorum/inproc_member.hpp"
#include "quorum/sim/election_cluster.hpp"

using namespace std::chrono_literals;
using quorum::PeerState;
using quorum::ServerId;

namespace {

struct Summary {
  double median_ms = 0, p90_ms = 0, min_ms = 0, max_ms = 0;
};

Summary summarize(std::vector<double> ms) {
  if (ms.empty()) return {};
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) {
    return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  return {at(0.5), at(0.9), ms.front(), ms.back()};
}

// Virtual time from "all start together" until every member has decided on one leader.
std::optional<double> sim_election_ms(std::size_t members, double loss, std::uint64_t seed,
                                      quorum::Duration finalize) {
  quorum::sim::ClusterOptions options{.servers = members, .seed = seed};
  options.faults = {.delay_min = 50us, .delay_max = 500us, .drop = loss};
  options.finalize_wait = finalize;
  options.min_notification_interval = std::max<quorum::Duration>(finalize, 1ms);
  quorum::sim::ElectionCluster c(options);
  for (std::size_t id = 1; id <= members; ++id) c.start(static_cast<ServerId>(id));
  if (!c.run_until_settled(60s)) return std::nullopt;
  return std::chrono::duration<double, std::milli>(c.now().time_since_epoch()).count();
}

// Wall time for the same, with members on their own threads.
std::optional<double> inproc_election_ms(std::size_t members, double loss, std::uint64_t seed,
                                         quorum::Duration finalize) {
  quorum::InProcHub hub(loss, seed);
  std::vector<ServerId> ids;
  for (std::size_t id = 1; id <= members; ++id) ids.push_back(static_cast<ServerId>(id));
  std::map<ServerId, quorum::MemoryStorage> storage;
  std::map<ServerId, std::unique_ptr<quorum::InProcMember>> running;
  for (ServerId id : ids) {
    quorum::ElectionConfig config{.self = id, .voters = ids};
    config.finalize_wait = finalize;
    config.min_notification_interval = std::max<quorum::Duration>(finalize, 1ms);
    running[id] = std::make_unique<quorum::InProcMember>(hub, config, storage[id]);
  }
  const auto begin = std::chrono::steady_clock::now();
  for (ServerId id : ids) running[id]->start();
  const ServerId expected = ids.back();  // equal histories: the largest id wins
  for (ServerId id : ids) {
    const auto want = id == expected ? PeerState::leading : PeerState::following;
    const bool ok = running[id]->wait_until(
        [&](PeerState s, const quorum::Vote& v) { return s == want && v.leader == expected; }, 10s);
    if (!ok) return std::nullopt;  // a split decision; ZAB would repair it, FLE alone does not
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
      .count();
}

template <class Measure>
void run_case(const char* transport, const char* time_kind, std::size_t members, double loss,
              int runs, quorum::Duration finalize, Measure measure) {
  std::vector<double> ms;
  int unsettled = 0;
  for (int run = 0; run < runs; ++run) {
    if (auto t = measure(members, loss, static_cast<std::uint64_t>(run + 1), finalize))
      ms.push_back(*t);
    else
      ++unsettled;
  }
  const Summary s = summarize(ms);
  nlohmann::json out = {
      {"bench", "election"},
      {"transport", transport},
      {"time", time_kind},
      {"members", members},
      {"loss", loss},
      {"finalize_wait_ms", std::chrono::duration<double, std::milli>(finalize).count()},
      {"runs", runs},
      {"unsettled", unsettled},
      {"median_ms", s.median_ms},
      {"median_beyond_finalize_ms",
       s.median_ms - std::chrono::duration<double, std::milli>(finalize).count()},
      {"p90_ms", s.p90_ms},
      {"min_ms", s.min_ms},
      {"max_ms", s.max_ms},
  };
  std::cout << out.dump() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  int sim_runs = 101, inproc_runs = 11;
  auto finalize = quorum::Duration(200ms);
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      inproc_runs = std::max(1, std::atoi(argv[++i]));
      sim_runs = inproc_runs * 10 + 1;
    } else if (!std::strcmp(argv[i], "--finalize-ms") && i + 1 < argc) {
      finalize = std::chrono::milliseconds(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--runs N] [--finalize-ms N]\n", argv[0]);
      return 2;
    }
  }
  for (std::size_t members : {3u, 5u, 7u})
    for (double loss : {0.0, 0.05}) {
      run_case("sim", "virtual", members, loss, sim_runs, finalize, sim_election_ms);
      run_case("inproc", "wall", members, loss, inproc_runs, finalize, inproc_election_ms);
    }
  return 0;
}
