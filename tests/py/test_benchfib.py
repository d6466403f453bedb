"""make bench-fib's host side: the parsers of kwfib's and curl's output
(real output, captured from the benchmark's guest), the guest's result
lines, the ratios to GMP, the CSV, the table, the target line and the
figure."""

import csv
import io
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import bench, benchfib  # noqa: E402
from kweb.bench import ParseError  # noqa: E402
from kweb.benchfib import FibPoint, FibStream, Gmp, Split, Timed  # noqa: E402
from kweb.paths import KwebError  # noqa: E402

N = "0123456789abcdef0123456789abcdef"

# What the guest printed for N=10^6 (TCG, solutions/07-fib).
GMP = ("kwfib gmp n=1000000 digits=208988 fib_us=30739.112 "
       "str_us=116143.769 total_us=146882.881")
TIME = ("kwfib time n=1000000 digits=208988 best_us=234693 median_us=236728 "
        "server_us=235075")
HEAD = ("HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 208988\n"
        "Connection: keep-alive\nServer-Timing: fib;dur=235.122, "
        "calc;dur=74.524, dec;dur=160.597\n")
# curl -D - with three URLs: three heads, each ended by an empty line.
HEADS = "\r\n".join(HEAD.replace("\n", "\r\n").replace(
    "fib;dur=235.122, calc;dur=74.524, dec;dur=160.597", t)
    for t in ("fib;dur=240.000, calc;dur=80.000, dec;dur=160.000",
              "fib;dur=235.122, calc;dur=74.524, dec;dur=160.597",
              "fib;dur=230.500, calc;dur=75.000, dec;dur=150.000")) + "\r\n"


# --- F(N)'s digits --------------------------------------------------------------

