"""kwfib, the /fib/N checker (checker/src/kwfib.c), against fibserver.py, a
user-space stand-in for the stage's server: kwfib verify passes the right
server and fails each wrong one with the right one-line message, within
its timeouts and size limits; expect, time, gmp and digits work; bad
usage is exit status 2. GMP (libgmp-dev) is required to build kwfib."""

import ast
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from fibserver import fib  # noqa: E402

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)       # str() of F(N) with N large

SUMMARY = re.compile(r"kwfib verify checked=(\d+) ok=(\d+) bad=(\d+) "
                     r"errors=(\d+) bytes=(\d+) seconds=(\d+\.\d{3})$")


@pytest.fixture(scope="session")
def kwfib(tmp_path_factory):
    """kwfib, built by checker/src/Makefile into a folder of its own."""
    out = tmp_path_factory.mktemp("checker-bin")
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "checker" / "src"),
                        "OUT=%s" % out, "%s/kwfib" % out],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.fail("building kwfib failed; it needs GMP (gmp.h and the "
                    "static libgmp.a: apt-get install libgmp-dev, or "
                    "grading/deps.sh):\n" + r.stdout + r.stderr)
    return str(out / "kwfib")


@pytest.fixture
def serve(tmp_path):
    """serve(mode, cap) starts fibserver.py; returns (port, log path)."""
    procs = []

    def start(mode="good", cap=10000):
        log = tmp_path / ("requests-%d.log" % len(procs))
        p = subprocess.Popen([sys.executable, str(HERE / "fibserver.py"),
                              "--mode", mode, "--cap", str(cap),
                              "--log", str(log)],
                             stdout=subprocess.PIPE, text=True)
        procs.append(p)
        ready, _, _ = select.select([p.stdout], [], [], 10)
        line = p.stdout.readline() if ready else ""
        m = re.fullmatch(r"port (\d+)\n", line)
        assert m, "fibserver.py did not start: %r" % line
        return m.group(1), log

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run(kwfib, *args, timeout=20):
    return subprocess.run([kwfib] + [str(a) for a in args],
                          capture_output=True, timeout=timeout)


def out(r):
    return r.stdout.decode()


def err(r):
    return r.stderr.decode()


def summary(r):
    m = SUMMARY.fullmatch(out(r).splitlines()[-1])
    assert m, out(r)
    return [int(x) for x in m.groups()[:5]]


def digits(n):
    return len(str(fib(n)))


def requests(log):
    """(connection, method, path) of each request the server got."""
    if not log.exists():
        return []
    rows = [x.split(" ", 2) for x in log.read_text().splitlines()]
    return [(int(c), m, ast.literal_eval(p)) for c, m, p in rows]


# --- verify: the right server --------------------------------------------

def test_verify_right_server_connection_per_request(kwfib, serve):
    port, log = serve()
    ns = [0, 1, 2, 10, 93, 94, 100, 1000, 10000]
    r = run(kwfib, "verify", "-p", port, *ns)
    assert r.returncode == 0, err(r)
    assert err(r) == ""
    assert summary(r) == [9, 9, 0, 0, sum(digits(n) for n in ns)]
    got = requests(log)
    assert [p for _, _, p in got] == [b"/fib/%d" % n for n in ns]
    assert len({c for c, _, _ in got}) == len(ns)      # one each


def test_verify_keepalive_range_on_one_connection(kwfib, serve):
    port, log = serve()
    r = run(kwfib, "verify", "-k", "-p", port, "-r", "0-300")
    assert r.returncode == 0, err(r)
    assert summary(r)[:4] == [301, 301, 0, 0]
    assert {c for c, _, _ in requests(log)} == {1}


def test_verify_large_n(kwfib, serve):
    port, _ = serve(cap=300000)
    r = run(kwfib, "verify", "-k", "-p", port, 100000, 300000)
    assert r.returncode == 0, err(r)
    assert summary(r) == [2, 2, 0, 0, digits(100000) + digits(300000)]
    assert digits(100000) == 20899


