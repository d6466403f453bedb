"""The host's own look at the server in the guest.

A probe connects to 127.0.0.1:PORT, which QEMU forwards to port 9999 of the
guest's network card: what it sees is what the module really does, however
the guest reports its tests. alive says a server listens there (it took
the host's connection and answered, or held it open: the guest's other
network tests are believed only then), correct says it answered right (the
probe test's own points).
"""

import os
import socket
import time
from dataclasses import dataclass

from .protocol import clean


@dataclass
class ProbeResult:
    alive: bool          # a server listens on the guest's network card
    correct: bool        # and answered the host right
    message: str


class Reply(bytes):
    """What the server sent; held: it kept the connection open, silent,
    until the probe gave up (QEMU's user network ends the host's side at
    once when nothing listens in the guest)."""
    held = False


def _exchange(port, data, timeout, want=None, half_close=True):
    """Send data, read until EOF (or until want bytes), within timeout."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        got, held = b"", False
        while len(got) < (want or 1 << 20):
            if time.monotonic() >= deadline:
                held = True
                break
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                held = True
                break
            if not chunk:
                break
            got += chunk
        reply = Reply(got)
        reply.held = held
        return reply


def _connect_retry(fn, timeout):
    """fn() until it stops failing to connect (the forwarded port can take
    a moment), for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (ConnectionRefusedError, ConnectionResetError) as e:
            if time.monotonic() > deadline:
                raise e
            time.sleep(0.3)


def probe_echo(port, scale=1):
    t = 5 * scale
    line = b"kweb-probe %s\n" % os.urandom(8).hex().encode()
    try:
        got = _connect_retry(lambda: _exchange(port, line, t, len(line)), t)
    except OSError as e:
        return ProbeResult(False, False, "could not talk to the server from "
                           "the host: %s" % e)
    if got != line:
        return ProbeResult(bool(got) or got.held, False, "the host sent %r "
                           "and got back %r%s" % (
                               line.decode(), clean(got[:80]),
                               " (the connection stayed open, silent)"
                               if got.held and not got else ""))
    big = os.urandom(32 * 1024).hex().encode()
    try:
        got = _exchange(port, big, 3 * t, len(big))
    except OSError as e:
        return ProbeResult(True, False, "64 KiB from the host: %s" % e)
    if got != big:
        return ProbeResult(True, False, "the host sent 64 KiB and got back "
                           "%d bytes%s" % (len(got), "" if len(got) != len(big)
                                           else " that differ"))
    return ProbeResult(True, True, "a line and 64 KiB from the host came "
                       "back intact")


def _http(port, method, t):
    return _http_path(port, "/kweb-probe-%s" % os.urandom(4).hex(), t, method)


def _http_path(port, path, t, method="GET"):
    """One request with Connection: close; the host's side is not shut
    down (a server may take that for a client that is gone)."""
    req = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: kweb-probe\r\n"
           "Connection: close\r\n\r\n" % (method, path)).encode()
    return _exchange(port, req, t, half_close=False)


