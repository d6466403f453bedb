"""make bench-http: the kit's servers against lighttpd, in one guest.

    grading/kw bench-http [KERNEL]

One guest boot runs the same load, one server after the other, on port
9999 of the guest over loopback:

  stage02       solutions/02-http-hello (khttp: a kthread per client)
  stage05       solutions/05-netns (kweb, started through sysfs)
  stage06-ka0   solutions/06-cmwq-keepalive, keepalive=0
  stage06-ka1   solutions/06-cmwq-keepalive, keepalive=1
  lighttpd      Debian's lighttpd serving the same 21 bytes at /

with each load tool (wrk: keep-alive; the kit's kwload -k 0: keep-alive;
kwload -k 1: one request per connection) at each concurrency (1 4 16 64
256 1024). A point is a few seconds (KWEB_BENCH_SECONDS); every wait is
bounded; a server that is missing is skipped with a line, one that fails,
dies or hangs is reported and the run goes on (in a fresh guest when the
last one can no longer be trusted).

The modules are built like grading builds a submission (build.py, in the
sandbox). lighttpd and wrk come from Debian's packages, unpacked into the
cache (grading/bench/fetch.sh; nothing is installed on the host), and go
into the guest with the libraries they need in a bench overlay appended to
the base image.

The guest's output is parsed strictly even though the servers are the
kit's own: control lines carry the boot's nonce and are accepted only in
the order the run takes (BenchStream), the tools' output is parsed here,
line by line, against the formats below (parse_wrk, parse_kwload), and
every number is validated. Nothing from the guest is executed or used as
a path.

Results in build/bench/http/: results.csv (one row per server, tool and
concurrency, with ratios to lighttpd of the same run), table.txt (what the
terminal shows), rps.png/svg and p99.png/svg (gnuplot, log x), raw/ (each
point's output), logs/ (servers' diagnostics, the console).

Environment: KWEB_BENCH_SECONDS (seconds of load per point), KWEB_BENCH_CONC
(e.g. 1,64), KWEB_BENCH_SERVERS, KWEB_BENCH_TOOLS (subsets, comma-separated),
KWEB_BENCH_KWLOAD (a kwload program to use instead of the kit's).
"""

import csv
import io
import math
import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from . import build, protocol, vm
from .paths import BUILD, ROOT, die, kernel_dir, kernel_series, note

OUT = BUILD / "bench" / "http"
BODY = b"Hello from kweb-lab!\n"

# name: (solutions folder, module, source, description)
SERVERS = {
    "stage02": ("02-http-hello", "khttp", "khttp.c",
                "stage 02: a kthread per client"),
    "stage05": ("05-netns", "kweb", "kweb.c",
                "stage 05: data_ready accept, one request a connection"),
    "stage06-ka0": ("06-cmwq-keepalive", "kweb", "kweb.c",
                    "stage 06, keepalive=0"),
    "stage06-ka1": ("06-cmwq-keepalive", "kweb", "kweb.c",
                    "stage 06, keepalive=1"),
    "lighttpd": (None, None, None, "Debian's lighttpd 1.4"),
}
SERVER_ORDER = list(SERVERS)
TOOLS = {"wrk": "wrk, keep-alive", "kwload-k0": "kwload -k 0, keep-alive",
         "kwload-k1": "kwload -k 1, a connection per request"}
TOOL_ORDER = list(TOOLS)
CONCURRENCY = (1, 4, 16, 64, 256, 1024)
BASELINE = "lighttpd"
MAX_POINT_LINES = 200
MAX_LOG_LINES = 400


class ParseError(ValueError):
    """A tool's output that is not what the tool prints."""


@dataclass
class Measurement:
    requests: int            # responses completed
    seconds: float
    rps: float
    p50_us: float
    p99_us: float
    errors: int = 0          # socket errors, bad or non-2xx responses


# --- wrk ----------------------------------------------------------------------

_TIME_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
_METRIC_UNITS = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}
_BINARY_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30,
                 "T": 1 << 40}
_NUM = r"[0-9]+(?:\.[0-9]+)?"
_NAN = r"-?nan"


def _number(text):
    v = float(text)
    if not math.isfinite(v) or v < 0:
        raise ParseError("not a number: %s" % text)
    return v


def wrk_time_us(text):
    """wrk's format_time_us ("456.00us", "1.23ms", "2.00s", "1.00m") in
    microseconds."""
    m = re.fullmatch(r"(%s)(us|ms|s|m|h)" % _NUM, text)
    if not m:
        raise ParseError("not a wrk time: %r" % text)
    return _number(m.group(1)) * _TIME_UNITS[m.group(2)]


def _stat_value(text, kind):
    if re.fullmatch(_NAN, text):
        return None
    if kind == "time":
        return wrk_time_us(text)
    m = re.fullmatch(r"(%s)([kMG]?)" % _NUM, text)
    if not m:
        raise ParseError("not a wrk metric: %r" % text)
    return _number(m.group(1)) * _METRIC_UNITS[m.group(2)]


