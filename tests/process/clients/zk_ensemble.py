#!/usr/bin/python3
"""A real Apache ZooKeeper 3.8 ensemble (Debian's `zookeeper` package) on 127.0.0.1, for
differential tests and benchmarks against quorumd.

CLI:
  zk_ensemble.py start DIR N [--tick MS] [--ports C,Q,E,C,Q,E,...] [--extra KEY=VALUE]...
                             [--jvm-opt OPT]... [--timeout S]
      Writes DIR/zoo<i>.cfg, DIR/data<i>/myid and DIR/log4j.properties, runs one JVM per
      server (QuorumPeerMain, detached: it outlives this command), waits until every server
      answers `srvr` with a `Mode:` line, and prints one JSON line:
        {"dir": ..., "hosts": "127.0.0.1:p1,...", "client_ports": [...],
         "servers": [{"id", "client", "quorum", "election", "pid", "config", "log"}...],
         "modes": {"1": "follower", ...}}
      On failure (a JVM died, or not serving within --timeout seconds) it stops every server
      it started, prints the tail of each log on stderr and exits 1.
      --quorumd BIN: run `BIN foreground --config zoo<i>.cfg` instead of ZooKeeper's JVM (the
      same files, ports and waits), to run quorumd and ZooKeeper side by side.
  zk_ensemble.py stop DIR [--timeout S]
      SIGTERM to every server recorded in DIR/ensemble.json, SIGKILL after the timeout.
      Exits 0 when none is left running.
  zk_ensemble.py status DIR
      Prints {"1": "leader", "2": "follower", "3": null, ...} (null: no answer / no Mode).

Module:
  with Ensemble(dir, n=3, tick_ms=200) as e:   # start() on enter, stop() on exit
      e.hosts, e.client_ports, e.modes(), e.stop_server(i), e.start_server(i)

Only 127.0.0.1 is used. Every wait is bounded. Logs (zk<i>.log) stay in DIR.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

ZK_JAR = "/usr/share/java/zookeeper.jar"  # its manifest's Class-Path names its dependencies
LOG_JARS = ["/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"]
MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
JAVA = os.environ.get("JAVA", "/usr/bin/java")
DEFAULT_JVM_OPTS = [
    "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss512k",
    "-Djava.net.preferIPv4Stack=true",
    "-Dzookeeper.admin.enableServer=false",
    "-Dzookeeper.jmx.log4j.disable=true",
]
STATE = "ensemble.json"

LOG4J = """log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Threshold=INFO
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
"""


def free_ports(n):
    """n ports on 127.0.0.1 nothing listens on right now (bound to 0, noted, released)."""
    held, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            held.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in held:
            s.close()
    return ports


def four_letter(port, word, timeout=2.0, host="127.0.0.1"):
    """The text a server answers to a four-letter word, or None (refused, timeout)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(word.encode())
            s.shutdown(socket.SHUT_WR)
            chunks = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return None


def mode_of(srvr_text):
    if not srvr_text:
        return None
    for line in srvr_text.splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):].strip()
    return None


def _alive(pid, config):
    """Whether `pid` runs and is the server of `config` (a reused pid is not ours). Its
    cmdline can read empty for a moment (while the process starts): asked again then."""
    for _ in range(50):
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return False
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().decode("utf-8", "replace")
        except OSError:
            return False
        if cmd:
            return config in cmd
        time.sleep(0.01)
    return False


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError:
        pass


def _tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return "(no log)"


