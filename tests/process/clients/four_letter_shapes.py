"""The four-letter words' formats, for tests/process/zk_wire.test.cpp: run against a
standalone quorumd and a standalone ZooKeeper 3.8, the two outputs must be equal.

four_letter_shapes.py HOST:PORT -- opens a kazoo session with an ephemeral node and data and
child watches, then asks each word and prints its *shape*: the keys and line structure, with
the values that legitimately differ (versions, ids, ports, paths of directories, counters,
latencies, times) replaced. Every socket read has a 5 s timeout.
"""
import re
import socket
import sys

from kazoo.client import KazooClient

host, port = sys.argv[1].rsplit(":", 1)
port = int(port)


def ask(word):
    with socket.create_connection((host, port), timeout=5) as s:
        s.settimeout(5)
        s.sendall(word.encode())
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk


def numbers(text):
    return re.sub(r"\d+", "N", text)


zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=15)
try:
    zk.create("/shape", b"x", ephemeral=True)
    zk.get("/shape", watch=lambda e: None)
    zk.get_children("/", watch=lambda e: None)

    print("ruok:", ask("ruok"))
    print("isro:", ask("isro"))
    print("crst:", ask("crst").strip())
    print("srst:", ask("srst").strip())
    srvr = ask("srvr").splitlines()
    print("srvr keys:", [line.split(":")[0] for line in srvr])
    print("srvr mode:", [line for line in srvr if line.startswith("Mode:")])
    stat = ask("stat").splitlines()
    print("stat keys:", [numbers(line.split(":")[0]) if not line.startswith(" /") else "client"
                         for line in stat])
    print("stat client:", [re.sub(r"^ /[\d.]+:\d+", " /IP:PORT", numbers(line))
                           for line in stat if line.startswith(" /")])
    cons = [line for line in ask("cons").splitlines() if line.startswith(" /")]
    # lcxid is left out while the last packet was a ping (xid -2): when is a matter of timing.
    # Connections come in hash order in ZooKeeper: compared as a sorted list.
    print("cons fields:", sorted([f for f in re.findall(r"([a-z]+)=", line) if f != "lcxid"]
                                 for line in cons))
    print("wchs:", numbers(ask("wchs")).splitlines())
    wchc = ask("wchc").splitlines()
    print("wchc:", [re.sub(r"^0x[0-9a-f]+$", "SESSION", line) for line in wchc])
    wchp = ask("wchp").splitlines()
    print("wchp:", [re.sub(r"^\t0x[0-9a-f]+$", "\tSESSION", line) for line in wchp])
    conf = ask("conf").splitlines()
    print("conf keys:", [line.split("=")[0] for line in conf if "=" in line])
    mntr = dict(line.split("\t", 1) for line in ask("mntr").splitlines() if "\t" in line)
    classic = ["zk_version", "zk_server_state", "zk_avg_latency", "zk_max_latency",
               "zk_min_latency", "zk_packets_received", "zk_packets_sent",
               "zk_num_alive_connections", "zk_outstanding_requests", "zk_znode_count",
               "zk_watch_count", "zk_ephemerals_count", "zk_approximate_data_size",
               "zk_open_file_descriptor_count", "zk_max_file_descriptor_count"]
    print("mntr classic keys present:", [k for k in classic if k in mntr])
    print("mntr state, znodes, ephemerals:", mntr.get("zk_server_state"),
          mntr.get("zk_znode_count"), mntr.get("zk_ephemerals_count"))
    print("envi first line:", ask("envi").splitlines()[:1])
    print("unknown word closes:", repr(ask("xxxx")))
finally:
    zk.stop()
    zk.close()