def splitmix64_upto(seed, mx, count):
    """What kwlib.h says kw_random_upto() draws."""
    mask, s, out = (1 << 64) - 1, seed, []
    n = mx + 1
    skip = (-n) % n
    while len(out) < count:
        s = (s + 0x9e3779b97f4a7c15) & mask
        z = s
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & mask
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & mask
        z ^= z >> 31
        if z >= skip:
            out.append(z % n)
    return out


def test_verify_random_is_seeded_and_printed(kwfib, serve):
    port, log = serve()
    r = run(kwfib, "verify", "-k", "-p", port, "-R", "50:5000:7")
    assert r.returncode == 0, err(r)
    assert out(r).splitlines()[0] == \
        "kwfib verify random count=50 max=5000 seed=7"
    want = splitmix64_upto(7, 5000, 50)
    assert want[:5] == [2835, 4698, 3864, 915, 2062]
    assert [p for _, _, p in requests(log)] == \
        [b"/fib/%d" % n for n in want]
    # without a seed, one is made up, and printed
    r = run(kwfib, "verify", "-k", "-p", port, "-R", "3:10")
    assert r.returncode == 0, err(r)
    assert re.fullmatch(r"kwfib verify random count=3 max=10 seed=\d+",
                        out(r).splitlines()[0])


def test_verify_operands_range_and_random_together(kwfib, serve):
    port, log = serve()
    r = run(kwfib, "verify", "-p", port, "-r", "5-7", "-R", "2:3:1", 42)
    assert r.returncode == 0, err(r)
    paths = [p for _, _, p in requests(log)]
    assert paths[:4] == [b"/fib/42", b"/fib/5", b"/fib/6", b"/fib/7"]
    assert summary(r)[0] == 6


@pytest.mark.parametrize("mode", ["close-each", "idle-close"])
def test_verify_keepalive_reconnects(kwfib, serve, mode):
    port, log = serve(mode)
    r = run(kwfib, "verify", "-k", "-p", port, "-r", "0-20")
    assert r.returncode == 0, err(r)
    assert summary(r)[:4] == [21, 21, 0, 0]
    assert len({c for c, _, _ in requests(log)}) > 1
    if mode == "idle-close":
        assert "the server ended" in out(r)


# --- verify: wrong servers -------------------------------------------------

F100 = str(fib(100))
WRONG = {
    # mode: (bad or errors, the message)
    "wrong-digit": ("bad", "the body differs at byte 10: expected 21 bytes, "
                    "got 21; from byte 0 expected '%s', got '%s'" % (
                        F100, F100[:10] + "8" + F100[11:])),
    "newline": ("bad", "the body differs at byte 21: expected 21 bytes, "
                "got 22; from byte 1 expected '%s', got '%s\\n' "
                "(Content-Length 22)" % (F100[1:], F100[1:])),
    "short-length": ("bad", "the body differs at byte 20: expected 21 bytes,"
                     " got 20"),
    "no-timing": ("bad", "no Server-Timing header"),
    "bad-timing": ("bad", "Server-Timing is 'fib;dur=-1.5': its dur is not "
                   "a number of milliseconds with at most 3 decimals"),
    "other-timing": ("bad", "Server-Timing is 'db;dur=1': it has no 'fib' "
                     "metric"),
    "no-type": ("bad", "no Content-Type header"),
    "wrong-type": ("bad", "Content-Type is 'text/html'; expected text/plain"),
    "huge-length": ("bad", "Content-Length is 99999999999999999; expected 21"
                    " (F(100) has 21 digits)"),
    "negative-length": ("bad", "malformed response: Content-Length is not a "
                        "number (line 2: 'Content-Length: -1\\r\\n')"),
    "dup-length": ("bad", "2 Content-Length headers; expected one"),
    "no-length": ("bad", "no Content-Length header"),
    "endless": ("bad", "no Content-Length header"),
    "extra": ("bad", "4 more bytes came after the 21-byte body "
              "(Content-Length 21): 'JUNK'"),
    "status-500": ("bad", "status 500, expected 200 (status line "
                   "'HTTP/1.1 500 Internal Server Error')"),
    "garbage": ("bad", "malformed response: NUL byte in the response head "
                "(line 1: '\\x00\\x01\\x1b[2J\\xff\\xfe HTTP/1.1 200\\r\\n')"),
    "long-length": ("errors", "Content-Length is 22 but only 21 body bytes "
                    "came: timed out after 1 s (F(100) has 21 digits); the "
                    "body so far is right"),
    "stall": ("errors", "no response within 1 s"),
    "stall-body": ("errors", "Content-Length is 21 but only 10 body bytes "
                   "came: timed out after 1 s; the body so far is right"),
    "close-mid-body": ("errors", "Content-Length is 21 but only 10 body "
                       "bytes came: the server closed the connection; the "
                       "body so far is right"),
}