def _fib(n):
    """F(n), F(n+1) by fast doubling."""
    if n == 0:
        return 0, 1
    a, b = _fib(n // 2)
    c = a * (2 * b - a)
    d = a * a + b * b
    return (d, c + d) if n % 2 else (c, d)


@pytest.mark.parametrize("n", list(range(0, 300)) + [1000, 4783, 10000,
                                                     54321, 100000])
def test_fib_digits_is_exact_or_says_both(n):
    d = benchfib.fib_digits(n)
    f = _fib(n)[0]
    digits = [k for k in d if 10 ** (k - 1) <= max(f, 1) < 10 ** k]
    assert digits and len(d) <= 2


def test_fib_digits_of_the_run():
    assert benchfib.fib_digits(1000) == {209}
    assert benchfib.fib_digits(10 ** 6) == {208988}
    assert benchfib.fib_digits(10 ** 7) == {2089877}


# --- kwfib gmp, kwfib time ------------------------------------------------------

def test_gmp_line():
    g = benchfib.parse_gmp(GMP + "\n", 10 ** 6)
    assert g == Gmp(208988, 30739.112, 116143.769, 146882.881)


def test_time_line():
    t = benchfib.parse_time("\n" + TIME + "\r\n", 10 ** 6)
    assert t == Timed(208988, 234693, 236728, 235075)


@pytest.mark.parametrize("text,why", [
    ("", "no result line"),
    ("kwfib: cannot run: out of memory", "no result line: kwfib: cannot"),
    (GMP + "\n" + GMP, "more than one"),
    (GMP + "\n$(reboot)", "unexpected line"),
    (GMP.replace("fib_us=30739.112", "fib_us=nan"), "malformed"),
    (GMP.replace("fib_us=30739.112", "fib_us=-1.0"), "malformed"),
    (GMP.replace("fib_us=30739.112", "fib_us=1e3"), "malformed"),
    (GMP.replace("str_us", "dec_us"), "malformed"),
    (GMP + " extra=1", "malformed"),
    (GMP.replace("n=1000000", "n=1000001"), "N=1000001, not 1000000"),
    (GMP.replace("digits=208988", "digits=208987"), "has 208988 digits"),
    (GMP.replace("total_us=146882.881", "total_us=14688.881"),
     "less than fib_us"),
])
def test_gmp_bad_output_is_refused(text, why):
    with pytest.raises(ParseError, match=why):
        benchfib.parse_gmp(text, 10 ** 6)


@pytest.mark.parametrize("text,why", [
    ("kwfib: N=1000000, request 1 of 3: the body differs at byte 7",
     "no result line: kwfib: N=1000000"),
    (TIME.replace("best_us=234693", "best_us=334693"), "above median"),
    (TIME.replace("best_us=234693", "best_us=234693.5"), "malformed"),
    (TIME.replace("median_us=236728", "median_us=-236728"), "malformed"),
    (TIME.replace("server_us=235075", "server_us="), "malformed"),
    (TIME + "\n" + TIME, "more than one"),
    (TIME.replace("n=1000000", "n=100000"), "not 1000000"),
    (TIME.replace("digits=208988", "digits=20898"), "not 20898"),
    (GMP, "no result line"),
])
def test_time_bad_output_is_refused(text, why):
    with pytest.raises(ParseError, match=why):
        benchfib.parse_time(text, 10 ** 6)


# --- the response head's Server-Timing ------------------------------------------

def test_timing_head():
    s = benchfib.parse_timing(HEAD.replace("\n", "\r\n") + "\r\n", 10 ** 6)
    assert s == Split(208988, pytest.approx(235122), pytest.approx(74524),
                      pytest.approx(160597))


def test_timing_heads_median():
    s = benchfib.parse_timing(HEADS, 10 ** 6, 3)
    assert s == Split(208988, pytest.approx(235122), pytest.approx(75000),
                      pytest.approx(160000))
    with pytest.raises(ParseError, match="3 response heads, not 2"):
        benchfib.parse_timing(HEADS, 10 ** 6, 2)
    with pytest.raises(ParseError, match="1 response heads, not 3"):
        benchfib.parse_timing(HEAD, 10 ** 6, 3)
    with pytest.raises(ParseError, match="status 404"):
        benchfib.parse_timing(HEADS.replace("200 OK", "404 Not Found", 1),
                              10 ** 6, 3)


def test_timing_header_names_are_case_insensitive():
    s = benchfib.parse_timing(HEAD.replace("Server-Timing", "server-timing"),
                              10 ** 6)
    assert s.calc_us == pytest.approx(74524)


@pytest.mark.parametrize("old,new,why", [
    ("HTTP/1.1 200 OK", "HTTP/1.1 403 Forbidden", "status 403"),
    ("HTTP/1.1 200 OK", "HTTP/2 200", "not an HTTP status line"),
    ("Server-Timing: fib;dur=235.122, calc;dur=74.524, dec;dur=160.597\n",
     "", "no Server-Timing"),
    ("Connection: keep-alive\n", "Server-Timing: fib;dur=1.000, "
     "calc;dur=0.500, dec;dur=0.500\n", "more than one Server-Timing"),
    ("Content-Length: 208988\n", "", "no Content-Length"),
    ("Content-Length: 208988", "Content-Length: 208989", "has 208988 digits"),
    ("Content-Length: 208988", "Content-Length: 2e5", "Content-Length: 2e5"),
    ("calc;dur=74.524", "calc;dur=74.52", "is not 'fib;dur=MS"),
    ("calc;dur=74.524", "calc;dur=-74.524", "is not 'fib;dur=MS"),
    ("calc;dur=74.524", "calc;dur=nan", "is not 'fib;dur=MS"),
    ("dec;dur=160.597", "dec;dur=160.597, evil;dur=1.000",
     "is not 'fib;dur=MS"),
    ("calc;dur=74.524", "calc;dur=174.524", "exceed its total"),
    ("Connection: keep-alive", "Connection keep-alive", "not a header line"),
    ("Connection: keep-alive", "Connection: \x1b[2Jkeep-alive",
     "not a header line"),
])
def test_timing_bad_head_is_refused(old, new, why):
    assert old in HEAD
    with pytest.raises(ParseError, match=why):
        benchfib.parse_timing(HEAD.replace(old, new), 10 ** 6)


def test_timing_empty_output():
    with pytest.raises(ParseError, match="no response head"):
        benchfib.parse_timing("\n", 10)


# --- the guest's lines ----------------------------------------------------------

def stream(ns=(1000, 10 ** 6)):
    return FibStream(N, ns)


def kinds(s, *lines):
    return [s.feed(x % {"n": N} if "%(n)s" in x else x).kind for x in lines]


def steps(n, rc=0):
    out = []
    for step in benchfib.STEPS:
        out += ["KWEB %%(n)s point kweb %s %d" % (step, n), "# output",
                "KWEB %%(n)s end kweb %s %d %d" % (step, n, rc)]
    return out


def test_a_well_formed_run():
    s = stream()
    got = kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server kweb up",
                *steps(1000), *steps(10 ** 6),
                "KWEB %(n)s server kweb down", "KWEB %(n)s bench-done")
    assert got == ["begin", "server"] + ["point", "text", "end"] * 6 + \
        ["server", "done"]
    assert s.done and s.rejected == 0 and s.ncpu == 2