class Ensemble:
    def __init__(self, directory, n=3, tick_ms=200, ports=None, extra=None, jvm_opts=None,
                 init_limit=20, sync_limit=5, quorumd=None):
        if n < 1 or n > 9:
            raise ValueError("1..9 servers")
        self.dir = os.path.abspath(directory)
        self.n = n
        self.tick_ms = tick_ms
        self.init_limit = init_limit
        self.sync_limit = sync_limit
        self.extra = list(extra or [])
        self.jvm_opts = DEFAULT_JVM_OPTS + list(jvm_opts or [])
        self.quorumd = os.path.abspath(quorumd) if quorumd else None
        p = list(ports) if ports else free_ports(3 * n)
        if len(p) != 3 * n:
            raise ValueError("--ports needs 3 per server (client, quorum, election)")
        self.servers = []
        for i in range(1, n + 1):
            c, q, e = p[3 * (i - 1):3 * i]
            self.servers.append({
                "id": i, "client": c, "quorum": q, "election": e, "pid": None,
                "config": os.path.join(self.dir, "zoo%d.cfg" % i),
                "data": os.path.join(self.dir, "data%d" % i),
                "log": os.path.join(self.dir, "zk%d.log" % i),
            })

    # -- files -------------------------------------------------------------------------
    def write_configs(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "log4j.properties"), "w") as f:
            f.write(LOG4J)
        lines = []
        if self.n > 1:
            for s in self.servers:
                lines.append("server.%d=127.0.0.1:%d:%d" % (s["id"], s["quorum"], s["election"]))
        for s in self.servers:
            os.makedirs(s["data"], exist_ok=True)
            with open(os.path.join(s["data"], "myid"), "w") as f:
                f.write("%d\n" % s["id"])
            with open(s["config"], "w") as f:
                f.write("tickTime=%d\n" % self.tick_ms)
                f.write("initLimit=%d\nsyncLimit=%d\n" % (self.init_limit, self.sync_limit))
                f.write("dataDir=%s\n" % s["data"])
                f.write("clientPort=%d\n" % s["client"])
                f.write("clientPortAddress=127.0.0.1\n")
                f.write("4lw.commands.whitelist=*\n")
                f.write("admin.enableServer=false\n")
                f.write("quorumListenOnAllIPs=false\n")
                for kv in self.extra:
                    f.write(kv + "\n")
                for line in lines:
                    f.write(line + "\n")

    def save_state(self):
        tmp = os.path.join(self.dir, STATE + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.info(), f)
        os.replace(tmp, os.path.join(self.dir, STATE))

    # -- processes -----------------------------------------------------------------------
    def _server(self, i):
        return self.servers[i - 1]

    def start_server(self, i):
        s = self._server(i)
        if s["pid"] and _alive(s["pid"], s["config"]):
            return
        if self.quorumd:
            cmd = [self.quorumd, "foreground", "--config", s["config"]]
        else:
            cp = ":".join([self.dir, ZK_JAR] + [j for j in LOG_JARS if os.path.exists(j)])
            cmd = [JAVA] + self.jvm_opts + [
                "-Dlog4j.configuration=file:" + os.path.join(self.dir, "log4j.properties"),
                "-Dzookeeper.log.dir=" + self.dir,
                "-cp", cp, MAIN, s["config"]]
        with open(s["log"], "ab") as log, open(os.devnull, "rb") as null:
            proc = subprocess.Popen(cmd, stdin=null, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.dir, start_new_session=True, close_fds=True)
        s["pid"] = proc.pid
        self._procs = getattr(self, "_procs", {})
        self._procs[i] = proc
        self.save_state()

    def stop_server(self, i, timeout=10.0):
        s = self._server(i)
        ok = stop_pids([(s["pid"], s["config"])], timeout)
        proc = getattr(self, "_procs", {}).pop(i, None)
        if proc is not None:
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        s["pid"] = None
        self.save_state()
        return ok

    def modes(self):
        return {s["id"]: mode_of(four_letter(s["client"], "srvr")) for s in self.servers}

    def wait_serving(self, timeout=60.0, ids=None):
        """Waits until the servers `ids` (default all) report a Mode. Raises RuntimeError."""
        ids = ids or [s["id"] for s in self.servers]
        deadline = time.monotonic() + timeout
        while True:
            modes = self.modes()
            for i in ids:
                s = self._server(i)
                # A process this object started is asked directly (its /proc/PID/cmdline can
                # read empty for a moment right after the start); others by pid and config.
                proc = getattr(self, "_procs", {}).get(i)
                gone = proc.poll() is not None if proc else not _alive(s["pid"], s["config"])
                if gone:
                    raise RuntimeError("zookeeper server %d exited; see %s" % (i, s["log"]))
            if all(modes[i] for i in ids):
                return modes
            if time.monotonic() >= deadline:
                raise RuntimeError("not serving after %.0f s: %r" % (timeout, modes))
            time.sleep(0.1)

    def start(self, timeout=60.0):
        if running_in(self.dir):
            raise RuntimeError("%s: servers of an earlier start still run; stop them first"
                               % self.dir)
        self.write_configs()
        try:
            for s in self.servers:
                self.start_server(s["id"])
            self.last_modes = self.wait_serving(timeout)
        except BaseException:
            self.stop()
            raise
        return self.info()

    def stop(self, timeout=10.0):
        ok = stop_pids([(s["pid"], s["config"]) for s in self.servers if s["pid"]], timeout)
        for proc in getattr(self, "_procs", {}).values():
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        return ok

    @property
    def client_ports(self):
        return [s["client"] for s in self.servers]

    @property
    def hosts(self):
        return ",".join("127.0.0.1:%d" % p for p in self.client_ports)

    def info(self):
        return {
            "dir": self.dir, "hosts": self.hosts, "client_ports": self.client_ports,
            "tick_ms": self.tick_ms,
            "servers": [{k: s[k] for k in ("id", "client", "quorum", "election", "pid",
                                           "config", "log")} for s in self.servers],
            "modes": {str(k): v for k, v in getattr(self, "last_modes", {}).items()},
        }

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def stop_pids(pid_configs, timeout=10.0):
    """SIGTERM, then SIGKILL after `timeout` s, to each (pid, config) that is still ours.
    True when none is left running."""
    live = [(p, c) for p, c in pid_configs if p and _alive(p, c)]
    for p, _ in live:
        try:
            os.kill(p, signal.SIGTERM)
        except OSError:
            pass
    live = _wait_gone(live, timeout)
    for p, _ in live:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    return not _wait_gone(live, 5.0)


