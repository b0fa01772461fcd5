#!/usr/bin/env python3
"""Holds many keep-alive connections open on a server and measures what they cost it (issue 9, (e)).

  hold_client.py --port P --path /bench/data --header "apikey: KEY" --pid SERVER_PID [--conns 10000]

1. Warms the server up (a few requests on fresh connections), reads its VmRSS.
2. Opens --conns connections in batches of --batch; on each, one GET with the header, the full answer
   read (so every held connection is an idle keep-alive connection between requests, not a half-open
   socket still in its header timeout). Batches bound the upstream concurrency.
3. VmRSS again (growth = held - warm), then --idle seconds with nothing sent: the server's CPU time over
   that interval from /proc/PID/task/*/schedstat (ns) and /proc/PID/stat (ticks); the server's threads'
   voluntary context switches too (a server that polls or ticks shows them).
4. --probes new clients, one after another, while all connections are held: connect, GET, full answer;
   the time of each.
5. Checks the held connections: none closed by the server (epoll: no readable socket), and a second GET
   on a sample of them answers 200.

Prints "HOLD key value" lines (times in ms, memory in KiB); exits 1 if the setup itself failed.
"""
import argparse
import os
import resource
import selectors
import socket
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--conns", type=int, default=10000)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--idle", type=float, default=10.0)
    p.add_argument("--probes", type=int, default=20)
    p.add_argument("--recheck", type=int, default=200)
    return p.parse_args()


def rss_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_ns(pid):
    """CPU time of every thread of pid, in ns (schedstat), and from /proc/pid/stat in ticks."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return total, ticks


def ctx_switches(pid):
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
        except OSError:
            pass
    return n


class Reply:
    """Incremental reader of one HTTP/1.1 answer with Content-Length (what the gateway sends here)."""

    def __init__(self):
        self.buf = b""
        self.status = None
        self.need = None

    def feed(self, data):
        self.buf += data
        if self.need is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = self.buf[:end].decode("latin-1").split("\r\n")
            self.status = int(head[0].split()[1])
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            self.need = end + 4 + length
        return len(self.buf) >= self.need


def request_bytes(args):
    lines = [f"GET {args.path} HTTP/1.1", f"Host: {args.host}:{args.port}"] + args.header
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def one_request(sock, req, timeout=10.0):
    sock.settimeout(timeout)
    sock.sendall(req)
    reply = Reply()
    while True:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed before the answer was complete")
        if reply.feed(data):
            return reply.status


def fresh_client(args, req):
    t0 = time.perf_counter()
    s = socket.create_connection((args.host, args.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    status = one_request(s, req)
    ms = (time.perf_counter() - t0) * 1000
    s.close()
    return status, ms


def main():
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.conns + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        soft = min(want, hard)
    if soft < want:
        print(f"hold_client: open-file limit {soft} < {want} (raise ulimit -Hn)", file=sys.stderr)
        return 1
    req = request_bytes(args)

    for _ in range(20):
        status, _ = fresh_client(args, req)
        if status != 200:
            print(f"hold_client: warm-up answered {status}", file=sys.stderr)
            return 1
    time.sleep(1)
    rss_warm = rss_kb(args.pid)
    print(f"HOLD rss_warm_kb {rss_warm}")

    sel = selectors.DefaultSelector()
    held, failed, statuses = [], 0, {}
    t_open = time.perf_counter()
    for start in range(0, args.conns, args.batch):
        pending = {}
        for _ in range(min(args.batch, args.conns - start)):
            try:
                s = socket.create_connection((args.host, args.port), timeout=10)
            except OSError as e:
                failed += 1
                statuses[f"connect:{e.errno}"] = statuses.get(f"connect:{e.errno}", 0) + 1
                continue
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(req)
            s.setblocking(False)
            pending[s] = Reply()
            sel.register(s, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                reply = pending[s]
                if not data or reply.feed(data):
                    sel.unregister(s)
                    del pending[s]
                    st = str(reply.status) if data else "closed"
                    statuses[st] = statuses.get(st, 0) + 1
                    if data and reply.status == 200:
                        held.append(s)
                    else:
                        failed += 1
                        s.close()
        for s in pending:
            sel.unregister(s)
            s.close()
            failed += 1
            statuses["timeout"] = statuses.get("timeout", 0) + 1
    open_s = time.perf_counter() - t_open
    print(f"HOLD opened {len(held)}")
    print(f"HOLD failed {failed}")
    print(f"HOLD statuses {','.join(f'{k}:{v}' for k, v in sorted(statuses.items()))}")
    print(f"HOLD open_seconds {open_s:.1f}")
    time.sleep(1)
    rss_held = rss_kb(args.pid)
    print(f"HOLD rss_held_kb {rss_held}")
    print(f"HOLD rss_growth_kb {rss_held - rss_warm}")

    # Idle: nothing sent on any connection.
    ns0, ticks0 = cpu_ns(args.pid)
    cs0 = ctx_switches(args.pid)
    time.sleep(args.idle)
    ns1, ticks1 = cpu_ns(args.pid)
    cs1 = ctx_switches(args.pid)
    hz = os.sysconf("SC_CLK_TCK")
    print(f"HOLD idle_seconds {args.idle:.0f}")
    print(f"HOLD idle_cpu_ms {(ns1 - ns0) / 1e6:.2f}")
    print(f"HOLD idle_cpu_ticks_ms {(ticks1 - ticks0) * 1000 / hz:.0f}")
    print(f"HOLD idle_ctx_switches {cs1 - cs0}")

    # New clients while everything is held.
    times, bad = [], 0
    for _ in range(args.probes):
        try:
            status, ms = fresh_client(args, req)
        except OSError:
            status, ms = 0, 10000.0
        times.append(ms)
        bad += status != 200
    print(f"HOLD probe_ms_median {statistics.median(times):.2f}")
    print(f"HOLD probe_ms_max {max(times):.2f}")
    print(f"HOLD probe_failed {bad}")

    # Still held: none readable (a server close would make it readable), a sample answers again.
    for s in held:
        sel.register(s, selectors.EVENT_READ)
    closed = len(sel.select(timeout=0))
    for s in held:
        sel.unregister(s)
    print(f"HOLD closed_by_server {closed}")
    ok = 0
    step = max(1, len(held) // max(1, args.recheck))
    sample = held[::step][: args.recheck]
    for s in sample:
        s.setblocking(True)
        try:
            ok += one_request(s, req) == 200
        except OSError:
            pass
    print(f"HOLD recheck {ok}/{len(sample)}")
    print(f"HOLD rss_peak_kb {rss_kb(args.pid, 'VmHWM')}")
    for s in held:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
