// ZkConnection::request: one client request, decoded and handed to the member; its reply
// encoded as ZooKeeper 3.8 sends it (zk-reference §5–§7).
#include <cstring>

#include "quorum/codec/jute.hpp"
#include "quorum/error.hpp"
#include "zk_connection.hpp"
#include "zk_records.hpp"

namespace quorum::server {

using tree::OpCode;

namespace {

// The four letters cons shows for a connection's last operation (ZooKeeper's names).
const char* op_name(OpCode op) {
  switch (op) {
    case OpCode::ping:
      return "PING";
    case OpCode::close_session:
      return "CLOS";
    case OpCode::multi:
      return "MULT";
    case OpCode::multi_read:
      return "MLTR";
    case OpCode::create:
    case OpCode::create2:
    case OpCode::create_container:
    case OpCode::create_ttl:
      return "CREA";
    case OpCode::remove:
      return "DELE";
    case OpCode::set_data:
      return "SETD";
    case OpCode::reconfig:
      return "RECO";
    case OpCode::set_acl:
      return "SETA";
    case OpCode::check:
      return "CHEC";
    case OpCode::exists:
      return "EXIS";
    case OpCode::get_data:
      return "GETD";
    case OpCode::set_watches:
      return "SETW";
    case OpCode::set_watches2:
      return "STW2";
    case OpCode::add_watch:
      return "ADDW";
    case OpCode::get_acl:
      return "GETA";
    case OpCode::get_children:
    case OpCode::get_children2:
      return "GETC";
    case OpCode::check_watches:
      return "CHKW";
    case OpCode::remove_watches:
      return "REMW";
    case OpCode::get_ephemerals:
      return "GETE";
    case OpCode::get_all_children_number:
      return "GETACN";
    case OpCode::sync:
      return "SYNC";
    case OpCode::whoami:
      return "HOMI";
    default:
      return "NA";
  }
}

}  // namespace

template <class Encode>
ReplyHandler ZkConnection::answer(std::int32_t xid, Encode encode) {
  return [weak = weak_from_this(), xid, encode = std::move(encode)](Reply r) {
    auto self = weak.lock();
    if (!self) return;
    std::string body;
    if (!r.error) {
      jute::Writer w(body);
      encode(w, r);
    }
    self->post([xid, r = std::move(r), body = std::move(body)](ZkConnection& c) {
      c.reply(xid, r, body);
    });
  };
}

void ZkConnection::request(const std::string& frame) {
  jute::Reader in(frame);
  const jute::RequestHeader h = jute::get_request_header(in);
  if (!in.ok()) return close(true);
  const std::int32_t xid = h.xid;
  const auto op = static_cast<OpCode>(h.type);  // an unknown number goes to default
  last_op_ = op_name(op);
  last_cxid_ = xid;
  if (op != OpCode::ping && op != OpCode::auth) {
    in_flight_.push_back({xid, std::chrono::steady_clock::now(), std::nullopt});
    ++port_stats_.outstanding;
  }
  const auto nothing = [](jute::Writer&, const Reply&) {};
  const auto stat = [](jute::Writer& w, const Reply& r) { w.put(r.stat); };
  // A body that does not decode: MARSHALLINGERROR, as ZooKeeper's processors answer it
  // (bytes after a complete record are ignored, as jute ignores them).
  const auto garbled = [&] {
    Reply bad;
    bad.zxid = Zxid{last_zxid_};
    bad.error = make_error_code(errc::marshalling_error);
    reply(xid, bad);
  };
  const auto write = [&](tree::RequestBody body, auto encode) {
    if (!in.ok()) return garbled();
    member_->write(session_, std::move(body), answer(xid, std::move(encode)));
  };
  const auto read = [&](ReadRequest r, auto encode) {
    if (!in.ok()) return garbled();
    member_->read(session_, std::move(r), answer(xid, std::move(encode)));
  };

  switch (op) {
    case OpCode::ping: {
      std::string out;
      jute::Writer w(out);
      put(w, jute::ReplyHeader{jute::ping_xid, last_zxid_, 0});
      send(framed(out));
      return;
    }
    case OpCode::close_session:
      member_->close_session(session_, [weak = weak_from_this(), xid](Reply r) {
        if (auto self = weak.lock())
          self->post([xid, r](ZkConnection& c) {
            c.reply(xid, r);
            c.close_after_write_ = true;
            c.session_ = 0;  // closed: nothing to detach
          });
      });
      return;
    case OpCode::create:
    case OpCode::create2:
    case OpCode::create_container:
    case OpCode::create_ttl: {
      const bool with_stat = op != OpCode::create;
      return write(wire::get_create(in, op), [with_stat](jute::Writer& w, const Reply& r) {
        w.put_string(r.path);
        if (with_stat) w.put(r.stat);
      });
    }
    case OpCode::remove:
      return write(wire::get_delete(in), nothing);
    case OpCode::set_data:
      return write(wire::get_set_data(in), stat);
    case OpCode::set_acl: {
      tree::SetAclRequest s;
      s.path = wire::get_path(in);
      s.acl = in.get_acl_list();
      s.version = in.get_int();
      return write(std::move(s), stat);
    }
    case OpCode::check:
      // Outside a multi: SetDataResponse with the node's Stat. (ZooKeeper 3.8 closes the
      // connection when such a check succeeds: its reply has no Stat to encode.)
      return write(wire::get_check(in), stat);
    case OpCode::multi:
    case OpCode::multi_read: {
      std::vector<tree::MultiOp> writes;
      std::vector<ReadRequest> reads;
      // A multi holds writes only and a multiRead reads only; anything else does not decode.
      if (!wire::get_multi(in, writes, reads) || (op == OpCode::multi && !reads.empty()))
        return garbled();
      if (op == OpCode::multi_read && !writes.empty()) {
        // ZooKeeper 3.8 sends an empty MultiResponse after this header.
        std::string out;
        jute::Writer w(out);
        put(w,
            jute::ReplyHeader{xid, last_zxid_, static_cast<std::int32_t>(errc::marshalling_error)});
        wire::put_multi_results(w, {});
        return deliver(xid, framed(out));
      }
      if (op == OpCode::multi)
        return write(tree::MultiRequest{std::move(writes)}, [](jute::Writer& w, const Reply& r) {
          wire::put_multi_results(w, r.results);
        });
      member_->multi_read(session_, reads, answer(xid, [reads](jute::Writer& w, const Reply& r) {
                            wire::put_multi_read_results(w, reads, r.reads);
                          }));
      return;
    }
    case OpCode::exists:
    case OpCode::get_data:
    case OpCode::get_children:
    case OpCode::get_children2:
      return read(wire::get_read(in, op), [op](jute::Writer& w, const Reply& r) {
        if (op == OpCode::get_data) w.put_buffer(r.data);
        if (op == OpCode::get_children || op == OpCode::get_children2) w.put(r.children);
        if (op != OpCode::get_children) w.put(r.stat);
      });
    case OpCode::get_acl:
      return read(ReadRequest{op, wire::get_path(in), false}, [](jute::Writer& w, const Reply& r) {
        w.put(r.acl);
        w.put(r.stat);
      });
    case OpCode::get_all_children_number:
      return read(ReadRequest{op, wire::get_path(in), false},
                  [](jute::Writer& w, const Reply& r) { w.put_int(r.number); });
    case OpCode::get_ephemerals:  // a null prefix is every ephemeral, as "" is
      return read(ReadRequest{op, in.get_string(), false},
                  [](jute::Writer& w, const Reply& r) { w.put(r.children); });
    case OpCode::whoami:
      return read(ReadRequest{op, {}, false},
                  [](jute::Writer& w, const Reply& r) { wire::put_who_am_i(w, r.ids); });
    case OpCode::add_watch:
    case OpCode::remove_watches:
    case OpCode::check_watches: {
      WatchRequest r{op, wire::get_path(in), in.get_int()};
      // An AddWatchMode or WatcherType ZooKeeper has no name for does not decode either.
      const bool known =
          op == OpCode::add_watch ? r.mode == 0 || r.mode == 1 : r.mode >= 1 && r.mode <= 3;
      if (!in.ok() || !known) return garbled();
      // addWatch answers ErrorResponse{0}; the other two have no body.
      const bool add = op == OpCode::add_watch;
      member_->watch(session_, std::move(r), answer(xid, [add](jute::Writer& w, const Reply&) {
                       if (add) w.put_int(0);
                     }));
      return;
    }
    case OpCode::set_watches:
    case OpCode::set_watches2: {
      SetWatchesRequest r = wire::get_set_watches(in, op == OpCode::set_watches2);
      if (!in.ok()) return garbled();
      member_->set_watches(session_, std::move(r), answer(xid, nothing));
      return;
    }
    case OpCode::sync: {
      std::string path = wire::get_path(in);
      if (!in.ok()) return garbled();
      member_->sync(session_, path,
                    answer(xid, [path](jute::Writer& w, const Reply&) { w.put_string(path); }));
      return;
    }
    case OpCode::auth: {
      (void)in.get_int();  // type, always 0
      std::string scheme = in.get_string();
      std::string auth = in.get_buffer().value_or(std::string());
      if (!in.ok()) return garbled();
      member_->add_auth(session_, std::move(scheme), std::move(auth),
                        [weak = weak_from_this()](Reply r) {
                          if (auto self = weak.lock())
                            self->post([r](ZkConnection& c) {
                              std::string out;
                              jute::Writer w(out);
                              put(w, jute::ReplyHeader{jute::auth_xid, 0, wire::err_of(r.error)});
                              c.send(framed(out));
                              // AUTHFAILED ends the connection.
                              if (r.error) c.close_after_write_ = true;
                            });
                        });
      return;
    }
    case OpCode::reconfig: {
      // Dynamic reconfiguration is off (reconfigEnabled=false): RECONFIGDISABLED once the
      // request decodes, as ZooKeeper answers.
      (void)in.get_string(), (void)in.get_string(), (void)in.get_string(), (void)in.get_long();
      if (!in.ok()) return garbled();
      Reply r;
      r.zxid = Zxid{last_zxid_};
      r.error = make_error_code(errc::reconfig_disabled);
      return reply(xid, r);
    }
    case OpCode::sasl:  // no SASL here: ZooKeeper without a SASL provider closes
      return close(true);
    default: {
      // An unknown opcode: UNIMPLEMENTED, then ZooKeeper closes the connection.
      Reply r;
      r.zxid = Zxid{last_zxid_};
      r.error = make_error_code(errc::unimplemented);
      reply(xid, r);
      close_after_write_ = true;
      return;
    }
  }
}

}  // namespace quorum::server