@pytest.mark.parametrize("mode", sorted(WRONG))
def test_verify_fails_a_wrong_server(kwfib, serve, mode):
    kind, message = WRONG[mode]
    port, _ = serve(mode)
    t0 = time.monotonic()
    r = run(kwfib, "verify", "-k", "-t", 1, "-p", port, 100)
    assert time.monotonic() - t0 < 5
    assert r.returncode == 1, (out(r), err(r))
    lines = err(r).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("kwfib verify: N=100: ")
    assert message in lines[0]
    checked, ok, bad, errors, _ = summary(r)
    assert (checked, ok) == (1, 0)
    assert (bad, errors) == ((1, 0) if kind == "bad" else (0, 1))
    # whatever the server sent, the message is one line of printable ASCII
    assert re.fullmatch(r"[ -~]*", lines[0])


def test_verify_wrong_on_every_n_without_keepalive(kwfib, serve):
    port, _ = serve("wrong-digit")
    r = run(kwfib, "verify", "-p", port, 10, 1000)
    assert r.returncode == 1
    lines = err(r).splitlines()
    assert lines[0] == ("kwfib verify: N=10: the body differs at byte 1: "
                        "expected 2 bytes, got 2; from byte 0 expected '55', "
                        "got '56' (Content-Length 2)")
    # 40 bytes of each, from 20 before the difference
    f = str(fib(1000))
    i = len(f) // 2
    assert "at byte %d: expected 209 bytes, got 209; from byte %d expected " \
        "'%s', got '%s'" % (i, i - 20, f[i - 20:i + 20],
                            f[i - 20:i] + str((int(f[i]) + 1) % 10) +
                            f[i + 1:i + 20]) in lines[1]
    assert summary(r)[:4] == [2, 0, 2, 0]


def test_verify_stops_after_maxfail(kwfib, serve):
    port, _ = serve("wrong-digit")
    r = run(kwfib, "verify", "-k", "-f", 3, "-p", port, "-r", "0-50")
    assert r.returncode == 1
    lines = err(r).splitlines()
    assert len(lines) == 4
    assert lines[-1] == "kwfib verify: stopping after 3 failed N (-f 3)"
    assert summary(r)[:4] == [3, 0, 3, 0]


def test_verify_no_server_is_exit_2(kwfib):
    # a port nothing listens on
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    free = s.getsockname()[1]
    s.close()
    r = run(kwfib, "verify", "-p", free, 10)
    assert r.returncode == 2
    assert err(r) == ("kwfib verify: N=10: cannot connect to 127.0.0.1:%d: "
                      "Connection refused\n" % free)
    assert summary(r)[:4] == [0, 0, 0, 0]


# --- expect ------------------------------------------------------------------

