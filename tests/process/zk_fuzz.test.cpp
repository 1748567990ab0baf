// Bad input at the client port (issue 7, item 5): a standalone quorumd gets 400 connections
// (~2,800 frames) from a seeded generator: random first bytes and four-letter-like words, a
// handshake then random frames, mutated well-formed requests of every opcode (bytes flipped,
// truncated, extended, string lengths and vector counts made huge or negative), length prefixes
// that lie, and oversized packets (closed from the prefix alone). Each connection must be
// answered with well-formed frames (a ConnectResponse, then replies whose xid is one we sent or
// a special one, with the body the opcode calls for, in request order) and every complete
// request before one that ends the connection must be answered within 2 s, or the connection
// closed; after our half-close the server must close. A witness client writes and reads back a
// node between rounds; afterwards the process is alive, ruok/srvr answer, no connection leaks.
//   QUORUM_FUZZ_SEED=N         another seed (the default is fixed; the seed is printed)
//   QUORUM_FUZZ_TRACE=1        print every connection's bytes, sent and received, in hex
//   QUORUM_FUZZ_STRICT_ORDER=1 fail on the known out-of-order replies too (see run_case)
// A failure names the seed, the connection's index and its bytes in hex.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "quorum/codec/jute.hpp"
#include "quorum/server/four_letter_client.hpp"
#include "support/catch.hpp"
#include "support/child_process.hpp"
#include "support/free_ports.hpp"
#include "support/temp_dir.hpp"

#ifndef QUORUMD
#error "QUORUMD (the quorumd binary) must be a compile definition of the test target"
#endif

using namespace std::chrono_literals;
namespace jute = quorum::jute;
using Clock = std::chrono::steady_clock;

namespace {

// The server's packet limit (ClientPortOptions::max_packet): jute.maxbuffer, 1048575 by
// default, checked as ZooKeeper 3.8's NIOServerCnxn checks it (a length above it closes).
constexpr std::uint32_t max_packet = 0xfffff;
constexpr std::size_t max_reply = 4 * 1024 * 1024;
// How long a reply, or the close after our half-close, may take.
constexpr auto io_bound = 2s;
constexpr std::uint64_t default_seed = 0x7a6b'2024'0705ull;

const char* const known_words[] = {"conf", "cons", "crst", "dirs", "dump", "envi",
                                   "gtmk", "ruok", "stmk", "srst", "srvr", "stat",
                                   "wchc", "wchp", "wchs", "mntr", "isro", "hash"};

bool is_word(std::string_view first4) {
  return std::any_of(std::begin(known_words), std::end(known_words),
                     [&](const char* w) { return first4 == w; });
}

std::uint32_t be32(std::string_view b, std::size_t at) {
  return (std::uint32_t{static_cast<std::uint8_t>(b[at])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(b[at + 1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(b[at + 2])} << 8) |
         std::uint32_t{static_cast<std::uint8_t>(b[at + 3])};
}

std::string prefix(std::uint32_t v) {
  std::string out;
  jute::Writer(out).put_int(static_cast<std::int32_t>(v));
  return out;
}

std::string framed(std::string_view body) {
  return prefix(static_cast<std::uint32_t>(body.size())) + std::string(body);
}

std::string hex(std::string_view b, std::size_t limit = 3000) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size() && i < limit; ++i) {
    const auto c = static_cast<std::uint8_t>(b[i]);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  if (b.size() > limit) out += "...(" + std::to_string(b.size()) + " bytes in all)";
  return out;
}

// ---- a raw connection: non-blocking, every wait bounded -------------------------------------

class Conn {
 public:
  explicit Conn(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      return;
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const noexcept { return fd_ >= 0; }
  bool closed() const noexcept { return eof_ || reset_; }
  bool reset() const noexcept { return reset_; }
  std::string& in() noexcept { return in_; }

  /// Writes all of `bytes`, reading what arrives meanwhile; false when the peer closed first or
  /// the deadline passed.
  bool send(std::string_view bytes, Clock::time_point deadline) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      if (reset_ || write_failed_) return false;
      const int left = ms_until(deadline);
      if (left <= 0) return false;
      pollfd p{fd_, static_cast<short>(POLLOUT | (eof_ ? 0 : POLLIN)), 0};
      if (::poll(&p, 1, left) <= 0) continue;
      if (p.revents & (POLLIN | POLLERR | POLLHUP)) read_available();
      if (p.revents & POLLOUT) {
        const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n > 0)
          off += static_cast<std::size_t>(n);
        else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
          write_failed_ = true;
      } else if (eof_ && (p.revents & (POLLERR | POLLHUP))) {
        write_failed_ = true;
      }
    }
    return true;
  }

  /// Reads until `enough()`, the end of the stream or the deadline.
  void read_until(const std::function<bool()>& enough, Clock::time_point deadline) {
    while (!closed() && !enough()) {
      const int left = ms_until(deadline);
      if (left <= 0) return;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) > 0) read_available();
    }
  }

  void half_close() { ::shutdown(fd_, SHUT_WR); }

 private:
  static int ms_until(Clock::time_point t) {
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count());
  }
  void read_available() {
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        in_.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0)
        eof_ = true;
      else if (errno == EINTR)
        continue;
      else if (errno != EAGAIN && errno != EWOULDBLOCK)
        reset_ = true;
      return;
    }
  }

  int fd_ = -1;
  std::string in_;
  bool eof_ = false, reset_ = false, write_failed_ = false;
};

// Complete frames of `in` from `pos` (advanced past them). A prefix no reply can have sets `bad`.
std::vector<std::string_view> frames_of(const std::string& in, std::size_t& pos,
                                        std::string* bad = nullptr) {
  std::vector<std::string_view> out;
  while (pos + 4 <= in.size()) {
    const std::uint32_t n = be32(in, pos);
    if (n > max_reply) {
      if (bad) *bad = "a reply length prefix of " + std::to_string(static_cast<std::int32_t>(n));
      break;
    }
    if (pos + 4 + n > in.size()) break;
    out.emplace_back(in.data() + pos + 4, n);
    pos += 4 + n;
  }
  return out;
}

// ---- the witness: a tiny blocking client that speaks the protocol properly ------------------

struct Reply {
  jute::ReplyHeader header;
  std::string body;
};

