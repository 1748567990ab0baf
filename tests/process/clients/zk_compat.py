#!/usr/bin/python3
"""Differential compatibility scenario for ZooKeeper's client protocol, driven by kazoo.

    zk_compat.py HOST:PORT HOST:PORT HOST:PORT      (three servers of one ensemble)

Runs a fixed, deterministic scenario against a fresh ensemble and prints a normalized
transcript on stdout: one line per step, `<client> <operation> <arguments> -> <result>`,
where the result is a normalized value or `!<ExceptionClass>`. Everything that legitimately
differs between two ensembles is left out: session ids and passwords (sessions are named
A, B, ...), times, absolute zxids (only relations such as `m>c` = "mzxid > czxid" are kept),
the order of children (sorted). Versions, cversion, aversion, dataLength, numChildren and the
ephemeral owner (0 or the name of the session) are kept.

The same transcript is expected from Apache ZooKeeper 3.8 and from quorumd, given zoo.cfg with
the same tickTime (200 ms in tests/process/zk_compat.test.cpp: session timeouts are printed)
and `extendedTypesEnabled=true` (TTL nodes).

kazoo 2.8 lacks several requests; they are added here as kazoo request records: addWatch,
removeWatches, checkWatches, whoAmI, multiRead, getEphemerals, getAllChildrenNumber,
createContainer, createTTL, raw create/getData (kazoo normalizes paths client-side, so a bad
path never reaches the server otherwise). kazoo 2.8 also drops its watchers on every
disconnect and never sends SetWatches; like the Java client, this script keeps its own
registry of the watches each connection holds (one-shot data/exist/child and persistent) and
re-registers them with SetWatches (101) or SetWatches2 (105, when persistent watches exist)
with xid -8 right after a session reattaches. Watch events are recorded as they come off the
socket (connection thread), so "after a sync() returns on the watching client, every event due
has been seen" holds and negative checks need no sleeps.

A section that hits an unexpected exception (a timeout, a lost connection, a failed
assertion) prints `!! aborted: ...` and the script goes on with the next section; the exit
code is then 1. A server error code is never unexpected: it is the result of the step.
Every wait is bounded; every client is stopped at the end; a watchdog ends the script after
300 s.
"""
import collections
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import EXCEPTIONS, ZookeeperError
import kazoo.exceptions as kex
from kazoo.protocol import connection as kconn
from kazoo.protocol.serialization import (
    CheckVersion, Delete, GetChildren, GetData, MultiHeader, int_struct, long_struct, read_buffer, read_string,
    stat_struct, write_buffer, write_string, multiheader_struct)
from kazoo.protocol.states import ZnodeStat
from kazoo.security import ACL, Id, make_digest_acl

T = 10.0  # seconds: the bound of every single request
WATCH_T = 5.0  # seconds: the bound of waiting for a watch callback that must come

# ----------------------------------------------------------------------------------------
# Error codes kazoo 2.8 does not know: without them, its connection thread dies on the reply.
_EXTRA_CODES = {
    -9: "InvalidStateError", -12: "UnknownSessionError", -120: "EphemeralOnLocalSessionError",
    -121: "NoWatcherError", -122: "RequestTimeoutError", -123: "ReconfigDisabledError",
    -124: "SessionClosedRequireSaslError", -125: "QuotaExceededError",
    -127: "ThrottledOpError", -116: "ClosingError", -117: "NothingError",
    -13: "NewConfigNoQuorumError", -14: "ReconfigInProcessError",
}
for _code, _name in _EXTRA_CODES.items():
    if _code not in EXCEPTIONS:
        _cls = type(_name, (ZookeeperError,), {"code": _code})
        EXCEPTIONS[_code] = _cls
        setattr(kex, _name, _cls)


def _read_stat(b, off):
    return ZnodeStat._make(stat_struct.unpack_from(b, off)), off + stat_struct.size


# ----------------------------------------------------------------------------------------
# Requests kazoo 2.8 does not have. Each is a record with `type`, serialize(), deserialize().
class AddWatch(collections.namedtuple("AddWatch", "path mode")):
    type = 106

    def serialize(self):
        return write_string(self.path) + int_struct.pack(self.mode)

    @classmethod
    def deserialize(cls, b, off):
        return True  # ErrorResponse{0}


class RemoveWatches(collections.namedtuple("RemoveWatches", "path wtype")):
    type = 18

    def serialize(self):
        return write_string(self.path) + int_struct.pack(self.wtype)

    @classmethod
    def deserialize(cls, b, off):
        return True


class CheckWatches(RemoveWatches):
    type = 17


class WhoAmI(collections.namedtuple("WhoAmI", "unused")):
    """(kazoo drops the reply of a request that is an empty, so false, tuple)"""
    type = 107

    def serialize(self):
        return b""

    @classmethod
    def deserialize(cls, b, off):
        n = int_struct.unpack_from(b, off)[0]
        off += 4
        out = []
        for _ in range(max(n, 0)):
            scheme, off = read_string(b, off)
            user, off = read_string(b, off)
            out.append("%s:%s" % (scheme, user))
        return sorted(out)


class GetEphemerals(collections.namedtuple("GetEphemerals", "prefix")):
    type = 103

    def serialize(self):
        return write_string(self.prefix)

    @classmethod
    def deserialize(cls, b, off):
        n = int_struct.unpack_from(b, off)[0]
        off += 4
        out = []
        for _ in range(max(n, 0)):
            p, off = read_string(b, off)
            out.append(p)
        return sorted(out)


class GetAllChildrenNumber(collections.namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self):
        return write_string(self.path)

    @classmethod
    def deserialize(cls, b, off):
        return int_struct.unpack_from(b, off)[0]


def _acl_bytes(acl):
    b = bytearray(int_struct.pack(len(acl)))
    for a in acl:
        b += int_struct.pack(a.perms) + write_string(a.id.scheme) + write_string(a.id.id)
    return bytes(b)


OPEN = [ACL(31, Id("world", "anyone"))]


class RawCreate(collections.namedtuple("RawCreate", "path data acl flags")):
    """Create (opcode 1) with the path and flags exactly as given."""
    type = 1

    def serialize(self):
        return (write_string(self.path) + write_buffer(self.data) + _acl_bytes(self.acl) +
                int_struct.pack(self.flags))

    @classmethod
    def deserialize(cls, b, off):
        return read_string(b, off)[0]


class CreateContainer(RawCreate):
    type = 19

    @classmethod
    def deserialize(cls, b, off):
        path, off = read_string(b, off)
        return path, _read_stat(b, off)[0]


class CreateTTL(collections.namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self):
        return (write_string(self.path) + write_buffer(self.data) + _acl_bytes(self.acl) +
                int_struct.pack(self.flags) + long_struct.pack(self.ttl))

    @classmethod
    def deserialize(cls, b, off):
        path, off = read_string(b, off)
        return path, _read_stat(b, off)[0]


class MultiRead(collections.namedtuple("MultiRead", "operations")):
    """multiRead (22) of GetChildren / GetData records."""
    type = 22

    def serialize(self):
        b = bytearray()
        for op in self.operations:
            b += MultiHeader(op.type, False, -1).serialize() + op.serialize()
        return bytes(b + multiheader_struct.pack(-1, True, -1))

    @classmethod
    def deserialize(cls, b, off):
        out = []
        while True:
            h, off = MultiHeader.deserialize(b, off)
            if h.done:
                return out
            if h.type == GetChildren.type:
                n = int_struct.unpack_from(b, off)[0]
                off += 4
                kids = []
                for _ in range(max(n, 0)):
                    k, off = read_string(b, off)
                    kids.append(k)
                out.append(sorted(kids))
            elif h.type == GetData.type:
                data, off = read_buffer(b, off)
                stat, off = _read_stat(b, off)
                out.append((data, stat))
            elif h.type == -1:
                err = int_struct.unpack_from(b, off)[0]
                off += 4
                out.append(EXCEPTIONS[err]())
            else:
                raise ValueError("multiRead result type %d" % h.type)


