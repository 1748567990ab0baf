#include "support/catch.hpp"

#include <chrono>
#include <vector>

#include "quorum/sim/network.hpp"

using namespace std::chrono_literals;
using quorum::Instant;
using quorum::Message;
using quorum::Notification;
using quorum::sim::Delivery;
using quorum::sim::LinkFaults;
using quorum::sim::Network;

namespace {
Message msg(std::int64_t round) {
  return Notification{.election_epoch = round};
}
std::int64_t round_of(const Delivery& d) {
  return std::get<Notification>(d.message).election_epoch;
}

std::vector<Delivery> drain(Network& net) {
  std::vector<Delivery> out;
  for (int guard = 0; guard < 100000; ++guard) {
    if (auto d = net.pop_due()) {
      out.push_back(std::move(*d));
      continue;
    }
    auto next = net.next_delivery_time();
    if (!next) break;
    net.advance_to(*next);
  }
  return out;
}
}  // namespace

TEST_CASE("delays fall in the configured range", "[unit]") {
  Network net(1, LinkFaults{.delay_min = 2ms, .delay_max = 4ms});
  for (int i = 0; i < 100; ++i) net.send(1, 2, msg(i));
  for (const auto& d : drain(net)) {
    CHECK(d.at >= Instant(2ms));
    CHECK(d.at <= Instant(4ms));
  }
}

TEST_CASE("the same seed gives the same deliveries", "[unit]") {
  const LinkFaults faults{.delay_min = 1ms,
                          .delay_max = 9ms,
                          .drop = 0.2,
                          .duplicate = 0.2,
                          .reorder = 0.3,
                          .reorder_max = 50ms};
  auto run = [&](std::uint64_t seed) {
    Network net(seed, faults);
    for (int i = 0; i < 200; ++i) net.send(1 + i % 3, 1 + (i + 1) % 3, msg(i));
    std::vector<std::pair<Instant, std::int64_t>> seen;
    for (const auto& d : drain(net)) seen.emplace_back(d.at, round_of(d));
    return seen;
  };
  CHECK(run(7) == run(7));
  CHECK(run(7) != run(8));
}

TEST_CASE("drop - duplicate and reorder do what they say", "[unit]") {
  Network lossy(1, LinkFaults{.drop = 1.0});
  lossy.send(1, 2, msg(1));
  CHECK(drain(lossy).empty());
  CHECK(lossy.stats().dropped == 1);

  Network doubled(1, LinkFaults{.duplicate = 1.0});
  doubled.send(1, 2, msg(1));
  CHECK(drain(doubled).size() == 2);

  Network reordered(
      3, LinkFaults{.delay_min = 1ms, .delay_max = 1ms, .reorder = 0.5, .reorder_max = 100ms});
  for (int i = 0; i < 50; ++i) reordered.send(1, 2, msg(i));
  const auto got = drain(reordered);
  REQUIRE(got.size() == 50);
  bool out_of_order = false;
  for (std::size_t i = 1; i < got.size(); ++i)
    out_of_order |= round_of(got[i]) < round_of(got[i - 1]);
  CHECK(out_of_order);
}

TEST_CASE("partitions and crashed members stop messages - healing restores them", "[unit]") {
  Network net(1);
  net.partition({{1, 2}, {3}});
  CHECK_FALSE(net.connected(1, 3));
  CHECK(net.connected(1, 2));
  net.send(1, 3, msg(1));
  net.send(1, 2, msg(2));
  auto got = drain(net);
  REQUIRE(got.size() == 1);
  CHECK(got[0].to == 2);

  net.heal();
  net.set_up(3, false);
  net.send(1, 3, msg(3));
  CHECK(drain(net).empty());
  net.set_up(3, true);
  net.send(1, 3, msg(4));
  CHECK(drain(net).size() == 1);
}
