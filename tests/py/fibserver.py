#!/usr/bin/env python3
"""A user-space stand-in for the /fib/N stage's server, for testing
kwfib only (tests/py/test_kwfib.py): GET /fib/N -> 200 with F(N) in
decimal, Content-Length, Content-Type text/plain and Server-Timing
fib;dur=MS; N above --cap -> 403; a bad N -> 400; HTTP/1.1 keep-alive.

    fibserver.py [--port PORT] [--cap N] [--mode MODE] [--log FILE]

It prints "port PORT" once it listens (PORT 0: any free one). --mode picks
a way to get it wrong (see MODES); "good" gets everything right. --log
appends a line per request to FILE: the connection's number, the method
and the path (Python's repr of its bytes). Standard library only."""

import argparse
import re
import socket
import socketserver
import sys
import threading
import time

MODES = {
    "good": "every answer right",
    "wrong-digit": "one digit in the middle of the body is off by one",
    "newline": "the body ends in a newline (counted in Content-Length)",
    "no-timing": "no Server-Timing header",
    "bad-timing": "Server-Timing: fib;dur=-1.5",
    "other-timing": "Server-Timing: db;dur=1 (no fib metric)",
    "no-type": "no Content-Type header",
    "wrong-type": "Content-Type: text/html",
    "long-length": "Content-Length one more than the body, then it waits",
    "short-length": "Content-Length one less than the body it sends",
    "huge-length": "Content-Length: 99999999999999999",
    "negative-length": "Content-Length: -1",
    "dup-length": "two (equal) Content-Length headers",
    "no-length": "no Content-Length, and the connection stays open",
    "stall": "reads the request, never answers",
    "stall-body": "sends the head and half the body, then waits",
    "close-mid-body": "sends the head and half the body, then closes",
    "close-each": "right, but 'Connection: close' and a close every time",
    "idle-close": "right, but closes each connection after one response, "
                  "without saying so",
    "garbage": "answers with binary garbage",
    "extra": "right, then 'JUNK' after the body",
    "status-500": "500 Internal Server Error, with the right body",
    "head-body": "a response to HEAD carries the body",
    "endless": "no Content-Length, digits forever",
}

HALF_FOREVER = 120      # seconds a stalling handler waits (the test is over)


def fib(n):
    """F(n), by fast doubling: F(2k) = F(k) (2 F(k+1) - F(k)),
    F(2k+1) = F(k)^2 + F(k+1)^2."""
    a, b = 0, 1                 # F(0), F(1)
    for bit in bin(n)[2:]:
        c = a * (2 * b - a)
        d = a * a + b * b
        a, b = (d, c + d) if bit == "1" else (c, d)
    return a


def fib_text(n):
    return str(fib(n)).encode()


