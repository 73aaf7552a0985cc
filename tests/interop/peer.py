#!/usr/bin/env python3
"""peer.py - the Linux kernel's side of an interop test: one TCP connection
through the kernel's own stack (a plain Python socket), scripted by options.

    peer.py client HOST PORT [options]   connect to tcpwave serve
    peer.py server HOST PORT [options]   accept one connection from tcpwave connect

Order of play once connected: send (in a thread, while reading) and maybe
shutdown(SHUT_WR); read until EOF (or --read-bytes, or not at all); maybe send
more after the peer's FIN (--after-eof-send); maybe wait for data that is
never read (--wait-data); say "closing", sleep --delay-close, close (with
SO_LINGER 0 if --linger0). Each step prints a "peer: ..." line (flushed), so
a test can wait for "peer: delaying close" and look at `ss` meanwhile.
Exit status 0 when every --expect-* held, 1 otherwise, 2 for bad usage.
Every socket call has a timeout (--timeout, default 20 s): nothing hangs.
"""
import argparse
import errno
import os
import select
import socket
import struct
import sys
import threading
import time


def pattern(n, start=0):
    """The test pattern shared with tcpwave: byte i is i mod 251."""
    base = bytes(range(251))
    out = bytearray()
    first = start % 251
    out += base[first:]
    while len(out) < n:
        out += base
    return bytes(out[:n])


