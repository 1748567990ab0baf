// Path validation and names, as ZooKeeper 3.8 decides them (zk-reference §3.3-3.4).
#include "support/catch.hpp"

#include <string>

#include "quorum/tree/path.hpp"
#include "quorum/tree/stat.hpp"

using quorum::tree::node_name;
using quorum::tree::parent_path;
using quorum::tree::sequential_path;
using quorum::tree::validate_path;

TEST_CASE("valid paths pass", "[unit]") {
  for (const char* p : {"/", "/a", "/a/b", "/zookeeper", "/a.b", "/...", "/a/.b", "/-", "/a b",
                        "/\xc3\xa9t\xc3\xa9", "/\xe4\xb8\xad"})
    CHECK(validate_path(p).empty());
}

TEST_CASE("each bad path is refused with its reason", "[unit]") {
  CHECK(validate_path("") == "path is empty");
  CHECK(validate_path("a") == "path must start with /");
  CHECK(validate_path("/a/") == "path must not end with /");  // ZooKeeper: -8 [obs]
  CHECK(validate_path("/a//b") == "empty segment (//) at offset 3");
  CHECK(validate_path("/a/./b").find("relative segment \".\"") != std::string::npos);
  CHECK(validate_path("/..").find("relative segment \"..\"") != std::string::npos);
  CHECK(validate_path(std::string("/a\0b", 4)).find("U+0000") != std::string::npos);
  CHECK(validate_path("/a\x1f").find("U+001F") != std::string::npos);
  CHECK(validate_path("/a\x7f").find("U+007F") != std::string::npos);
  CHECK(validate_path("/\xc2\x85").find("U+0085") != std::string::npos);      // C1 control
  CHECK(validate_path("/\xee\x80\x80").find("U+E000") != std::string::npos);  // private use
  CHECK(validate_path("/\xef\xbf\xb0").find("U+FFF0") != std::string::npos);  // specials
  CHECK(validate_path("/\xf0\x9f\x98\x80").find("U+1F600") !=
        std::string::npos);  // needs surrogates
  CHECK(validate_path("/\xff").find("invalid UTF-8") != std::string::npos);
  CHECK(validate_path("/\xe4\xb8").find("truncated UTF-8") != std::string::npos);
  CHECK(validate_path("/\xc0\xaf").find("overlong") != std::string::npos);
}

TEST_CASE("parents and names", "[unit]") {
  CHECK(parent_path("/a/b") == "/a");
  CHECK(parent_path("/a") == "/");
  CHECK(parent_path("/").empty());
  CHECK(node_name("/a/b") == "b");
  CHECK(node_name("/").empty());
}

TEST_CASE("sequential names: the parent's stored cversion - 10 digits - signed 32-bit", "[unit]") {
  CHECK(sequential_path("/q/job-", 0) == "/q/job-0000000000");
  CHECK(sequential_path("/q/job-", 3) == "/q/job-0000000003");  // [obs] after 3 creates
  CHECK(sequential_path("/a/", 1) == "/a/0000000001");          // "/a/" + suffix is valid
  CHECK(validate_path(sequential_path("/a/", 1)).empty());
  CHECK(sequential_path("/n", 2147483647) == "/n2147483647");
  CHECK(sequential_path("/n", -2147483647 - 1) == "/n-2147483648");  // wrapped
  CHECK(sequential_path("/n", -5) == "/n-000000005");  // Java's %010d pads after the sign
}

TEST_CASE("visible cversion counts creates and deletes - versions wrap", "[unit]") {
  // [obs] 4 creates and 1 delete under /a: cversion 5, numChildren 3.
  CHECK(quorum::tree::visible_cversion(4, 3) == 5);
  CHECK(quorum::tree::visible_cversion(0, 0) == 0);
  CHECK(quorum::tree::next_version(0) == 1);
  CHECK(quorum::tree::next_version(2147483647) == -2147483647 - 1);
}
