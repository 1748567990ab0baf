#include "support/catch.hpp"

#include <system_error>

#include "quorum/error.hpp"

using quorum::errc;

TEST_CASE("error codes carry ZooKeeper's numbers in the quorum category", "[unit]") {
  const std::error_code no_node = errc::no_node;
  CHECK(no_node.value() == -101);
  CHECK(std::string(no_node.category().name()) == "quorum");
  CHECK(no_node.message() == "NoNode");
  CHECK(no_node == errc::no_node);
  CHECK(no_node != errc::node_exists);

  const std::pair<errc, int> table[] = {
      {errc::ok, 0},
      {errc::system_error, -1},
      {errc::connection_loss, -4},
      {errc::marshalling_error, -5},
      {errc::unimplemented, -6},
      {errc::bad_arguments, -8},
      {errc::unknown_session, -12},
      {errc::api_error, -100},
      {errc::no_auth, -102},
      {errc::bad_version, -103},
      {errc::no_children_for_ephemerals, -108},
      {errc::node_exists, -110},
      {errc::not_empty, -111},
      {errc::session_expired, -112},
      {errc::invalid_acl, -114},
      {errc::auth_failed, -115},
      {errc::session_moved, -118},
      {errc::no_watcher, -121},
      {errc::request_timeout, -122},
      {errc::quota_exceeded, -125},
      {errc::throttled_op, -127},
  };
  for (auto [code, number] : table) {
    CAPTURE(number);
    CHECK(make_error_code(code).value() == number);
    CHECK(make_error_code(code).message().rfind("Unknown error", 0) == std::string::npos);
  }
}

TEST_CASE("messages are ZooKeeper's - unknown numbers say so", "[unit]") {
  CHECK(make_error_code(errc::bad_version).message() == "BadVersion");
  CHECK(make_error_code(errc::node_exists).message() == "NodeExists");
  CHECK(make_error_code(errc::not_empty).message() == "Directory not empty");
  CHECK(std::error_code(-999, quorum::error_category()).message() == "Unknown error -999");
}