def _wait_gone(live, timeout):
    """Reaps and polls (pid, config) pairs until none runs or `timeout` s pass; those left."""
    deadline = time.monotonic() + timeout
    while live and time.monotonic() < deadline:
        for p, _ in live:
            _reap(p)
        live = [(p, c) for p, c in live if _alive(p, c)]
        if live:
            time.sleep(0.05)
    return live


def load_state(directory):
    with open(os.path.join(os.path.abspath(directory), STATE)) as f:
        return json.load(f)


def running_in(directory):
    """The recorded servers of `directory` that still run."""
    try:
        state = load_state(directory)
    except (OSError, ValueError):
        return []
    return [s["id"] for s in state["servers"]
            if s.get("pid") and _alive(s["pid"], s["config"])]


def stop_dir(directory, timeout=10.0):
    try:
        state = load_state(directory)
    except (OSError, ValueError):
        return True  # nothing recorded, nothing started
    return stop_pids([(s["pid"], s["config"]) for s in state["servers"] if s.get("pid")],
                     timeout)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("dir")
    st.add_argument("n", type=int)
    st.add_argument("--tick", type=int, default=200, help="tickTime in ms (default 200)")
    st.add_argument("--ports", default=None,
                    help="client,quorum,election ports per server, comma separated")
    st.add_argument("--extra", action="append", default=[], help="one more zoo.cfg line")
    st.add_argument("--jvm-opt", action="append", default=[], help="one more JVM option")
    st.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    st.add_argument("--quorumd", default=None, help="run this quorumd binary instead")
    sp = sub.add_parser("stop")
    sp.add_argument("dir")
    sp.add_argument("--timeout", type=float, default=10.0)
    ss = sub.add_parser("status")
    ss.add_argument("dir")
    a = ap.parse_args(argv)
    # A start interrupted by SIGTERM/SIGINT still stops what it started (SystemExit unwinds).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if a.cmd == "start":
        ports = [int(x) for x in a.ports.split(",")] if a.ports else None
        e = Ensemble(a.dir, a.n, a.tick, ports, a.extra, a.jvm_opt, quorumd=a.quorumd)
        try:
            info = e.start(a.timeout)
        except Exception as ex:  # start() stopped everything it started
            sys.stderr.write("zk_ensemble: %s\n" % ex)
            for s in e.servers:
                sys.stderr.write("--- %s (tail)\n%s\n" % (s["log"], _tail(s["log"])))
            return 1
        print(json.dumps(info), flush=True)
        return 0
    if a.cmd == "stop":
        return 0 if stop_dir(a.dir, a.timeout) else 1
    if a.cmd == "status":
        state = load_state(a.dir)
        print(json.dumps({str(s["id"]): mode_of(four_letter(s["client"], "srvr"))
                          for s in state["servers"]}), flush=True)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