class SetWatches(collections.namedtuple("SetWatches", "zxid data exist child")):
    type = 101

    def serialize(self):
        b = bytearray(long_struct.pack(self.zxid))
        for lst in (self.data, self.exist, self.child):
            b += int_struct.pack(len(lst))
            for p in lst:
                b += write_string(p)
        return bytes(b)


class SetWatches2(collections.namedtuple("SetWatches2",
                                         "zxid data exist child persistent recursive")):
    type = 105

    def serialize(self):
        b = bytearray(long_struct.pack(self.zxid))
        for lst in (self.data, self.exist, self.child, self.persistent, self.recursive):
            b += int_struct.pack(len(lst))
            for p in lst:
                b += write_string(p)
        return bytes(b)


# ----------------------------------------------------------------------------------------
# The Java client's watch bookkeeping, on top of kazoo: every event is recorded (tap) and
# updates the registry; a reattached session re-registers what the registry holds.
EVENT_NAMES = {1: "CREATED", 2: "DELETED", 3: "CHANGED", 4: "CHILD"}
_orig_read_watch_event = kconn.ConnectionHandler._read_watch_event
_orig_connect = kconn.ConnectionHandler._connect


def _tapped_read_watch_event(self, buffer, offset):
    c = self.client
    w, _ = kconn.Watch.deserialize(buffer, offset)
    reg = getattr(c, "reg", None)
    if reg is not None:
        with c.tap_lock:
            c.tap.append("%s %s" % (EVENT_NAMES.get(w.type, "type%d" % w.type), w.path))
            if w.type in (1, 3):
                reg["data"].discard(w.path)
                reg["exist"].discard(w.path)
            elif w.type == 2:
                reg["data"].discard(w.path)
                reg["exist"].discard(w.path)
                reg["child"].discard(w.path)
            elif w.type == 4:
                reg["child"].discard(w.path)
    return _orig_read_watch_event(self, buffer, offset)


def _connect_and_rearm(self, host, hostip, port):
    c = self.client
    previous_session = c._session_id
    read_timeout, connect_timeout = _orig_connect(self, host, hostip, port)
    c.negotiated = int(round(connect_timeout * len(c.hosts)))
    reg = getattr(c, "reg", None)
    if reg is not None and previous_session and any(reg.values()):
        with c.tap_lock:
            lists = {k: sorted(v) for k, v in reg.items()}
        if lists["persistent"] or lists["recursive"]:
            req = SetWatches2(c.last_zxid, lists["data"], lists["exist"], lists["child"],
                              lists["persistent"], lists["recursive"])
        else:
            req = SetWatches(c.last_zxid, lists["data"], lists["exist"], lists["child"])
        c.sent_set_watches.append(type(req).__name__)
        timeout = max(connect_timeout / 1000.0, 2.0)
        self._submit(req, timeout, -8)
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() > deadline:
                raise kconn.ConnectionDropped("no reply to SetWatches")
            header, buf, off = self._read_header(timeout)
            if header.xid == -1:
                self._read_watch_event(buf, off)
            elif header.xid == -8:
                c.set_watches_result.append(
                    "ok" if header.err == 0 else "!" + EXCEPTIONS[header.err].__name__)
                break
            else:
                raise kconn.ConnectionDropped("unexpected xid %d before SetWatches reply"
                                              % header.xid)
    return read_timeout, connect_timeout


kconn.ConnectionHandler._read_watch_event = _tapped_read_watch_event
kconn.ConnectionHandler._connect = _connect_and_rearm

# ----------------------------------------------------------------------------------------
SESSIONS = {}  # session id -> client name
CLIENTS = []
HOSTS = []


def out(line):
    print(line, flush=True)


def rel(a, b):
    return "<" if a < b else ">" if a > b else "="


def owner(sid):
    if sid == 0:
        return "0"
    return SESSIONS.get(sid, "other")


def fstat(s):
    if s is None:
        return "None"
    now_ms = time.time() * 1000
    times = ("t:ok" if (s.ctime == 0 and s.czxid == 0) or
             (abs(s.ctime - now_ms) < 86400000 and s.mtime >= s.ctime) else
             "t:BAD(%d,%d)" % (s.ctime, s.mtime))
    return ("stat(v=%d cv=%d av=%d len=%d nc=%d eph=%s m%sc p%sc %s)" %
            (s.version, s.cversion, s.aversion, s.dataLength, s.numChildren,
             owner(s.ephemeralOwner), rel(s.mzxid, s.czxid), rel(s.pzxid, s.czxid), times))


def facl(acls):
    return "[" + ", ".join(sorted("%d:%s:%s" % (a.perms, a.id.scheme, a.id.id)
                                  for a in acls)) + "]"


def fmt(x):
    if isinstance(x, ZnodeStat):
        return fstat(x)
    if isinstance(x, BaseException):
        return "!" + type(x).__name__
    if isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], ZnodeStat):
        if isinstance(x[0], list) and x[0] and isinstance(x[0][0], ACL):
            return "%s %s" % (facl(x[0]), fstat(x[1]))
        if isinstance(x[0], list):
            return "%r %s" % (sorted(x[0]), fstat(x[1]))
        return "%r %s" % (x[0], fstat(x[1]))
    if isinstance(x, list):
        return "[" + ", ".join(fmt(i) for i in x) + "]"
    return repr(x)


class _Empty:
    """Prints as `empty`: data that is None (null) or b'' (see the null-data step)."""

    def __repr__(self):
        return "empty"


def _null_or_empty(result):
    """(data, stat) with data None or b'' becoming `empty`; anything else as it is."""
    data, stat = result
    return (_Empty() if data is None or data == b"" else data), stat


def wait_result(async_result, timeout=T):
    return async_result.get(timeout=timeout)


def step(name, label, fn):
    """Runs fn(); prints `name label -> result` (server errors are results)."""
    try:
        r = fn()
        text = fmt(r)
    except ZookeeperError as e:
        if isinstance(e, (kex.ConnectionLoss, kex.SessionExpiredError)):
            out("%s %s -> !%s" % (name, label, type(e).__name__))
            raise
        r = e
        text = "!" + type(e).__name__
    out("%s %s -> %s" % (name, label, text))
    return r