_WRK_LINES = [
    ("running", r"Running ([0-9]+(?:\.[0-9]+)?[smh]) test @ (http://\S+)"),
    ("threads", r"([0-9]+) threads and ([0-9]+) connections"),
    ("header", r"Thread Stats +Avg +Stdev +Max +\+/- Stdev"),
    ("latency", r"Latency +(\S+) +(\S+) +(\S+) +(%s|%s)%%" % (_NUM, _NAN)),
    ("reqsec", r"Req/Sec +(\S+) +(\S+) +(\S+) +(%s|%s)%%" % (_NUM, _NAN)),
    ("distribution", r"Latency Distribution"),
    ("percentile", r"(50|75|90|99)% +(\S+)"),
    ("total", r"([0-9]+) requests in (\S+), (%s)([KMGT]?)B read" % _NUM),
    ("socket", r"Socket errors: connect ([0-9]+), read ([0-9]+), "
               r"write ([0-9]+), timeout ([0-9]+)"),
    ("status", r"Non-2xx or 3xx responses: ([0-9]+)"),
    ("rps", r"Requests/sec: +(%s)" % _NUM),
    ("transfer", r"Transfer/sec: +(%s)([KMGT]?)B" % _NUM),
]
# The order wrk 4.1 prints them in; "?" marks what it may leave out.
_WRK_ORDER = ["running", "threads", "header", "latency", "reqsec",
              "distribution", "percentile", "percentile", "percentile",
              "percentile", "total", "socket?", "status?", "rps", "transfer"]


def parse_wrk(text, connections=None):
    """wrk -c C -t T -d D --latency URL's output -> Measurement.

    Every line must be one wrk 4.1 prints, in its order, with valid
    numbers; requests/s must agree with the requests and the run's time.
    ParseError says what did not fit (wrk's own error lines included:
    "unable to connect to ...")."""
    lines = [ln.strip() for ln in text.replace("\r", "").split("\n")]
    lines = [ln for ln in lines if ln]
    got = {}
    i = 0
    for want in _WRK_ORDER:
        optional = want.endswith("?")
        kind = want.rstrip("?")
        pattern = dict(_WRK_LINES)[kind]
        m = re.fullmatch(pattern, lines[i]) if i < len(lines) else None
        if not m:
            if optional:
                continue
            shown = protocol.clean(lines[i], 200) if i < len(lines) \
                else "the end of the output"
            raise ParseError("wrk output: expected the %s line, got %s"
                             % (kind, shown if i < len(lines) else shown))
        got.setdefault(kind, []).append(m.groups())
        i += 1
    if i < len(lines):
        raise ParseError("wrk output: unexpected line after the summary: %s"
                         % protocol.clean(lines[i], 200))
    threads, conns = (int(x) for x in got["threads"][0])
    if connections is not None and conns != connections:
        raise ParseError("wrk ran %d connections, not %d" % (conns,
                                                             connections))
    if threads < 1 or conns < threads:
        raise ParseError("wrk: %d threads and %d connections" % (threads,
                                                                 conns))
    for kind, unit in (("latency", "time"), ("reqsec", "metric")):
        for v in got[kind][0][:3]:
            _stat_value(v, unit)
    pct = {}
    for p, v in got["percentile"]:
        if p in pct:
            raise ParseError("wrk: the %s%% line twice" % p)
        pct[p] = wrk_time_us(v)
    if list(pct) != ["50", "75", "90", "99"]:
        raise ParseError("wrk: latency percentiles out of order")
    if not pct["50"] <= pct["75"] <= pct["90"] <= pct["99"]:
        raise ParseError("wrk: latency percentiles that decrease")
    requests = int(got["total"][0][0])
    seconds = wrk_time_us(got["total"][0][1]) / 1e6
    rps = _number(got["rps"][0][0])
    if seconds <= 0 and requests:
        raise ParseError("wrk: %d requests in no time" % requests)
    if seconds > 0 and abs(requests / seconds - rps) > 0.02 * rps + 1:
        raise ParseError("wrk: %.2f requests/s is not %d requests in %.2f s"
                         % (rps, requests, seconds))
    errors = sum(int(x) for x in got["socket"][0]) if "socket" in got else 0
    errors += int(got["status"][0][0]) if "status" in got else 0
    return Measurement(requests, seconds, rps, pct["50"], pct["99"], errors)


# --- kwload -------------------------------------------------------------------

KWLOAD_RE = re.compile(
    r"kwload requests=([0-9]{1,12}) good=([0-9]{1,12}) bad=([0-9]{1,12}) "
    r"errors=([0-9]{1,12}) seconds=(%s) rps=(%s) p50_us=([0-9]{1,12}) "
    r"p99_us=([0-9]{1,12}) conns=([0-9]{1,12})" % (_NUM, _NUM))


KWLOAD_SPLIT_RE = re.compile(
    r"\(([0-9]{1,12}) failed connects, ([0-9]{1,12}) reset or closed "
    r"mid-request, ([0-9]{1,12}) unfinished[ !-~]*\)")


