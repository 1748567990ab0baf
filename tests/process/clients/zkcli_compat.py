#!/usr/bin/python3
"""Drives ZooKeeper's Java shell (`zkCli.sh`, Debian's zookeeper package) against one server
and prints a normalized transcript.

    zkcli_compat.py HOST:PORT [--zkcli PATH]

One JVM (Java startup is slow): the commands go to zkCli.sh's stdin, which it reads line by
line without echo when not on a terminal. After each command comes `version`, which only prints
the client's version, so the output splits into one block per command. zkCli's watcher prints
from another thread (`WATCHER::` and `WatchedEvent ...`), in no fixed order relative to the
commands' output (even in the middle of one of its lines): those are cut out of the raw output,
collected in order and printed at the end.

Normalized: times (<time>), zxids (cZxid becomes Z; mZxid and pZxid Z or Z+ relative to it),
a non-zero ephemeralOwner (<session>), port numbers (P), children order (sorted), SLF4J and
banner noise (dropped). Exit code 0 when zkCli ran to the end within 90 s (whatever the server
answered), 1 otherwise.
"""
import re
import subprocess
import sys

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
DIGEST = "digest:user:smGaoVKd/cQkjm7b88GyorAUz20=:cdrwa"  # user:pass
SEPARATOR = "version"
COMMANDS = [
    "create /zkc d0",
    "create /zkc d0",
    "create /zkc/a/b x",
    "create -e /zkc/eph e",
    "create -s /zkc/seq- s",
    "create -e -s /zkc/eseq- s",
    "create -c /zkc/box",
    "create -t 60000 /zkc/ttl t",
    "create /zkc/eph/x",
    "get -s /zkc",
    "set /zkc d1",
    "set -v 0 /zkc d2",
    "set -s /zkc d2",
    "get -w /zkc",
    "set /zkc d3",
    "ls /zkc",
    "ls -s /zkc",
    "ls -R /zkc",
    "stat /zkc",
    "stat /nope",
    "getAllChildrenNumber /zkc",
    "getEphemerals /zkc",
    "delete /zkc/seq-0000000001",
    "delete -v 5 /zkc/box",
    "delete /zkc",
    "addauth digest user:pass",
    "create /zkc/acl a " + DIGEST,
    "getAcl /zkc/acl",
    # ZooKeeper 3.8 race: after setAcl, a write forwarded by a follower can still be checked
    # (on the leader) against the node's old ACL until the leader has applied the setAcl, so
    # "setAcl ...:r" then "set" is NoAuth only most of the time. Deterministic instead: the
    # new ACL takes READ away (reads are checked by the server that answered setAcl, on its
    # own applied tree), and the write is allowed by the old and the new ACL alike; a denied
    # write comes from a node created read-only (create carries its ACL, no race).
    "setAcl /zkc/acl world:anyone:wa",
    "getAcl /zkc/acl",
    "get /zkc/acl",
    "set /zkc/acl x",
    "delete /zkc/acl",
    "create /zkc/ro r world:anyone:r",
    "set /zkc/ro x",
    "whoami",
    "sync /zkc",
    "config",
    "deleteall /zkc",
    "ls /",
    "get /zkc",
]

NOISE = (r"^SLF4J: ", r"^Welcome to ZooKeeper!$", r"^JLine support is ", r"^WATCHER::$", r"^$",
         r"^log4j:")


def normalize_block(cmd, lines):
    out = []
    czxid = None
    for line in lines:
        m = re.match(r"^(cZxid|mZxid|pZxid) = 0x([0-9a-f]+)$", line)
        if m:
            z = int(m.group(2), 16)
            if m.group(1) == "cZxid":
                czxid = z
                out.append("cZxid = Z")
            else:
                r = "?" if czxid is None else "Z" if z == czxid else "Z+" if z > czxid else "Z-"
                out.append("%s = %s" % (m.group(1), r))
            continue
        m = re.match(r"^(ctime|mtime) = .*$", line)
        if m:
            out.append("%s = <time>" % m.group(1))
            continue
        m = re.match(r"^ephemeralOwner = 0x([0-9a-f]+)$", line)
        if m:
            out.append("ephemeralOwner = " + ("0x0" if int(m.group(1), 16) == 0 else
                                              "<session>"))
            continue
        m = re.match(r"^\[(.*)\]$", line)
        if m and cmd.split()[0] in ("ls", "getEphemerals"):
            items = [x for x in m.group(1).split(", ") if x]
            out.append("[" + ", ".join(sorted(items)) + "]")
            continue
        out.append(re.sub(r"\b\d{4,5}\b", "P", line))
    if cmd.startswith("ls -R"):
        out = sorted(out)
    return out


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.stderr.write("usage: zkcli_compat.py HOST:PORT [--zkcli PATH]\n")
        return 2
    host = argv[0]
    zkcli = argv[argv.index("--zkcli") + 1] if "--zkcli" in argv else ZKCLI
    script = "".join("%s\n%s\n" % (c, SEPARATOR) for c in COMMANDS) + "quit\n"
    try:
        p = subprocess.run([zkcli, "-server", host], input=script.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90,
                           start_new_session=True)
        text, rc = p.stdout.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        text, rc = (e.stdout or b"").decode("utf-8", "replace"), None
    # The watcher's two println calls ("\nWATCHER::", "\nWatchedEvent ...") can land in the
    # middle of a line the main thread is printing in pieces (seen: `ls` printed "[", then the
    # event, then the rest of the list), so they are cut out of the raw text first, whole.
    events, blocks, current = [], [], []

    def take_event(m):
        events.append(m.group(1))
        return ""
    text = re.sub(r"\nWATCHER::\n", "", text)
    text = re.sub(r"\n(WatchedEvent [^\n]*)\n", take_event, text)
    for line in text.splitlines():
        if any(re.match(n, line) for n in NOISE):
            continue
        if line.startswith("WatchedEvent "):
            events.append(line)
            continue
        if line.startswith("ZooKeeper CLI version: "):
            blocks.append(current)
            current = []
            continue
        if line.startswith("Connecting to "):
            print("Connecting to <server>")
            continue
        current.append(line)
    for i, cmd in enumerate(COMMANDS):
        print("> " + cmd)
        if i < len(blocks):
            for line in normalize_block(cmd, blocks[i]):
                print(line)
        else:
            print("!! no output (zkCli stopped before this command)")
    print("> quit")
    for line in normalize_block("quit", current):
        print(line)
    print("events:")
    for e in events:
        print("  " + e)
    print("exit code %s" % ("(timeout after 90 s)" if rc is None else rc), flush=True)
    return 0 if rc is not None and len(blocks) == len(COMMANDS) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
