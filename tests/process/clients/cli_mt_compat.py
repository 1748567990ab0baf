#!/usr/bin/python3
"""Drives ZooKeeper's C client shell (`cli_mt`, Debian's zookeeper-bin) against one server and
prints a normalized transcript.

    cli_mt_compat.py HOST:PORT [--cli PATH]

A fixed command sequence goes to cli_mt's stdin one command at a time. cli_mt runs most
commands asynchronously and prints their completions (and watch events) from its completion
thread, in the order the server answered; so after each command this script sends `sync /`
and waits (bounded) for that sync's whole completion output (`[/]: rc = 0` and `\tname = /`,
two separate writes): everything the command printed has come by then, and the next command
is sent only after it, so no output of one command can interleave with another's. The barrier
lines themselves are left out.

Normalized: the session id, times ("time = N msec" lines are dropped, ctime/mtime become
<time>), zxids (czxid becomes Z; mzxid becomes Z when equal to czxid, Z+ when greater),
ephemeralOwner (0, <own> for this session, <other>), port numbers in the config text (P),
children order (sorted). Exit code 0 when the whole sequence ran (whatever the server
answered), 1 when cli_mt did not connect, stalled or died.
"""
import re
import subprocess
import sys
import threading
import time

CLI = "/usr/lib/zookeeper/bin/cli_mt"
BARRIER = "sync /"
COMMANDS = [
    "create /cli",
    "create /cli/a",
    "create /cli/a",
    "create +e /cli/eph",
    "create +s /cli/seq-",
    "create +es /cli/eseq-",
    "create +c /cli/box",
    "create +t=60000 /cli/ttl",
    "create +st=60000 /cli/ttls-",
    "create2 /cli/b",
    "create2 +e /cli/eph2",
    "create /cli/eph/x",
    "create /none/x",
    "get /cli/a",
    "set /cli/a hello",
    "get /cli/a",
    "get /cli/none",
    "set /cli/none x",
    "ls /cli",
    "ls2 /cli",
    "ls /none",
    "exists /cli/a",
    "exists /cli/none",
    "wexists /cli/w",
    "create /cli/w",
    "delete /cli/a",
    "delete /cli/a",
    "delete /cli",
    "sync /cli",
    "get /cli/eph",
    "config",
    "addauth digest user:pass",
    "get /cli/b",
]


class Cli:
    def __init__(self, host, cli):
        self.proc = subprocess.Popen([cli, host], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.lines = []
        self.barriers = 0
        self.cv = threading.Condition()
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        # The barrier's completion prints two lines with two separate writes ("[/]: rc = 0",
        # then "\tname = /"). It counts as done only after the second one: the next command
        # goes out only then, so nothing cli_mt's main thread prints for it (e.g. "Creating
        # [...] node") can land between the two.
        name_pending = False
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cv:
                if name_pending and line == "\tname = /":
                    name_pending = False
                    self.barriers += 1
                elif line == "[/]: rc = 0" and not name_pending:
                    name_pending = True
                elif line.startswith("[/]: rc = ") and not name_pending:
                    # A failed barrier prints no name line: done, and shown in the transcript.
                    self.lines.append("!! barrier " + line)
                    self.barriers += 1
                else:
                    self.lines.append(line)
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return pred()
                self.cv.wait(left)
            return True

    def send(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def take(self):
        with self.cv:
            out, self.lines = self.lines, []
        return out

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.send("quit")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def normalize(cmd, lines, own):
    out = []
    czxid = None
    for line in lines:
        if re.match(r"^time = \d+ msec$", line):
            continue
        m = re.match(r"^Got a new session id: 0x([0-9a-f]+)$", line)
        if m:
            out.append("Got a new session id: <session>")
            continue
        m = re.match(r"^(\s*)ctime = .*$", line)
        if m:
            out.append(m.group(1) + "ctime = <time>")
            continue
        m = re.match(r"^(\s*)mtime=.*$", line)
        if m:
            out.append(m.group(1) + "mtime=<time>")
            continue
        m = re.match(r"^(\s*)czxid=([0-9a-f]+)$", line)
        if m:
            czxid = int(m.group(2), 16)
            out.append(m.group(1) + "czxid=Z")
            continue
        m = re.match(r"^(\s*)mzxid=([0-9a-f]+)$", line)
        if m:
            mz = int(m.group(2), 16)
            r = "?" if czxid is None else "Z" if mz == czxid else "Z+" if mz > czxid else "Z-"
            out.append(m.group(1) + "mzxid=" + r)
            continue
        m = re.match(r"^(\s*)ephemeralOwner = ([0-9a-f]+)$", line)
        if m:
            o = int(m.group(2), 16)
            out.append(m.group(1) + "ephemeralOwner = " +
                       ("0" if o == 0 else "<own>" if o == own else "<other>"))
            continue
        out.append(re.sub(r"\b\d{4,5}\b", "P", line) if cmd == "config" else line)
    if cmd.startswith("ls"):  # children come in the server's (hash) order
        sorted_out, run = [], []
        for line in out + [None]:
            if line is not None and line.startswith("\t") and "=" not in line:
                run.append(line)
                continue
            sorted_out.extend(sorted(run))
            run = []
            if line is not None:
                sorted_out.append(line)
        out = sorted_out
    return out


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.stderr.write("usage: cli_mt_compat.py HOST:PORT [--cli PATH]\n")
        return 2
    host = argv[0]
    cli = argv[argv.index("--cli") + 1] if "--cli" in argv else CLI
    c = Cli(host, cli)
    ok = True
    own = None
    try:
        if not c.wait_for(lambda: any(x.startswith("Got a new session id: ") for x in c.lines),
                          15):
            print("!! not connected within 15 s: %r" % c.take(), flush=True)
            return 1
        for line in c.lines:
            m = re.match(r"^Got a new session id: 0x([0-9a-f]+)$", line)
            if m:
                own = int(m.group(1), 16)
        for line in normalize("", c.take(), own):
            print(line, flush=True)
        for cmd in COMMANDS:
            print("> " + cmd, flush=True)
            want = c.barriers + 1
            c.send(cmd)
            c.send(BARRIER)
            if not c.wait_for(lambda: c.barriers >= want, 10):
                ok = False
                print("!! no reply within 10 s", flush=True)
                for line in normalize(cmd, c.take(), own):
                    print(line, flush=True)
                break
            for line in normalize(cmd, c.take(), own):
                print(line, flush=True)
        print("> quit", flush=True)
    finally:
        c.stop()
        c.reader.join(5)
    for line in normalize("quit", c.take(), own):
        print(line, flush=True)
    print("exit code %s" % c.proc.returncode, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