class Client:
    """A kazoo client with a name, a recorded session, an event tap and a watch registry."""

    def __init__(self, name, server, timeout=4.0, connect=True, client_id=None, auth=None):
        self.name = name
        hosts = HOSTS[server] if isinstance(server, int) else server
        self.zk = KazooClient(hosts=hosts, timeout=timeout, randomize_hosts=False,
                              client_id=client_id, auth_data=auth,
                              connection_retry=dict(max_tries=-1, delay=0.05, backoff=1.2,
                                                    max_delay=0.3))
        z = self.zk
        z.tap = []
        z.tap_lock = threading.Lock()
        z.reg = {k: set() for k in ("data", "exist", "child", "persistent", "recursive")}
        z.negotiated = None
        z.sent_set_watches = []
        z.set_watches_result = []
        self.states = []
        self.state_cv = threading.Condition()
        z.add_listener(self._on_state)
        z.keeper_states = []
        orig_callback = z._session_callback

        def session_callback(state):  # the connection's own states (EXPIRED_SESSION...)
            z.keeper_states.append(state)
            orig_callback(state)
        z._session_callback = session_callback
        CLIENTS.append(self)
        if connect:
            self.start()

    def _on_state(self, state):
        with self.state_cv:
            self.states.append(state)
            self.state_cv.notify_all()

    def start(self):
        self.zk.start(timeout=15)
        SESSIONS[self.zk.client_id[0]] = self.name

    def wait_state(self, state, since=0, timeout=15.0):
        """Waits until `state` is among the states seen from index `since` on."""
        deadline = time.monotonic() + timeout
        with self.state_cv:
            while state not in self.states[since:]:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s: no %s within %.0f s (states %r)" %
                                         (self.name, state, timeout, self.states))
                self.state_cv.wait(left)

    def reattach_refused(self, session, what):
        """Starts this client on a session id that the server must refuse (answer: timeout
        0, kazoo: EXPIRED_SESSION); kazoo then opens a new session."""
        self.zk.start_async()
        self.wait_state(KazooState.CONNECTED, timeout=15)
        from kazoo.protocol.states import KeeperState
        out("%s reattach %s -> expired: %s, then a new session: %s" %
            (self.name, what, KeeperState.EXPIRED_SESSION in self.zk.keeper_states,
             self.zk.client_id[0] != session))
        SESSIONS[self.zk.client_id[0]] = self.name
        self.stop()

    # -- requests -------------------------------------------------------------------------
    def call(self, request, timeout=T):
        r = self.zk.handler.async_result()
        self.zk._call(request, r)
        return r.get(timeout=timeout)

    def do(self, label, fn):
        return step(self.name, label, fn)

    def sync(self, path="/"):
        return wait_result(self.zk.sync_async(path))

    def events(self):
        """Syncs, then returns (and forgets) the events seen so far."""
        self.sync("/")
        with self.zk.tap_lock:
            ev, self.zk.tap[:] = list(self.zk.tap), []
        return ev

    def show_events(self, label="", sort=False):
        """`sort`: when the order is ZooKeeper's implementation detail (which of a closed
        session's ephemerals goes first)."""
        ev = self.events()
        out("%s events%s: %s" % (self.name, (" " + label) if label else "",
                                 sorted(ev) if sort else ev))

    # one-shot watches, registered as the Java client does
    def watch_get(self, path, watcher=None):
        r = wait_result(self.zk.get_async(path, watch=watcher or (lambda e: None)))
        with self.zk.tap_lock:
            self.zk.reg["data"].add(path)
        return r

    def watch_exists(self, path, watcher=None):
        r = wait_result(self.zk.exists_async(path, watch=watcher or (lambda e: None)))
        with self.zk.tap_lock:
            self.zk.reg["data" if r is not None else "exist"].add(path)
        return r

    def watch_children(self, path, watcher=None):
        r = wait_result(self.zk.get_children_async(path, watch=watcher or (lambda e: None)))
        with self.zk.tap_lock:
            self.zk.reg["child"].add(path)
        return sorted(r)

    def add_watch(self, path, mode):
        r = self.call(AddWatch(path, mode))
        with self.zk.tap_lock:
            self.zk.reg["recursive" if mode == 1 else "persistent"].add(path)
        return r

    def remove_watches(self, path, wtype):
        r = self.call(RemoveWatches(path, wtype))
        with self.zk.tap_lock:
            if wtype in (2, 3):
                self.zk.reg["data"].discard(path)
                self.zk.reg["exist"].discard(path)
                self.zk.reg["persistent"].discard(path)
                self.zk.reg["recursive"].discard(path)
            if wtype in (1, 3):
                self.zk.reg["child"].discard(path)
                self.zk.reg["persistent"].discard(path)
                self.zk.reg["recursive"].discard(path)
        return r

    def stop(self):
        try:
            self.zk.stop()
        finally:
            self.zk.close()


class Waiter:
    """A kazoo watcher function that remembers its (first) event."""

    def __init__(self):
        self.event = threading.Event()
        self.got = None

    def __call__(self, ev):
        if self.got is None:
            self.got = ev
        self.event.set()

    def result(self, timeout=WATCH_T):
        if not self.event.wait(timeout):
            return "no event"
        return "%s %s" % (self.got.type, self.got.path)


def free_dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ----------------------------------------------------------------------------------------
# The scenario, in sections. A, B, C: long-lived sessions on servers 1, 2, 3.
def s_connect(ctx):
    A = ctx["A"] = Client("A", 0)
    B = ctx["B"] = Client("B", 1)
    C = ctx["C"] = Client("C", 2)
    for c in (A, B, C):
        out("%s connect -> state %s timeout %s" % (c.name, c.zk.state, c.zk.negotiated))
    ids = {c.zk.client_id[0] for c in (A, B, C)}
    out("sessions distinct: %s, nonzero: %s, passwd len: %s" %
        (len(ids) == 3, 0 not in ids, sorted({len(c.zk.client_id[1]) for c in (A, B, C)})))
    X = Client("X", 0, timeout=100.0)
    out("X connect (asks 100000 ms) -> timeout %s" % X.zk.negotiated)
    X.stop()
    Y = Client("Y", 1, timeout=1.5)
    out("Y connect (asks 1500 ms) -> timeout %s" % Y.zk.negotiated)
    Y.stop()
    out("A ruok -> %r" % A.zk.command(b"ruok"))
    out("B isro -> %r" % B.zk.command(b"isro"))


