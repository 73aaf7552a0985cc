#!/usr/bin/env python3
"""soak_client.py - the Linux kernel's side of the soak test (soak.sh): many
HTTP/1.0 connections through the kernel's own stack to `tcpwave serve --mode
http`, a share of them cut short the ways real clients give up.

    soak_client.py HOST PORT --count N [--concurrency C] [--seed S] [--timeout S]
    soak_client.py victim HOST PORT --conns K     (internal: a client to be killed)

Each connection's kind comes from a generator seeded with --seed, so a run
can be replayed (the kernel's timing still varies):
    normal   80 %  GET /bytes/N (N mostly small, sometimes up to 1 MB), read to
                   the end, check status, length and every byte, close
    linger0   5 %  GET /bytes/1000000, read part, close with SO_LINGER 0 (RST)
    unread    5 %  GET /bytes/1000000, read part, wait for more to arrive and
                   close without reading it: the kernel sends RST
    early     5 %  give up early: close before sending anything (FIN), or send
                   half a request head, shutdown(SHUT_WR), read the answer
    killed    5 %  a child process opens 10 such connections, reads part of each
                   and is killed with SIGKILL mid-transfer (the kernel resets them)
Prints a summary ("soak: ...") and exits 0 when every connection behaved, 1
with the first failures listed otherwise. Every socket call has a timeout.
"""
import argparse
import concurrent.futures
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