def test_expect_statuses(kwfib, serve):
    port, log = serve()
    cases = [("403", "/fib/10001", "N is above the cap of 10000"),
             ("400", "/fib/-1", "N must be a number"),
             ("400", "/fib/1%200", "N must be a number"),
             ("400", "/fib/\x7f\x01", "N must be a number"),
             ("400", "/fib/007", "N must be a number"),
             ("404", "/nope", "not found"),
             ("400", "/fib/1 0", "bad request")]
    for status, path, line in cases:
        r = run(kwfib, "expect", "-p", port, status, path)
        assert r.returncode == 0, (path, err(r))
        assert re.fullmatch(
            r"kwfib expect status=%s method=GET bytes=\d+ first_line='%s'\n"
            % (status, re.escape(line)), out(r)), out(r)
    # the path went as given, byte for byte
    paths = [p for _, _, p in requests(log)]
    assert b"/fib/1%200" in paths and b"/fib/\x7f\x01" in paths


def test_expect_200_checks_the_body(kwfib, serve):
    port, _ = serve()
    r = run(kwfib, "expect", "-p", port, 200, "/fib/100")
    assert r.returncode == 0, err(r)
    assert out(r) == ("kwfib expect status=200 method=GET bytes=21 "
                      "first_line='%s'\n" % F100)
    port, _ = serve("wrong-digit")
    r = run(kwfib, "expect", "-p", port, 200, "/fib/100")
    assert r.returncode == 1
    assert err(r).startswith("kwfib expect: GET /fib/100: the body differs "
                             "at byte 10")


def test_expect_wrong_status(kwfib, serve):
    port, _ = serve()
    r = run(kwfib, "expect", "-p", port, 403, "/fib/-1")
    assert r.returncode == 1
    assert err(r) == ("kwfib expect: GET /fib/-1: status 400, expected 403 "
                      "(status line 'HTTP/1.1 400 Bad Request'); body "
                      "'N must be a number'\n")
    assert out(r) == ""


def test_expect_head(kwfib, serve):
    port, _ = serve()
    r = run(kwfib, "expect", "-m", "HEAD", "-p", port, 200, "/fib/1000")
    assert r.returncode == 0, err(r)
    assert out(r) == "kwfib expect status=200 method=HEAD bytes=0 " \
        "first_line=''\n"
    port, _ = serve("short-length")
    r = run(kwfib, "expect", "-m", "HEAD", "-p", port, 200, "/fib/1000")
    assert r.returncode == 1
    assert err(r) == ("kwfib expect: HEAD /fib/1000: Content-Length is 208, "
                      "expected 209 (F(1000) has 209 digits)\n")
    port, _ = serve("head-body")
    r = run(kwfib, "expect", "-m", "HEAD", "-p", port, 200, "/fib/10")
    assert r.returncode == 1
    assert err(r) == ("kwfib expect: HEAD /fib/10: the response has a body: "
                      "2 bytes came after its head ('55'); a response to "
                      "HEAD must have none\n")


def test_expect_is_bounded(kwfib, serve):
    port, _ = serve("endless")
    t0 = time.monotonic()
    r = run(kwfib, "expect", "-t", 1, "-p", port, 200, "/fib/100")
    assert r.returncode == 1 and time.monotonic() - t0 < 3
    assert "goes on past 22 bytes" in err(r)
    port, _ = serve("stall")
    r = run(kwfib, "expect", "-t", 1, "-p", port, 200, "/fib/100")
    assert r.returncode == 1
    assert err(r) == "kwfib expect: GET /fib/100: no response within 1 s\n"


# --- time, gmp, digits ---------------------------------------------------------

TIME = re.compile(r"kwfib time n=(\d+) digits=(\d+) best_us=(\d+) "
                  r"median_us=(\d+) server_us=(\d+)")


