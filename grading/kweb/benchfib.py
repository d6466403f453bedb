"""make bench-fib: stage 7's GET /fib/N against GMP, in one guest.

    grading/kw bench-fib [KERNEL]

Stage 7's module (solutions/07-fib, its SOURCES from checker/07-fib/
stage.conf, built like grading builds a submission: build.py, in the
sandbox) is loaded in one guest with fib_max=10000000 and started through
sysfs. For each N (1000 10000 100000 1000000 10000000, or
KWEB_BENCH_FIB_N=N,N,...), in that order, the guest (grading/bench/
fib-guest.sh) runs three steps:

  gmp      kwfib gmp -n R N     GMP's mpz_fib_ui and mpz_get_str in user
                                space, best of R
  time     kwfib time -n R N    R requests on one keep-alive connection,
                                each body checked against GMP: the best
                                and median end-to-end times, and the
                                median of the server's Server-Timing
                                fib;dur (kweb's own total)
  timing   curl -D - /fib/N     R more requests (one curl, one keep-alive
                                connection), for the heads' split of that
                                total: calc;dur (F(N) in binary) and
                                dec;dur (its decimal conversion), the
                                median of each

R is 3 (under TCG, F(10^7) takes kweb about 10 s, GMP 3 s: three of each
fit easily). Every step is bounded (STEP_SECONDS, times the TCG scale),
and so is the whole run (RUN_SECONDS): a step that overruns is reported
as such and the run goes on; a server that stops answering ends the run's
measurements (the points left are reported as not measured).

The guest's output is parsed as strictly as bench-http's: control lines
carry the boot's nonce and are accepted only in the run's order
(FibStream: bench.BenchStream, each point in turn), the tools' output is
parsed here (parse_gmp, parse_time, parse_timing) and every number is
validated, cross-checked (the digits of F(N) against N, the parts of the
server's time against its total). Nothing from the guest is executed or
used as a path.

Results in build/bench/fib/: results.csv (one row per N), table.txt
(what the terminal shows, with the target line: kweb within 3x of GMP at
N=10^6, reported, never asserted), fib.png (gnuplot: times and ratios
against N, log-log), logs/ (each step's raw output, the server's
diagnostics, the console). Exit status 0 when every point was measured,
1 otherwise.
"""

import csv
import io
import math
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from . import bench, protocol, vm
from .bench import ParseError, _f, ratio
from .paths import BUILD, ROOT, die, kernel_dir, kernel_series, note

OUT = BUILD / "bench" / "fib"
SOLUTION = "07-fib"
FIB_MAX = 10000000           # the module's fib_max for the run
DEFAULT_N = (1000, 10000, 100000, 1000000, 10000000)
MAX_POINTS = 12
REPEAT = 3
STEPS = ("gmp", "time", "timing")
TARGET_N = 1000000
TARGET_FACTOR = 3.0
# One step's limit: STEP_SECONDS + STEP_PER_MILLION s for each million of
# N and each request, times the scale (F(10^7) under TCG: 210 s; measured
# there: gmp 9 s, time 35 s, timing 31 s).
STEP_SECONDS = 10
STEP_PER_MILLION = 2
RUN_SECONDS = 540            # the guest's whole run, from its start
MAX_STEP_LINES = 200
MAX_LOG_LINES = 400

_MS = r"([0-9]{1,9}\.[0-9]{3})"
_NUM = r"([0-9]{1,12}(?:\.[0-9]{1,6})?)"
GMP_RE = re.compile(r"kwfib gmp n=([0-9]{1,9}) digits=([0-9]{1,9}) "
                    r"fib_us=%s str_us=%s total_us=%s" % (_NUM, _NUM, _NUM))
TIME_RE = re.compile(r"kwfib time n=([0-9]{1,9}) digits=([0-9]{1,9}) "
                     r"best_us=([0-9]{1,12}) median_us=([0-9]{1,12}) "
                     r"server_us=([0-9]{1,12})")
STATUS_RE = re.compile(r"HTTP/1\.[01] ([0-9]{3})(?: [ -~]*)?")
HEADER_RE = re.compile(r"([!#-'*+.0-9A-Z^_`a-z|~-]{1,64}):[ \t]*([ -~]*)")
TIMING_RE = re.compile(r"fib;dur=%s, calc;dur=%s, dec;dur=%s" % (_MS, _MS,
                                                                   _MS))