BIG = 1000000  # body of the connections cut short: more than both buffers hold
VICTIM_CONNS = 10
PAT = bytes(range(251)) * (BIG // 251 + 2)  # the i % 251 pattern of tcpwave


def pattern_ok(body, start=0):
    return body == PAT[start % 251:start % 251 + len(body)]


def request(path):
    return ("GET %s HTTP/1.0\r\nHost: soak\r\n\r\n" % path).encode()


def connect(host, port, timeout):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_head(s):
    """Reads until the end of the response head; returns (head, first body bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > 4096:
            raise RuntimeError("response head too long")
        b = s.recv(65536)
        if not b:
            raise RuntimeError("EOF inside the response head (%d bytes)" % len(buf))
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def content_length(head):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            return int(v)
    raise RuntimeError("no Content-Length")


def run_normal(a, n):
    s = connect(a.host, a.port, a.timeout)
    try:
        s.sendall(request("/bytes/%d" % n))
        head, body = read_head(s)
        if not head.startswith("HTTP/1.0 200"):
            raise RuntimeError("status: %r" % head.split("\r\n")[0])
        if content_length(head) != n:
            raise RuntimeError("Content-Length %d, asked %d" % (content_length(head), n))
        got = bytearray(body)
        while True:
            b = s.recv(262144)
            if not b:
                break
            got += b
        if len(got) != n:
            raise RuntimeError("body %d bytes, expected %d" % (len(got), n))
        if not pattern_ok(bytes(got)):
            raise RuntimeError("body bytes differ from the pattern")
        return n
    finally:
        s.close()


def read_some(s, want):
    """Reads at least `want` body bytes (after the head); returns how many."""
    head, body = read_head(s)
    if not head.startswith("HTTP/1.0 200"):
        raise RuntimeError("status: %r" % head.split("\r\n")[0])
    got = len(body)
    while got < want:
        b = s.recv(min(65536, want - got))
        if not b:
            raise RuntimeError("EOF after %d of %d bytes" % (got, BIG))
        got += len(b)
    return got


def run_linger0(a, want):
    s = connect(a.host, a.port, a.timeout)
    try:
        s.sendall(request("/bytes/%d" % BIG))
        got = read_some(s, want)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return got
    finally:
        s.close()


def run_unread(a, want):
    s = connect(a.host, a.port, a.timeout)
    try:
        s.sendall(request("/bytes/%d" % BIG))
        got = read_some(s, want)
        # More must be waiting in the kernel when we close, or it sends FIN.
        r, _, _ = select.select([s], [], [], a.timeout)
        if not r:
            raise RuntimeError("no more data came to leave unread")
        return got
    finally:
        s.close()


def run_early(a, variant):
    s = connect(a.host, a.port, a.timeout)
    try:
        if variant == 0:
            return 0  # connect, then close at once: FIN before any request
        s.sendall(b"GET /bytes/100 HTTP/1.0\r\nHost: so")  # half a head
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        # The server answers what it got (the request line is whole).
        if not got.startswith(b"HTTP/1.0 "):
            raise RuntimeError("no answer to a cut request: %r" % got[:40])
        return len(got)
    finally:
        s.close()


def run_victims(a, idx):
    """A child opens VICTIM_CONNS transfers and is killed mid-way."""
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "victim", a.host,
                          str(a.port), "--conns", str(VICTIM_CONNS), "--seed", str(a.seed + idx)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        deadline = time.monotonic() + a.timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            line = p.stdout.readline()
            if not line or line.startswith("victim: ready") or "FAIL" in line:
                break
        if not line.startswith("victim: ready"):
            raise RuntimeError("victim did not get ready: %r" % line.strip())
        os.kill(p.pid, signal.SIGKILL)
        p.wait(a.timeout)
        return VICTIM_CONNS
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()


def victim(a):
    rng = random.Random(a.seed)
    socks = []
    try:
        for _ in range(a.conns):
            s = connect(a.host, a.port, a.timeout)
            s.sendall(request("/bytes/%d" % BIG))
            socks.append(s)
        for s in socks:
            read_some(s, rng.randint(1, 100000))
    except (OSError, RuntimeError) as e:
        print("victim: FAIL: %s" % e, flush=True)
        return 1
    print("victim: ready, %d connections mid-transfer" % len(socks), flush=True)
    parent = os.getppid()
    deadline = time.monotonic() + a.timeout * 3
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.2)  # until killed, or the soak client is gone
    return 0


def plan(a):
    """The seeded list of jobs: (kind, argument)."""
    rng = random.Random(a.seed)
    jobs, i = [], 0
    # Weights per job; a killed job is VICTIM_CONNS connections, so each
    # kind of abort is about 5 % of the connections.
    w_killed = 5.0 / VICTIM_CONNS
    scale = 95.0 + w_killed
    while i < a.count:
        x = rng.random() * scale / 100.0
        if x < 0.80:
            y = rng.random()
            n = (rng.randint(0, 2000) if y < 0.70 else rng.randint(2000, 64000) if y < 0.99
                 else rng.randint(200000, BIG))
            jobs.append(("normal", n))
            i += 1
        elif x < 0.85:
            jobs.append(("linger0", rng.randint(1, 100000)))
            i += 1
        elif x < 0.90:
            jobs.append(("unread", rng.randint(1, 100000)))
            i += 1
        elif x < 0.95:
            jobs.append(("early", rng.randint(0, 1)))
            i += 1
        else:
            jobs.append(("killed", len(jobs)))
            i += VICTIM_CONNS
    return jobs


RUNNERS = {"normal": run_normal, "linger0": run_linger0, "unread": run_unread,
           "early": run_early, "killed": run_victims}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "victim":
        p = argparse.ArgumentParser()
        p.add_argument("role")
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("--conns", type=int, default=VICTIM_CONNS)
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--timeout", type=float, default=20.0)
        return victim(p.parse_args())
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, required=True, help="connections in all")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=20.0, help="per socket call")
    a = p.parse_args()
    jobs = plan(a)
    stats = {k: [0, 0] for k in RUNNERS}  # kind -> [connections, failures]
    failures, nbytes = [], 0
    t0 = time.monotonic()

    def one(job):
        kind, arg = job
        try:
            return kind, RUNNERS[kind](a, arg), None
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            return kind, 0, "%s(%s): %s: %s" % (kind, arg, type(e).__name__, e)

    with concurrent.futures.ThreadPoolExecutor(max_workers=a.concurrency) as ex:
        for kind, n, err in ex.map(one, jobs):  # results come back in this thread
            stats[kind][0] += VICTIM_CONNS if kind == "killed" else 1
            if err:
                stats[kind][1] += 1
                failures.append(err)
            else:
                nbytes += n
    dt = time.monotonic() - t0
    conns = sum(v[0] for v in stats.values())
    aborted = sum(stats[k][0] for k in ("linger0", "unread", "killed"))
    print("soak: %d connections in %.1f s (%.0f/s), %d bytes of body checked or read" %
          (conns, dt, conns / dt if dt else 0, nbytes))
    print("soak: " + ", ".join("%s %d%s" % (k, v[0], " (%d failed)" % v[1] if v[1] else "")
                               for k, v in stats.items()))
    print("soak: aborted midway (RST from the kernel): %d; gave up early: %d" %
          (aborted, stats["early"][0]))
    if failures:
        for f in failures[:10]:
            print("soak: FAIL: " + f)
        return 1
    print("soak: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