class Client {
 public:
  /// Connects and opens a session; `why` says what failed.
  Client(std::uint16_t port, std::int32_t timeout_ms) : conn_(port) {
    if (!conn_.ok()) {
      why_ = "cannot connect";
      return;
    }
    jute::ConnectRequest c;
    c.timeout_ms = timeout_ms;
    c.password.assign(16, '\0');
    c.read_only = false;
    std::string body;
    jute::Writer w(body);
    put(w, c);
    if (!conn_.send(framed(body), Clock::now() + io_bound)) {
      why_ = "cannot send the handshake";
      return;
    }
    std::vector<std::string_view> f;
    conn_.read_until([&] { return !(f = frames_of(conn_.in(), pos_)).empty(); },
                     Clock::now() + io_bound);
    if (f.empty()) {
      why_ = "no ConnectResponse";
      return;
    }
    jute::Reader r(f[0]);
    const jute::ConnectResponse resp = jute::get_connect_response(r);
    if (!r.at_end() || resp.timeout_ms <= 0) {
      why_ = "a bad ConnectResponse " + hex(f[0]);
      return;
    }
    session_ = resp.session_id;
    ready_ = true;
  }
  bool ready() const noexcept { return ready_; }
  const std::string& why() const noexcept { return why_; }

  /// One request and its reply (watch events skipped), or nullopt (why() says).
  std::optional<Reply> call(std::int32_t op, std::string_view body) {
    if (!ready_) return std::nullopt;
    const std::int32_t xid = ++xid_;
    std::string req;
    jute::Writer w(req);
    put(w, jute::RequestHeader{xid, op});
    req += body;
    if (!conn_.send(framed(req), Clock::now() + io_bound)) {
      why_ = "cannot send op " + std::to_string(op);
      return std::nullopt;
    }
    std::optional<Reply> got;
    conn_.read_until(
        [&] {
          for (std::string_view f : frames_of(conn_.in(), pos_)) {
            jute::Reader r(f);
            Reply rep{jute::get_reply_header(r), {}};
            if (!r.ok()) continue;
            if (rep.header.xid == jute::notification_xid) continue;
            rep.body.assign(f.substr(16));
            got = std::move(rep);
            return true;
          }
          return false;
        },
        Clock::now() + io_bound);
    if (!got) {
      why_ = conn_.closed() ? "closed by the server" : "no reply within the bound";
      ready_ = false;
    } else if (got->header.xid != xid) {
      why_ = "reply xid " + std::to_string(got->header.xid) + " for request " + std::to_string(xid);
      return std::nullopt;
    }
    return got;
  }

 private:
  Conn conn_;
  std::size_t pos_ = 0;
  std::int32_t xid_ = 0;
  std::int64_t session_ = 0;
  bool ready_ = false;
  std::string why_;
};

std::string world_acl_body(std::string_view path, std::string_view data, std::int32_t mode) {
  std::string b;
  jute::Writer w(b);
  w.put_string(path);
  w.put_buffer(data);
  w.put(quorum::tree::AclList{quorum::tree::Acl{31, {"world", "anyone"}}});
  w.put_int(mode);
  return b;
}

// ---- generators --------------------------------------------------------------------------------

struct Rng {
  explicit Rng(std::uint64_t seed) : g(seed) {}
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(g);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(g) < p; }
  std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(in(0, 255));
    return s;
  }
  std::string alnum(std::size_t n) {
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(n, 'a');
    for (char& c : s) c = set[in(0, sizeof set - 2)];
    return s;
  }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(in(0, static_cast<std::int64_t>(v.size()) - 1))];
  }
  std::mt19937_64 g;
};

// A request (header included) and where its string lengths and vector counts are.
struct Msg {
  std::string bytes;
  std::vector<std::size_t> lengths;
};

class Build {
 public:
  Build& i32(std::int64_t v) {
    w_.put_int(static_cast<std::int32_t>(v));
    return *this;
  }
  Build& i64(std::int64_t v) {
    w_.put_long(v);
    return *this;
  }
  Build& flag(bool v) {
    w_.put_bool(v);
    return *this;
  }
  Build& str(std::string_view s) {
    m_.lengths.push_back(m_.bytes.size());
    w_.put_string(s);
    return *this;
  }
  Build& count(std::size_t n) {
    m_.lengths.push_back(m_.bytes.size());
    w_.put_int(static_cast<std::int32_t>(n));
    return *this;
  }
  Build& raw(std::string_view s) {
    m_.bytes += s;
    return *this;
  }
  Msg done() { return std::move(m_); }

 private:
  Msg m_;
  jute::Writer w_{m_.bytes};
};

// The fuzz's own subtree (the witness's node is elsewhere, so no mutation reaches it).
const std::string fuzz_root = "/quorum-fuzz";
const std::string witness_path = "/witness-7";

std::string some_path(Rng& r) {
  static const std::vector<std::string> fixed{fuzz_root,
                                              fuzz_root + "/a",
                                              fuzz_root + "/b",
                                              fuzz_root + "/a/c",
                                              fuzz_root + "/",
                                              fuzz_root + "//a",
                                              fuzz_root + "/a/c/d",
                                              "/",
                                              "",
                                              "quorum-fuzz",
                                              "/zookeeper",
                                              "/zookeeper/quota",
                                              fuzz_root + "/\xff\xfe\x00x",
                                              fuzz_root + "/."};
  if (r.chance(0.3)) return fuzz_root + "/" + r.alnum(static_cast<std::size_t>(r.in(1, 8)));
  return r.pick(fixed);
}

void some_acl(Build& b, Rng& r) {
  const auto n = static_cast<std::size_t>(r.chance(0.9) ? 1 : r.in(0, 3));
  b.count(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (r.in(0, 5)) {
      case 0:
        b.i32(r.in(0, 31)).str("ip").str("127.0.0.1");
        break;
      case 1:
        b.i32(31).str("digest").str("u:" + r.alnum(27) + "=");
        break;
      case 2:
        b.i32(31).str("auth").str("");
        break;
      case 3:
        b.i32(31).str("bogus").str(r.alnum(3));
        break;
      default:
        b.i32(31).str("world").str("anyone");
        break;
    }
  }
}