def say(msg):
    print("peer: " + msg, flush=True)


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("role", choices=["client", "server"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--send", help="send this text (\\n escapes allowed)")
    p.add_argument("--send-random", type=int, metavar="N", help="send N random bytes")
    p.add_argument("--send-pattern", type=int, metavar="N", help="send N pattern bytes")
    p.add_argument("--shutdown", action="store_true", help="shutdown(SHUT_WR) after sending")
    p.add_argument("--echo", action="store_true", help="server: send back what arrives, until EOF")
    p.add_argument("--read-bytes", type=int, metavar="N", help="stop reading after N bytes")
    p.add_argument("--no-read", action="store_true", help="never read")
    p.add_argument("--wait-data", action="store_true",
                   help="with --no-read: wait until data is readable before closing")
    p.add_argument("--after-eof-send", type=int, metavar="N",
                   help="after reading EOF, send N pattern bytes (data after the peer's FIN)")
    p.add_argument("--reply-pattern", type=int, metavar="N",
                   help="after reading (EOF or --read-bytes), send N pattern bytes")
    p.add_argument("--send-oob", metavar="TEXT",
                   help="after --send, send TEXT with MSG_OOB (its last byte is urgent)")
    p.add_argument("--expect-oob", metavar="BYTE",
                   help="wait for urgent data and read it with MSG_OOB: must be BYTE "
                        "(Linux takes the last urgent byte out of the stream)")
    p.add_argument("--delay-close", type=float, default=0.0, metavar="S")
    p.add_argument("--linger0", action="store_true", help="close with SO_LINGER 0 (RST)")
    p.add_argument("--expect-echo", action="store_true", help="received == sent")
    p.add_argument("--expect-pattern", type=int, metavar="N", help="received == N pattern bytes")
    p.add_argument("--expect-text", help="received == this text")
    p.add_argument("--expect-bytes", type=int, metavar="N", help="exactly N bytes received")
    p.add_argument("--expect-reset", action="store_true", help="the connection must be reset")
    p.add_argument("--bind-port", type=int, metavar="N",
                   help="client: connect from this local port (SO_REUSEADDR)")
    p.add_argument("--keepalive", metavar="IDLE,INTVL,CNT",
                   help="SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT (seconds, seconds, probes)")
    p.add_argument("--timeout", type=float, default=20.0, metavar="S")
    return p.parse_args()


def keepalive(s, spec):
    """The kernel probes the idle connection (RFC 9293 3.8.4 on Linux)."""
    idle, intvl, cnt = (int(x) for x in spec.split(","))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
    say("keepalive on: idle %d s, interval %d s, %d probes" % (idle, intvl, cnt))


def payload(a):
    if a.send is not None:
        return a.send.encode().decode("unicode_escape").encode("latin-1")
    if a.send_random is not None:
        return os.urandom(a.send_random)
    if a.send_pattern is not None:
        return pattern(a.send_pattern)
    if a.send_oob is not None:
        return b""
    return None


def unescape(t):
    return t.encode().decode("unicode_escape").encode("latin-1")


class Conn:
    def __init__(self, sock, a):
        self.s, self.a = sock, a
        self.sent = b""
        self.got = bytearray()
        self.reset = False
        self.eof = False
        self.oob = None
        self.errors = []

    def note_error(self, e):
        if isinstance(e, (ConnectionResetError, BrokenPipeError)) or \
                getattr(e, "errno", None) in (errno.ECONNRESET, errno.EPIPE):
            if not self.reset:
                say("connection reset by peer")
            self.reset = True
        else:
            self.errors.append("%s: %s" % (type(e).__name__, e))

    def sender(self, data):
        try:
            self.s.sendall(data)
            self.sent = data
            say("sent %d bytes" % len(data))
            if self.a.send_oob is not None:
                oob = unescape(self.a.send_oob)
                self.s.send(oob, socket.MSG_OOB)
                self.sent = data + oob
                say("sent %d bytes with MSG_OOB (urgent)" % len(oob))
            if self.a.shutdown:
                self.s.shutdown(socket.SHUT_WR)
                say("shutdown(SHUT_WR): FIN sent")
        except OSError as e:
            self.note_error(e)

    def read_oob(self):
        """Waits for the urgent byte (an exceptional condition on the socket)."""
        _, _, x = select.select([], [], [self.s], self.a.timeout)
        if not x:
            self.errors.append("no urgent data came")
            return
        try:
            self.oob = self.s.recv(1, socket.MSG_OOB)
            say("urgent byte read with MSG_OOB: %r" % self.oob)
        except OSError as e:
            self.note_error(e)

    def read(self):
        limit = self.a.read_bytes
        try:
            while limit is None or len(self.got) < limit:
                b = self.s.recv(65536)
                if not b:
                    self.eof = True
                    say("eof after %d bytes" % len(self.got))
                    return
                if self.a.echo:
                    self.s.sendall(b)
                self.got += b
        except OSError as e:
            self.note_error(e)

    def send_more(self, n, what):
        try:
            self.s.sendall(pattern(n))
            say("sent %d bytes %s" % (n, what))
        except OSError as e:
            self.note_error(e)


def play(c):
    a = c.a
    data = payload(a)
    t = None
    if data is not None:
        t = threading.Thread(target=c.sender, args=(data,))
        t.start()
    elif a.shutdown:
        c.sender(b"")
    if a.expect_oob is not None:
        c.read_oob()
    if not a.no_read:
        c.read()
    if t:
        t.join(a.timeout)
    if a.reply_pattern is not None and not c.reset:
        c.send_more(a.reply_pattern, "(reply)")
    if a.after_eof_send is not None and c.eof and not c.reset:
        c.send_more(a.after_eof_send, "after the peer's FIN")
    if a.no_read and a.wait_data:
        r, _, _ = select.select([c.s], [], [], a.timeout)
        say("data waiting, not read" if r else "no data came")
    if a.delay_close > 0:
        say("delaying close %.1f s" % a.delay_close)
        time.sleep(a.delay_close)
    if a.linger0:
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if a.expect_reset and not c.reset and not a.no_read:
        # A reset may come after our reads ended: look once more.
        try:
            c.s.settimeout(a.timeout)
            if c.s.recv(1) == b"":
                pass
        except OSError as e:
            c.note_error(e)
    say("closing" + (" with SO_LINGER 0 (RST)" if a.linger0 else ""))
    c.s.close()
    say("closed")


def verdict(c):
    a, bad = c.a, []
    got = bytes(c.got)
    if a.expect_echo and got != c.sent:
        bad.append("echo differs (sent %d, got %d)" % (len(c.sent), len(got)))
    if a.expect_pattern is not None and got != pattern(a.expect_pattern):
        bad.append("pattern differs (want %d bytes, got %d)" % (a.expect_pattern, len(got)))
    if a.expect_oob is not None and c.oob != unescape(a.expect_oob):
        bad.append("urgent byte %r, expected %r" % (c.oob, unescape(a.expect_oob)))
    if a.expect_text is not None and got != unescape(a.expect_text):
        bad.append("text differs: %r" % got[:80])
    if a.expect_bytes is not None and len(got) != a.expect_bytes:
        bad.append("want %d bytes, got %d" % (a.expect_bytes, len(got)))
    if a.expect_reset != c.reset:
        bad.append("reset expected" if a.expect_reset else "unexpected reset")
    bad += c.errors
    say("received %d bytes" % len(got))
    if bad:
        say("FAIL: " + "; ".join(bad))
        return 1
    say("OK")
    return 0


def main():
    a = parse()
    try:
        if a.role == "client":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(a.timeout)
            if a.bind_port:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("", a.bind_port))
            s.connect((a.host, a.port))
            say("connected to %s:%d from port %d" % (a.host, a.port, s.getsockname()[1]))
        else:
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((a.host, a.port))
            ls.listen(1)
            ls.settimeout(a.timeout)
            say("listening on %s:%d" % (a.host, a.port))
            s, peer = ls.accept()
            ls.close()
            s.settimeout(a.timeout)
            say("accepted %s:%d" % peer)
    except OSError as e:
        say("FAIL: %s" % e)
        return 1
    if a.keepalive:
        keepalive(s, a.keepalive)
    c = Conn(s, a)
    play(c)
    return verdict(c)


if __name__ == "__main__":
    sys.exit(main())