def s_crud(ctx):
    A, B, C = ctx["A"], ctx["B"], ctx["C"]
    z = A.zk
    A.do("create /compat", lambda: wait_result(z.create_async("/compat", b"root")))
    A.do("create /compat/p v0", lambda: wait_result(z.create_async("/compat/p", b"v0")))
    A.do("create2 /compat/q", lambda: wait_result(
        z.create_async("/compat/q", b"qq", include_data=True)))
    B.sync()
    B.do("get /compat/p", lambda: wait_result(B.zk.get_async("/compat/p")))
    C.sync()
    C.do("exists /compat/p", lambda: wait_result(C.zk.exists_async("/compat/p")))
    C.do("exists /compat/missing", lambda: wait_result(C.zk.exists_async("/compat/missing")))
    A.do("set /compat/p v1 version=0", lambda: wait_result(z.set_async("/compat/p", b"v1", 0)))
    A.do("set /compat/p x version=0", lambda: wait_result(z.set_async("/compat/p", b"x", 0)))
    A.do("set /compat/p v2 version=-1", lambda: wait_result(z.set_async("/compat/p", b"v2")))
    A.do("set /compat/p empty", lambda: wait_result(z.set_async("/compat/p", b"")))
    A.do("get /compat/p", lambda: wait_result(z.get_async("/compat/p")))
    A.do("set /compat/missing", lambda: wait_result(z.set_async("/compat/missing", b"x")))
    A.do("delete /compat/p version=1", lambda: wait_result(z.delete_async("/compat/p", 1)))
    A.do("delete /compat/p version=3", lambda: wait_result(z.delete_async("/compat/p", 3)))
    A.do("delete /compat/p again", lambda: wait_result(z.delete_async("/compat/p")))
    A.do("get /compat/p", lambda: wait_result(z.get_async("/compat/p")))
    B.sync()
    B.do("get /compat/p", lambda: wait_result(B.zk.get_async("/compat/p")))
    A.do("create /compat/p again", lambda: wait_result(z.create_async("/compat/p", b"")))
    A.do("create /compat/p exists", lambda: wait_result(z.create_async("/compat/p", b"")))
    A.do("create /compat/x/y no parent", lambda: wait_result(z.create_async("/compat/x/y")))
    A.do("create /compat/a/b/c makepath",
         lambda: wait_result(z.create_async("/compat/a/b/c", b"c", makepath=True)))
    A.do("delete /compat/a not empty", lambda: wait_result(z.delete_async("/compat/a")))
    A.do("delete / ", lambda: A.call(Delete("/", -1)))
    A.do("create / ", lambda: A.call(RawCreate("/", b"", OPEN, 0)))
    big = b"x" * 500000
    A.do("create /compat/big 500000 bytes",
         lambda: wait_result(z.create_async("/compat/big", big, include_data=True)))
    B.sync()
    B.do("get /compat/big length", lambda: len(wait_result(B.zk.get_async("/compat/big"))[0]))
    A.do("create /compat/\u00fc utf8", lambda: wait_result(z.create_async("/compat/\u00fc", b"u")))
    # Bad paths, sent as they are (kazoo would normalize them), and create flags by opcode,
    # all under /compat/raw (so that what gets created does not shift later sequence numbers).
    A.do("create /compat/raw", lambda: wait_result(z.create_async("/compat/raw")))
    for bad in ("/compat/", "/compat//x", "/compat/./x", "/compat/../x", "compat",
                "/compat/\u0001", "/compat/\u007f"):
        bad = bad.replace("/compat", "/compat/raw", 1)
        A.do("raw create %r" % bad, lambda bad=bad: A.call(RawCreate(bad, b"", OPEN, 0)))
    A.do("raw get '/compat/'", lambda: A.call(GetData("/compat/", None)))
    A.do("raw get ''", lambda: A.call(GetData("", None)))
    for flags in (4, 5, 6, 7, -1):
        name = "/compat/raw/f%d" % (flags if flags >= 0 else 9)
        A.do("raw create %s flags=%d" % (name, flags),
             lambda flags=flags, name=name: A.call(RawCreate(name, b"", OPEN, flags)))
    A.do("createContainer /compat/raw/box flags=0",
         lambda: A.call(CreateContainer("/compat/raw/box", b"", OPEN, 0)))
    # Empty ACL list and null data.
    A.do("raw create /compat/raw/noacl acl=[]", lambda: A.call(RawCreate(
        "/compat/raw/noacl", b"", [], 0)))
    A.do("raw create /compat/raw/nulldata", lambda: A.call(RawCreate(
        "/compat/raw/nulldata", None, OPEN, 0)))
    # Known difference, documented in docs/zookeeper-compat.md: ZooKeeper keeps a node
    # created with null data as null (getData answers a null buffer, kazoo None), quorum
    # stores empty bytes (b''). Both print as `empty` here.
    A.do("get /compat/raw/nulldata", lambda: _null_or_empty(wait_result(z.get_async(
        "/compat/raw/nulldata"))))
    A.do("get_children /compat/raw", lambda: sorted(wait_result(z.get_children_async(
        "/compat/raw"))))
    A.do("delete /compat/raw (recursively)", lambda: _delete_tree(z, "/compat/raw"))
    # Zxids are dense: a failed write is a transaction too (reference §3.8).
    s1 = wait_result(z.create_async("/compat/z1", include_data=True))[1]
    try:
        wait_result(z.create_async("/compat/z1"))
    except kex.NodeExistsError:
        pass
    s2 = wait_result(z.create_async("/compat/z2", include_data=True))[1]
    out("A zxid distance z1 -> z2 across one failed create: %d" % (s2.czxid - s1.czxid))
    s3 = wait_result(z.create_async("/compat/z3", include_data=True))[1]
    out("A zxid distance z2 -> z3: %d" % (s3.czxid - s2.czxid))
    B.sync()
    B.do("get_children /compat", lambda: sorted(wait_result(B.zk.get_children_async("/compat"))))
    B.do("get_children2 /compat", lambda: wait_result(
        B.zk.get_children_async("/compat", include_data=True)))
    B.do("get_children /compat/missing",
         lambda: wait_result(B.zk.get_children_async("/compat/missing")))
    B.do("get /compat", lambda: wait_result(B.zk.get_async("/compat")))
    B.do("getAllChildrenNumber /compat", lambda: B.call(GetAllChildrenNumber("/compat")))
    B.do("getAllChildrenNumber /compat/missing",
         lambda: B.call(GetAllChildrenNumber("/compat/missing")))
    B.do("get_children /", lambda: sorted(wait_result(B.zk.get_children_async("/"))))
    B.do("get_children /zookeeper",
         lambda: sorted(wait_result(B.zk.get_children_async("/zookeeper"))))
    B.do("get_acls /zookeeper/config", lambda: wait_result(B.zk.get_acls_async(
        "/zookeeper/config")))
    B.do("get /zookeeper/config (digits of 4+ become P)", lambda: _ports_out(wait_result(
        B.zk.get_async("/zookeeper/config"))))
    B.do("set /zookeeper/config", lambda: wait_result(B.zk.set_async("/zookeeper/config", b"x")))
    B.do("exists /", lambda: wait_result(B.zk.exists_async("/")))
    B.do("getAllChildrenNumber /", lambda: B.call(GetAllChildrenNumber("/")))
    B.do("reconfig (reconfigEnabled is false)", lambda: wait_result(B.zk.reconfig_async(
        None, "3", None, -1)))


def _ports_out(data_stat):
    data, stat = data_stat
    return re.sub(rb"\d{4,}", b"P", data or b""), stat


def _delete_tree(z, path):
    for child in wait_result(z.get_children_async(path)):
        _delete_tree(z, path + "/" + child)
    return wait_result(z.delete_async(path))


def s_nodes(ctx):
    A, B = ctx["A"], ctx["B"]
    z = A.zk
    A.do("create /compat/e ephemeral", lambda: wait_result(z.create_async(
        "/compat/e", b"e", ephemeral=True, include_data=True)))
    A.do("create /compat/e/child", lambda: wait_result(z.create_async("/compat/e/child")))
    A.do("create /compat/e/seq- ephemeral sequential", lambda: wait_result(z.create_async(
        "/compat/e/seq-", ephemeral=True, sequence=True)))
    B.sync()
    B.do("exists /compat/e", lambda: wait_result(B.zk.exists_async("/compat/e")))
    A.do("create /compat/s", lambda: wait_result(z.create_async("/compat/s")))
    for i in range(3):
        A.do("create /compat/s/n- sequential", lambda: wait_result(z.create_async(
            "/compat/s/n-", b"%d" % i, sequence=True)))
    A.do("delete /compat/s/n-0000000001", lambda: wait_result(z.delete_async(
        "/compat/s/n-0000000001")))
    A.do("create /compat/s/n- sequential", lambda: wait_result(z.create_async(
        "/compat/s/n-", sequence=True)))
    A.do("create /compat/s/ sequential", lambda: wait_result(z.create_async(
        "/compat/s/", sequence=True)))
    A.do("create /compat/s/e- ephemeral sequential", lambda: wait_result(z.create_async(
        "/compat/s/e-", ephemeral=True, sequence=True, include_data=True)))
    A.do("create /compat/s/plain", lambda: wait_result(z.create_async("/compat/s/plain")))
    A.do("create /compat/s/plain- sequential", lambda: wait_result(z.create_async(
        "/compat/s/plain-", sequence=True)))
    B.sync()
    B.do("get_children2 /compat/s", lambda: wait_result(B.zk.get_children_async(
        "/compat/s", include_data=True)))
    A.do("getEphemerals /", lambda: A.call(GetEphemerals("/")))
    A.do("getEphemerals /compat/s", lambda: A.call(GetEphemerals("/compat/s")))
    A.do("getEphemerals ''", lambda: A.call(GetEphemerals("")))
    B.do("getEphemerals /", lambda: B.call(GetEphemerals("/")))
    # Containers (opcode 19) and TTL nodes (opcode 21; extendedTypesEnabled=true).
    A.do("createContainer /compat/box", lambda: A.call(CreateContainer("/compat/box", b"b",
                                                                        OPEN, 4)))
    A.do("create /compat/box/item", lambda: wait_result(z.create_async("/compat/box/item")))
    A.do("createContainer /compat/box exists",
         lambda: A.call(CreateContainer("/compat/box", b"", OPEN, 4)))
    A.do("createTTL /compat/ttl ttl=60000",
         lambda: A.call(CreateTTL("/compat/ttl", b"t", OPEN, 5, 60000)))
    A.do("create /compat/ttlseq", lambda: wait_result(z.create_async("/compat/ttlseq")))
    A.do("createTTL /compat/ttlseq/t- sequential ttl=60000",
         lambda: A.call(CreateTTL("/compat/ttlseq/t-", b"", OPEN, 6, 60000)))
    A.do("createTTL /compat/ttl0 ttl=0", lambda: A.call(CreateTTL("/compat/ttl0", b"", OPEN,
                                                                  5, 0)))
    A.do("createTTL /compat/ttlneg ttl=-5",
         lambda: A.call(CreateTTL("/compat/ttlneg", b"", OPEN, 5, -5)))
    A.do("createTTL /compat/ttlp flags=0",
         lambda: A.call(CreateTTL("/compat/ttlp", b"", OPEN, 0, 60000)))
    A.do("createTTL /compat/ttle flags=1",
         lambda: A.call(CreateTTL("/compat/ttle", b"", OPEN, 1, 60000)))
    A.do("create /compat/ttl/child", lambda: wait_result(z.create_async("/compat/ttl/child")))
    B.sync()
    B.do("exists /compat/ttl", lambda: wait_result(B.zk.exists_async("/compat/ttl")))
    B.do("exists /compat/box", lambda: wait_result(B.zk.exists_async("/compat/box")))
    A.do("delete /compat/box/item", lambda: wait_result(z.delete_async("/compat/box/item")))
    A.do("exists /compat/box", lambda: wait_result(z.exists_async("/compat/box")))
    A.do("sync /compat", lambda: wait_result(z.sync_async("/compat")))
    A.do("sync /compat/nonexistent", lambda: wait_result(z.sync_async("/compat/nonexistent")))