constexpr std::int32_t op_create = 1, op_delete = 2, op_exists = 3, op_get_data = 4,
                       op_set_data = 5, op_get_acl = 6, op_set_acl = 7, op_get_children = 8,
                       op_sync = 9, op_ping = 11, op_get_children2 = 12, op_check = 13,
                       op_multi = 14, op_create2 = 15, op_reconfig = 16, op_check_watches = 17,
                       op_remove_watches = 18, op_create_container = 19, op_create_ttl = 21,
                       op_multi_read = 22, op_auth = 100, op_set_watches = 101, op_sasl = 102,
                       op_get_ephemerals = 103, op_get_all_children_number = 104,
                       op_set_watches2 = 105, op_add_watch = 106, op_whoami = 107,
                       op_close_session = -11;

// Every opcode a client sends, and some nobody does.
const std::vector<std::int32_t> common_ops{
    op_create,        op_delete,         op_exists,
    op_get_data,      op_set_data,       op_get_acl,
    op_set_acl,       op_get_children,   op_sync,
    op_ping,          op_get_children2,  op_check,
    op_multi,         op_create2,        op_reconfig,
    op_check_watches, op_remove_watches, op_create_container,
    op_create_ttl,    op_multi_read,     op_auth,
    op_set_watches,   op_get_ephemerals, op_get_all_children_number,
    op_set_watches2,  op_add_watch,      op_whoami};
const std::vector<std::int32_t> rare_ops{
    op_close_session, op_sasl, 0, 10, 20, -10, -1, 23, 99, 108, 1000, INT32_MIN, INT32_MAX};

std::int32_t some_op(Rng& r) {
  return r.chance(0.95) ? r.pick(common_ops) : r.pick(rare_ops);
}

void body_of(Build& b, Rng& r, std::int32_t op, int depth = 0);

void multi_body(Build& b, Rng& r, bool reads) {
  static const std::vector<std::int32_t> write_ops{
      op_create, op_delete, op_set_data, op_check, op_create2, op_create_ttl, op_create_container};
  static const std::vector<std::int32_t> read_ops{op_get_data, op_get_children};
  const auto n = r.in(1, 5);
  for (std::int64_t i = 0; i < n; ++i) {
    const bool wrong = r.chance(0.1);
    const std::int32_t op = r.pick((reads != wrong) ? read_ops : write_ops);
    b.i32(op).flag(false).i32(-1);
    body_of(b, r, op, 1);
  }
  b.i32(-1).flag(true).i32(-1);
}

std::vector<std::string> some_paths(Rng& r) {
  std::vector<std::string> v(static_cast<std::size_t>(r.in(0, 3)));
  for (auto& p : v) p = some_path(r);
  return v;
}

void body_of(Build& b, Rng& r, std::int32_t op, int depth) {
  const std::string path = some_path(r);
  switch (op) {
    case op_create:
    case op_create2:
    case op_create_container:
    case op_create_ttl: {
      b.str(path).str(r.bytes(static_cast<std::size_t>(r.in(0, 24))));
      some_acl(b, r);
      std::int64_t mode = op == op_create_container ? 4
                          : op == op_create_ttl     ? r.in(5, 6)
                                                    : r.in(0, 3);
      if (r.chance(0.05)) mode = r.in(-2, 9);
      b.i32(mode);
      if (op == op_create_ttl) b.i64(r.chance(0.9) ? r.in(1, 100000) : r.in(-5, 0));
      break;
    }
    case op_delete:
    case op_check:
      b.str(path).i32(r.chance(0.7) ? -1 : r.in(0, 3));
      break;
    case op_exists:
    case op_get_data:
    case op_get_children:
    case op_get_children2:
      b.str(path).flag(depth == 0 && r.chance(0.5));
      break;
    case op_set_data:
      b.str(path).str(r.bytes(static_cast<std::size_t>(r.in(0, 24))));
      b.i32(r.chance(0.7) ? -1 : r.in(0, 3));
      break;
    case op_get_acl:
    case op_sync:
    case op_get_ephemerals:
    case op_get_all_children_number:
      b.str(path);
      break;
    case op_set_acl:  // world:anyone, so the fuzz's own subtree stays usable
      b.str(path).count(1).i32(31).str("world").str("anyone").i32(r.chance(0.7) ? -1 : r.in(0, 3));
      break;
    case op_multi:
    case op_multi_read:
      multi_body(b, r, op == op_multi_read);
      break;
    case op_reconfig:
      b.str(r.chance(0.5) ? "" : "server.9=127.0.0.1:1:2").str("").str("").i64(-1);
      break;
    case op_check_watches:
    case op_remove_watches:
      b.str(path).i32(r.chance(0.9) ? r.in(1, 3) : r.in(-1, 5));
      break;
    case op_add_watch:
      b.str(path).i32(r.chance(0.9) ? r.in(0, 1) : r.in(-1, 3));
      break;
    case op_set_watches:
    case op_set_watches2: {
      b.i64(r.in(0, 1000));
      const int vectors = op == op_set_watches ? 3 : 5;
      for (int i = 0; i < vectors; ++i) {
        const auto v = some_paths(r);
        b.count(v.size());
        for (const auto& p : v) b.str(p);
      }
      break;
    }
    case op_auth:
      b.i32(0).str(r.chance(0.8) ? "digest" : r.pick(std::vector<std::string>{"bogus", "ip", ""}));
      b.str("user" + r.alnum(2) + ":" + r.alnum(6));
      break;
    case op_ping:
    case op_whoami:
    case op_close_session:
      break;
    default:
      b.raw(r.bytes(static_cast<std::size_t>(r.in(0, 32))));
      break;
  }
}

std::int32_t next_xid(Rng& r, std::int32_t& xid) {
  xid += static_cast<std::int32_t>(r.in(1, 3));
  return xid;
}

Msg request(Rng& r, std::int32_t xid, std::int32_t op) {
  Build b;
  b.i32(xid).i32(op);
  body_of(b, r, op);
  return b.done();
}

// The length values a lying field takes.
std::int32_t lying_length(Rng& r, std::int32_t actual) {
  static const std::vector<std::int32_t> special{
      -1, -2, INT32_MIN, INT32_MAX, 0x7ffffff0, 0x00100000, 0x00100401, 0, 1, 0x40000000};
  switch (r.in(0, 3)) {
    case 0:  // one off either way, wrapping as the wire's 32 bits do (no signed overflow)
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(actual) + 1u);
    case 1:
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(actual) - 1u);
    case 2:
      return static_cast<std::int32_t>(r.in(INT32_MIN, INT32_MAX));
    default:
      return r.pick(special);
  }
}