# --- what the steps print -----------------------------------------------------

@dataclass
class Gmp:
    digits: int
    fib_us: float
    str_us: float
    total_us: float


@dataclass
class Timed:
    digits: int
    best_us: float
    median_us: float
    server_us: float


@dataclass
class Split:
    length: int              # Content-Length: the digits of F(N)
    total_us: float          # fib;dur (a median, from parse_timing)
    calc_us: float           # calc;dur
    dec_us: float            # dec;dur


def fib_digits(n):
    """The number of decimal digits of F(n), or the two it may be when
    floating point cannot tell (F(n) is phi^n / sqrt 5, rounded)."""
    if n < 100:
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return {len(str(a))}
    x = n * math.log10((1 + math.sqrt(5)) / 2) - math.log10(5) / 2
    return {math.floor(x - 1e-6) + 1, math.floor(x + 1e-6) + 1}


def _value(text):
    v = float(text)
    if not math.isfinite(v) or v < 0:
        raise ParseError("not a number: %s" % text)
    return v


def _lines(text):
    return [ln.strip() for ln in text.replace("\r", "").split("\n")
            if ln.strip()]


def _machine_line(text, prefix, pattern, what):
    """The one line of text that starts with prefix, matching pattern;
    ParseError if there is none, more than one, or any other line."""
    found, other = [], []
    for line in _lines(text):
        if line.startswith(prefix):
            m = pattern.fullmatch(line)
            if not m:
                raise ParseError("%s: malformed line: %s" % (
                    what, protocol.clean(line, 200)))
            found.append(m.groups())
        else:
            other.append(line)
    if not found:
        raise ParseError("%s: no result line%s" % (what, (
            ": " + protocol.clean(other[0], 200)) if other else ""))
    if len(found) > 1:
        raise ParseError("%s: more than one result line" % what)
    if other:
        raise ParseError("%s: unexpected line: %s" % (
            what, protocol.clean(other[0], 200)))
    return found[0]


def _check_n_digits(what, n, got_n, digits):
    if int(got_n) != n:
        raise ParseError("%s: a result for N=%s, not %d" % (what, got_n, n))
    if int(digits) not in fib_digits(n):
        raise ParseError("%s: F(%d) has %s digits, not %s" % (
            what, n, "/".join(str(d) for d in sorted(fib_digits(n))),
            digits))
    return int(digits)


def parse_gmp(text, n):
    """kwfib gmp -n R N's output -> Gmp: exactly the one line
    "kwfib gmp n=N digits=D fib_us=F str_us=F total_us=F"."""
    g = _machine_line(text, "kwfib gmp", GMP_RE, "kwfib gmp")
    digits = _check_n_digits("kwfib gmp", n, g[0], g[1])
    fib, dec, total = (_value(x) for x in g[2:])
    # each is the best of R: the best total is at least the best parts
    # (printed to the nanosecond, rounded)
    if total + 0.002 < fib + dec:
        raise ParseError("kwfib gmp: total_us=%s is less than fib_us + "
                         "str_us" % g[4])
    return Gmp(digits, fib, dec, total)


def parse_time(text, n):
    """kwfib time -n R N's output -> Timed: exactly the one line
    "kwfib time n=N digits=D best_us=U median_us=U server_us=U"."""
    g = _machine_line(text, "kwfib time", TIME_RE, "kwfib time")
    digits = _check_n_digits("kwfib time", n, g[0], g[1])
    best, median, server = (float(x) for x in g[2:])
    if best > median:
        raise ParseError("kwfib time: best_us=%s above median_us=%s" % (
            g[2], g[3]))
    return Timed(digits, best, median, server)