def settle_acls(ctx, path, want, timeout=10.0):
    """Waits (bounded, prints nothing) until every server answers getACL(path) with `want`.

    ZooKeeper 3.8 race: the leader's pending-change record for a setACL keeps the node's
    old ACL, so a write forwarded by a follower right after setACL's reply can still be
    checked against the old ACL until the leader has applied the setACL itself (seen as
    an occasional missing NoAuth, through followers only). Once each server's own tree
    (the leader's too) shows the new ACL, the next checks are deterministic."""
    deadline = time.monotonic() + timeout
    want = sorted((a.perms, a.id.scheme, a.id.id) for a in want)
    for c in (ctx["A"], ctx["B"], ctx["C"]):
        while True:
            acls, _ = wait_result(c.zk.get_acls_async(path))
            if sorted((a.perms, a.id.scheme, a.id.id) for a in acls) == want:
                break
            if time.monotonic() > deadline:
                raise AssertionError("%s: getACL(%s) still %r" % (c.name, path, acls))
            time.sleep(0.02)


def s_acl(ctx):
    A, B = ctx["A"], ctx["B"]
    z = A.zk
    A.do("whoAmI", lambda: A.call(WhoAmI(None)))
    A.do("add_auth digest user:pass", lambda: wait_result(z.add_auth_async("digest",
                                                                           "user:pass")))
    A.do("whoAmI", lambda: A.call(WhoAmI(None)))
    digest = make_digest_acl("user", "pass", all=True)
    out("digest id: %s" % digest.id.id)
    A.do("create /compat/acl digest-only", lambda: wait_result(z.create_async(
        "/compat/acl", b"secret", acl=[digest], include_data=True)))
    A.do("get /compat/acl", lambda: wait_result(z.get_async("/compat/acl")))
    A.do("get_acls /compat/acl", lambda: wait_result(z.get_acls_async("/compat/acl")))
    B.sync()
    B.do("get /compat/acl", lambda: wait_result(B.zk.get_async("/compat/acl")))
    B.do("exists /compat/acl", lambda: wait_result(B.zk.exists_async("/compat/acl")))
    B.do("get_acls /compat/acl", lambda: wait_result(B.zk.get_acls_async("/compat/acl")))
    B.do("set /compat/acl", lambda: wait_result(B.zk.set_async("/compat/acl", b"x")))
    B.do("create /compat/acl/c", lambda: wait_result(B.zk.create_async("/compat/acl/c")))
    B.do("get_children /compat/acl", lambda: wait_result(B.zk.get_children_async(
        "/compat/acl")))
    B.do("add_auth digest user:wrong", lambda: wait_result(B.zk.add_auth_async(
        "digest", "user:wrong")))
    B.do("get /compat/acl", lambda: wait_result(B.zk.get_async("/compat/acl")))
    B.do("whoAmI", lambda: B.call(WhoAmI(None)))
    # Read for everyone, all for the digest user: getACL without ADMIN masks the digest id?
    mixed = [ACL(1, Id("world", "anyone")), digest]
    A.do("create /compat/mixed", lambda: wait_result(z.create_async("/compat/mixed", b"m",
                                                                    acl=mixed)))
    B.sync()
    B.do("get_acls /compat/mixed", lambda: wait_result(B.zk.get_acls_async("/compat/mixed")))
    B.do("get /compat/mixed", lambda: wait_result(B.zk.get_async("/compat/mixed")))
    B.do("set /compat/mixed", lambda: wait_result(B.zk.set_async("/compat/mixed", b"x")))
    A.do("set_acls /compat/mixed version=5", lambda: wait_result(z.set_acls_async(
        "/compat/mixed", [digest], 5)))
    A.do("set_acls /compat/mixed world:anyone READ version=0", lambda: wait_result(
        z.set_acls_async("/compat/mixed", [ACL(1, Id("world", "anyone"))], 0)))
    settle_acls(ctx, "/compat/mixed", [ACL(1, Id("world", "anyone"))])
    A.do("set /compat/mixed", lambda: wait_result(z.set_async("/compat/mixed", b"x")))
    A.do("get_acls /compat/mixed", lambda: wait_result(z.get_acls_async("/compat/mixed")))
    A.do("set_acls /compat/mixed []", lambda: wait_result(z.set_acls_async("/compat/mixed",
                                                                           [])))
    A.do("set_acls /compat/mixed (no ADMIN)", lambda: wait_result(z.set_acls_async(
        "/compat/mixed", OPEN)))
    # auth: scheme placeholder, ip scheme, unknown scheme, bad digest id.
    A.do("create /compat/authacl auth:", lambda: wait_result(z.create_async(
        "/compat/authacl", acl=[ACL(31, Id("auth", ""))])))
    A.do("get_acls /compat/authacl", lambda: wait_result(z.get_acls_async("/compat/authacl")))
    C = ctx["C"]
    C.do("create /compat/authacl2 auth: without auth", lambda: wait_result(C.zk.create_async(
        "/compat/authacl2", acl=[ACL(31, Id("auth", ""))])))
    C.do("create /compat/ip127 ip:127.0.0.1", lambda: wait_result(C.zk.create_async(
        "/compat/ip127", b"i", acl=[ACL(31, Id("ip", "127.0.0.1"))])))
    C.do("get /compat/ip127", lambda: wait_result(C.zk.get_async("/compat/ip127")))
    C.do("create /compat/ip10 ip:10.0.0.0/8", lambda: wait_result(C.zk.create_async(
        "/compat/ip10", b"i", acl=[ACL(31, Id("ip", "10.0.0.0/8"))])))
    C.do("get /compat/ip10", lambda: wait_result(C.zk.get_async("/compat/ip10")))
    C.do("create /compat/badscheme", lambda: wait_result(C.zk.create_async(
        "/compat/badscheme", acl=[ACL(31, Id("nosuch", "x"))])))
    C.do("create /compat/badip", lambda: wait_result(C.zk.create_async(
        "/compat/badip", acl=[ACL(31, Id("ip", "not-an-ip"))])))
    C.do("create /compat/baddigest", lambda: wait_result(C.zk.create_async(
        "/compat/baddigest", acl=[ACL(31, Id("digest", "nocolon"))])))
    C.do("create /compat/badperm", lambda: wait_result(C.zk.create_async(
        "/compat/badperm", acl=[ACL(0, Id("world", "anyone"))])))
    # Deleting needs DELETE on the parent only.
    C.do("delete /compat/acl (parent open)", lambda: wait_result(C.zk.delete_async(
        "/compat/acl")))
    # An unknown auth scheme fails the connection (AUTH_FAILED is final for kazoo).
    D = Client("D", 1)
    D.do("add_auth nosuch x", lambda: wait_result(D.zk.add_auth_async("nosuch", "x")))
    D.wait_state(KazooState.LOST, timeout=10)
    out("D state after failed auth: %s" % D.zk.state)
    D.stop()