void mutate(Msg& m, Rng& r) {
  const auto n = r.in(1, 3);
  for (std::int64_t k = 0; k < n; ++k) {
    std::string& s = m.bytes;
    const auto at = [&] {
      return static_cast<std::size_t>(
          r.in(0, std::max<std::int64_t>(0, static_cast<std::int64_t>(s.size()) - 1)));
    };
    switch (r.in(0, 8)) {
      case 0:
        if (!s.empty()) s[at()] ^= static_cast<char>(1 << r.in(0, 7));
        break;
      case 1:
        if (!s.empty()) s[at()] = static_cast<char>(r.in(0, 255));
        break;
      case 2:
        s.resize(static_cast<std::size_t>(r.in(0, static_cast<std::int64_t>(s.size()))));
        break;
      case 3:
        s += r.bytes(static_cast<std::size_t>(r.in(1, 64)));
        break;
      case 4:
        s.insert(s.empty() ? 0 : at(), r.bytes(static_cast<std::size_t>(r.in(1, 16))));
        break;
      case 5:
        if (!s.empty()) {
          const std::size_t from = at();
          s.erase(from, static_cast<std::size_t>(r.in(1, 16)));
        }
        break;
      default: {  // a string length or a vector count
        std::vector<std::size_t> fields;
        for (std::size_t f : m.lengths)
          if (f + 4 <= s.size()) fields.push_back(f);
        if (fields.empty()) break;
        const std::size_t f = r.pick(fields);
        const std::string v = prefix(
            static_cast<std::uint32_t>(lying_length(r, static_cast<std::int32_t>(be32(s, f)))));
        s.replace(f, 4, v);
        break;
      }
    }
  }
}

std::string handshake_body(Rng& r, Build* fields = nullptr) {
  Build local;
  Build& b = fields ? *fields : local;
  b.i32(0).i64(0).i32(r.in(4000, 30000)).i64(0).str(std::string(16, '\0'));
  if (r.chance(0.85)) b.flag(false);
  return fields ? std::string() : local.done().bytes;
}

struct Case {
  const char* kind;
  std::string bytes;
};

std::string some_word(Rng& r) {
  return known_words[static_cast<std::size_t>(
      r.in(0, static_cast<std::int64_t>(std::size(known_words)) - 1))];
}

// (a) random first bytes: noise, four-letter-like words, small prefixes, a mutated handshake.
Case random_start(Rng& r) {
  Case c{"random-start", {}};
  switch (r.in(0, 5)) {
    case 0:
      c.bytes = r.bytes(static_cast<std::size_t>(r.in(1, 80)));
      break;
    case 1:
      c.bytes = std::string(some_word(r));
      if (r.chance(0.3)) c.bytes += r.bytes(static_cast<std::size_t>(r.in(1, 20)));
      break;
    case 2: {  // word-like: lower/upper letters, or one letter off a known word
      std::string w = r.chance(0.5) ? std::string(some_word(r)) : r.alnum(4);
      w[static_cast<std::size_t>(r.in(0, 3))] = static_cast<char>(r.in(0x20, 0x7e));
      if (r.chance(0.3))
        for (char& ch : w) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      c.bytes = w + (r.chance(0.5) ? r.bytes(static_cast<std::size_t>(r.in(0, 40))) : "");
      break;
    }
    case 3: {  // a small prefix and about that many bytes
      const auto len = r.in(0, 120);
      c.bytes = prefix(static_cast<std::uint32_t>(len)) +
                r.bytes(static_cast<std::size_t>(std::max<std::int64_t>(0, len + r.in(-8, 8))));
      break;
    }
    case 4: {  // a mutated handshake (session ids, password lengths, truncation), then requests
      Build b;
      handshake_body(r, &b);
      Msg m = b.done();
      if (r.chance(0.3)) m.bytes.replace(16, 8, r.bytes(8));  // a session id nobody has
      mutate(m, r);
      c.bytes = framed(m.bytes);
      std::int32_t xid = static_cast<std::int32_t>(r.in(0, 1000));
      for (auto i = r.in(0, 3); i > 0; --i)
        c.bytes += framed(request(r, next_xid(r, xid), some_op(r)).bytes);
      break;
    }
    default:
      c.bytes = r.bytes(static_cast<std::size_t>(r.in(1, 3)));
      break;
  }
  return c;
}

// (b) a handshake, then frames with random opcodes and random bodies.
Case random_frames(Rng& r) {
  Case c{"random-frames", framed(handshake_body(r))};
  std::int32_t xid = static_cast<std::int32_t>(r.in(0, 1000));
  for (auto n = r.in(3, 17); n > 0; --n) {
    Build b;
    b.i32(r.chance(0.9) ? next_xid(r, xid) : r.in(INT32_MIN, INT32_MAX));
    b.i32(r.chance(0.5) ? some_op(r) : r.chance(0.5) ? r.in(-20, 120) : r.in(INT32_MIN, INT32_MAX));
    b.raw(r.bytes(static_cast<std::size_t>(r.chance(0.3) ? r.in(0, 8) : r.in(0, 300))));
    c.bytes += framed(b.done().bytes);
  }
  return c;
}

// (c) a handshake, then well-formed requests of every opcode, most of them mutated.
Case mutated_requests(Rng& r) {
  Case c{"mutated", framed(handshake_body(r))};
  std::int32_t xid = static_cast<std::int32_t>(r.in(0, 1000));
  for (auto n = r.in(3, 17); n > 0; --n) {
    Msg m = request(r, next_xid(r, xid), some_op(r));
    if (r.chance(0.6)) {
      if (r.chance(0.7)) {  // the body only: the opcode's decoder sees it
        Msg body{m.bytes.substr(8), {}};
        for (std::size_t f : m.lengths) body.lengths.push_back(f - 8);
        mutate(body, r);
        m.bytes = m.bytes.substr(0, 8) + body.bytes;
      } else {
        mutate(m, r);
      }
    }
    c.bytes += framed(m.bytes);
  }
  return c;
}

