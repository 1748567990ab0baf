"""Run by tests/process/quorumd.test.cpp with /usr/bin/python3 (Debian's python3-kazoo).

kazoo_cluster.py HOST:PORT HOST:PORT HOST:PORT -- three quorumd client ports. Prints one line
per checked step; any failure raises (non-zero exit, traceback on stderr).
"""
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError, NodeExistsError, NotEmptyError

first, second, third = sys.argv[1:4]


def client(hosts, **kw):
    zk = KazooClient(hosts=hosts, timeout=10, **kw)
    zk.start(timeout=15)
    return zk


a = client(first)
b = client(second)

# Write through one server, read through another.
assert a.create("/k", b"v1") == "/k"
b.sync("/k")
data, stat = b.get("/k")
assert data == b"v1" and stat.version == 0, (data, stat)
print("read through another server", flush=True)

# ZooKeeper's errors, by name.
try:
    a.create("/k", b"x")
    raise AssertionError("create of an existing node succeeded")
except NodeExistsError:
    pass
try:
    a.set("/k", b"x", version=5)
    raise AssertionError("set with a wrong version succeeded")
except BadVersionError:
    pass
try:
    b.get("/missing")
    raise AssertionError("get of a missing node succeeded")
except NoNodeError:
    pass
print("errors", flush=True)

# Sequential and ephemeral children.
seq = a.create("/k/item-", b"", sequence=True, ephemeral=True)
assert seq == "/k/item-0000000000", seq
try:
    a.delete("/k")
    raise AssertionError("delete of a parent succeeded")
except NotEmptyError:
    pass
print("sequential ephemeral", flush=True)

# A watch set through one server fires for a change made through another.
fired = threading.Event()
events = []


def watcher(event):
    events.append(event)
    fired.set()


b.sync("/k")
b.get("/k", watch=watcher)
assert a.set("/k", b"v2").version == 1
assert fired.wait(10), "no watch event"
assert events[0].type == "CHANGED" and events[0].path == "/k", events
print("watch fired", flush=True)

# The session moves to the third server with its id and password; its ephemeral stays.
c = client(third, client_id=a.client_id)
assert c.client_id[0] == a.client_id[0]
c.sync("/k")
assert c.exists(seq) is not None
assert c.exists(seq).ephemeralOwner == a.client_id[0]
print("session moved", flush=True)

# Closing the session removes its ephemerals, seen from another server.
c.stop()
c.close()
b.sync("/k")
assert b.exists(seq) is None, "ephemeral outlived its session"
print("ephemeral gone with its session", flush=True)
b.stop()
b.close()
print("done", flush=True)