def s_watches(ctx):
    A, B = ctx["A"], ctx["B"]
    z = A.zk
    wait_result(z.create_async("/compat/w", b"w0"))
    B.sync()
    w_data, w_child, w_exist = Waiter(), Waiter(), Waiter()
    B.do("get /compat/w watch", lambda: B.watch_get("/compat/w", w_data))
    B.do("get_children /compat/w watch", lambda: B.watch_children("/compat/w", w_child))
    B.do("exists /compat/w/new watch", lambda: B.watch_exists("/compat/w/new", w_exist))
    A.do("set /compat/w w1", lambda: wait_result(z.set_async("/compat/w", b"w1")))
    out("B data watcher: %s" % w_data.result())
    B.show_events("after set")
    A.do("set /compat/w w2", lambda: wait_result(z.set_async("/compat/w", b"w2")))
    B.show_events("after 2nd set (one-shot)")
    A.do("create /compat/w/new", lambda: wait_result(z.create_async("/compat/w/new")))
    out("B exist watcher: %s" % w_exist.result())
    out("B child watcher: %s" % w_child.result())
    B.show_events("after create")
    # Data and child watch on one node, then delete: one DELETED per watch kind?
    wd, wc = Waiter(), Waiter()
    B.do("get /compat/w/new watch", lambda: B.watch_get("/compat/w/new", wd))
    B.do("get_children /compat/w/new watch", lambda: B.watch_children("/compat/w/new", wc))
    B.do("exists /compat/w/new watch", lambda: B.watch_exists("/compat/w/new"))
    B.do("get_children /compat/w watch", lambda: B.watch_children("/compat/w"))
    A.do("delete /compat/w/new", lambda: wait_result(z.delete_async("/compat/w/new")))
    out("B data watcher: %s; child watcher: %s" % (wd.result(), wc.result()))
    B.show_events("after delete")
    # setACL and failed writes fire nothing.
    B.do("get /compat/w watch", lambda: B.watch_get("/compat/w"))
    A.do("set_acls /compat/w", lambda: wait_result(z.set_acls_async("/compat/w", OPEN)))
    A.do("set /compat/w version=99", lambda: wait_result(z.set_async("/compat/w", b"", 99)))
    A.do("create /compat/w exists", lambda: wait_result(z.create_async("/compat/w")))
    B.show_events("after setACL and failed writes")
    # An exists watch on a node created unreadable: 3.8 drops the event (no READ).
    B.do("exists /compat/w/secret watch", lambda: B.watch_exists("/compat/w/secret"))
    digest = make_digest_acl("user", "pass", all=True)
    A.do("create /compat/w/secret digest-only", lambda: wait_result(z.create_async(
        "/compat/w/secret", acl=[digest])))
    B.show_events("after create of an unreadable node")
    # Watches from two sessions on one node; the writer's own watch fires too.
    C = ctx["C"]
    C.sync()
    C.do("get /compat/w watch", lambda: C.watch_get("/compat/w"))
    A.do("get /compat/w watch", lambda: A.watch_get("/compat/w"))
    A.do("set /compat/w w3", lambda: wait_result(z.set_async("/compat/w", b"w3")))
    A.show_events("after own set")
    B.show_events("after A's set")
    C.show_events("after A's set")
    # Watches fired by a multi.
    B.do("get /compat/w watch", lambda: B.watch_get("/compat/w"))
    B.do("get_children /compat/w watch", lambda: B.watch_children("/compat/w"))

    def multi():
        t = z.transaction()
        t.set_data("/compat/w", b"w4")
        t.create("/compat/w/m")
        return wait_result(t.commit_async())
    A.do("multi [set /compat/w, create /compat/w/m]", multi)
    B.show_events("after multi")


def s_persistent(ctx):
    A, B = ctx["A"], ctx["B"]
    z = A.zk
    B.do("addWatch /compat/pw PERSISTENT", lambda: B.add_watch("/compat/pw", 0))
    A.do("create /compat/pw", lambda: wait_result(z.create_async("/compat/pw")))
    A.do("set /compat/pw", lambda: wait_result(z.set_async("/compat/pw", b"1")))
    A.do("set /compat/pw", lambda: wait_result(z.set_async("/compat/pw", b"2")))
    A.do("create /compat/pw/c", lambda: wait_result(z.create_async("/compat/pw/c")))
    A.do("create /compat/pw/c/d", lambda: wait_result(z.create_async("/compat/pw/c/d")))
    A.do("set /compat/pw/c", lambda: wait_result(z.set_async("/compat/pw/c", b"x")))
    A.do("delete /compat/pw/c/d", lambda: wait_result(z.delete_async("/compat/pw/c/d")))
    A.do("delete /compat/pw/c", lambda: wait_result(z.delete_async("/compat/pw/c")))
    B.show_events("persistent /compat/pw")
    B.do("addWatch /compat/rw PERSISTENT_RECURSIVE", lambda: B.add_watch("/compat/rw", 1))
    A.do("create /compat/rw", lambda: wait_result(z.create_async("/compat/rw")))
    A.do("create /compat/rw/a", lambda: wait_result(z.create_async("/compat/rw/a")))
    A.do("set /compat/rw/a", lambda: wait_result(z.set_async("/compat/rw/a", b"x")))
    A.do("create /compat/rw/a/b", lambda: wait_result(z.create_async("/compat/rw/a/b")))
    A.do("delete /compat/rw/a/b", lambda: wait_result(z.delete_async("/compat/rw/a/b")))
    A.do("create /compat/rwx (sibling prefix)", lambda: wait_result(z.create_async(
        "/compat/rwx")))
    B.show_events("recursive /compat/rw")
    B.do("checkWatches /compat/rw Any", lambda: B.call(CheckWatches("/compat/rw", 3)))
    B.do("checkWatches /compat/nowatch Any", lambda: B.call(CheckWatches("/compat/nowatch", 3)))
    B.do("removeWatches /compat/rw Any", lambda: B.remove_watches("/compat/rw", 3))
    B.do("removeWatches /compat/rw Any again", lambda: B.remove_watches("/compat/rw", 3))
    B.do("removeWatches /compat/pw Data", lambda: B.remove_watches("/compat/pw", 2))
    B.do("removeWatches /compat/pw Children", lambda: B.remove_watches("/compat/pw", 1))
    B.do("checkWatches /compat/pw Any", lambda: B.call(CheckWatches("/compat/pw", 3)))
    A.do("set /compat/rw/a", lambda: wait_result(z.set_async("/compat/rw/a", b"y")))
    A.do("set /compat/pw", lambda: wait_result(z.set_async("/compat/pw", b"3")))
    B.show_events("after removeWatches")
    # One-shot watches: check and remove by type.
    B.sync()
    B.do("get /compat/pw watch", lambda: B.watch_get("/compat/pw"))
    B.do("get_children /compat/pw watch", lambda: B.watch_children("/compat/pw"))
    B.do("checkWatches /compat/pw Data", lambda: B.call(CheckWatches("/compat/pw", 2)))
    B.do("checkWatches /compat/pw Children", lambda: B.call(CheckWatches("/compat/pw", 1)))
    B.do("removeWatches /compat/pw Data", lambda: B.remove_watches("/compat/pw", 2))
    B.do("checkWatches /compat/pw Data", lambda: B.call(CheckWatches("/compat/pw", 2)))
    A.do("set /compat/pw", lambda: wait_result(z.set_async("/compat/pw", b"4")))
    A.do("create /compat/pw/k", lambda: wait_result(z.create_async("/compat/pw/k")))
    B.show_events("after removing the data watch only")
    B.do("removeWatches /compat/pw Children (fired)", lambda: B.remove_watches("/compat/pw", 1))
    B.do("removeWatches /compat/missing Any", lambda: B.remove_watches("/compat/missing", 3))


