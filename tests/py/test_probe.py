"""The host's probes against small servers on loopback: what each kind of
wrong server looks like to them."""

import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import probe  # noqa: E402


def serve(handler, n=4):
    """A loopback server running handler(conn) for n connections."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)

    def run():
        for _ in range(n):
            try:
                c, _ = s.accept()
            except OSError:
                return
            with c:
                handler(c)
        s.close()
    threading.Thread(target=run, daemon=True).start()
    return s.getsockname()[1]


def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            return
        c.sendall(d)


def http(body=b"hello\n", length=None, head_body=False):
    def h(c):
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(4096)
            if not d:
                return
            req += d
        cl = len(body) if length is None else length
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" \
               b"Content-Length: %d\r\nConnection: close\r\n\r\n" % cl
        c.sendall(head + (body if req.startswith(b"GET") or head_body
                          else b""))
    return h


def test_an_echo_server_passes():
    r = probe.probe_echo(serve(echo), scale=1)
    assert r.alive and r.correct, r.message


def test_a_server_that_drops_bytes_fails():
    def lossy(c):
        d = c.recv(65536)
        c.sendall(d[:-1])
    r = probe.probe_echo(serve(lossy), scale=1)
    assert r.alive and not r.correct and "got back" in r.message


def test_no_server_is_not_alive():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = probe.probe_echo(port, scale=1)
    assert not r.alive and not r.correct


def test_a_silent_listener_is_alive_but_wrong():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)            # never accepts: the kernel completes handshakes
    r = probe.probe_echo(s.getsockname()[1], scale=1)
    s.close()
    assert r.alive and not r.correct and "stayed open" in r.message


def test_an_http_server_passes():
    r = probe.probe_http(serve(http()), scale=1)
    assert r.alive and r.correct, r.message


def test_a_wrong_content_length_fails():
    r = probe.probe_http(serve(http(length=99)), scale=1)
    assert r.alive and not r.correct and "Content-Length" in r.message


def test_a_head_with_a_body_fails():
    r = probe.probe_http(serve(http(head_body=True)), scale=1)
    assert r.alive and not r.correct and "HEAD" in r.message


def test_garbage_is_not_http():
    def junk(c):
        c.recv(4096)
        c.sendall(b"\x00\x01hello\r\n")
    r = probe.probe_http(serve(junk), scale=1)
    assert r.alive and not r.correct and "not an HTTP response" in r.message


def test_parse_response():
    code, headers, body = probe.parse_response(
        b"HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nno")
    assert code == 404 and headers["content-length"] == "2" and body == b"no"
    assert probe.parse_response(b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n") is None
    assert probe.parse_response(b"HTTP/2 200\r\n\r\n") is None


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def test_fib_decimal_is_fibonacci():
    assert [probe.fib_decimal(n) for n in range(12)] == \
        [str(fib(n)) for n in range(12)]
    assert probe.fib_decimal(1000) == str(fib(1000))
    assert probe.fib_decimal(93) == "12200160415121876738"
    x = fib(30000)
    assert probe.fib_decimal(30000) == probe.decimal(x)
    assert int(probe.decimal(x)[:50]) == x // 10 ** (len(probe.decimal(x)) - 50)
    assert probe.decimal(10 ** 5000) == "1" + "0" * 5000


def fib_server(wrong=""):
    """/fib/N right (or wrong one way), anything else "hello"."""
    def h(c):
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(4096)
            if not d:
                return
            req += d
        path = req.split(b" ")[1].decode()
        code, body = 200, b"hello\n"
        if path.startswith("/fib/"):
            n = path[5:]
            if n.isdigit() or (wrong == "sign" and n.lstrip("+").isdigit()):
                body = probe.decimal(fib(int(n))).encode()
                if wrong == "digit" and int(n) > 1000:
                    body = body[:-1] + (b"0" if body[-1:] != b"0" else b"1")
            else:
                code, body = 400, b"Bad Request\n"
        cl = len(body) + (1 if wrong == "length" and code == 200 and
                          path.startswith("/fib/") else 0)
        head = b"HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close" \
               b"\r\n\r\n" % (code, cl)
        c.sendall(head + (body if req.startswith(b"GET") else b""))
    return h


def test_a_fib_server_passes():
    r = probe.probe_fib(serve(fib_server(), n=10), scale=1)
    assert r.alive and r.correct, r.message


def test_fib_wrong_digit_length_or_sign_fails():
    for wrong, said in (("digit", "differ from digit"),
                        ("length", "Content-Length"),
                        ("sign", "/fib/+5")):
        r = probe.probe_fib(serve(fib_server(wrong), n=10), scale=1)
        assert r.alive and not r.correct, wrong
        assert said in r.message, r.message
