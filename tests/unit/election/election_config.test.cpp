#include "support/catch.hpp"

#include <stdexcept>

#include "quorum/election/election_core.hpp"

using quorum::ElectionConfig;

TEST_CASE("a valid config passes", "[unit]") {
  CHECK(validate(ElectionConfig{.self = 2, .voters = {1, 2, 3}}).empty());
}

TEST_CASE("each bad config is named", "[unit]") {
  using namespace std::chrono_literals;
  CHECK(validate(ElectionConfig{.self = 0, .voters = {1}}).find("self id 0") != std::string::npos);
  CHECK(validate(ElectionConfig{.self = 256, .voters = {256}}).find("1..255") != std::string::npos);
  CHECK(validate(ElectionConfig{.self = 1, .voters = {}}).find("empty") != std::string::npos);
  CHECK(validate(ElectionConfig{.self = 1, .voters = {1, 2, 2}}).find("listed twice") !=
        std::string::npos);
  CHECK(validate(ElectionConfig{.self = 4, .voters = {1, 2, 3}}).find("not among the voters") !=
        std::string::npos);
  ElectionConfig c{.self = 1, .voters = {1}};
  c.finalize_wait = -1ms;
  CHECK(validate(c).find("finalize_wait") != std::string::npos);
  c = ElectionConfig{.self = 1, .voters = {1}};
  c.min_notification_interval = 0ms;
  CHECK(validate(c).find("min_notification_interval") != std::string::npos);
  c = ElectionConfig{.self = 1, .voters = {1}};
  c.max_notification_interval = 1ms;
  CHECK(validate(c).find("max_notification_interval is below") != std::string::npos);
  c = ElectionConfig{.self = 1, .voters = {1}};
  c.min_notification_interval = 100ms;
  c.max_notification_interval = 200ms;  // equal to the finalize wait: could livelock
  CHECK(validate(c).find("must exceed finalize_wait") != std::string::npos);
}

TEST_CASE("an election refuses a bad config with the reason", "[unit]") {
  try {
    quorum::ElectionCore core(ElectionConfig{.self = 4, .voters = {1, 2, 3}});
    FAIL("accepted a member that is not a voter");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("self id 4 is not among the voters") != std::string::npos);
  }
}
