// A service that follows its configuration: a persistent watch on /config/app, and on every
// change an asynchronous re-read (a watcher runs on the member's thread, so it must not block).
// An operator's session on another member publishes three versions; the service sees each.
#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "quorum/inproc_ensemble.hpp"

using namespace std::chrono_literals;
using quorum::ServerId;
using quorum::Session;

int main() {
  quorum::NodeConfig base;
  base.replica.finalize_wait = base.replica.min_notification_interval = 20ms;
  base.replica.tick = 100ms;
  quorum::InProcEnsemble nodes({1, 2, 3}, base);
  nodes.start();
  if (!nodes.wait_serving(30s)) return 1;

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> seen;  // configuration versions the service applied

  Session service;  // declared before the watcher uses it; assigned right below
  auto on_event = [&](const quorum::tree::WatchedEvent& event) {
    if (event.path != "/config/app" || (event.type != quorum::tree::EventType::node_data_changed &&
                                        event.type != quorum::tree::EventType::node_created))
      return;
    service.async_get_data(event.path, quorum::Watch::no,
                           [&](std::error_code ec, quorum::DataResult result) {
                             if (ec) return;
                             std::lock_guard lock(mutex);
                             seen.push_back(result.data);
                             fmt::print("service: configuration is now \"{}\" (version {})\n",
                                        result.data, result.stat.version);
                             changed.notify_all();
                           });
  };
  service = nodes[2].open_session({.timeout = 4000ms, .watcher = on_event});
  service.add_watch("/config", quorum::AddWatchMode::persistent_recursive);

  Session operator_session = nodes[1].open_session();
  operator_session.create("/config");
  operator_session.create("/config/app", "log_level=info");
  // Each new version once the service has applied the one before.
  const std::vector<std::string> next{"log_level=debug", "log_level=warn"};
  for (std::size_t k = 0; k < next.size(); ++k) {
    {
      std::unique_lock lock(mutex);
      changed.wait_for(lock, 10s, [&] { return seen.size() >= k + 1; });
    }
    operator_session.set_data("/config/app", next[k]);
  }
  bool ok = false;
  {
    std::unique_lock lock(mutex);
    const bool all = changed.wait_for(lock, 10s, [&] { return seen.size() >= 3; });
    ok = all &&
         seen == std::vector<std::string>{"log_level=info", "log_level=debug", "log_level=warn"};
  }
  service.close();  // before the nodes go: no callback may outlive what it uses
  fmt::print("{}\n", ok ? "the service saw every version" : "the service MISSED a version");
  return ok ? 0 : 1;
}