@pytest.mark.parametrize("bad", [
    "KWEB %s point kweb gmp 1000" % ("f" * 32),      # another nonce
    "KWEB %(n)s point kweb time 1000",               # its gmp first
    "KWEB %(n)s point kweb gmp 1000000",             # N=1000 first
    "KWEB %(n)s point kweb gmp 01000",               # not as the host said
    "KWEB %(n)s point kweb gmp 999",                 # not an N of the run
    "KWEB %(n)s point kweb curl 1000",               # not a step
    "KWEB %(n)s point lighttpd gmp 1000",            # not the server
    "KWEB %(n)s point kweb gmp 1000 $(reboot)",
    "KWEB %(n)s end kweb gmp 1000 0",                # no point running
    "KWEB %(n)s tool gmp missing",                   # no tools here
    "KWEB %(n)s bench-done",                         # kweb still up
    "KWEB %(n)s server kweb exploded",
    "KWEB %(n)s server kweb up",                     # twice
])
def test_out_of_order_or_forged_lines_are_text(bad):
    s = stream()
    kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server kweb up")
    assert kinds(s, bad) == ["text"] and s.rejected == 1


def test_each_step_once_in_its_order():
    s = stream()
    kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server kweb up",
          *steps(1000)[:3])
    assert kinds(s, "KWEB %(n)s point kweb gmp 1000") == ["text"]
    assert kinds(s, "KWEB %(n)s point kweb time 1000",
                 "KWEB %(n)s end kweb time 1000000 0",
                 "KWEB %(n)s end kweb time 1000 300",
                 "KWEB %(n)s end kweb time 1000 1") == ["point", "text",
                                                        "text", "end"]
    assert s.next_point() == ("kweb", "timing", 1000)


def test_nothing_before_begin_and_no_points_once_kweb_died():
    s = stream()
    assert kinds(s, "KWEB %(n)s server kweb up") == ["text"]
    kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server kweb up",
          *steps(1000, 1))
    assert kinds(s, "KWEB %(n)s server kweb died",
                 "KWEB %(n)s point kweb gmp 1000000",
                 "KWEB %(n)s server kweb down",
                 "KWEB %(n)s bench-done") == ["server", "text", "server",
                                              "done"]


def test_no_point_when_kweb_failed():
    s = stream()
    assert kinds(s, "KWEB %(n)s bench-begin 2",
                 "KWEB %(n)s server kweb failed", "# insmod: error",
                 "KWEB %(n)s point kweb gmp 1000",
                 "KWEB %(n)s server kweb down") == ["begin", "server",
                                                    "text", "text", "server"]


# --- a point's steps -------------------------------------------------------------

def test_a_point_from_its_steps():
    p = FibPoint(10 ** 6)
    p.add("gmp", GMP, 0, 48)
    p.add("time", TIME, 0, 48)
    p.add("timing", HEADS, 0, 48)
    assert p.ok and p.digits == 208988 and not p.notes
    assert p.split.calc_us == pytest.approx(75000)