// (d) length prefixes that lie: longer than what follows, negative, the limit, one past it,
// zero, shorter than a header; on the connect frame or a later one.
Case lying_prefix(Rng& r) {
  Case c{"lying-prefix", {}};
  const bool first = r.chance(0.25);
  std::int32_t xid = 0;
  if (!first) {
    c.bytes = framed(handshake_body(r));
    for (auto n = r.in(0, 3); n > 0; --n)
      c.bytes += framed(request(r, next_xid(r, xid), some_op(r)).bytes);
  }
  const std::string body =
      first ? handshake_body(r) : request(r, next_xid(r, xid), some_op(r)).bytes;
  switch (r.in(0, 6)) {
    case 0:
      c.bytes += prefix(static_cast<std::uint32_t>(body.size() +
                                                   static_cast<std::size_t>(r.in(1, 2000)))) +
                 body;
      break;
    case 1:
      c.bytes += prefix(static_cast<std::uint32_t>(r.in(INT32_MIN, -1))) + body;
      break;
    case 2:
      c.bytes += prefix(max_packet) + body;
      break;
    case 3:
      c.bytes += prefix(max_packet + 1) + body;
      break;
    case 4:
      c.bytes += prefix(0) + (r.chance(0.5) ? body : "");
      break;
    case 5: {
      const auto n = r.in(1, 7);
      c.bytes += prefix(static_cast<std::uint32_t>(n)) + r.bytes(static_cast<std::size_t>(n));
      if (r.chance(0.5)) c.bytes += framed(body);
      break;
    }
    default:
      c.bytes += prefix(0xffffffffu) + body;
      break;
  }
  return c;
}

Case make_case(Rng& r) {
  const auto k = r.in(0, 99);
  if (k < 20) return random_start(r);
  if (k < 45) return random_frames(r);
  if (k < 88) return mutated_requests(r);
  return lying_prefix(r);
}

// ---- what the server must do with a byte stream, and whether it did -------------------------

const std::vector<std::int32_t> handled_ops{op_ping,
                                            op_close_session,
                                            op_create,
                                            op_create2,
                                            op_create_container,
                                            op_create_ttl,
                                            op_delete,
                                            op_set_data,
                                            op_set_acl,
                                            op_check,
                                            op_multi,
                                            op_multi_read,
                                            op_exists,
                                            op_get_data,
                                            op_get_children,
                                            op_get_children2,
                                            op_get_acl,
                                            op_get_all_children_number,
                                            op_get_ephemerals,
                                            op_whoami,
                                            op_add_watch,
                                            op_remove_watches,
                                            op_check_watches,
                                            op_set_watches,
                                            op_set_watches2,
                                            op_sync,
                                            op_auth,
                                            op_reconfig,
                                            op_sasl};

bool handled(std::int32_t op) {
  return std::find(handled_ops.begin(), handled_ops.end(), op) != handled_ops.end();
}

// The stream as the server frames it.
struct View {
  bool word = false;
  std::optional<jute::ConnectRequest> hello;                    // a connect frame that decodes
  std::vector<std::pair<std::int32_t, std::int32_t>> requests;  // (xid, opcode)
  std::size_t sure = 0;  // replies owed before the first request that may close the connection
  // The first closeSession or unknown opcode: what follows it meets a session being torn down.
  std::size_t teardown = SIZE_MAX;
};

View view_of(const std::string& s) {
  View v;
  if (s.size() < 4) return v;
  if (is_word(std::string_view(s).substr(0, 4))) {
    v.word = true;
    return v;
  }
  std::uint32_t n = be32(s, 0);
  if (n > max_packet || s.size() < 4 + n) return v;
  jute::Reader in(std::string_view(s).substr(4, n));
  jute::ConnectRequest hello = jute::get_connect_request(in);
  if (!in.ok()) return v;
  v.hello = hello;
  bool closing = false;
  for (std::size_t pos = 4 + n; pos + 4 <= s.size(); pos += 4 + n) {
    n = be32(s, pos);
    if (n > max_packet || pos + 4 + n > s.size() || n < 8) break;
    const std::int32_t xid = static_cast<std::int32_t>(be32(s, pos + 4));
    const std::int32_t op = static_cast<std::int32_t>(be32(s, pos + 8));
    if (op == op_sasl) break;
    v.requests.emplace_back(xid, op);
    if (!closing) ++v.sure;
    if (!handled(op) || op == op_close_session || op == op_auth) closing = true;
    if ((!handled(op) || op == op_close_session) && v.teardown == SIZE_MAX)
      v.teardown = v.requests.size() - 1;
  }
  return v;
}

bool parse_multi(jute::Reader& r) {
  for (int guard = 0; guard < 100000; ++guard) {
    const std::int32_t type = r.get_int();
    const bool done = r.get_bool();
    (void)r.get_int();
    if (!r.ok()) return false;
    if (done) return type == -1;
    switch (type) {
      case -1:
        (void)r.get_int();
        break;
      case op_create:
        (void)r.get_string();
        break;
      case op_create2:
        (void)r.get_string(), (void)r.get_stat();
        break;
      case op_set_data:
        (void)r.get_stat();
        break;
      case op_delete:
      case op_check:
        break;
      case op_get_data:
        (void)r.get_buffer(), (void)r.get_stat();
        break;
      case op_get_children:
        (void)r.get_strings();
        break;
      default:
        return false;
    }
    if (!r.ok()) return false;
  }
  return false;
}

// Whether `body` is what a reply to `op` with error `err` carries.
bool body_fits(std::int32_t op, std::int32_t err, std::string_view body) {
  jute::Reader r(body);
  if (err != 0) {
    if (op == op_reconfig && err != -123 && err != -5) return false;
    if (!handled(op) && err != -6) return false;
    if (body.empty()) return true;
    return (op == op_multi || op == op_multi_read) && parse_multi(r) && r.at_end();
  }
  switch (op) {
    case op_create:
    case op_sync:
      (void)r.get_string();
      break;
    case op_create2:
    case op_create_container:
    case op_create_ttl:
      (void)r.get_string(), (void)r.get_stat();
      break;
    case op_delete:
    case op_check_watches:
    case op_remove_watches:
    case op_set_watches:
    case op_set_watches2:
    case op_ping:
    case op_auth:
    case op_close_session:
      break;
    case op_exists:
    case op_set_data:
    case op_set_acl:
    case op_check:
      (void)r.get_stat();
      break;
    case op_get_data:
      (void)r.get_buffer(), (void)r.get_stat();
      break;
    case op_get_acl:
      (void)r.get_acl_list(), (void)r.get_stat();
      break;
    case op_get_children:
    case op_get_ephemerals:
      (void)r.get_strings();
      break;
    case op_get_children2:
      (void)r.get_strings(), (void)r.get_stat();
      break;
    case op_multi:
    case op_multi_read:
      if (!parse_multi(r)) return false;
      break;
    case op_add_watch:
    case op_get_all_children_number:
      (void)r.get_int();
      break;
    case op_whoami: {
      const std::size_t n = r.get_count(8);
      for (std::size_t i = 0; i < n && r.ok(); ++i) (void)r.get_string(), (void)r.get_string();
      break;
    }
    default:
      return false;  // reconfig cannot succeed; an unknown opcode is UNIMPLEMENTED
  }
  return r.at_end();
}