def parse_kwload(text, connections=None):
    """kwload's output -> Measurement: exactly one machine line
    "kwload requests=N good=N bad=N errors=N seconds=F rps=F p50_us=N
    p99_us=N conns=N" (rps: good requests a second; conns: connections
    opened in all). The rest of its summary is not read, but for the
    line that splits its socket errors ("(N failed connects, N reset or
    closed mid-request, N unfinished ...)"): the requests its
    budget (-n) still held when the time (-d) was up are no errors."""
    found, split = [], []
    for line in text.replace("\r", "").split("\n"):
        line = line.strip()
        if line.startswith("kwload "):
            m = KWLOAD_RE.fullmatch(line)
            if not m:
                raise ParseError("kwload: malformed machine line: %s"
                                 % protocol.clean(line, 200))
            found.append(m.groups())
        elif line.startswith("(") and "unfinished" in line:
            m = KWLOAD_SPLIT_RE.fullmatch(line)
            if not m:
                raise ParseError("kwload: malformed socket errors line: %s"
                                 % protocol.clean(line, 200))
            split.append(m.groups())
    if len(found) != 1:
        raise ParseError("kwload: %s machine line" % (
            "no" if not found else "more than one"))
    if len(split) > 1:
        raise ParseError("kwload: more than one socket errors line")
    req, good, bad, err = (int(x) for x in found[0][:4])
    seconds, rps = _number(found[0][4]), _number(found[0][5])
    p50, p99, conns = (int(x) for x in found[0][6:])
    if good + bad + err != req:
        raise ParseError("kwload: good+bad+errors is not requests")
    unfinished = 0
    if split:
        connects, resets, unfinished = (int(x) for x in split[0][:3])
        if connects + resets + unfinished != err:
            raise ParseError("kwload: its socket errors do not add up")
    if p50 > p99:
        raise ParseError("kwload: p50 %d us above p99 %d us" % (p50, p99))
    if seconds > 24 * 3600:
        raise ParseError("kwload: a run of %s s" % found[0][4])
    if seconds > 0 and abs(good / seconds - rps) > 0.01 * rps + 1:
        raise ParseError("kwload: rps=%s is not good/seconds" %
                         found[0][5])
    if good and conns == 0:
        raise ParseError("kwload: responses without a connection")
    return Measurement(good, seconds, rps, float(p50), float(p99),
                       bad + err - unfinished)


def parse_point(tool, text, connections=None):
    if tool == "wrk":
        return parse_wrk(text, connections)
    if tool.startswith("kwload"):
        return parse_kwload(text, connections)
    raise ParseError("unknown tool %s" % tool)


# --- the guest's result lines -------------------------------------------------

BENCH_RE = re.compile(r"KWEB ([0-9a-f]{32}) (bench-begin|bench-done|server|"
                      r"tool|point|end|exit)((?: [!-~]{1,40}){0,4})")
# A server's lines: "missing" alone; else "failed" or "up" (then its
# points), maybe "died", and at last "down", "stuck" or "tainted".
FINAL = ("missing", "down", "stuck", "tainted")


@dataclass
class BenchEvent:
    kind: str        # begin done server tool point end exit text
    server: str = ""
    tool: str = ""
    conc: int = 0
    value: str = ""  # state, rc, ncpu, text


@dataclass
class BenchStream:
    """The host's reading of a bench boot's results port: control lines
    with the nonce, in the run's order, each point once."""
    nonce: str
    servers: List[str]
    tools: List[str]
    conc: List[int]
    begun: bool = False
    done: bool = False
    server: Optional[str] = None       # the server started, not yet down
    mode: str = ""                     # its state: failed | up | died
    point: Optional[tuple] = None      # (server, tool, conc) running
    finished: set = field(default_factory=set)
    measured: set = field(default_factory=set)
    last: str = ""                     # the last final state said
    rejected: int = 0
    ncpu: int = 0

    def feed(self, raw):
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) \
            else raw
        line = line.rstrip("\r\n")
        m = BENCH_RE.fullmatch(line)
        if m and secrets.compare_digest(m.group(1), self.nonce):
            ev = self._control(m.group(2), m.group(3).split())
            if ev:
                return ev
        if line.startswith("KWEB "):
            self.rejected += 1
        if line.startswith("# "):
            line = line[2:]
        return BenchEvent("text", value=protocol.clean(line))

    def next_server(self):
        for s in self.servers:
            if s not in self.finished:
                return s
        return None

    def _control(self, verb, a):
        if verb == "bench-begin" and len(a) == 1 and not self.begun \
                and a[0].isdigit() and 0 < int(a[0]) < 4096:
            self.begun = True
            self.ncpu = int(a[0])
            return BenchEvent("begin", value=a[0])
        if verb == "exit" and len(a) == 1 and a[0].isdigit() \
                and int(a[0]) < 256:
            return BenchEvent("exit", value=a[0])
        if not self.begun or self.done or self.last in ("stuck", "tainted"):
            return None
        if verb == "tool" and a[1:] == ["missing"] and a[0] in self.tools \
                and self.server is None and not self.finished:
            return BenchEvent("tool", tool=a[0], value="missing")
        if verb == "server" and len(a) == 2 and self.point is None:
            return self._server(*a)
        if verb == "point" and len(a) == 3 and self.point is None \
                and self.mode == "up" and self.server == a[0] \
                and a[1] in self.tools and a[2].isdigit() \
                and int(a[2]) in self.conc \
                and (a[0], a[1], int(a[2])) not in self.measured:
            self.point = (a[0], a[1], int(a[2]))
            self.measured.add(self.point)
            return BenchEvent("point", a[0], a[1], int(a[2]))
        if verb == "end" and len(a) == 4 and self.point \
                and a[3].isdigit() and int(a[3]) < 256 \
                and a[2].isdigit() and (a[0], a[1], int(a[2])) == self.point:
            self.point = None
            return BenchEvent("end", a[0], a[1], int(a[2]), a[3])
        if verb == "bench-done" and not a and self.server is None \
                and self.next_server() is None:
            self.done = True
            return BenchEvent("done")
        return None

    def _server(self, name, state):
        if self.server is None:
            if name != self.next_server() or \
                    state not in ("missing", "failed", "up"):
                return None
            if state == "missing":
                self.finished.add(name)
                self.last = state
            else:
                self.server, self.mode = name, state
        elif name != self.server:
            return None
        elif state == "died" and self.mode == "up":
            self.mode = state
        elif state in ("down", "stuck", "tainted"):
            self.finished.add(name)
            self.server, self.mode, self.last = None, "", state
        else:
            return None
        return BenchEvent("server", server=name, value=state)