def parse_response(raw):
    """(status code, headers dict, body) of an HTTP/1.x response, or None."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or parts[0] not in (b"HTTP/1.0", b"HTTP/1.1") \
            or not parts[1].isdigit():
        return None
    headers = {}
    for h in lines[1:]:
        k, colon, v = h.partition(b":")
        if not colon:
            return None
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode(
            "latin-1")
    return int(parts[1]), headers, body


def probe_http(port, scale=1):
    t = 5 * scale
    try:
        raw = _connect_retry(lambda: _http(port, "GET", t), t)
    except OSError as e:
        return ProbeResult(False, False, "could not talk to the server from "
                           "the host: %s" % e)
    if not raw.startswith(b"HTTP/1."):
        return ProbeResult(bool(raw) or raw.held, False, "GET from the host "
                           "got %r, not an HTTP response%s" % (
                               clean(raw[:60]),
                               " (the connection stayed open, silent)"
                               if raw.held and not raw else ""))
    r = parse_response(raw)
    if r is None:
        return ProbeResult(True, False, "GET from the host: the response's "
                           "head is malformed: %r" % clean(raw[:80]))
    code, headers, body = r
    if code != 200:
        return ProbeResult(True, False, "GET from the host got status %d, "
                           "expected 200" % code)
    cl = headers.get("content-length", "")
    if not cl.isdigit() or int(cl) != len(body):
        return ProbeResult(True, False, "GET from the host: Content-Length "
                           "'%s' but a body of %d bytes" % (clean(cl, 20),
                                                            len(body)))
    try:
        raw = _http(port, "HEAD", t)
    except OSError as e:
        return ProbeResult(True, False, "HEAD from the host: %s" % e)
    r = parse_response(raw)
    if r is None or r[0] != 200:
        return ProbeResult(True, False, "HEAD from the host got %r"
                           % clean(raw[:60]))
    if r[2]:
        return ProbeResult(True, False, "HEAD from the host got a body of %d "
                           "bytes" % len(r[2]))
    return ProbeResult(True, True, "GET and HEAD from the host got "
                       "well-formed answers (200, Content-Length %s)" % cl)


def fib_decimal(n):
    """F(n) in decimal, computed here by fast doubling (Python's own
    integers): the host's answer, independent of anything in the guest."""
    a, b = 0, 1                      # F(k), F(k + 1), k from n's top bits
    for bit in bin(n)[2:]:
        a, b = a * (2 * b - a), a * a + b * b
        if bit == "1":
            a, b = b, a + b
    return decimal(a)


def decimal(x):
    """str(x) for a natural number of any size (str() alone refuses more
    than 4300 digits since Python 3.11): split by a power of ten."""
    if x < 10 ** 1000:
        return str(x)
    k = 1
    while 10 ** (2 * k) <= x:
        k *= 2
    high, low = divmod(x, 10 ** k)
    return decimal(high) + decimal(low).zfill(k)


def _fib_numbers():
    """What the host asks: a few N the guest cannot know in advance, small
    to mid-sized (they answer at once under emulation), and two edges."""
    r = int.from_bytes(os.urandom(8), "big")
    return [93, 94, 1000 + r % 2000, 5000 + (r >> 16) % 5000,
            20000 + (r >> 32) % 10000]


def probe_fib(port, scale=1):
    """probe_http, then /fib/N for N the host picks, each checked against
    the host's own F(N), and a malformed N that must get 400."""
    first = probe_http(port, scale)
    if not first.correct:
        return first
    t = 10 * scale
    numbers = _fib_numbers()
    for n in numbers:
        try:
            raw = _http_path(port, "/fib/%d" % n, t)
        except OSError as e:
            return ProbeResult(True, False, "GET /fib/%d from the host: %s"
                               % (n, e))
        r = parse_response(raw)
        if r is None or r[0] != 200:
            return ProbeResult(True, False, "GET /fib/%d from the host got %r"
                               % (n, clean(raw[:60])))
        want = fib_decimal(n).encode()
        if r[2] != want:
            at = next((i for i, (x, y) in enumerate(zip(r[2], want))
                       if x != y), min(len(r[2]), len(want)))
            return ProbeResult(True, False, "GET /fib/%d from the host: %d "
                               "digits, expected %d; they differ from digit "
                               "%d on" % (n, len(r[2]), len(want), at + 1))
        cl = r[1].get("content-length", "")
        if cl != str(len(want)):
            return ProbeResult(True, False, "GET /fib/%d from the host: "
                               "Content-Length '%s', expected %d"
                               % (n, clean(cl, 20), len(want)))
    try:
        raw = _http_path(port, "/fib/%s" % "+5", t)
    except OSError as e:
        return ProbeResult(True, False, "GET /fib/+5 from the host: %s" % e)
    r = parse_response(raw)
    if r is None or r[0] != 400:
        return ProbeResult(True, False, "GET /fib/+5 from the host got %r, "
                           "expected 400" % clean(raw[:60]))
    return ProbeResult(True, True, "GET, HEAD and /fib/N for %s from the "
                       "host got the right answers" % ", ".join(
                           str(n) for n in numbers))


PROBES = {"echo": probe_echo, "http": probe_http, "fib": probe_fib}