// A reply with a special xid that answers no request of ours.
bool special_fits(std::int32_t xid, std::string_view body) {
  if (xid == jute::notification_xid) {
    jute::Reader r(body);
    (void)r.get_int(), (void)r.get_int(), (void)r.get_string();
    return r.at_end();
  }
  return (xid == jute::ping_xid || xid == jute::auth_xid || xid == jute::set_watches_xid) &&
         body.empty();
}

struct Stats {
  int connections = 0, frames = 0, replies = 0, notifications = 0, closed_by_server = 0,
      out_of_order = 0, sessions = 0, stalls = 0;
  std::string first_stalls;
  std::string first_out_of_order;
  // "opcode A (err) after opcode B": a reply to A came after the reply to B, sent after A.
  std::map<std::string, int> overtaken;
  std::map<std::string, std::pair<int, long long>> kinds;  // connections and ms by kind
};

// Sends one case and judges what comes back: "" when all is well, else what went wrong.
std::string run_case(std::uint16_t port, const Case& c, Stats& st) {
  const View v = view_of(c.bytes);
  Conn conn(port);
  if (!conn.ok()) return "cannot connect to the client port";
  ++st.connections;
  st.frames += static_cast<int>(v.requests.size()) + (v.hello ? 1 : 0);
  conn.send(c.bytes, Clock::now() + io_bound);

  // The replies every request before a closing one is owed (after the ConnectResponse).
  std::size_t pos = 0, seen = 0, replies = 0;
  bool refused = false;  // the ConnectResponse said timeout 0
  std::string bad;
  auto owed = [&] {
    for (std::string_view f : frames_of(conn.in(), pos, &bad)) {
      if (seen++ == 0) {  // the ConnectResponse
        jute::Reader r(f);
        refused = jute::get_connect_response(r).timeout_ms == 0;
        continue;
      }
      if (f.size() >= 4 && static_cast<std::int32_t>(be32(f, 0)) != jute::notification_xid)
        ++replies;
    }
    return !bad.empty() || (v.hello ? pos > 0 && (refused || replies >= v.sure) : false);
  };
  if (v.hello) conn.read_until(owed, Clock::now() + io_bound);
  const bool all_owed = owed();
  const bool closed_first = conn.closed();
  // Owed replies missing while the connection stays open: the server sits on a request.
  if (v.hello && !all_owed && !closed_first && ++st.stalls <= 3)
    st.first_stalls += "  owed " + std::to_string(v.sure) + " replies, got " +
                       std::to_string(replies) + " in " + std::to_string(io_bound.count()) +
                       " s (" + c.kind + "):\n    sent " + hex(c.bytes, 2000) + "\n    got  " +
                       hex(conn.in(), 2000) + "\n";
  conn.half_close();
  // Under four bytes, the port waits out its own 5 s bound for a word: not judged, not waited.
  conn.read_until([] { return false; },
                  Clock::now() + (c.bytes.size() >= 4 ? io_bound : std::chrono::seconds(0)));

  std::string why;
  auto fail = [&](const std::string& what) {
    if (why.empty()) why = what;
  };
  const std::string& got = conn.in();
  if (!bad.empty()) fail(bad);
  if (v.hello && !all_owed && !closed_first)
    fail("no reply within " + std::to_string(io_bound.count()) + " s to " + std::to_string(v.sure) +
         " requests (got " + std::to_string(replies) + ")");
  // After our half-close the server closes (a stream of under four bytes waits for its word's
  // own 5 s bound: not judged).
  if (!conn.closed() && c.bytes.size() >= 4)
    fail("still open " + std::to_string(io_bound.count()) + " s after the client's half-close");
  if (conn.closed()) ++st.closed_by_server;

  if (v.word) {
    if (got.size() > 1'000'000)
      fail("a four-letter word answered with " + std::to_string(got.size()) + " bytes");
  } else if (!v.hello) {
    if (!got.empty()) fail("an answer to a stream that has no decodable connect frame");
  } else {
    std::size_t at = 0;
    std::string bad2;
    const auto frames = frames_of(got, at, &bad2);
    if (!bad2.empty()) fail(bad2);
    if (at != got.size() && bad2.empty())
      fail("a truncated reply frame at the end (" + std::to_string(got.size() - at) + " bytes)");
    std::vector<bool> used(v.requests.size(), false);
    // The latest request answered so far, and its error: a reply to an earlier request after
    // it is out of request order (ZooKeeper answers a session's requests in order).
    std::size_t last = 0;
    std::int32_t last_err = 0;
    bool any = false;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const std::string_view f = frames[i];
      if (i == 0) {
        jute::Reader r(f);
        const jute::ConnectResponse resp = jute::get_connect_response(r);
        if (!r.at_end() || resp.password.size() != 16 || resp.protocol_version != 0 ||
            resp.read_only.has_value() != v.hello->read_only.has_value())
          fail("a malformed ConnectResponse " + hex(f));
        if (resp.timeout_ms > 0) ++st.sessions;
        if (resp.timeout_ms == 0 && frames.size() > 1)
          fail("replies after a ConnectResponse that refused the session");
        continue;
      }
      if (f.size() < 16) {
        fail("a reply frame of " + std::to_string(f.size()) + " bytes: " + hex(f));
        continue;
      }
      jute::Reader r(f);
      const jute::ReplyHeader h = jute::get_reply_header(r);
      const std::string_view body = f.substr(16);
      if (h.xid == jute::notification_xid) {
        ++st.notifications;
        if (!special_fits(h.xid, body)) fail("a malformed watch event " + hex(f));
        continue;
      }
      ++st.replies;
      bool matched = false;
      for (std::size_t k = 0; k < v.requests.size() && !matched; ++k) {
        if (used[k] || v.requests[k].first != h.xid) continue;
        if (!body_fits(v.requests[k].second, h.err, body)) continue;
        used[k] = matched = true;
        // Past a closeSession or an unknown opcode the session is being torn down: not judged.
        if (any && k < last && last <= v.teardown) {
          // UNIMPLEMENTED overtakes as in ZooKeeper (it answers and closes at once). Known
          // deviations, counted and failed only under QUORUM_FUZZ_STRICT_ORDER: the port
          // answers MARSHALLINGERROR and RECONFIGDISABLED itself, and the member a sync on an
          // invalid path (BADARGUMENTS; ZooKeeper answers 0), ahead of requests still pending.
          static const bool strict = std::getenv("QUORUM_FUZZ_STRICT_ORDER") != nullptr;
          const bool known = last_err == -5 || last_err == -123 ||
                             (v.requests[last].second == op_sync && last_err == -8);
          const bool by_port = last_err == -6 || (known && !strict);
          const std::string what = "opcode " + std::to_string(v.requests[k].second) + " (err " +
                                   std::to_string(h.err) + ") after opcode " +
                                   std::to_string(v.requests[last].second) + " (err " +
                                   std::to_string(last_err) + ")";
          ++st.overtaken[what];
          if (++st.out_of_order == 1)
            st.first_out_of_order = "xid " + std::to_string(h.xid) + ": " + what + "\n  sent " +
                                    hex(c.bytes, 600) + "\n  got  " + hex(got, 600);
          if (!by_port) fail("replies out of request order: " + what);
        }
        if (!any || k > last) {
          last = k;
          last_err = h.err;
        }
        any = true;
      }
      if (!matched && !special_fits(h.xid, body)) {
        std::string ops;
        for (const auto& [x, op] : v.requests)
          if (x == h.xid) ops += " " + std::to_string(op);
        fail("reply " + hex(f, 200) + " (xid " + std::to_string(h.xid) + ", err " +
             std::to_string(h.err) +
             ") fits no request; opcodes sent with that xid:" + (ops.empty() ? " none" : ops));
      }
    }
  }
  if (std::getenv("QUORUM_FUZZ_TRACE"))
    std::printf("trace %s\n  sent %s\n  got  %s\n", c.kind, hex(c.bytes, 1 << 20).c_str(),
                hex(got, 1 << 20).c_str());
  if (why.empty()) return why;
  return std::string(c.kind) + ": " + why + "\n  sent " + hex(c.bytes) + "\n  got  " + hex(got);
}