# --- results: ratios, the table, the CSV, the targets -------------------------

@dataclass
class Point:
    server: str
    tool: str
    conc: int
    status: str              # ok | failed | skipped
    m: Optional[Measurement] = None
    note: str = ""


def ratio(value, base):
    """value / base, or None when either is missing or base is 0."""
    if value is None or base is None or base <= 0:
        return None
    return value / base


def _fig(p, what):
    if p is None or p.m is None or p.status != "ok":
        return None
    return getattr(p.m, what)


def ratios(points, baseline=BASELINE):
    """{(server, tool, conc): {"rps": r, "p50_us": r, "p99_us": r}}: each
    figure over the baseline's of the same tool and concurrency."""
    idx = {(p.server, p.tool, p.conc): p for p in points}
    out = {}
    for p in points:
        base = idx.get((baseline, p.tool, p.conc))
        out[(p.server, p.tool, p.conc)] = {
            w: ratio(_fig(p, w), _fig(base, w))
            for w in ("rps", "p50_us", "p99_us")}
    return out


CSV_FIELDS = ["server", "tool", "concurrency", "status", "requests",
              "errors", "seconds", "rps", "p50_us", "p99_us",
              "rps_vs_lighttpd", "p50_vs_lighttpd", "p99_vs_lighttpd",
              "note"]


def _f(v, digits=2):
    return "" if v is None else ("%.*f" % (digits, v))


def csv_text(points):
    r = ratios(points)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for p in points:
        m = p.m if p.status == "ok" else None
        q = r[(p.server, p.tool, p.conc)]
        w.writerow([p.server, p.tool, p.conc, p.status,
                    m.requests if m else "", m.errors if m else "",
                    _f(m.seconds if m else None), _f(m.rps if m else None),
                    _f(m.p50_us if m else None, 0),
                    _f(m.p99_us if m else None, 0),
                    _f(q["rps"], 3), _f(q["p50_us"], 3), _f(q["p99_us"], 3),
                    p.note])
    return buf.getvalue()


def _x(v):
    return "(%5.2fx)" % v if v is not None else "(  -   )"


def _us(v):
    if v is None:
        return "-"
    if v >= 10000:
        return "%.0fms" % (v / 1000)
    if v >= 1000:
        return "%.1fms" % (v / 1000)
    return "%.0fus" % v


def table_text(points):
    """The terminal's table: per tool, each concurrency and server, req/s
    and p50/p99 latency, each with its ratio to lighttpd."""
    r = ratios(points)
    out = []
    for tool in [t for t in TOOL_ORDER if any(p.tool == t for p in points)]:
        out.append("%s (%s)" % (tool, TOOLS[tool]))
        out.append("  %-12s %5s %10s %8s %8s %8s %8s %8s  %s" % (
            "server", "conc", "req/s", "x lt", "p50", "x lt", "p99",
            "x lt", "note"))
        rows = sorted((p for p in points if p.tool == tool),
                      key=lambda p: (p.conc, SERVER_ORDER.index(p.server)))
        last = None
        for p in rows:
            if last is not None and p.conc != last:
                out.append("")
            last = p.conc
            q = r[(p.server, p.tool, p.conc)]
            if p.status == "ok":
                m = p.m
                out.append("  %-12s %5d %10.0f %8s %8s %8s %8s %8s  %s" % (
                    p.server, p.conc, m.rps, _x(q["rps"]), _us(m.p50_us),
                    _x(q["p50_us"]), _us(m.p99_us), _x(q["p99_us"]),
                    ("%d errors" % m.errors if m.errors else "") +
                    ("; " if m.errors and p.note else "") + p.note))
            else:
                out.append("  %-12s %5d %10s %8s %8s %8s %8s %8s  %s: %s" % (
                    p.server, p.conc, "-", "", "-", "", "-", "", p.status,
                    p.note))
        out.append("")
    return "\n".join(out)