def parse_head(lines, n):
    """One response head (its lines) -> Split: status 200, one
    Content-Length (F(N)'s digits), one Server-Timing "fib;dur=MS,
    calc;dur=MS, dec;dur=MS" whose parts do not exceed its total."""
    m = STATUS_RE.fullmatch(lines[0])
    if not m:
        raise ParseError("curl: not an HTTP status line: %s" % (
            protocol.clean(lines[0], 200)))
    if m.group(1) != "200":
        raise ParseError("curl: status %s: %s" % (
            m.group(1), protocol.clean(lines[0], 200)))
    headers = {}
    for line in lines[1:]:
        h = HEADER_RE.fullmatch(line)
        if not h:
            raise ParseError("curl: not a header line: %s" % (
                protocol.clean(line, 200)))
        headers.setdefault(h.group(1).lower(), []).append(h.group(2).strip())
    for name in ("content-length", "server-timing"):
        if len(headers.get(name, [])) != 1:
            raise ParseError("curl: %s %s header%s" % (
                "no" if name not in headers else "more than one",
                "Content-Length" if name == "content-length"
                else "Server-Timing", "" if name not in headers else "s"))
    length = headers["content-length"][0]
    if not re.fullmatch(r"[0-9]{1,12}", length):
        raise ParseError("curl: Content-Length: %s" % protocol.clean(length,
                                                                     60))
    _check_n_digits("curl (Content-Length)", n, n, length)
    t = TIMING_RE.fullmatch(headers["server-timing"][0])
    if not t:
        raise ParseError("curl: Server-Timing is not 'fib;dur=MS, calc;dur="
                         "MS, dec;dur=MS': %s" % protocol.clean(
                             headers["server-timing"][0], 120))
    total, calc, dec = (float(x) * 1000 for x in t.groups())
    if calc + dec > total + 2:
        raise ParseError("curl: Server-Timing's calc and dec (%s + %s ms) "
                         "exceed its total %s ms" % (t.group(2), t.group(3),
                                                     t.group(1)))
    return Split(int(length), total, calc, dec)


def _median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] +
                                              v[len(v) // 2]) / 2


def parse_timing(text, n, repeat=1):
    """curl -s -D - -o /dev/null .../fib/N (repeat times, on one
    connection)'s output: the response heads, each ended by an empty
    line -> Split, the median of each figure over exactly repeat heads
    (parse_head)."""
    heads, cur = [], []
    for line in text.replace("\r", "").split("\n"):
        line = line.strip()
        if line:
            cur.append(line)
        elif cur:
            heads.append(cur)
            cur = []
    if cur:
        heads.append(cur)
    if not heads:
        raise ParseError("curl: no response head")
    if len(heads) != repeat:
        raise ParseError("curl: %d response heads, not %d" % (len(heads),
                                                               repeat))
    got = [parse_head(h, n) for h in heads]
    return Split(got[0].length, _median(x.total_us for x in got),
                 _median(x.calc_us for x in got),
                 _median(x.dec_us for x in got))


# --- the guest's lines ----------------------------------------------------------

class FibStream(bench.BenchStream):
    """bench-http's stream of control lines for one server, "kweb", whose
    points are (step, N): each in turn, N after N and the steps in their
    order; anything else is text."""

    def __init__(self, nonce, ns):
        super().__init__(nonce, ["kweb"], list(STEPS), list(ns))

    def next_point(self):
        for n in self.conc:
            for s in self.tools:
                if ("kweb", s, n) not in self.measured:
                    return ("kweb", s, n)
        return None

    def _control(self, verb, a):
        if verb == "tool":
            return None
        if verb == "point":
            want = self.next_point()
            if want is None or a != [want[0], want[1], str(want[2])]:
                return None
        return super()._control(verb, a)


# --- the results ------------------------------------------------------------------

@dataclass
class FibPoint:
    n: int
    repeat: int = REPEAT
    gmp: Optional[Gmp] = None
    time: Optional[Timed] = None
    split: Optional[Split] = None
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self):
        return None not in (self.gmp, self.time, self.split)

    @property
    def digits(self):
        for x in (self.gmp, self.time):
            if x:
                return x.digits
        return self.split.length if self.split else None

    def add(self, step, text, rc, limit):
        """A step's output and exit status (124/143: timeout stopped it;
        curl's 28: its -m)."""
        if rc in (124, 143) or (step == "timing" and rc == 28):
            self.notes.append("%s: took longer than %d s and was stopped"
                              % (step, limit))
            return
        try:
            if step == "timing":
                got = parse_timing(text, self.n, self.repeat)
            else:
                got = (parse_gmp if step == "gmp" else parse_time)(text,
                                                                   self.n)
        except ParseError as e:
            self.notes.append("%s%s" % (e, "; exit %d" % rc if rc else ""))
            return
        if rc:
            self.notes.append("%s: exit %d" % (step, rc))
        elif step == "gmp":
            self.gmp = got
        elif step == "time":
            self.time = got
        else:
            self.split = got