def test_time(kwfib, serve):
    port, log = serve()
    r = run(kwfib, "time", "-n", 4, "-p", port, 10, 1000)
    assert r.returncode == 0, err(r)
    rows = [TIME.fullmatch(x) for x in out(r).splitlines()]
    assert all(rows), out(r)
    got = [[int(x) for x in m.groups()] for m in rows]
    assert [g[:2] for g in got] == [[10, 2], [1000, 209]]
    for _, _, best, median, server in got:
        assert 0 < best <= median < 5000000 and server < 5000000
    assert len(requests(log)) == 8
    assert {c for c, _, _ in requests(log)} == {1}


def test_time_checks_the_body(kwfib, serve):
    port, _ = serve("wrong-digit")
    r = run(kwfib, "time", "-n", 3, "-p", port, 10)
    assert r.returncode == 1 and out(r) == ""
    assert err(r).startswith("kwfib time: N=10, request 1 of 3: the body "
                             "differs at byte 1")


GMP = re.compile(r"kwfib gmp n=(\d+) digits=(\d+) fib_us=(\d+\.\d{3}) "
                 r"str_us=(\d+\.\d{3}) total_us=(\d+\.\d{3})")


def test_gmp(kwfib):
    r = run(kwfib, "gmp", "-n", 2, 0, 10, 1000, 100000)
    assert r.returncode == 0, err(r)
    rows = [GMP.fullmatch(x) for x in out(r).splitlines()]
    assert all(rows) and len(rows) == 4, out(r)
    assert [(int(m.group(1)), int(m.group(2))) for m in rows] == \
        [(0, 1), (10, 2), (1000, 209), (100000, 20899)]
    for m in rows:
        fib_us, str_us, total_us = (float(x) for x in m.groups()[2:])
        assert total_us >= max(fib_us, str_us) - 0.001


def test_digits(kwfib):
    for n in (0, 1, 2, 10, 93, 1000, 12345, 100000):
        r = run(kwfib, "digits", n)
        assert r.returncode == 0 and out(r) == "%d\n" % digits(n), n


# --- usage -----------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ([], "no subcommand given"),
    (["bogus"], "unknown subcommand 'bogus'"),
    (["verify"], "no N given"),
    (["verify", "-x", "1"], "unknown option -x"),
    (["verify", "-p"], "option -p needs a value"),
    (["verify", "abc"], "invalid N 'abc'"),
    (["verify", "100000001"], "invalid N '100000001'"),
    (["verify", "-p", "0", "1"], "invalid -p '0'"),
    (["verify", "-h", "localhost", "1"], "invalid -h 'localhost'"),
    (["verify", "-t", "0", "1"], "invalid -t '0'"),
    (["verify", "-r", "5-3"], "invalid -r '5-3'"),
    (["verify", "-r", "5"], "invalid -r '5'"),
    (["verify", "-R", "0:10:1"], "invalid -R '0:10:1'"),
    (["verify", "-R", "5:10:x"], "invalid -R '5:10:x'"),
    (["verify", "-R", "5"], "invalid -R '5'"),
    (["verify", "-r", "1-2", "-r", "3-4"], "-r may be given only once"),
    (["expect", "200"], "expected STATUS PATH"),
    (["expect", "99", "/"], "invalid STATUS '99'"),
    (["expect", "-m", "G T", "200", "/"], "invalid -m 'G T'"),
    (["expect", "200", ""], "PATH must not be empty"),
    (["time"], "no N given"),
    (["time", "-n", "0", "1"], "invalid -n '0'"),
    (["gmp", "-n", "x", "1"], "invalid -n 'x'"),
    (["gmp", "-k", "1"], "unknown option -k"),
    (["digits"], "expected one N"),
    (["digits", "1", "2"], "expected one N"),
    (["digits", "-1"], "unknown option -1"),
])
def test_usage_errors(kwfib, args, message):
    r = run(kwfib, *args)
    assert r.returncode == 2, (args, out(r), err(r))
    assert out(r) == ""
    lines = err(r).splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_help(kwfib):
    r = run(kwfib, "help")
    assert r.returncode == 0
    for word in ("verify", "expect", "time", "gmp", "digits"):
        assert "\n  %s " % word in out(r)