def s_multi(ctx):
    A, B = ctx["A"], ctx["B"]
    z = A.zk

    def tx(*ops):
        t = z.transaction()
        for op in ops:
            if op[0] == "raw":  # sent as it is (kazoo would normalize the path)
                t._add(op[1])
            else:
                getattr(t, op[0])(*op[1:])
        return wait_result(t.commit_async())

    A.do("multi ok", lambda: tx(("create", "/compat/t1", b"a"), ("create", "/compat/t1/c"),
                                ("set_data", "/compat/t1", b"b", 0), ("check", "/compat/t1", 1),
                                ("create", "/compat/t1/s-", b"", None, False, True),
                                ("delete", "/compat/t1/c")))
    B.sync()
    B.do("get /compat/t1", lambda: wait_result(B.zk.get_async("/compat/t1")))
    B.do("get_children /compat/t1", lambda: sorted(wait_result(B.zk.get_children_async(
        "/compat/t1"))))
    A.do("multi fails at 2nd op", lambda: tx(("create", "/compat/t2"),
                                             ("create", "/compat/t1"),
                                             ("set_data", "/compat/t1", b"x")))
    A.do("exists /compat/t2 (rolled back)", lambda: wait_result(z.exists_async("/compat/t2")))
    A.do("multi check bad version", lambda: tx(("check", "/compat/t1", 5),
                                               ("set_data", "/compat/t1", b"y")))
    A.do("multi check missing node", lambda: tx(("create", "/compat/t3"),
                                                ("check", "/compat/nope", 0)))
    A.do("multi delete not empty", lambda: tx(("delete", "/compat/t1"),))
    A.do("multi create under ephemeral", lambda: tx(("create", "/compat/t4", b"", None, True),
                                                    ("create", "/compat/t4/c")))
    A.do("multi sees its own earlier ops", lambda: tx(("create", "/compat/t5"),
                                                      ("set_data", "/compat/t5", b"1", 0),
                                                      ("check", "/compat/t5", 1),
                                                      ("delete", "/compat/t5", 1),
                                                      ("create", "/compat/t5", b"again")))
    A.do("get /compat/t5", lambda: wait_result(z.get_async("/compat/t5")))
    A.do("multi []", lambda: tx())
    A.do("multi bad path", lambda: tx(("create", "/compat/t6"),
                                      ("raw", CheckVersion("/compat/t6/", 0))))
    A.do("multi bad flags", lambda: tx(("create", "/compat/t7"),
                                       ("raw", RawCreate("/compat/t8", b"", OPEN, 9))))
    A.do("get /compat/t1", lambda: wait_result(z.get_async("/compat/t1")))
    B.sync()
    B.do("multiRead", lambda: B.call(MultiRead([GetChildren("/compat/t1", None),
                                                GetData("/compat/t1", None),
                                                GetData("/compat/missing", None),
                                                GetChildren("/compat/missing", None)])))
    B.do("multiRead []", lambda: B.call(MultiRead([])))
    B.do("multiRead no READ", lambda: B.call(MultiRead([GetData("/compat/w/secret", None)])))


def s_expiry(ctx):
    B = ctx["B"]
    E = Client("E", 2, timeout=1.0)
    out("E connect (asks 1000 ms) -> timeout %s" % E.zk.negotiated)
    z = E.zk
    E.do("create /compat/exp", lambda: wait_result(z.create_async("/compat/exp")))
    E.do("create /compat/exp/e1 ephemeral", lambda: wait_result(z.create_async(
        "/compat/exp/e1", ephemeral=True)))
    E.do("create /compat/exp/e- ephemeral sequential", lambda: wait_result(z.create_async(
        "/compat/exp/e-", ephemeral=True, sequence=True)))
    B.sync()
    B.do("exists /compat/exp/e1 watch", lambda: B.watch_exists("/compat/exp/e1"))
    B.do("get_children /compat/exp watch", lambda: B.watch_children("/compat/exp"))
    # E stops pinging (its connection stays open): the server expires the session.
    since = len(E.states)
    z._connection._send_ping = lambda *a, **k: None
    E.wait_state(KazooState.LOST, since=since, timeout=20)
    from kazoo.protocol.states import KeeperState
    out("E after silence: LOST, told the session expired: %s" %
        (KeeperState.EXPIRED_SESSION in z.keeper_states))
    B.show_events("after E expired", sort=True)
    B.do("get_children /compat/exp", lambda: sorted(wait_result(B.zk.get_children_async(
        "/compat/exp"))))
    E.stop()