def _get(x, what):
    return getattr(x, what) if x is not None else None


def point_ratios(p):
    """kweb over GMP: the server's total (the median of its fib;dur) over
    GMP's total; calc over mpz_fib_ui; dec over mpz_get_str."""
    return {"total": ratio(_get(p.time, "server_us"),
                           _get(p.gmp, "total_us")),
            "calc": ratio(_get(p.split, "calc_us"), _get(p.gmp, "fib_us")),
            "dec": ratio(_get(p.split, "dec_us"), _get(p.gmp, "str_us"))}


CSV_FIELDS = ["n", "digits", "kweb_server_us", "kweb_calc_us", "kweb_dec_us",
              "client_best_us", "client_median_us", "gmp_fib_us",
              "gmp_str_us", "gmp_total_us", "ratio_kweb_gmp", "ratio_calc",
              "ratio_dec", "status", "note"]


def csv_text(points):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for p in points:
        r = point_ratios(p)
        w.writerow([p.n, "" if p.digits is None else p.digits,
                    _f(_get(p.time, "server_us"), 0),
                    _f(_get(p.split, "calc_us"), 0),
                    _f(_get(p.split, "dec_us"), 0),
                    _f(_get(p.time, "best_us"), 0),
                    _f(_get(p.time, "median_us"), 0),
                    _f(_get(p.gmp, "fib_us"), 3),
                    _f(_get(p.gmp, "str_us"), 3),
                    _f(_get(p.gmp, "total_us"), 3),
                    _f(r["total"], 3), _f(r["calc"], 3), _f(r["dec"], 3),
                    "ok" if p.ok else "failed", "; ".join(p.notes)])
    return buf.getvalue()


def dur(us):
    """A time for the table: 4.2us, 127us, 7.12ms, 43.4ms, 10.49s."""
    if us is None:
        return "-"
    if us < 100:
        return "%.1fus" % us
    if us < 1000:
        return "%.0fus" % us
    if us < 1e5:
        return "%.2fms" % (us / 1e3) if us < 1e4 else "%.1fms" % (us / 1e3)
    if us < 1e6:
        return "%.0fms" % (us / 1e3)
    return "%.2fs" % (us / 1e6)


def _x(v):
    return "-" if v is None else "%.2fx" % v


ROW = "%9s %8s | %8s %8s %8s | %8s %8s | %8s %8s %8s | %7s %8s %7s"


def table_text(points):
    """The terminal's table: per N, kweb's times (the server's total,
    calc, dec), the client's, GMP's, and the ratios kweb / GMP."""
    out = [(ROW % ("", "", "kweb", "", "", "client", "", "GMP", "", "",
                   "kweb/GMP", "", "")).rstrip(),
           ROW % ("N", "digits", "total", "calc", "dec", "best", "median",
                  "fib", "str", "total", "total", "calc/fib", "dec/str")]
    out.append("-" * len(out[-1]))
    for p in points:
        r = point_ratios(p)
        out.append(ROW % (
            p.n, "-" if p.digits is None else p.digits,
            dur(_get(p.time, "server_us")), dur(_get(p.split, "calc_us")),
            dur(_get(p.split, "dec_us")), dur(_get(p.time, "best_us")),
            dur(_get(p.time, "median_us")), dur(_get(p.gmp, "fib_us")),
            dur(_get(p.gmp, "str_us")), dur(_get(p.gmp, "total_us")),
            _x(r["total"]), _x(r["calc"]), _x(r["dec"])))
    bad = [p for p in points if p.notes]
    if bad:
        out.append("")
        for p in bad:
            out.append("  N=%d: %s" % (p.n, "; ".join(p.notes)))
    return "\n".join(out) + "\n"


def _pow10(n):
    e = round(math.log10(n)) if n > 0 else 0
    return "10^%d" % e if n == 10 ** e else str(n)


def target_line(points):
    head = "Target (reported, not asserted): kweb at N=%s within %gx of " \
           "GMP:" % (_pow10(TARGET_N), TARGET_FACTOR)
    p = next((q for q in points if q.n == TARGET_N), None)
    r = point_ratios(p)["total"] if p else None
    if r is None:
        return "%s not measured%s" % (head, "" if p else " (N=%d is not in "
                                      "the run)" % TARGET_N)
    return "%s measured %.2fx -- %s" % (head, r, "met" if r <= TARGET_FACTOR
                                        else "not met")