def test_a_step_stopped_by_its_timeout_or_failing():
    p = FibPoint(10 ** 6)
    p.add("gmp", "", 124, 48)
    p.add("time", TIME, 1, 48)          # a line, but kwfib said it failed
    p.add("timing", HEADS, 28, 48)      # curl's -m
    assert not p.ok and (p.gmp, p.time, p.split) == (None, None, None)
    assert p.notes == ["gmp: took longer than 48 s and was stopped",
                       "time: exit 1",
                       "timing: took longer than 48 s and was stopped"]
    q = FibPoint(10 ** 6)
    q.add("time", "kwfib: N=1000000: timed out", 1, 48)
    assert q.notes == ["kwfib time: no result line: kwfib: N=1000000: "
                       "timed out; exit 1"]


def test_step_limits():
    assert benchfib.step_limit(1000, 3, 3) == 48
    assert benchfib.step_limit(10 ** 6, 3, 3) == 48
    assert benchfib.step_limit(10 ** 7, 3, 3) == 210
    assert benchfib.step_limit(10 ** 7, 3, 1) == 70


# --- ratios, CSV, table, target ---------------------------------------------------

def pt(n, server, calc, dec, gmp_fib, gmp_str, ok=True):
    p = FibPoint(n)
    d = min(benchfib.fib_digits(n))
    p.gmp = Gmp(d, gmp_fib, gmp_str, gmp_fib + gmp_str)
    if ok:
        p.time = Timed(d, server * 0.9, server * 1.1, server)
        p.split = Split(d, server, calc, dec)
    else:
        p.notes.append("time: took longer than 210 s and was stopped")
    return p


POINTS = [pt(1000, 120, 100, 20, 2, 2),
          pt(10 ** 6, 240000, 80000, 160000, 30000, 90000),
          pt(10 ** 7, 0, 0, 0, 450000, 2600000, ok=False)]


def test_ratios_against_gmp():
    r = benchfib.point_ratios(POINTS[1])
    assert r == {"total": pytest.approx(2.0), "calc": pytest.approx(8 / 3),
                 "dec": pytest.approx(16 / 9)}
    assert benchfib.point_ratios(POINTS[0])["total"] == pytest.approx(30)
    assert benchfib.point_ratios(POINTS[2]) == {"total": None, "calc": None,
                                                "dec": None}
    zero = FibPoint(1)
    zero.gmp, zero.time = Gmp(1, 0.0, 0.0, 0.0), Timed(1, 5, 5, 5)
    assert benchfib.point_ratios(zero)["total"] is None


def test_csv_one_row_per_n():
    rows = list(csv.DictReader(io.StringIO(benchfib.csv_text(POINTS))))
    assert len(rows) == 3 and list(rows[0]) == benchfib.CSV_FIELDS
    a = rows[1]
    assert (a["n"], a["digits"], a["kweb_server_us"], a["kweb_calc_us"],
            a["kweb_dec_us"], a["client_median_us"], a["gmp_total_us"],
            a["ratio_kweb_gmp"], a["ratio_calc"], a["ratio_dec"],
            a["status"]) == ("1000000", "208988", "240000", "80000",
                             "160000", "264000", "120000.000", "2.000",
                             "2.667", "1.778", "ok")
    f = rows[2]
    assert (f["status"], f["kweb_server_us"], f["ratio_kweb_gmp"],
            f["gmp_fib_us"]) == ("failed", "", "", "450000.000")
    assert "took longer than 210 s" in f["note"]


def test_table_shows_times_ratios_and_failures():
    t = benchfib.table_text(POINTS)
    row = [x for x in t.split("\n") if x.split()[:1] == ["1000000"]][0]
    assert "208988" in row and "240ms" in row and "80.0ms" in row
    assert "2.00x" in row and "2.67x" in row and "1.78x" in row
    small = [x for x in t.split("\n") if x.split()[:1] == ["1000"]][0]
    assert "120us" in small and "4.0us" in small and "30.00x" in small
    assert "N=10000000: time: took longer than 210 s" in t
    assert all(x == x.rstrip() for x in t.split("\n"))


