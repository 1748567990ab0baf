// Jute: ZooKeeper's client-protocol encoding, byte for byte, and refusals of malformed input.
#include "quorum/codec/jute.hpp"

#include "support/catch.hpp"

#include <string>

using namespace quorum;
using namespace quorum::jute;

TEST_CASE("jute primitives are big-endian, buffers and vectors counted, -1 is null", "[jute]") {
  std::string out;
  Writer w(out);
  w.put_int(0x01020304);
  w.put_long(-2);
  w.put_bool(true);
  w.put_buffer("ab");
  w.put_null();
  CHECK(out == std::string("\x01\x02\x03\x04"
                           "\xff\xff\xff\xff\xff\xff\xff\xfe"
                           "\x01"
                           "\x00\x00\x00\x02"
                           "ab"
                           "\xff\xff\xff\xff",
                           4 + 8 + 1 + 6 + 4));
  Reader r(out);
  CHECK(r.get_int() == 0x01020304);
  CHECK(r.get_long() == -2);
  CHECK(r.get_bool());
  CHECK(r.get_buffer() == std::string("ab"));
  CHECK(r.get_buffer() == std::nullopt);
  CHECK(r.at_end());
}

TEST_CASE("a Stat is 68 bytes in ZooKeeper's field order", "[jute]") {
  tree::Stat s;
  s.czxid = Zxid{1}, s.mzxid = Zxid{2}, s.ctime = 3, s.mtime = 4;
  s.version = 5, s.cversion = 6, s.aversion = 7;
  s.ephemeral_owner = 8, s.data_length = 9, s.num_children = 10, s.pzxid = Zxid{11};
  std::string out;
  Writer(out).put(s);
  REQUIRE(out.size() == 68);
  CHECK(out[7] == 1);
  CHECK(out[8 * 4 + 3] == 5);       // version follows the four longs
  CHECK(out[8 * 4 + 12 + 7] == 8);  // then ephemeralOwner
  Reader r(out);
  CHECK(r.get_stat() == s);
  CHECK(r.at_end());
}

TEST_CASE("ACL lists and string vectors round-trip", "[jute]") {
  const tree::AclList acl{{31, {"world", "anyone"}}, {1, {"digest", "u:abc="}}};
  const std::vector<std::string> names{"a", "", "ccc"};
  std::string out;
  Writer w(out);
  w.put(acl);
  w.put(names);
  Reader r(out);
  CHECK(r.get_acl_list() == acl);
  CHECK(r.get_strings() == names);
  CHECK(r.at_end());
}

TEST_CASE("the connect handshake: a new session, the 37-byte response, old clients", "[jute]") {
  ConnectRequest req{0, 0x10, 30000, 0, std::string(16, '\0'), false};
  std::string out;
  Writer w(out);
  put(w, req);
  CHECK(out.size() == 4 + 8 + 4 + 8 + 4 + 16 + 1);
  Reader r(out);
  CHECK(get_connect_request(r) == req);
  CHECK(r.at_end());

  // An old client sends no readOnly byte: it reads as absent, not as false.
  req.read_only.reset();
  std::string old;
  Writer ow(old);
  put(ow, req);
  Reader orr(old);
  CHECK_FALSE(get_connect_request(orr).read_only.has_value());

  const ConnectResponse resp{0, 30000, 0x100000c213c0001, std::string(16, 'p'), false};
  std::string body;
  Writer rw(body);
  put(rw, resp);
  CHECK(body.size() == 37);  // as ZooKeeper 3.8 sends it
  Reader rr(body);
  CHECK(get_connect_response(rr) == resp);
}

TEST_CASE("headers round-trip; special xids are ZooKeeper's", "[jute]") {
  std::string out;
  Writer w(out);
  put(w, RequestHeader{7, 4});
  put(w, ReplyHeader{notification_xid, 0x100000002, -101});
  CHECK(out.size() == 8 + 16);
  Reader r(out);
  CHECK(get_request_header(r) == RequestHeader{7, 4});
  CHECK(get_reply_header(r) == ReplyHeader{-1, 0x100000002, -101});
  CHECK(ping_xid == -2);
  CHECK(auth_xid == -4);
  CHECK(set_watches_xid == -8);
}

TEST_CASE("malformed jute is refused with where and why, never read past", "[jute]") {
  {
    const std::string bytes1("\x00\x00", 2);
    Reader r(bytes1);
    r.get_int();
    CHECK_FALSE(r.ok());
    CHECK(r.why() == "truncated at byte 0 of 2 reading an int");
  }
  {
    const std::string bytes2(
        "\x00\x00\x00\x05"
        "ab",
        6);
    Reader r(bytes2);
    CHECK_FALSE(r.get_buffer());
    CHECK(r.why() == "truncated at byte 4 of 6 reading the bytes of a buffer");
  }
  {
    const std::string bytes3("\xff\xff\xff\xfe", 4);
    Reader r(bytes3);
    CHECK_FALSE(r.get_buffer());
    CHECK(r.why() == "a negative length -2");
  }
  {
    // Two billion ACLs in eight bytes: refused before anything is reserved.
    const std::string bytes4("\x7f\xff\xff\xff\x00\x00\x00\x00", 8);
    Reader r(bytes4);
    CHECK(r.get_acl_list().empty());
    CHECK(r.why() == "2147483647 elements cannot fit in the 4 bytes left");
  }
  {
    // The first failure is kept; later reads return nothing.
    const std::string bytes5("\x00", 1);
    Reader r(bytes5);
    r.get_long();
    r.get_int();
    CHECK(r.why() == "truncated at byte 0 of 1 reading a long");
  }
}