// A session, then a lone length prefix: the server must close without waiting for a body.
std::string expect_refused_prefix(std::uint16_t port, std::uint32_t length, bool first) {
  Conn conn(port);
  if (!conn.ok()) return "cannot connect";
  std::size_t pos = 0;
  if (!first) {
    std::string b;
    jute::Writer w(b);
    jute::ConnectRequest hello;
    hello.timeout_ms = 30000;  // its idle bound must not be what closes it
    hello.password.assign(16, '\0');
    hello.read_only = false;
    put(w, hello);
    conn.send(framed(b), Clock::now() + io_bound);
    conn.read_until([&] { return !frames_of(conn.in(), pos).empty(); }, Clock::now() + io_bound);
    if (pos == 0) return "no ConnectResponse";
  }
  const auto sent = Clock::now();
  conn.send(prefix(length), Clock::now() + io_bound);
  conn.read_until([] { return false; }, Clock::now() + 2s);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent).count();
  const std::string what = "length prefix " + std::to_string(length) + " (" + hex(prefix(length)) +
                           (first ? ") as a connection's first bytes" : ") after a handshake");
  if (!conn.closed()) return what + ": still open after 2 s";
  if (conn.in().size() != pos) return what + ": answered " + hex(conn.in().substr(pos));
  std::printf("  %s: closed after %lld ms\n", what.c_str(), static_cast<long long>(ms));
  return "";
}

}  // namespace