def _rps(points, server, tool, conc):
    for p in points:
        if (p.server, p.tool, p.conc) == (server, tool, conc):
            return _fig(p, "rps")
    return None


# (tool, server, versus, factor): the targets, reported only.
TARGETS = [("wrk", "stage06-ka1", "lighttpd", 1.5),
           ("wrk", "stage06-ka1", "stage02", 3.0),
           ("kwload-k0", "stage06-ka1", "lighttpd", 1.5),
           ("kwload-k0", "stage06-ka1", "stage02", 3.0),
           ("kwload-k1", "stage06-ka1", "lighttpd", 1.0),
           ("kwload-k1", "stage06-ka0", "lighttpd", 1.0)]
TARGET_CONC = 64


def target_lines(points):
    """The issue's targets at c=64, as reported lines (never asserted)."""
    out = []
    for tool, server, versus, want in TARGETS:
        a = _rps(points, server, tool, TARGET_CONC)
        b = _rps(points, versus, tool, TARGET_CONC)
        head = "target c=%d %-9s %s >= %.1fx %s req/s:" % (
            TARGET_CONC, tool, server, want, versus)
        r = ratio(a, b)
        if r is None:
            out.append("%s not measured (%s)" % (
                head, "no %s figure" % (server if a is None else versus)))
        else:
            out.append("%s %.0f vs %.0f = %.2fx: %s" % (
                head, a, b, r, "met" if r >= want else "NOT met"))
    return out


def plot_data(points, tool, what, unit=1.0):
    """A gnuplot table for one tool: concurrency, then one column per
    server (NaN where there is no figure; each divided by unit), a header
    row naming them."""
    servers = [s for s in SERVER_ORDER if any(p.server == s for p in points)]
    idx = {(p.server, p.conc): p for p in points if p.tool == tool}
    concs = sorted({p.conc for p in points if p.tool == tool})
    lines = ["conc " + " ".join(servers)]
    for c in concs:
        vals = []
        for s in servers:
            v = _fig(idx.get((s, c)), what)
            vals.append("NaN" if v is None else "%.3f" % (v / unit))
        lines.append("%d %s" % (c, " ".join(vals)))
    return "\n".join(lines) + "\n", len(servers)


def plot(points, out):
    """rps.{png,svg} and p99.{png,svg}: one panel per tool, log x."""
    tools = [t for t in TOOL_ORDER if any(p.tool == t and p.status == "ok"
                                          for p in points)]
    if not tools:
        return []
    made = []
    n = 0
    for what, stem, unit in (("rps", "rps", 1.0), ("p99_us", "p99", 1e3)):
        for t in tools:
            text, n = plot_data(points, t, what, unit)
            (out / ("%s-%s.dat" % (stem, t))).write_text(text)
    for stem in ("rps", "p99"):
        for fmt in ("png", "svg"):
            target = out / ("%s.%s" % (stem, fmt))
            r = subprocess.run(
                ["gnuplot", "-e", "dir='%s'; metric='%s'; tools='%s'; "
                 "nservers=%d; fmt='%s'; outfile='%s'" % (
                     out, stem, " ".join(tools), n, fmt, target),
                 str(ROOT / "grading" / "bench" / "http.gp")],
                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=60)
            if r.returncode == 0 and target.is_file():
                made.append(target)
            else:
                note("gnuplot failed for %s: %s" % (
                    target.name, protocol.clean(r.stderr.strip(), 300)))
    return made


# --- the run --------------------------------------------------------------------

def _env_list(name, allowed, default):
    v = os.environ.get(name, "")
    if not v:
        return list(default)
    items = [x for x in v.split(",") if x]
    bad = [x for x in items if str(x) not in [str(a) for a in allowed]]
    if bad or not items:
        die("%s=%s: use a comma-separated subset of %s" % (
            name, v, ",".join(str(a) for a in allowed)))
    return [type(allowed[0])(x) for x in items]


def point_seconds(acc):
    """Seconds of load per point: 3 with KVM, 4 under TCG (the host is
    slower, but only the relative figures count: a little longer for
    enough samples, not the x3 of the test timeouts)."""
    v = os.environ.get("KWEB_BENCH_SECONDS", "")
    if v:
        if not v.isdigit() or not 1 <= int(v) <= 60:
            die("KWEB_BENCH_SECONDS=%s: use a whole number from 1 to 60" % v)
        return int(v)
    return 3 if acc == "kvm" else 4


