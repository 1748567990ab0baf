"""Byte-level differential probe of ZooKeeper's client protocol, run by
tests/process/zk_wire.test.cpp against a quorumd and against Debian's ZooKeeper 3.8.

wire_probe.py HOST:PORT -- speaks the protocol over a raw socket (no client library, so
requests no library would send can be tried: a standalone check, a multiRead with a write in
it, a truncated record, an unknown opcode, setWatches with a stale zxid) and prints one line per
request: its label, the reply's error code and body length, and any watch events (type,
state, path) that arrived before it. Nothing that legitimately differs between servers (zxids,
times, session ids) is printed; a server that closes the connection shows as CLOSED, and the
probe reconnects. Every read has a 5 s timeout.
"""
import socket
import struct
import sys

host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
sock = None


def send(body):
    sock.sendall(struct.pack(">i", len(body)) + body)


def recv_exact(n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def recv():
    head = recv_exact(4)
    if head is None:
        return None
    return recv_exact(struct.unpack(">i", head)[0])


def ustr(text):
    b = text.encode()
    return struct.pack(">i", len(b)) + b


def connect():
    global sock
    if sock is not None:
        sock.close()
    sock = socket.create_connection((host, port), timeout=5)
    send(struct.pack(">iqiq", 0, 0, 30000, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0")
    reply = recv()
    assert reply is not None and len(reply) == 37, reply


xid = 0


def req(op, body, label, fixed_xid=None):
    global xid
    xid += 1
    try:
        send(struct.pack(">ii", fixed_xid if fixed_xid is not None else xid, op) + body)
        while True:
            r = recv()
            if r is None:
                print(f"{label}: CLOSED", flush=True)
                connect()
                return
            rx, _zxid, err = struct.unpack(">iqi", r[:16])
            if rx == -1:
                etype, state, n = struct.unpack(">iii", r[16:28])
                print(f"{label}: event type={etype} state={state} path={r[28:28 + n].decode()}")
                continue
            print(f"{label}: xid={'own' if rx == (fixed_xid or xid) else rx} err={err} "
                  f"body={len(r) - 16}", flush=True)
            return
    except OSError as e:
        print(f"{label}: {type(e).__name__}", flush=True)
        connect()


def multi_header(op_type, done, err):
    return struct.pack(">i?i", op_type, done, err)


END = multi_header(-1, True, -1)
ACL = struct.pack(">i", 1) + struct.pack(">i", 31) + ustr("world") + ustr("anyone")


def create_body(path, data=b"", flags=0):
    return ustr(path) + struct.pack(">i", len(data)) + data + ACL + struct.pack(">i", flags)


connect()
req(1, create_body("/p", b"ab"), "create /p")
req(13, ustr("/p") + struct.pack(">i", 5), "check bad version")
req(13, ustr("/nope") + struct.pack(">i", -1), "check missing")
req(107, b"", "whoAmI")
req(4, ustr("/p") + b"\0" + b"extra", "getData with trailing bytes")
req(101, struct.pack(">q", 0) + struct.pack(">i", 1) + ustr("/p") + struct.pack(">i", 1) +
    ustr("/q") + struct.pack(">i", 1) + ustr("/p"), "setWatches from zxid 0", fixed_xid=-8)
req(5, ustr("/q") + struct.pack(">i", 1) + b"x" + struct.pack(">i", -1), "setData missing")
req(1, create_body("/q"), "create /q fires the exist watch")
req(14, multi_header(4, False, -1) + ustr("/p") + b"\0" + END, "multi with a getData")
req(22, multi_header(1, False, -1) + create_body("/x") + END, "multiRead with a create")
req(22, multi_header(4, False, -1) + ustr("/p") + b"\0" + multi_header(8, False, -1) +
    ustr("/nope") + b"\0" + END, "multiRead getData + missing getChildren")
req(14, multi_header(15, False, -1) + create_body("/m1") + multi_header(13, False, -1) +
    ustr("/p") + struct.pack(">i", 0) + multi_header(5, False, -1) + ustr("/p") +
    struct.pack(">i", 1) + b"z" + struct.pack(">i", -1) + END, "multi create2 + check + setData")
req(14, multi_header(1, False, -1) + create_body("/m2") + multi_header(1, False, -1) +
    create_body("/p") + multi_header(2, False, -1) + ustr("/p") + struct.pack(">i", -1) + END,
    "multi failing on its second op")
req(3, ustr("/m2") + b"\0", "the failed multi's create left nothing")
req(14, END, "empty multi")
req(14, multi_header(19, False, -1) + create_body("/c", b"", 4) + END, "multi createContainer")
req(106, ustr("/p") + struct.pack(">i", 1), "addWatch recursive")
req(17, ustr("/p") + struct.pack(">i", 2), "checkWatches data")
req(18, ustr("/p") + struct.pack(">i", 1), "removeWatches children")
req(18, ustr("/zz") + struct.pack(">i", 3), "removeWatches without a watch")
req(106, ustr("/p") + struct.pack(">i", 7), "addWatch unknown mode")
req(18, ustr("/p") + struct.pack(">i", 9), "removeWatches unknown type")
req(99, b"", "unknown opcode 99")
req(3, ustr("/p") + b"\0", "after an unknown opcode")
req(16, ustr("") + ustr("") + ustr("server.9=127.0.0.1:1:2") + struct.pack(">q", -1),
    "reconfig while disabled")
req(16, b"", "reconfig truncated")
req(102, b"", "sasl")
req(3, ustr("/p") + b"\0", "after sasl")
req(1, ustr("/t1")[:4], "create truncated")
req(5, ustr("/p"), "setData truncated")
req(14, multi_header(1, False, -1) + ustr("/m3")[:3], "multi truncated")
req(101, struct.pack(">q", 0) + struct.pack(">i", 3) + ustr("/p"), "setWatches truncated",
    fixed_xid=-8)
req(106, ustr("/p"), "addWatch truncated")
req(9, ustr("/p")[:2], "sync truncated")
req(1, create_body("/f", b"", 9), "create with flags 9")
req(2, ustr("bad") + struct.pack(">i", -1), "delete of a bad path")
req(104, ustr("/"), "getAllChildrenNumber")
req(103, ustr("/"), "getEphemerals")
req(3, ustr("/p") + b"\0", "still served")