class Handler(socketserver.BaseRequestHandler):
    mode = "good"
    cap = 10000
    log = None
    lock = threading.Lock()
    conns = 0

    def handle(self):
        with Handler.lock:
            Handler.conns += 1
            self.conn = Handler.conns
        self.buf = b""
        sock = self.request
        while True:
            req = self.read_head()
            if req is None:
                return
            try:
                if not self.answer(sock, req):
                    return
            except OSError:
                return

    def read_head(self):
        while b"\r\n\r\n" not in self.buf and b"\n\n" not in self.buf:
            if len(self.buf) > 65536:
                return None
            try:
                data = self.request.recv(65536)
            except OSError:
                return None
            if not data:
                return None
            self.buf += data
        m = re.search(rb"\r?\n\r?\n", self.buf)
        head, self.buf = self.buf[:m.start()], self.buf[m.end():]
        return head.decode("latin-1")

    def send(self, sock, status, body, headers, head=False):
        lines = ["HTTP/1.1 %s" % status] + headers
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        sock.sendall(data if head else data + body)

    def answer(self, sock, req):
        """Answer one request; False when the connection is to end."""
        lines = req.split("\r\n") if "\r\n" in req else req.split("\n")
        parts = lines[0].split(" ")
        close = any(re.match(r"(?i)connection:\s*close\s*$", x)
                    for x in lines[1:])
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            body = b"bad request\n"
            self.send(sock, "400 Bad Request", body,
                      ["Content-Length: %d" % len(body),
                       "Content-Type: text/plain", "Connection: close"])
            return False
        method, path, _ = parts
        if self.log:
            with Handler.lock, open(self.log, "a") as f:
                f.write("%d %s %r\n" % (self.conn, method,
                                         path.encode("latin-1")))
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            body = b"method not allowed\n"
            self.send(sock, "405 Method Not Allowed", body,
                      ["Content-Length: %d" % len(body),
                       "Content-Type: text/plain"], head)
            return not close
        m = re.fullmatch(r"/fib/(0|[1-9][0-9]{0,9})", path)
        if not path.startswith("/fib/"):
            status, body = "404 Not Found", b"not found\n"
        elif not m:
            status, body = "400 Bad Request", b"N must be a number\n"
        elif int(m.group(1)) > self.cap:
            status = "403 Forbidden"
            body = b"N is above the cap of %d\n" % self.cap
        else:
            return self.fib(sock, int(m.group(1)), head, close)
        self.send(sock, status, body,
                  ["Content-Length: %d" % len(body),
                   "Content-Type: text/plain"], head)
        return not close

    def fib(self, sock, n, head, close):
        mode = self.mode
        t0 = time.perf_counter()
        body = fib_text(n)
        ms = (time.perf_counter() - t0) * 1000
        status = "500 Internal Server Error" if mode == "status-500" \
            else "200 OK"
        if mode == "wrong-digit":
            i = len(body) // 2
            body = body[:i] + b"%d" % ((body[i] - 48 + 1) % 10) + \
                body[i + 1:]
        if mode == "newline":
            body += b"\n"
        length = len(body)
        length = {"long-length": length + 1, "short-length": length - 1,
                  "huge-length": 99999999999999999,
                  "negative-length": -1}.get(mode, length)
        headers = []
        if mode not in ("no-length", "endless"):
            headers.append("Content-Length: %d" % length)
        if mode == "dup-length":
            headers.append("Content-Length: %d" % length)
        ctype = {"no-type": None, "wrong-type": "text/html"}.get(
            mode, "text/plain")
        if ctype:
            headers.append("Content-Type: " + ctype)
        timing = {"no-timing": None, "bad-timing": "fib;dur=-1.5",
                  "other-timing": "db;dur=1"}.get(mode, "fib;dur=%.3f" % ms)
        if timing:
            headers.append("Server-Timing: " + timing)
        if mode == "close-each":
            headers.append("Connection: close")

        if mode == "stall":
            time.sleep(HALF_FOREVER)
            return False
        if mode == "garbage":
            sock.sendall(b"\x00\x01\x1b[2J\xff\xfe HTTP/1.1 200\r\n\r\n")
            return False
        if mode in ("stall-body", "close-mid-body"):
            self.send(sock, status, body[:len(body) // 2], headers)
            if mode == "stall-body":
                time.sleep(HALF_FOREVER)
            return False
        if mode == "endless":
            self.send(sock, status, b"", headers)
            chunk = b"0123456789" * 1000
            while True:
                sock.sendall(chunk)
        # "extra": the junk in the same write as the body, so that it is
        # there when the client has read the body, however busy the host.
        self.send(sock, status, body + (b"JUNK" if mode == "extra" else b""),
                  headers, head and mode != "head-body")
        if mode in ("long-length", "no-length"):
            time.sleep(HALF_FOREVER)
            return False
        return not (close or mode in ("close-each", "idle-close"))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cap", type=int, default=10000)
    ap.add_argument("--mode", choices=sorted(MODES), default="good")
    ap.add_argument("--log")
    args = ap.parse_args()
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    Handler.mode = args.mode
    Handler.cap = args.cap
    Handler.log = args.log
    with Server(("127.0.0.1", args.port), Handler) as srv:
        srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        print("port %d" % srv.server_address[1], flush=True)
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