def plot_data(points):
    """fib.gp's table: N; kweb total, calc, dec, GMP total, the client's
    median (ms); the ratios total, calc, dec. NaN where there is none."""
    lines = ["n kweb_total kweb_calc kweb_dec gmp_total client_median "
             "ratio_total ratio_calc ratio_dec"]
    for p in points:
        r = point_ratios(p)
        vals = [_get(p.time, "server_us"), _get(p.split, "calc_us"),
                _get(p.split, "dec_us"), _get(p.gmp, "total_us"),
                _get(p.time, "median_us")]
        # a zero cannot go on a log scale
        cells = ["NaN" if not v else "%.6g" % (v / 1e3) for v in vals]
        cells += ["NaN" if not r[k] else "%.6g" % r[k]
                  for k in ("total", "calc", "dec")]
        lines.append("%d %s" % (p.n, " ".join(cells)))
    return "\n".join(lines) + "\n"


def plot(points, out):
    """fib.png from fib.dat; [] (and a note) when gnuplot cannot."""
    if not any(p.gmp or p.time or p.split for p in points):
        return []
    data = out / "fib.dat"
    data.write_text(plot_data(points))
    target = out / "fib.png"
    rs = [v for p in points for v in point_ratios(p).values() if v]
    rmin = min([0.5] + [v / 1.5 for v in rs])
    try:
        r = subprocess.run(
            ["gnuplot", "-e", "datafile='%s'; outfile='%s'; rmin=%.6g" % (
                data, target, rmin),
             str(ROOT / "grading" / "bench" / "fib.gp")],
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        note("gnuplot failed for fib.png: %s" % e)
        return []
    if r.returncode == 0 and target.is_file():
        return [target]
    note("gnuplot failed for fib.png: %s" % protocol.clean(r.stderr.strip(),
                                                           300))
    return []


# --- the run ------------------------------------------------------------------------

def bench_ns():
    """The N to measure: KWEB_BENCH_FIB_N (comma-separated, 1 to fib_max,
    at most MAX_POINTS of them) or DEFAULT_N; ascending."""
    v = os.environ.get("KWEB_BENCH_FIB_N", "")
    if not v:
        return list(DEFAULT_N)
    items = v.split(",")
    if len(items) > MAX_POINTS or not all(
            re.fullmatch(r"[1-9][0-9]{0,7}", x) and int(x) <= FIB_MAX
            for x in items) or len(set(items)) != len(items):
        die("KWEB_BENCH_FIB_N=%s: use up to %d different whole numbers "
            "from 1 to %d, comma-separated" % (protocol.clean(v, 100),
                                               MAX_POINTS, FIB_MAX))
    return sorted(int(x) for x in items)


def step_limit(n, repeat, scale):
    """Seconds one step of N may take in the guest."""
    return scale * (STEP_SECONDS + STEP_PER_MILLION * repeat *
                    math.ceil(n / 1e6))


@dataclass
class Run:
    ns: List[int]
    scale: int
    points: Dict[int, FibPoint] = field(default_factory=dict)
    state: str = ""          # the server: up failed died down stuck ...
    why: str = ""            # why the points left were not measured
    ncpu: int = 0

    def __post_init__(self):
        for n in self.ns:
            self.points.setdefault(n, FibPoint(n))

    def spec(self):
        return ",".join("%d:%d:%d" % (n, self.points[n].repeat,
                                      step_limit(n, self.points[n].repeat,
                                                 self.scale))
                        for n in self.ns)


SHOWN = {"failed": "did not start, or does not answer /fib/10 with 55",
         "died": "stopped answering /fib/10 after a step failed",
         "stuck": "could not be stopped (the module cannot be unloaded)",
         "tainted": "tainted the kernel (an oops or a warning)"}


def _step_done(p, step):
    """What the progress line says when a step ended."""
    if p.notes and p.notes[-1].startswith(step + ": took longer"):
        return "%s%s timed out" % (" | " if step != STEPS[0] else " ", step)
    if step == "gmp":
        return " gmp %s" % dur(p.gmp.total_us) if p.gmp else " gmp failed"
    if step == "time":
        return (" | kweb %s (client %s)" % (dur(p.time.server_us),
                                            dur(p.time.median_us))
                if p.time else " | kweb failed")
    return (" | calc %s + dec %s" % (dur(p.split.calc_us),
                                      dur(p.split.dec_us))
            if p.split else " | split failed")


def boot_once(run, acc, kdir, initrd, log, number):
    """One guest for the whole run; "" or, when the guest never began
    the run, why."""
    nonce = protocol.new_nonce()
    append = "kweb.mode=script kweb.scale=%d kweb.nonce=%s " \
             "kweb.fib.points=%s" % (run.scale, nonce, run.spec())
    console = log / ("console-%d.log" % number)
    t0 = time.monotonic()
    boot = vm.start(acc, kdir, initrd, append, console,
                    log / ("qemu-%d.err" % number))
    st = FibStream(nonce, run.ns)
    text, slog = [], []
    wait_boot = 60 * run.scale
    wait_between = 30 * run.scale + 30
    budget = t0 + RUN_SECONDS
    deadline = time.monotonic() + wait_boot
    ended, exit_rc, open_line = "", "", False
    try:
        while not ended:
            now = time.monotonic()
            if now > min(deadline, budget):
                ended = "budget" if now > budget else "hung"
                break
            lines = boot.lines(0.5)
            if lines is None:
                ended = "gone"
                break
            for line in lines:
                ev = st.feed(line)
                if ev.kind == "text":
                    if st.point and len(text) < MAX_STEP_LINES:
                        text.append(ev.value)
                    elif st.point is None and len(slog) < MAX_LOG_LINES:
                        slog.append(ev.value)
                    continue
                if ev.kind == "begin":
                    run.ncpu = st.ncpu
                    deadline = time.monotonic() + wait_between + \
                        20 * run.scale
                elif ev.kind == "server":
                    _server_event(run, ev.value, slog, log)
                    slog = []
                    deadline = time.monotonic() + wait_between
                elif ev.kind == "point":
                    text = []
                    p = run.points[ev.conc]
                    limit = step_limit(p.n, p.repeat, run.scale)
                    deadline = time.monotonic() + limit + 10 * run.scale
                    if ev.tool == STEPS[0]:
                        print("  N=%-9d" % ev.conc, end="", flush=True)
                        open_line = True
                elif ev.kind == "end":
                    p = run.points[ev.conc]
                    raw = "\n".join(text)
                    (log / ("%d-%s.txt" % (p.n, ev.tool))).write_text(
                        raw + "\n")
                    p.add(ev.tool, raw, int(ev.value),
                          step_limit(p.n, p.repeat, run.scale))
                    open_line = ev.tool != STEPS[-1]
                    print(_step_done(p, ev.tool),
                          end="" if open_line else "\n", flush=True)
                    deadline = time.monotonic() + wait_between
                elif ev.kind in ("done", "exit"):
                    ended, exit_rc = ev.kind, ev.value
                    break
    finally:
        boot.kill()
        boot.wait()
    if slog:
        with open(log / "kweb.log", "a") as f:
            f.write("\n".join(slog) + "\n")
    if open_line:
        print(" no result" if st.point else "", flush=True)
    if st.done or st.last in ("stuck", "tainted"):
        return ""
    if ended == "budget":
        why = "the run's %d s were up; the guest was stopped" % RUN_SECONDS
    else:
        why = bench.ended_why(ended, console, boot, "exit status %s" % exit_rc
                              if ended == "exit" else "")
    if not st.begun:
        return "the guest did not start its run (%s): see %s" % (why,
                                                                 console)
    if st.point:
        _, s, n = st.point
        run.points[n].notes.append("%s: %s" % (s, why))
    run.why = run.why or why
    if run.state in ("", "up"):
        run.state = "crashed" if ended in ("gone", "exit") else "hung"
    print("  kweb: %s" % why, flush=True)
    return ""


def _server_event(run, state, slog, log):
    if slog:
        with open(log / "kweb.log", "a") as f:
            f.write("\n".join(slog) + "\n")
    if state == "up":
        run.state = state
        print("  kweb is up (fib_max=%d)" % FIB_MAX, flush=True)
        return
    if state == "down":
        if run.state == "up":
            run.state = "down"
        return
    run.state = state
    run.why = "kweb %s (see %s)" % (SHOWN[state], log / "kweb.log")
    print("  %s" % run.why, flush=True)


def make_overlay(ov, kdir, ko):
    shutil.rmtree(ov, ignore_errors=True)
    for d in ("kweb/run", "kweb/drivers", "kweb/bench/mod"):
        (ov / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "grading/guest/init", ov / "init")
    os.chmod(ov / "init", 0o755)
    shutil.copy(ROOT / "grading/bench/fib-guest.sh", ov / "kweb/run/script.sh")
    (ov / "kweb/run/module").write_text("none\n")
    for d in sorted((kdir / "root" / "drivers").glob("*.ko")):
        shutil.copy(d, ov / "kweb/drivers")
    if ko:
        shutil.copyfile(ko, ov / "kweb/bench/mod/kweb.ko")


def main(argv):
    if len(argv) > 1:
        die("usage: grading/kw bench-fib [KERNEL]")
    series = kernel_series(argv[0] if argv and argv[0] else None)
    ns = bench_ns()
    t0 = time.monotonic()
    if subprocess.run([str(ROOT / "grading" / "deps.sh"), "bench"]).returncode:
        die("the host lacks packages the benchmark needs (see above)")
    if subprocess.run([str(ROOT / "grading" / "kernel.sh"),
                       series]).returncode:
        die("the kernel %s is not available (see above)" % series)
    kdir = kernel_dir(series)
    from .stagefiles import parse_stage_conf
    conf = parse_stage_conf(ROOT / "checker" / SOLUTION / "stage.conf")
    shutil.rmtree(OUT, ignore_errors=True)
    log = OUT / "logs"
    log.mkdir(parents=True)
    ko, why = bench.build_solution(kdir, OUT, SOLUTION, conf.module,
                                   conf.sources, log)
    acc = vm.accel(kdir)
    run = Run(ns, vm.scale(acc, kdir))
    release = (kdir / "release").read_text().strip()
    print("Benchmarking F(N) on Linux %s (%s%s): kweb (solutions/%s) "
          "against GMP, N = %s, %d requests each" % (
              release, acc, ", timeouts x%d" % run.scale if run.scale > 1
              else "", SOLUTION, " ".join(str(n) for n in ns), REPEAT),
          flush=True)
    if ko is None:
        run.state, run.why = "failed", "solutions/%s: %s" % (SOLUTION, why)
        print("  %s" % run.why, flush=True)
    else:
        base = vm.base_image()
        make_overlay(OUT / "overlay", kdir, ko)
        initrd = vm.initrd(OUT, base, OUT / "overlay", "bench.cpio")
        for number in (1, 2):
            why = boot_once(run, acc, kdir, initrd, log, number)
            if not why:
                break
            # TCG has the odd boot crash: once more, then give up.
            if number == 2:
                die("the benchmark guest twice " + why[len("the guest "):])
            print("  (%s; booting again)" % why, flush=True)
        for f in (initrd, OUT / "overlay.cpio"):
            f.unlink(missing_ok=True)
    return report(run, time.monotonic() - t0)


LEGEND = """\
kweb: its own Server-Timing (total: the median of kwfib time's %(r)d
requests; calc, dec: the medians of curl's %(r)d). client: kwfib time's,
end to end over loopback, body checked. GMP: the best of %(r)d, in the
guest's user space. Ratios: kweb total / GMP total, calc / mpz_fib_ui,
dec / mpz_get_str."""


def report(run, elapsed):
    points = [run.points[n] for n in run.ns]
    for p in points:
        if not p.ok and not p.notes:
            p.notes.append("not measured: %s" % (run.why or "not run"))
    (OUT / "results.csv").write_text(csv_text(points))
    made = plot(points, OUT)
    summary = ["", table_text(points), target_line(points)]
    if run.state != "down" and run.why:
        summary.append("kweb: %s" % run.why)
    summary += ["", LEGEND % {"r": REPEAT},
                "Took %d min %02d s (guest %d CPUs)." % (
                    elapsed // 60, elapsed % 60, run.ncpu)]
    text = "\n".join(summary)
    (OUT / "table.txt").write_text(text + "\n")
    print(text)
    print("Results: %s" % OUT)
    for f in [OUT / "results.csv", OUT / "table.txt"] + made + [OUT /
                                                               "logs"]:
        print("  %s" % f)
    return 0 if all(p.ok for p in points) and run.state == "down" \
        else 1


if __name__ == "__main__":
    from .paths import run_main
    run_main(main)