def test_durations():
    assert [benchfib.dur(x) for x in (4.08, 119, 1930, 42399, 235075,
                                      8989710, None)] == [
        "4.1us", "119us", "1.93ms", "42.4ms", "235ms", "8.99s", "-"]


def test_target_line():
    assert benchfib.target_line(POINTS) == (
        "Target (reported, not asserted): kweb at N=10^6 within 3x of GMP: "
        "measured 2.00x -- met")
    slow = [pt(10 ** 6, 400000, 100000, 300000, 30000, 90000)]
    assert benchfib.target_line(slow).endswith("measured 3.33x -- not met")
    failed = [pt(10 ** 6, 0, 0, 0, 1, 1, ok=False)]
    assert benchfib.target_line(failed).endswith("GMP: not measured")
    assert benchfib.target_line(POINTS[:1]).endswith(
        "not measured (N=1000000 is not in the run)")


def test_plot_data_has_nan_where_there_is_no_figure():
    rows = benchfib.plot_data(POINTS).strip().split("\n")
    assert rows[0].split()[0] == "n" and len(rows) == 4
    assert rows[2].split() == ["1000000", "240", "80", "160", "120", "264",
                               "2", "2.66667", "1.77778"]
    assert rows[3].split() == ["10000000", "NaN", "NaN", "NaN", "3050",
                               "NaN", "NaN", "NaN", "NaN"]


@pytest.mark.skipif(shutil.which("gnuplot") is None,
                    reason="gnuplot is not installed")
def test_the_figure_is_drawn(tmp_path):
    made = benchfib.plot(POINTS, tmp_path)
    assert made == [tmp_path / "fib.png"]
    assert (tmp_path / "fib.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_figure_without_a_figure(tmp_path):
    assert benchfib.plot([FibPoint(1000)], tmp_path) == []


# --- the run's settings, its report -----------------------------------------------

def test_bench_ns(monkeypatch):
    monkeypatch.delenv("KWEB_BENCH_FIB_N", raising=False)
    assert benchfib.bench_ns() == [1000, 10000, 100000, 1000000, 10000000]
    monkeypatch.setenv("KWEB_BENCH_FIB_N", "100000,1000")
    assert benchfib.bench_ns() == [1000, 100000]


@pytest.mark.parametrize("value", ["0", "10000001", "1000,1000", "1e3",
                                   "1000,", ",", "01000", "-5", "1000 2000",
                                   ",".join(str(i) for i in range(1, 14))])
def test_bench_ns_refuses(monkeypatch, value):
    monkeypatch.setenv("KWEB_BENCH_FIB_N", value)
    with pytest.raises(KwebError, match="KWEB_BENCH_FIB_N"):
        benchfib.bench_ns()


def test_the_guest_is_told_n_repeat_and_limit():
    run = benchfib.Run([1000, 10 ** 7], 3)
    assert run.spec() == "1000:3:48,10000000:3:210"


def test_report_and_exit_status(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(benchfib, "OUT", tmp_path)
    monkeypatch.setattr(benchfib, "plot", lambda points, out: [])
    run = benchfib.Run([1000, 10 ** 6], 3)
    run.points = {1000: POINTS[0], 10 ** 6: POINTS[1]}
    run.state = "down"
    assert benchfib.report(run, 75) == 0
    out = capsys.readouterr().out
    assert "measured 2.00x -- met" in out and "Took 1 min 15 s" in out
    assert (tmp_path / "table.txt").read_text().strip() in out
    run = benchfib.Run([1000, 10 ** 7], 3)
    run.points[1000] = POINTS[0]
    run.state, run.why = "died", "kweb stopped answering /fib/10"
    assert benchfib.report(run, 75) == 1
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert rows[1]["status"] == "failed"
    assert rows[1]["note"] == "not measured: kweb stopped answering /fib/10"


def test_a_missing_source_is_said(tmp_path):
    ko, why = bench.build_solution(Path("/nonexistent"), tmp_path, "07-fib",
                                   "kweb", ["no-such-file.c"], tmp_path)
    assert ko is None
    assert why == "solutions/07-fib/no-such-file.c does not exist (yet)"
