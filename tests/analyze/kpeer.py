#!/usr/bin/env python3
"""kpeer.py - runs one close scenario between two Linux kernel sockets (a
server on 198.18.0.2:PORT and a client from 198.18.0.1) for
tests/analyze/kernel_close.sh, which captures the traffic with tcpdump and
compares `tcpwave analyze` with what the kernel did. Prints `ss -tan` lines
taken at the interesting moments ("ss <tag>: <line>").

usage: kpeer.py SCENARIO PORT
scenarios: client-first server-first three-way simultaneous half-close abort
           unread reuse zero-window
"""
import socket
import struct
import subprocess
import sys
import threading
import time

SRV, CLI = "198.18.0.2", "198.18.0.1"


def ss(tag, port):
    out = subprocess.run(["ss", "-tan"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if f":{port} " in line + " ":
            print(f"ss {tag}: {' '.join(line.split())}", flush=True)


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((SRV, port))
    s.listen(4)
    return s


def client(port, cport=0, rcvbuf=0):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # before connect: a small buffer keeps the window small and fixed
        # (no autotuning), so what the application leaves unread shows in it
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    c.bind((CLI, cport))
    c.connect((SRV, port))
    return c


def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b


def pair(port, rcvbuf=0):
    lst = listener(port)
    c = client(port, rcvbuf=rcvbuf)
    a, _ = lst.accept()
    lst.close()
    return c, a


def zero_window(port):
    """The receiver (small buffer) never reads; the sender writes more than
    fits, then closes: its FIN stays queued behind the data (FIN-WAIT-1)."""
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # inherited by accept
    lst.bind((SRV, port))
    lst.listen(1)
    c = client(port)
    a, _ = lst.accept()
    c.setblocking(False)
    sent = 0
    try:
        while sent < 1 << 20:
            sent += c.send(b"z" * 4096)
    except BlockingIOError:
        pass
    print(f"queued {sent} bytes", flush=True)
    c.close()
    time.sleep(3)  # zero window, probes; the sender is FIN-WAIT-1
    ss("zero_window", port)
    a.close()  # ends it (an RST: the data was never read)
    lst.close()


def main():
    scn, port = sys.argv[1], int(sys.argv[2])
    if scn == "reuse":
        return reuse(port)
    if scn == "zero-window":
        return zero_window(port)
    # abort and unread: the client's window must be able to show its buffer
    c, a = pair(port, 4096 if scn in ("abort", "unread") else 0)
    c.sendall(b"request\n")
    a.recv(100)
    if scn == "client-first":
        a.sendall(b"reply\n")
        c.recv(100)
        c.close()
        time.sleep(0.3)
        ss("close_wait", port)  # the server holds CLOSE_WAIT
        assert a.recv(100) == b""
        a.close()
        time.sleep(0.1)
        ss("after", port)
    elif scn == "server-first":
        a.sendall(b"reply\n")
        a.close()
        assert read_all(c) == b"reply\n"
        time.sleep(0.3)
        c.close()
        time.sleep(0.1)
        ss("after", port)  # the server holds TIME_WAIT
    elif scn == "three-way":
        c.shutdown(socket.SHUT_WR)
        assert read_all(a) == b""
        a.close()  # right after reading EOF
        read_all(c)
        c.close()
    elif scn == "simultaneous":
        go = threading.Barrier(2)

        def shut(s):
            go.wait()
            s.shutdown(socket.SHUT_WR)

        ts = [threading.Thread(target=shut, args=(s,)) for s in (c, a)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        read_all(c)
        read_all(a)
        c.close()
        a.close()
    elif scn == "half-close":
        c.shutdown(socket.SHUT_WR)
        assert read_all(a) == b""
        time.sleep(0.05)
        a.sendall(b"h" * 3000)  # data after the client's FIN
        time.sleep(0.05)
        a.close()
        assert len(read_all(c)) == 3000
        c.close()
    elif scn == "abort":
        # linger-0 abort with nothing unread: the client reads the 3000
        # bytes (its window reopens with a window update), then resets
        a.sendall(b"r" * 3000)
        time.sleep(0.3)
        got = 0
        while got < 3000:
            got += len(c.recv(65536))
        time.sleep(0.1)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        time.sleep(0.1)
        a.close()
    elif scn == "unread":
        # close with 3000 bytes unread: RST instead of FIN (RFC 9293 3.10.4)
        a.sendall(b"u" * 3000)
        time.sleep(0.3)
        ss("unread", port)  # Recv-Q holds the bytes
        c.close()
        time.sleep(0.1)
        a.close()
    else:
        sys.exit(f"unknown scenario {scn}")


def reuse(port):
    lst = listener(port)
    c = client(port)
    cport = c.getsockname()[1]
    a, _ = lst.accept()
    a.sendall(b"reply\n")
    a.close()  # the server closes first: it holds TIME_WAIT
    read_all(c)
    c.close()
    time.sleep(0.2)
    ss("time_wait", port)
    c2 = client(port, cport)  # the same 4-tuple again
    a2, _ = lst.accept()
    print(f"reused client port {cport}", flush=True)
    c2.close()
    read_all(a2)
    a2.close()
    lst.close()


if __name__ == "__main__":
    main()