def _elf_needed(path):
    r = subprocess.run(["objdump", "-p", str(path)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        die("objdump cannot read %s" % path)
    return re.findall(r"^\s*NEEDED\s+(\S+)$", r.stdout, re.M)


# Libraries the guest's base image provides with its loader: taken from
# the host (its libc matches the loader there).
HOST_LIB_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu")


def copy_with_libs(binaries, tree, libdir):
    """Copy into libdir every shared library the binaries need (NEEDED,
    recursively), from the unpacked packages first, else the host's."""
    search = [tree / "usr/lib/x86_64-linux-gnu", tree / "lib/x86_64-linux-gnu"]
    search += [Path(d) for d in HOST_LIB_DIRS]
    libdir.mkdir(parents=True, exist_ok=True)
    todo, seen = list(binaries), set()
    while todo:
        for name in _elf_needed(todo.pop()):
            if name in seen or name.startswith("ld-linux"):
                continue
            seen.add(name)
            for d in search:
                if (d / name).exists():
                    shutil.copyfile((d / name).resolve(), libdir / name)
                    todo.append(libdir / name)
                    break
            else:
                die("no %s for the benchmark's programs (in %s or the host)"
                    % (name, tree))
    return sorted(seen)


def build_modules(kdir, work, servers, log):
    """Each wanted stage's module, built like grading builds it; returns
    {stage folder: stripped .ko or None}, {stage folder: why not}."""
    kos, why = {}, {}
    for s in servers:
        sol, module, source, _ = SERVERS[s]
        if sol is None or sol in kos or sol in why:
            continue
        ko, reason = build_solution(kdir, work, sol, module, [source], log)
        if ko:
            kos[sol] = ko
        else:
            why[sol] = reason
    return kos, why


def build_solution(kdir, work, sol, module, sources, log):
    """solutions/SOL's module from its source files (.c and .h), built
    in work/build/SOL like grading builds a submission; (the stripped
    .ko, "") or (None, why not)."""
    missing = [f for f in sources
               if not (ROOT / "solutions" / sol / f).is_file()]
    if missing:
        return None, "solutions/%s/%s does not exist (yet)" % (sol,
                                                               missing[0])
    d = work / "build" / sol
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for f in sources:
        shutil.copyfile(ROOT / "solutions" / sol / f, d / f)
    res = build.build_module(kdir / "build", d, module, "solutions/%s" % sol)
    if not res.ok:
        (log / ("build-%s.txt" % sol)).write_text(res.diagnostics + "\n")
        return None, "does not build: %s" % (
            res.refusal or "see %s" % (log / ("build-%s.txt" % sol)))
    ko = d / (module + ".ko")
    small = d / (module + ".ko.small")
    r = subprocess.run(["strip", "--strip-debug", "-o", str(small),
                        str(ko)], capture_output=True)
    return (small if r.returncode == 0 else ko), ""


def make_overlay(ov, kdir, tree, kos, kwload):
    shutil.rmtree(ov, ignore_errors=True)
    b = ov / "kweb/bench"
    for d in ("kweb/run", "kweb/drivers", "kweb/bench/bin",
              "kweb/bench/lib/lighttpd", "kweb/bench/mod", "kweb/bench/www"):
        (ov / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "grading/guest/init", ov / "init")
    os.chmod(ov / "init", 0o755)
    shutil.copy(ROOT / "grading/bench/guest.sh", ov / "kweb/run/script.sh")
    (ov / "kweb/run/module").write_text("none\n")
    for ko in sorted((Path(kdir) / "root" / "drivers").glob("*.ko")):
        shutil.copy(ko, ov / "kweb/drivers")
    wrk, lighttpd = tree / "usr/bin/wrk", tree / "usr/sbin/lighttpd"
    for f in (wrk, lighttpd):
        shutil.copy(f, b / "bin")
        os.chmod(b / "bin" / f.name, 0o755)
    copy_with_libs([wrk, lighttpd], tree, b / "lib")
    shutil.copy(ROOT / "grading/bench/lighttpd.conf", b / "lighttpd.conf")
    (b / "www/index.txt").write_bytes(BODY)
    for s, (sol, _, _, _) in SERVERS.items():
        if sol in kos:
            name = "stage06" if s.startswith("stage06") else s
            shutil.copyfile(kos[sol], b / "mod" / (name + ".ko"))
    if kwload:
        (ov / "kweb/bin").mkdir(parents=True, exist_ok=True)
        shutil.copy(kwload, ov / "kweb/bin/kwload")
        os.chmod(ov / "kweb/bin/kwload", 0o755)


@dataclass
class Run:
    servers: List[str]
    tools: List[str]
    conc: List[int]
    secs: int
    scale: int
    points: List[Point] = field(default_factory=list)
    state: Dict[str, str] = field(default_factory=dict)   # final states
    why: Dict[str, str] = field(default_factory=dict)
    tool_missing: set = field(default_factory=set)
    build_failed: set = field(default_factory=set)
    ncpu: int = 0

    def add(self, server, tool, conc, text, rc):
        raw = OUT / "raw" / ("%s-%s-%d.txt" % (server, tool, conc))
        raw.write_text(text + "\n")
        try:
            m = parse_point(tool, text, conc)
        except ParseError as e:
            self.points.append(Point(server, tool, conc, "failed", None,
                                     str(e) + ("; exit %d" % rc if rc else
                                               "")))
            return
        status, why = "ok", ""
        if m.requests == 0:
            status, why = "failed", "no response in %d s" % self.secs
        elif rc in (124, 143):
            why = "the tool overran its time and was stopped"
        self.points.append(Point(server, tool, conc, status, m, why))


def boot_once(run, left, acc, kdir, initrd, log, n):
    """One guest for the servers left (their results go into run); "" or,
    when the guest never began the run, why."""
    nonce = protocol.new_nonce()
    append = ("kweb.mode=script kweb.scale=%d kweb.nonce=%s "
              "kweb.bench.servers=%s kweb.bench.tools=%s kweb.bench.conc=%s "
              "kweb.bench.secs=%d" % (run.scale, nonce, ",".join(left),
                                      ",".join(run.tools),
                                      ",".join(str(c) for c in run.conc),
                                      run.secs))
    console = log / ("console-%d.log" % n)
    boot = vm.start(acc, kdir, initrd, append, console,
                    log / ("qemu-%d.err" % n))
    st = BenchStream(nonce, left, run.tools, run.conc)
    text, slog = [], []
    wait_boot = 60 * run.scale
    wait_point = run.secs + 20 * run.scale + 10
    wait_server = 60 * run.scale + 30
    deadline = time.monotonic() + wait_boot
    ended = ""
    try:
        while True:
            if time.monotonic() > deadline:
                ended = "hung"
                break
            lines = boot.lines(0.5)
            if lines is None:
                ended = "gone"
                break
            for line in lines:
                ev = st.feed(line)
                if ev.kind == "text":
                    if st.point and len(text) < MAX_POINT_LINES:
                        text.append(ev.value)
                    elif st.point is None and len(slog) < MAX_LOG_LINES:
                        slog.append(ev.value)
                    continue
                if ev.kind == "begin":
                    run.ncpu = st.ncpu
                    deadline = time.monotonic() + wait_server
                elif ev.kind == "tool":
                    run.tool_missing.add(ev.tool)
                elif ev.kind == "server":
                    _server_event(run, ev, slog, log)
                    slog = []
                    deadline = time.monotonic() + wait_server
                elif ev.kind == "point":
                    text = []
                    deadline = time.monotonic() + wait_point
                    print("  %-12s %-10s c=%-5d ..." % (ev.server, ev.tool,
                                                        ev.conc),
                          end="", flush=True)
                elif ev.kind == "end":
                    run.add(ev.server, ev.tool, ev.conc, "\n".join(text),
                            int(ev.value))
                    p = run.points[-1]
                    print(" %s" % (("%.0f req/s, p99 %s" % (
                        p.m.rps, _us(p.m.p99_us))) if p.status == "ok"
                        else "failed: " + p.note), flush=True)
                    deadline = time.monotonic() + wait_server
                elif ev.kind in ("done", "exit"):
                    ended = ev.kind
            if ended:
                break
    finally:
        boot.kill()
        boot.wait()
    if st.done or st.last in ("stuck", "tainted"):
        return ""
    # The guest ended before bench-done: the server it was on (or was
    # starting) crashed or hung; the rest go to a fresh guest.
    cur = st.server or (st.next_server() if st.begun else None)
    if st.point:
        print(" no result", flush=True)
    why = ended_why(ended, console, boot)
    if cur is None:
        return "the guest did not start its run (%s): see %s" % (why,
                                                                 console)
    run.state[cur] = "crashed" if ended != "hung" else "hung"
    run.why[cur] = why
    print("  %-12s %s" % (cur, why), flush=True)
    if st.point:
        s, t, c = st.point
        run.points.append(Point(s, t, c, "failed", None, why))
    return ""


def ended_why(ended, console, boot, how=""):
    """Why a benchmark guest ended before its run did: it hung (nothing
    came for too long), it crashed (the oops, from its console), or it
    went away otherwise (how, or what ended says)."""
    if ended == "hung":
        return "hung: nothing from the guest for too long; it was stopped"
    ctext = console.read_text(errors="replace") if console.exists() else ""
    if re.search(r"BUG:|Oops:|Kernel panic|general protection", ctext) \
            or boot.panicked:
        from .grade import oops_summary
        return oops_summary(ctext)
    return "the guest ended during its run (%s)" % (how or ended or "?")


def _server_event(run, ev, slog, log):
    s, state = ev.server, ev.value
    logf = log / ("%s.log" % s)
    if slog:
        with open(logf, "a") as f:
            f.write("\n".join(slog) + "\n")
    if state == "up":
        print("  %-12s up: %s" % (s, SERVERS[s][3]), flush=True)
        return
    if state == "down":
        run.state.setdefault(s, "ok")
        return
    shown = {"missing": "not in the guest: skipped",
             "failed": "did not start, or does not serve the expected "
                       "21 bytes at / (see %s)" % logf,
             "died": "stopped answering during the load (see %s)" % logf,
             "stuck": "could not be stopped (the module cannot be "
                      "unloaded)",
             "tainted": "tainted the kernel (an oops or a warning, see %s)"
                        % logf}[state]
    if state == "missing" and s in run.why:
        shown = run.why[s]
        state = "failed" if s in run.build_failed else "missing"
    run.state[s] = state
    run.why[s] = shown
    print("  %-12s %s" % (s, shown), flush=True)


def main(argv):
    if len(argv) > 1:
        die("usage: grading/kw bench-http [KERNEL]")
    series = kernel_series(argv[0] if argv and argv[0] else None)
    t0 = time.monotonic()
    if subprocess.run([str(ROOT / "grading" / "deps.sh"), "bench"]).returncode:
        die("the host lacks packages the benchmark needs (see above)")
    if subprocess.run([str(ROOT / "grading" / "kernel.sh"),
                       series]).returncode:
        die("the kernel %s is not available (see above)" % series)
    kdir = kernel_dir(series)
    r = subprocess.run([str(ROOT / "grading" / "bench" / "fetch.sh")],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode:
        die("fetching lighttpd and wrk failed (see above)")
    tree = Path(r.stdout.strip())
    servers = _env_list("KWEB_BENCH_SERVERS", SERVER_ORDER, SERVER_ORDER)
    tools = _env_list("KWEB_BENCH_TOOLS", TOOL_ORDER, TOOL_ORDER)
    conc = _env_list("KWEB_BENCH_CONC", list(CONCURRENCY), CONCURRENCY)
    kwload = os.environ.get("KWEB_BENCH_KWLOAD", "")
    if kwload and not Path(kwload).is_file():
        die("KWEB_BENCH_KWLOAD=%s is no file" % kwload)
    shutil.rmtree(OUT, ignore_errors=True)
    log = OUT / "logs"
    for d in (log, OUT / "raw"):
        d.mkdir(parents=True)
    kos, why = build_modules(kdir, OUT, servers, log)
    base = vm.base_image()
    acc = vm.accel(kdir)
    run = Run(servers, tools, conc, point_seconds(acc), vm.scale(acc, kdir))
    for s in servers:
        sol = SERVERS[s][0]
        if sol in why:
            run.why[s] = why[sol]
            if "does not build" in why[sol]:
                run.build_failed.add(s)
    make_overlay(OUT / "overlay", kdir, tree, kos, kwload)
    initrd = vm.initrd(OUT, base, OUT / "overlay", "bench.cpio")
    release = (kdir / "release").read_text().strip()
    npoints = len(servers) * len(tools) * len(conc)
    # measured: about 0.4 s a point besides its load, 40 s of build and boot
    est = int(npoints * (run.secs + 0.4)) + 40
    print("Benchmarking HTTP servers on Linux %s (%s%s): %d servers x %d "
          "tools x %d concurrencies, %d s a point: at most %d points, "
          "about %d min %02d s" % (
              release, acc, ", timeouts x%d" % run.scale if run.scale > 1
              else "", len(servers), len(tools), len(conc), run.secs,
              npoints, est // 60, est % 60), flush=True)
    left = list(servers)
    failed_boots = 0
    for n in range(1, len(servers) + 4):
        why = boot_once(run, left, acc, kdir, initrd, log, n)
        if why:
            # A guest that crashed before the run (TCG has the odd boot
            # crash): once more, then give up.
            failed_boots += 1
            if failed_boots > 1:
                die("the benchmark guest twice " + why[len("the guest "):])
            print("  (%s; booting again)" % why, flush=True)
            continue
        left = [s for s in left if s not in run.state]
        if not left:
            break
        print("  (a fresh guest for %s)" % " ".join(left), flush=True)
    for f in (initrd, OUT / "overlay.cpio"):
        f.unlink(missing_ok=True)      # 30 MB, rebuilt every run
    for s in servers:
        run.state.setdefault(s, "not run")
    return report(run, time.monotonic() - t0)


def report(run, elapsed):
    # A point not measured is a row too, saying why.
    have = {(p.server, p.tool, p.conc) for p in run.points}
    for s in run.servers:
        for t in run.tools:
            for c in run.conc:
                if (s, t, c) in have:
                    continue
                if t in run.tool_missing:
                    why = "%s is not in the guest" % t.split("-")[0]
                else:
                    why = run.why.get(s, "not measured")
                run.points.append(Point(s, t, c, "skipped", None, why))
    run.points.sort(key=lambda p: (TOOL_ORDER.index(p.tool), p.conc,
                                   SERVER_ORDER.index(p.server)))
    table = table_text(run.points)
    targets = target_lines(run.points)
    (OUT / "results.csv").write_text(csv_text(run.points))
    made = plot(run.points, OUT)
    summary = ["", table, "Targets (reported, not asserted):"] + \
        ["  " + t for t in targets]
    for s in run.servers:
        if run.state[s] != "ok":
            summary.append("  %s: %s" % (s, run.why.get(s, run.state[s])))
    summary.append("")
    summary.append("Took %d min %02d s (%d s of load a point, guest %d "
                   "CPUs)." % (elapsed // 60, elapsed % 60, run.secs,
                               run.ncpu))
    text = "\n".join(summary)
    (OUT / "table.txt").write_text(text + "\n")
    print(text)
    print("Results: %s" % OUT)
    for f in [OUT / "results.csv", OUT / "table.txt"] + made:
        print("  %s" % f)
    broken = [s for s in run.servers
              if run.state[s] not in ("ok", "missing")]
    return 1 if broken else 0


if __name__ == "__main__":
    from .paths import run_main
    run_main(main)