def s_move(ctx):
    A = ctx["A"]
    z = A.zk
    wait_result(z.create_async("/compat/mv"))
    wait_result(z.create_async("/compat/mv/d", b"d0"))
    wait_result(z.create_async("/compat/mv/quiet", b"q"))
    M = Client("M", 0)
    m = M.zk
    M.do("create /compat/mv/eph ephemeral", lambda: wait_result(m.create_async(
        "/compat/mv/eph", ephemeral=True)))
    M.do("get /compat/mv/d watch", lambda: M.watch_get("/compat/mv/d"))
    M.do("get /compat/mv/quiet watch", lambda: M.watch_get("/compat/mv/quiet"))
    M.do("get_children /compat/mv watch", lambda: M.watch_children("/compat/mv"))
    M.do("exists /compat/mv/later watch", lambda: M.watch_exists("/compat/mv/later"))
    M.do("exists /compat/mv/absent watch", lambda: M.watch_exists("/compat/mv/absent"))
    M.do("addWatch /compat/mvr PERSISTENT_RECURSIVE", lambda: M.add_watch("/compat/mvr", 1))
    session = m.client_id[0]
    # Disconnect: M's next server is a port nobody listens on, so it stays away while A
    # changes two watched nodes; then it reattaches to server 2.
    since = len(M.states)
    m.set_hosts("127.0.0.1:%d" % free_dead_port())
    m._call(kconn._CONNECTION_DROP, m.handler.async_result())
    M.wait_state(KazooState.SUSPENDED, since=since, timeout=10)
    A.do("set /compat/mv/d (M away)", lambda: wait_result(z.set_async("/compat/mv/d", b"d1")))
    A.do("create /compat/mv/later (M away)", lambda: wait_result(z.create_async(
        "/compat/mv/later")))
    since = len(M.states)
    m.set_hosts(HOSTS[1])
    M.wait_state(KazooState.CONNECTED, since=since, timeout=15)
    M.sync()  # (CONNECTED is announced before SetWatches goes out)
    out("M reattached to server 2: same session %s, SetWatches sent %s, reply %s" %
        (m.client_id[0] == session, m.sent_set_watches, m.set_watches_result))
    M.show_events("after the move (fired by SetWatches)")
    A.do("create /compat/mv/c1", lambda: wait_result(z.create_async("/compat/mv/c1")))
    A.do("create /compat/mv/absent", lambda: wait_result(z.create_async("/compat/mv/absent")))
    A.do("set /compat/mv/quiet", lambda: wait_result(z.set_async("/compat/mv/quiet", b"q1")))
    A.do("create /compat/mvr", lambda: wait_result(z.create_async("/compat/mvr")))
    A.do("create /compat/mvr/x", lambda: wait_result(z.create_async("/compat/mvr/x")))
    M.show_events("after changes on server 1")
    M.do("exists /compat/mv/eph", lambda: wait_result(m.exists_async("/compat/mv/eph")))
    M.do("create /compat/mv/eph2 ephemeral (via server 2)", lambda: wait_result(
        m.create_async("/compat/mv/eph2", ephemeral=True, include_data=True)))
    # A wrong password is refused.
    W = Client("W", 2, client_id=(session, b"\x00" * 16), connect=False)
    W.reattach_refused(session, "with a wrong password")
    M.do("exists /compat/mv/eph2 (still M's)", lambda: wait_result(m.exists_async(
        "/compat/mv/eph2")))
    ctx["M"] = M


def _raw_frame(sock, body):
    sock.sendall(struct.pack(">i", len(body)) + body)


def _raw_recv(sock, timeout=10.0):
    """One reply frame; None when the server closed the connection, "timeout" after `timeout`."""
    sock.settimeout(timeout)
    data = b""
    try:
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
    except socket.timeout:
        return "timeout"
    except OSError:
        return None
    return data[4:4 + struct.unpack(">i", data[:4])[0]]


def _raw_session(hostport, session=0, password=b"\0" * 16):
    """A raw connection with a new (session 0) or reattached session: (socket, id, password)."""
    host, port = hostport.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    _raw_frame(sock, struct.pack(">iqiq", 0, 0, 10000, session) + struct.pack(">i", 16) +
               password + b"\0")
    reply = _raw_recv(sock)
    assert isinstance(reply, bytes) and len(reply) == 37, reply
    _, timeout, sid, n = struct.unpack(">iiqi", reply[:20])
    return sock, (sid if timeout > 0 else None), reply[20:20 + n]


def _raw_set(sock, xid, path, data):
    p = path.encode()
    _raw_frame(sock, struct.pack(">ii", xid, 5) + struct.pack(">i", len(p)) + p +
               struct.pack(">i", len(data)) + data + struct.pack(">i", -1))
    reply = _raw_recv(sock)
    if reply is None:
        return "closed without a reply"
    if reply == "timeout":
        return "no answer in 10 s"
    rxid, _, err = struct.unpack(">iqi", reply[:16])
    return "reply xid %s err %d" % ("=" if rxid == xid else rxid, err)


def s_moved(ctx):
    """A session reattached on another server: its old connection's next write is refused."""
    A = ctx["A"]
    A.do("create /compat/moved", lambda: wait_result(A.zk.create_async("/compat/moved", b"0")))
    for old, new in ((0, 2), (0, 1)):
        x, sid, password = _raw_session(HOSTS[old])
        out("X connected to server %d: %s" % (old + 1, "session" if sid else "refused"))
        y, ysid, _ = _raw_session(HOSTS[new], sid, password)
        out("Y reattached on server %d: same session %s" % (new + 1, ysid == sid))
        out("X setData through server %d after the move: %s" %
            (old + 1, _raw_set(x, 1, "/compat/moved", b"x")))
        out("Y setData through server %d: %s" % (new + 1, _raw_set(y, 1, "/compat/moved", b"y")))
        _raw_frame(y, struct.pack(">ii", 2, -11))  # closeSession
        closing = _raw_recv(y)
        out("Y closeSession: %s" % ("err %d" % struct.unpack(">iqi", closing[:16])[2]
                                     if isinstance(closing, bytes) else closing))
        x.close()
        y.close()
    A.do("get /compat/moved", lambda: wait_result(A.zk.get_async("/compat/moved"))[0])


def s_close(ctx):
    A, B = ctx["A"], ctx["B"]
    M = ctx.get("M")
    K = Client("K", 2)
    wait_result(K.zk.create_async("/compat/k", b""))
    K.do("create /compat/k/e ephemeral", lambda: wait_result(K.zk.create_async(
        "/compat/k/e", ephemeral=True)))
    K.do("create /compat/k/s- ephemeral sequential", lambda: wait_result(K.zk.create_async(
        "/compat/k/s-", ephemeral=True, sequence=True)))
    B.sync()
    B.do("exists /compat/k/e watch", lambda: B.watch_exists("/compat/k/e"))
    B.do("get_children /compat/k watch", lambda: B.watch_children("/compat/k"))
    old = K.zk.client_id
    K.stop()
    out("K closed")
    B.show_events("after K closed", sort=True)
    B.do("get_children /compat/k", lambda: sorted(wait_result(B.zk.get_children_async(
        "/compat/k"))))
    # A closed session cannot be reattached.
    R = Client("R", 0, client_id=old, connect=False)
    R.reattach_refused(old[0], "of a closed session")
    if M is not None:
        B.do("exists /compat/mv/eph watch", lambda: B.watch_exists("/compat/mv/eph"))
        M.stop()
        out("M closed")
        B.show_events("after M closed", sort=True)
        B.do("get_children /compat/mv", lambda: sorted(wait_result(B.zk.get_children_async(
            "/compat/mv"))))
    A.do("getEphemerals /", lambda: A.call(GetEphemerals("/")))
    A.stop()
    B.sync()
    B.do("get_children /compat/s after A closed", lambda: sorted(wait_result(
        B.zk.get_children_async("/compat/s"))))
    B.do("exists /compat/e after A closed", lambda: wait_result(B.zk.exists_async("/compat/e")))


SECTIONS = [("connect", s_connect), ("crud", s_crud), ("nodes", s_nodes), ("acl", s_acl),
            ("watches", s_watches), ("persistent watches", s_persistent), ("multi", s_multi),
            ("session expiry", s_expiry), ("session move", s_move),
            ("session moved (raw)", s_moved), ("close", s_close)]


def stop_all(timeout=20.0):
    def run():
        for c in CLIENTS:
            try:
                c.stop()
            except Exception:
                pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: zk_compat.py HOST:PORT HOST:PORT HOST:PORT\n")
        return 2
    HOSTS.extend(sys.argv[1:4])

    def watchdog(*_):
        sys.stderr.write("zk_compat: watchdog: 300 s passed\n")
        out("!! watchdog")
        os._exit(3)
    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(300)

    ctx = {}
    failed = False
    for name, fn in SECTIONS:
        out("== %s" % name)
        if name != "connect" and "A" not in ctx:
            out("!! skipped: no clients")
            failed = True
            continue
        try:
            fn(ctx)
        except Exception as e:
            failed = True
            out("!! aborted: %s: %s" % (type(e).__name__, e))
            traceback.print_exc(file=sys.stderr)
    out("== end")
    stop_all()
    sys.stdout.flush()
    os._exit(1 if failed else 0)


if __name__ == "__main__":
    main()
