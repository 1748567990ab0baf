#include "support/catch.hpp"

#include "quorum/state_machine/kv_state_machine.hpp"

using quorum::KvStateMachine;
using quorum::Txn;
using quorum::Zxid;

namespace {
Txn at(Txn txn, std::uint32_t counter) {
  txn.zxid = Zxid::make(1, counter);
  return txn;
}
}  // namespace

TEST_CASE("set, erase and error txns apply in order", "[unit]") {
  KvStateMachine kv;
  kv.apply(at(KvStateMachine::set("a", "1"), 1));
  kv.apply(at(KvStateMachine::set("b", "2"), 2));
  kv.apply(at(Txn{{}, quorum::txn_type_error, "x"}, 3));
  kv.apply(at(KvStateMachine::erase("a"), 4));
  CHECK_FALSE(kv.get("a").has_value());
  CHECK(kv.get("b") == "2");
  CHECK(kv.last_applied_zxid() == Zxid::make(1, 4));
}

TEST_CASE("a snapshot restores the same state and position", "[unit]") {
  KvStateMachine kv;
  kv.apply(at(KvStateMachine::set("k", std::string("v\0w", 3)), 1));
  kv.apply(at(KvStateMachine::set("", "empty key"), 2));
  KvStateMachine copy;
  REQUIRE_FALSE(copy.restore(kv.snapshot()));
  CHECK(copy.get("k") == std::string("v\0w", 3));
  CHECK(copy.get("") == "empty key");
  CHECK(copy.last_applied_zxid() == Zxid::make(1, 2));
}

TEST_CASE("a damaged snapshot is refused and the state kept", "[unit]") {
  KvStateMachine kv;
  kv.apply(at(KvStateMachine::set("keep", "me"), 1));
  auto image = kv.snapshot();
  std::string cut = image.state;
  cut.pop_back();
  image.state = std::move(cut);
  KvStateMachine target;
  target.apply(at(KvStateMachine::set("old", "state"), 1));
  CHECK(target.restore(image) == quorum::errc::marshalling_error);
  CHECK(target.get("old") == "state");
}