TEST_CASE("client port: seeded random and mutated frames neither crash nor wedge quorumd",
          "[fuzz]") {
  std::uint64_t seed = default_seed;
  if (const char* s = std::getenv("QUORUM_FUZZ_SEED"); s && *s) seed = std::strtoull(s, nullptr, 0);
  std::printf("zk fuzz: seed %llu (set QUORUM_FUZZ_SEED to replay or vary)\n",
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  const auto started = Clock::now();

  quorum::test::TempDir dir{"quorum-fuzz-"};
  const std::uint16_t port = quorum::test::free_ports(1)[0];
  const auto cfg = dir.path() / "zoo.cfg";
  std::ofstream(cfg) << "tickTime=2000\ndataDir=" << (dir.path() / "data").string()
                     << "\nclientPort=" << port
                     << "\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n";
  quorum::test::Child server({QUORUMD, "foreground", "--config", cfg.string()}, true);
  std::string log;  // its output, read as it comes so the pipe never fills
  const auto drain = [&] {
    log += server.drain(1ms);
    if (log.size() > 200'000) log.erase(0, log.size() - 100'000);
  };
  const auto ask = [&](const char* word) {
    return quorum::server::ask_four_letter_word("127.0.0.1", port, word, 2s).value_or("");
  };
  {
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline && ask("ruok") != "imok") std::this_thread::sleep_for(50ms);
    while (Clock::now() < deadline && quorum::server::mode_of(ask("srvr")) != "standalone")
      std::this_thread::sleep_for(50ms);
  }
  drain();
  INFO("quorumd's log:\n" << log);
  REQUIRE(quorum::server::mode_of(ask("srvr")) == "standalone");

  // The witness: its node, written and read back between rounds.
  Client witness(port, 30000);
  INFO("witness: " << witness.why());
  REQUIRE(witness.ready());
  auto r = witness.call(op_create, world_acl_body(witness_path, "round-0", 0));
  REQUIRE(r);
  REQUIRE(r->header.err == 0);
  r = witness.call(op_create, world_acl_body(fuzz_root, "", 0));
  REQUIRE(r);
  REQUIRE(r->header.err == 0);
  for (const char* child : {"/a", "/b", "/a/c"})
    REQUIRE(witness.call(op_create, world_acl_body(fuzz_root + child, "x", 0)));

  std::vector<std::string> failures;
  const auto check_witness = [&](int round) -> bool {
    std::string b;
    jute::Writer w(b);
    w.put_string(witness_path);
    w.put_buffer("round-" + std::to_string(round));
    w.put_int(round - 1);
    auto set = witness.call(op_set_data, b);
    if (!set || set->header.err != 0) {
      failures.push_back("witness setData in round " + std::to_string(round) + ": " +
                         (set ? "err " + std::to_string(set->header.err) : witness.why()));
      return false;
    }
    b.clear();
    w.put_string(witness_path);
    w.put_bool(false);
    auto get = witness.call(op_get_data, b);
    if (!get || get->header.err != 0) {
      failures.push_back("witness getData in round " + std::to_string(round) + ": " +
                         (get ? "err " + std::to_string(get->header.err) : witness.why()));
      return false;
    }
    jute::Reader in(get->body);
    const auto data = in.get_buffer();
    const auto stat = in.get_stat();
    if (!in.at_end() || data != "round-" + std::to_string(round) || stat.version != round) {
      failures.push_back("witness read back " + hex(get->body) + " in round " +
                         std::to_string(round));
      return false;
    }
    return true;
  };

  // (e) Oversized packets: closed from the prefix alone, on the connect frame and later ones.
  for (std::uint32_t length : {max_packet + 1, 0x7fffffffu, 0x80000000u, 0xffffffffu})
    for (bool first : {true, false})
      if (auto f = expect_refused_prefix(port, length, first); !f.empty()) failures.push_back(f);

  // (e) A packet of exactly the limit is read and answered, and the connection goes on
  // serving.
  {
    Client big(port, 30000);
    if (!big.ready()) {
      failures.push_back("at-limit client: " + big.why());
    } else {
      const std::string path = fuzz_root + "/big";
      const std::size_t overhead = 8 + world_acl_body(path, "", 0).size();
      const std::string body = world_acl_body(path, std::string(max_packet - overhead, 'b'), 0);
      auto rep = big.call(op_create, body);
      std::printf("  a create of exactly %u bytes: %s\n", max_packet,
                  rep ? ("err " + std::to_string(rep->header.err)).c_str() : big.why().c_str());
      if (!rep) failures.push_back("a packet of exactly the limit: " + big.why());
      std::string b;
      jute::Writer(b).put_string(fuzz_root);
      b.push_back('\0');
      auto after = big.call(op_exists, b);
      if (!after || after->header.err != 0)
        failures.push_back("after a packet of exactly the limit: " +
                           (after ? "err " + std::to_string(after->header.err) : big.why()));
      // Nearly 1 MiB of data in a frame under the packet limit is written.
      const std::string fits = world_acl_body(path + "2", std::string(1024 * 1023, 'c'), 0);
      auto ok = big.call(op_create, fits);
      std::printf("  a create with 1023 KiB of data (%zu-byte frame): %s\n", fits.size() + 8,
                  ok ? ("err " + std::to_string(ok->header.err)).c_str() : big.why().c_str());
      if (!ok) failures.push_back("a create of 1 MiB of data: " + big.why());
    }
  }

  // The rounds: 20 of 20 connections; the witness between them.
  Stats st;
  constexpr int rounds = 20, per_round = 20;
  int index = 0;
  bool alive = true;
  for (int round = 1; round <= rounds && alive; ++round) {
    for (int i = 0; i < per_round; ++i, ++index) {
      Rng rng(seed ^ (std::uint64_t{0x9e3779b97f4a7c15} * static_cast<std::uint64_t>(index + 1)));
      const Case c = make_case(rng);
      const auto t0 = Clock::now();
      const std::string f = run_case(port, c, st);
      auto& k = st.kinds[c.kind];
      ++k.first;
      k.second += std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
      if (!f.empty()) {
        std::fprintf(stderr, "zk fuzz: seed %llu connection %d: %s\n",
                     static_cast<unsigned long long>(seed), index, f.c_str());
        failures.push_back("connection " + std::to_string(index) + ": " + f);
      }
      drain();
      if (server.exited()) {
        failures.push_back("quorumd exited (code " + std::to_string(server.exit_code()) +
                           ") after connection " + std::to_string(index) + ": " + hex(c.bytes));
        alive = false;
        break;
      }
    }
    if (alive && !check_witness(round)) break;
  }
  drain();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  std::printf(
      "zk fuzz: %d connections, %d frames, %d replies, %d watch events, %d sessions, %d closed "
      "by the server, %d replies out of request order, %lld ms\n",
      st.connections, st.frames, st.replies, st.notifications, st.sessions, st.closed_by_server,
      st.out_of_order, static_cast<long long>(ms));
  if (st.out_of_order) std::printf("  first out of order: %s\n", st.first_out_of_order.c_str());
  if (st.stalls)
    std::printf("  %d connections still owed replies after %lld s:\n%s", st.stalls,
                static_cast<long long>(io_bound.count()), st.first_stalls.c_str());
  for (const auto& [what, n] : st.overtaken) std::printf("  %dx %s\n", n, what.c_str());
  for (const auto& [kind, t] : st.kinds)
    std::printf("  %s: %d connections, %lld ms\n", kind.c_str(), t.first, t.second);
  std::fflush(stdout);

  // Afterwards: still up, still answering, the witness's data intact for a new session too.
  CHECK_FALSE(server.exited());
  CHECK(ask("ruok") == "imok");
  CHECK(quorum::server::mode_of(ask("srvr")) == "standalone");
  // Every fuzz connection is gone (a stream of under four bytes lingers up to 5 s): what is
  // open is the witness and srvr's own connection.
  std::string connections;
  {
    const auto deadline = Clock::now() + 8s;
    do {
      const std::string srvr = ask("srvr");
      const auto at = srvr.find("Connections: ");
      connections =
          at == std::string::npos ? "?" : srvr.substr(at + 13, srvr.find('\n', at) - at - 13);
      if (connections == "2") break;
      std::this_thread::sleep_for(100ms);
    } while (Clock::now() < deadline);
  }
  CHECK(connections == "2");
  Client fresh(port, 30000);
  INFO("new client: " << fresh.why());
  CHECK(fresh.ready());
  if (fresh.ready()) {
    std::string b;
    jute::Writer w(b);
    w.put_string(witness_path);
    w.put_bool(false);
    auto get = fresh.call(op_get_data, b);
    REQUIRE(get);
    CHECK(get->header.err == 0);
    jute::Reader in(get->body);
    CHECK(in.get_buffer() == "round-" + std::to_string(rounds));
    CHECK(in.get_stat().version == rounds);
  }
  std::string all;
  for (std::size_t i = 0; i < failures.size() && i < 10; ++i) all += failures[i] + "\n";
  INFO("seed " << seed << ": " << failures.size() << " failure(s):\n" << all);
  CHECK(failures.empty());
}
