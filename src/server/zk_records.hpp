// ZooKeeper's request and reply records (zk-reference §6, §7.5) between jute bytes and the
// member's types: what a client connection decodes before calling the member, and how it
// encodes what comes back. Decoders leave the Reader failed on garbled input; the caller
// answers MARSHALLINGERROR, as ZooKeeper's request processors do. Private to src/server.
#pragma once

#include <string>
#include <vector>

#include "quorum/codec/jute.hpp"
#include "quorum/node/reply.hpp"
#include "quorum/tree/records.hpp"

namespace quorum::server::wire {

using tree::OpCode;

/// The code a reply header carries for an error: ZooKeeper's, or SYSTEMERROR for others.
inline std::int32_t err_of(const std::error_code& ec) {
  if (!ec) return 0;
  return ec.category() == error_category() ? ec.value() : -1;
}

/// A request's path. A null one does not decode (ZooKeeper fails on it: MARSHALLINGERROR).
inline std::string get_path(jute::Reader& in) {
  std::optional<std::string> path = in.get_buffer();
  if (in.ok() && !path) in.fail("a null path");
  return path.value_or(std::string());
}

/// CreateRequest / CreateTTLRequest. Out-of-range flags go through: the leader's prep refuses
/// them (BADARGUMENTS) as a committed error, as ZooKeeper does.
inline tree::CreateRequest get_create(jute::Reader& in, OpCode op) {
  tree::CreateRequest c;
  c.path = get_path(in);
  c.data = in.get_buffer().value_or(std::string());
  c.acl = in.get_acl_list();
  c.mode = static_cast<tree::CreateMode>(in.get_int());
  if (op == OpCode::create_ttl) c.ttl_ms = in.get_long();
  c.op = op;
  return c;
}

inline tree::DeleteRequest get_delete(jute::Reader& in) {
  tree::DeleteRequest d;
  d.path = get_path(in);
  d.version = in.get_int();
  return d;
}

inline tree::SetDataRequest get_set_data(jute::Reader& in) {
  tree::SetDataRequest s;
  s.path = get_path(in);
  s.data = in.get_buffer().value_or(std::string());
  s.version = in.get_int();
  return s;
}

inline tree::CheckRequest get_check(jute::Reader& in) {
  tree::CheckRequest c;
  c.path = get_path(in);
  c.version = in.get_int();
  return c;
}

/// exists, getData, getChildren(2): {path, bool watch}.
inline ReadRequest get_read(jute::Reader& in, OpCode op) {
  ReadRequest r;
  r.op = op;
  r.path = get_path(in);
  r.watch = in.get_bool();
  return r;
}

struct MultiHeader {
  std::int32_t type = -1;
  bool done = true;
  std::int32_t err = -1;
};
inline MultiHeader get_multi_header(jute::Reader& in) {
  MultiHeader h;
  h.type = in.get_int();
  h.done = in.get_bool();
  h.err = in.get_int();
  return h;
}
inline void put(jute::Writer& w, const MultiHeader& h) {
  w.put_int(h.type), w.put_bool(h.done), w.put_int(h.err);
}

/// A multi's ops: writes (into `writes`) or reads (into `reads`), in order. False when an op's
/// type cannot be in a multi at all ("Invalid type of op" in ZooKeeper: MARSHALLINGERROR).
/// A create's opcode follows its mode, as ZooKeeper's Op.create decides it: TTL modes are
/// createTTL, a container createContainer, the rest create (whose result has no Stat).
inline bool get_multi(jute::Reader& in, std::vector<tree::MultiOp>& writes,
                      std::vector<ReadRequest>& reads) {
  for (;;) {
    const MultiHeader h = get_multi_header(in);
    if (!in.ok()) return false;
    if (h.done) return true;
    switch (static_cast<OpCode>(h.type)) {
      case OpCode::create:
      case OpCode::create2:
      case OpCode::create_container:
      case OpCode::create_ttl: {
        tree::CreateRequest c = get_create(in, static_cast<OpCode>(h.type));
        c.op = tree::is_ttl(c.mode)                    ? OpCode::create_ttl
               : c.mode == tree::CreateMode::container ? OpCode::create_container
                                                       : OpCode::create;
        writes.emplace_back(std::move(c));
        break;
      }
      case OpCode::remove:
        writes.emplace_back(get_delete(in));
        break;
      case OpCode::set_data:
        writes.emplace_back(get_set_data(in));
        break;
      case OpCode::check:
        writes.emplace_back(get_check(in));
        break;
      case OpCode::get_data:
      case OpCode::get_children:
        reads.push_back(get_read(in, static_cast<OpCode>(h.type)));
        reads.back().watch = false;  // multiRead sets no watches
        break;
      default:
        return false;
    }
    if (!in.ok()) return false;
  }
}

/// SetWatches {long relativeZxid, data, exist, child} and SetWatches2 (+ persistent,
/// persistentRecursive).
inline SetWatchesRequest get_set_watches(jute::Reader& in, bool v2) {
  SetWatchesRequest r;
  r.relative_zxid = Zxid{in.get_long()};
  r.data = in.get_strings();
  r.exist = in.get_strings();
  r.child = in.get_strings();
  if (v2) {
    r.persistent = in.get_strings();
    r.persistent_recursive = in.get_strings();
  }
  return r;
}

/// A multi's results. All succeeded: each op's own record (create without a Stat, the other
/// creates as create2); one failed: every result an ErrorResult (0 before it, its code, then
/// RUNTIMEINCONSISTENCY), as ZooKeeper sends them. The reply header says 0 either way.
inline void put_multi_results(jute::Writer& w, const std::vector<tree::OpResult>& results) {
  bool failed = false;
  for (const tree::OpResult& r : results) failed = failed || r.err != errc::ok;
  for (const tree::OpResult& r : results) {
    const auto err = static_cast<std::int32_t>(r.err);
    if (failed) {
      put(w, MultiHeader{-1, false, err});
      w.put_int(err);
      continue;
    }
    switch (r.op) {
      case OpCode::create:
        put(w, MultiHeader{static_cast<std::int32_t>(OpCode::create), false, 0});
        w.put_string(r.path);
        break;
      case OpCode::create2:
      case OpCode::create_container:
      case OpCode::create_ttl:
        put(w, MultiHeader{static_cast<std::int32_t>(OpCode::create2), false, 0});
        w.put_string(r.path);
        w.put(r.stat);
        break;
      case OpCode::set_data:
        put(w, MultiHeader{static_cast<std::int32_t>(OpCode::set_data), false, 0});
        w.put(r.stat);
        break;
      default:  // delete, check: no body
        put(w, MultiHeader{static_cast<std::int32_t>(r.op), false, 0});
        break;
    }
  }
  put(w, MultiHeader{});
}

/// multiRead's results: each read on its own, an error as ErrorResult.
inline void put_multi_read_results(jute::Writer& w, const std::vector<ReadRequest>& reads,
                                   const std::vector<Reply>& replies) {
  for (std::size_t i = 0; i < replies.size() && i < reads.size(); ++i) {
    const Reply& r = replies[i];
    if (r.error) {
      const std::int32_t err = err_of(r.error);
      put(w, MultiHeader{-1, false, err});
      w.put_int(err);
    } else if (reads[i].op == OpCode::get_data) {
      put(w, MultiHeader{static_cast<std::int32_t>(OpCode::get_data), false, 0});
      w.put_buffer(r.data);
      w.put(r.stat);
    } else {
      put(w, MultiHeader{static_cast<std::int32_t>(OpCode::get_children), false, 0});
      w.put(r.children);
    }
  }
  put(w, MultiHeader{});
}

/// whoAmI: {vector<ClientInfo{authScheme, user}>}; a digest id's user is its name (the part
/// before ':'), as ZooKeeper's digest provider reports it.
inline void put_who_am_i(jute::Writer& w, const std::vector<tree::Id>& ids) {
  w.put_int(static_cast<std::int32_t>(ids.size()));
  for (const tree::Id& id : ids) {
    w.put_string(id.scheme);
    w.put_string(id.scheme == "digest" ? id.id.substr(0, id.id.find(':')) : id.id);
  }
}

}  // namespace quorum::server::wire
