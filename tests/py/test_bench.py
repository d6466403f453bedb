"""make bench-http's host side: the parsers of wrk's and kwload's output
(real output, captured from the benchmark's guest and from wrk on this
host: tests/py/data/bench), the guest's result lines, the ratios to
lighttpd, the table and the CSV."""

import csv
import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import bench  # noqa: E402
from kweb.bench import (BenchStream, Measurement, ParseError,  # noqa: E402
                        Point)

DATA = Path(__file__).resolve().parent / "data" / "bench"
N = "0123456789abcdef0123456789abcdef"


def sample(name):
    return (DATA / name).read_text()


# --- wrk ----------------------------------------------------------------------

def test_wrk_keepalive_sample():
    m = bench.parse_wrk(sample("lighttpd-wrk-64.txt"), 64)
    assert m.requests == 15913 and m.errors == 0
    assert m.seconds == pytest.approx(2.06)
    assert m.rps == pytest.approx(7734.62)
    assert m.p50_us == pytest.approx(6870) and m.p99_us == pytest.approx(21130)


def test_wrk_microseconds_and_milliseconds():
    m = bench.parse_wrk(sample("stage02-wrk-1.txt"), 1)
    assert m.p50_us == pytest.approx(900) and m.p99_us == pytest.approx(11220)


def test_wrk_non_2xx_count_as_errors():
    m = bench.parse_wrk(sample("wrk-non2xx.txt"), 4)
    assert m.requests == 4263 and m.errors == 4263


def test_wrk_socket_errors_and_nan_stats():
    m = bench.parse_wrk(sample("wrk-timeouts.txt"), 4)
    assert m.requests == 0 and m.errors == 2 and m.rps == 0


def test_wrk_cannot_connect_is_a_parse_error():
    with pytest.raises(ParseError, match="unable to connect"):
        bench.parse_wrk(sample("wrk-refused.txt"), 2)


def test_wrk_wrong_connection_count():
    with pytest.raises(ParseError, match="not 16"):
        bench.parse_wrk(sample("lighttpd-wrk-64.txt"), 16)


@pytest.mark.parametrize("old,new,why", [
    ("Requests/sec:   7734.62", "Requests/sec:   9999.99", "requests/s"),
    ("     99%   21.13ms", "     99%    1.13ms", "decrease"),
    ("     99%   21.13ms", "     99%   21.13xs", "not a wrk time"),
    ("  15913 requests", "  -15913 requests", "total"),
    ("  Latency Distribution\n", "", "distribution"),
    ("Transfer/sec:      1.74MB\n",
     "Transfer/sec:      1.74MB\n$(reboot)\n", "unexpected line"),
    ("    Latency     8.04ms", "    Latency     8.04parsecs", "not a wrk"),
])
def test_wrk_tampered_output_is_refused(old, new, why):
    text = sample("lighttpd-wrk-64.txt")
    assert old in text
    with pytest.raises(ParseError, match=why):
        bench.parse_wrk(text.replace(old, new), 64)


def test_wrk_time_units():
    assert bench.wrk_time_us("456.00us") == 456
    assert bench.wrk_time_us("1.50ms") == 1500
    assert bench.wrk_time_us("2.00s") == 2e6
    assert bench.wrk_time_us("1.00m") == 60e6
    for bad in ("1.0", "ms", "-1.00ms", "1e3us", "nanus"):
        with pytest.raises(ParseError):
            bench.wrk_time_us(bad)


# --- kwload -------------------------------------------------------------------

def test_kwload_sample():
    m = bench.parse_kwload(sample("stage06-ka1-kwload-k0-64.txt"), 64)
    assert m.requests == 27154 and m.rps == pytest.approx(13488.4)
    assert (m.p50_us, m.p99_us) == (2927, 28031)
    # what the budget (-n) still held when -d was up is no error
    assert m.errors == 0 and m.seconds == pytest.approx(2.013)


def test_kwload_connection_per_request_sample():
    m = bench.parse_kwload(sample("stage02-kwload-k0-1.txt"), 1)
    assert m.requests == 1023 and m.errors == 0


def test_kwload_either_wording_of_its_unfinished_requests():
    # kwload's summary said "unfinished after 2 s", now "unfinished when
    # -d 4 s ran out": the numbers are what is read
    m = bench.parse_kwload(sample("stage02-kwload-k1-16.txt"), 16)
    assert m.requests > 0 and m.errors == 0


LINE = ("kwload requests=100 good=90 bad=4 errors=6 seconds=2.000 rps=45.0 "
        "p50_us=100 p99_us=900 conns=10")


def test_kwload_machine_line_alone():
    m = bench.parse_kwload(LINE + "\n")
    assert (m.requests, m.errors, m.rps) == (90, 10, 45.0)


@pytest.mark.parametrize("text,why", [
    ("", "no machine line"),
    (LINE + "\n" + LINE, "more than one"),
    (LINE.replace("good=90", "good=91"), "good\\+bad\\+errors"),
    (LINE.replace("rps=45.0", "rps=4500.0"), "good/seconds"),
    (LINE.replace("p50_us=100", "p50_us=1000"), "above p99"),
    (LINE.replace("seconds=2.000", "seconds=nan"), "malformed"),
    (LINE + " extra=1", "malformed"),
    (LINE.replace("bad=4", "bad=-4"), "malformed"),
    (LINE + "\n  (1 failed connects, 2 reset or closed mid-request, 9 "
     "unfinished after 2 s)", "do not add up"),
    (LINE + "\n(1 failed connects, unfinished)", "malformed socket"),
])
def test_kwload_bad_output_is_refused(text, why):
    with pytest.raises(ParseError, match=why):
        bench.parse_kwload(text)


# --- the guest's lines ----------------------------------------------------------

def stream(servers=("stage02", "lighttpd")):
    return BenchStream(N, list(servers), ["wrk", "kwload-k1"], [1, 64])


def kinds(s, *lines):
    return [s.feed(x % {"n": N} if "%(n)s" in x else x).kind for x in lines]


def test_a_well_formed_bench_run():
    s = stream()
    got = kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s tool kwload-k1 "
                "missing", "KWEB %(n)s server stage02 up",
                "KWEB %(n)s point stage02 wrk 1", "# Running 2s test",
                "KWEB %(n)s end stage02 wrk 1 0",
                "KWEB %(n)s server stage02 down",
                "KWEB %(n)s server lighttpd failed", "# no start",
                "KWEB %(n)s server lighttpd down", "KWEB %(n)s bench-done")
    assert got == ["begin", "tool", "server", "point", "text", "end",
                   "server", "server", "text", "server", "done"]
    assert s.done and s.ncpu == 2 and s.rejected == 0


@pytest.mark.parametrize("bad", [
    "KWEB %s point stage02 wrk 1" % ("f" * 32),      # another nonce
    "KWEB %(n)s point stage02 wrk 2",                # not a concurrency
    "KWEB %(n)s point stage02 ab 1",                 # not a tool
    "KWEB %(n)s point lighttpd wrk 1",               # not the server up
    "KWEB %(n)s server lighttpd up",                 # not its turn
    "KWEB %(n)s bench-done",                         # stage02 still up
    "KWEB %(n)s end stage02 wrk 1 0",                # no point running
    "KWEB %(n)s point stage02 wrk 1 $(reboot)",
    "KWEB %(n)s server stage02 exploded",
])
def test_out_of_order_or_forged_lines_are_text(bad):
    s = stream()
    kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server stage02 up")
    assert kinds(s, bad) == ["text"] and s.rejected == 1


def test_each_point_once_and_its_end_must_match():
    s = stream()
    kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server stage02 up",
          "KWEB %(n)s point stage02 wrk 1")
    assert kinds(s, "KWEB %(n)s end stage02 wrk 64 0",
                 "KWEB %(n)s end stage02 wrk 1 300",
                 "KWEB %(n)s end stage02 wrk 1 0") == ["text", "text", "end"]
    assert kinds(s, "KWEB %(n)s point stage02 wrk 1") == ["text"]


def test_no_line_before_begin_and_none_after_stuck():
    s = stream()
    assert kinds(s, "KWEB %(n)s server stage02 up") == ["text"]
    kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server stage02 up",
          "KWEB %(n)s server stage02 stuck")
    assert s.last == "stuck"
    assert kinds(s, "KWEB %(n)s server lighttpd up") == ["text"]


def test_died_then_down():
    s = stream()
    got = kinds(s, "KWEB %(n)s bench-begin 2", "KWEB %(n)s server stage02 up",
                "KWEB %(n)s server stage02 died",
                "KWEB %(n)s point stage02 wrk 1",
                "KWEB %(n)s server stage02 down")
    assert got == ["begin", "server", "server", "text", "server"]
    assert s.next_server() == "lighttpd"


def test_guest_text_is_made_inert():
    ev = stream().feed(b"# \x1b[2J\x07hello")
    assert ev.kind == "text" and "\x1b" not in ev.value


# --- ratios, CSV, table, targets -------------------------------------------------

def pt(server, tool, conc, rps, p50=100.0, p99=1000.0, status="ok"):
    m = Measurement(int(rps * 2), 2.0, rps, p50, p99) if status == "ok" \
        else None
    return Point(server, tool, conc, status, m, "" if m else "no response")


POINTS = [pt("stage02", "wrk", 64, 1000, 400, 4000),
          pt("stage06-ka1", "wrk", 64, 16000, 50, 500),
          pt("lighttpd", "wrk", 64, 10000, 100, 1000),
          pt("stage06-ka1", "kwload-k1", 64, 9000),
          pt("lighttpd", "kwload-k1", 64, 10000),
          pt("stage05", "wrk", 64, 0, status="failed"),
          pt("stage02", "wrk", 1, 500)]


def test_ratio():
    assert bench.ratio(15, 10) == 1.5
    assert bench.ratio(None, 10) is None
    assert bench.ratio(5, None) is None
    assert bench.ratio(5, 0) is None


def test_ratios_against_lighttpd_same_tool_and_concurrency():
    r = bench.ratios(POINTS)
    assert r[("stage06-ka1", "wrk", 64)]["rps"] == pytest.approx(1.6)
    assert r[("stage06-ka1", "wrk", 64)]["p99_us"] == pytest.approx(0.5)
    assert r[("lighttpd", "wrk", 64)]["rps"] == 1.0
    assert r[("stage06-ka1", "kwload-k1", 64)]["rps"] == pytest.approx(0.9)
    assert r[("stage05", "wrk", 64)]["rps"] is None       # failed point
    assert r[("stage02", "wrk", 1)]["rps"] is None        # no lighttpd figure


def test_csv_one_row_per_point():
    rows = list(csv.DictReader(io.StringIO(bench.csv_text(POINTS))))
    assert len(rows) == len(POINTS)
    assert list(rows[0]) == bench.CSV_FIELDS
    r = {(x["server"], x["tool"], x["concurrency"]): x for x in rows}
    a = r[("stage06-ka1", "wrk", "64")]
    assert (a["status"], a["rps"], a["rps_vs_lighttpd"], a["p99_us"],
            a["p99_vs_lighttpd"]) == ("ok", "16000.00", "1.600", "500",
                                      "0.500")
    f = r[("stage05", "wrk", "64")]
    assert (f["status"], f["rps"], f["rps_vs_lighttpd"], f["note"]) == (
        "failed", "", "", "no response")


def test_table_shows_figures_and_ratios():
    t = bench.table_text(POINTS)
    assert "wrk (wrk, keep-alive)" in t
    line = [x for x in t.split("\n") if x.split()[:2] == ["stage06-ka1",
                                                         "64"]][0]
    assert "16000" in line and "( 1.60x)" in line and "500us" in line
    assert "( 0.50x)" in line
    bad = [x for x in t.split("\n") if x.split()[:1] == ["stage05"]][0]
    assert "failed: no response" in bad


def test_targets_are_reported_not_asserted():
    lines = bench.target_lines(POINTS)
    assert len(lines) == len(bench.TARGETS)
    assert "wrk       stage06-ka1 >= 1.5x lighttpd req/s: 16000 vs 10000 " \
           "= 1.60x: met" in lines[0]
    assert lines[1].endswith("= 16.00x: met")
    assert "not measured" in lines[2]
    assert lines[4].endswith("= 0.90x: NOT met")


def test_plot_data_has_a_column_per_server():
    text, n = bench.plot_data(POINTS, "wrk", "rps")
    rows = text.strip().split("\n")
    assert rows[0] == "conc stage02 stage05 stage06-ka1 lighttpd" and n == 4
    assert rows[1] == "1 500.000 NaN NaN NaN"
    assert rows[2] == "64 1000.000 NaN 16000.000 10000.000"


def test_a_server_not_built_is_skipped_with_its_reason(tmp_path, capsys):
    run = bench.Run(["stage06-ka1"], ["wrk"], [64], 3, 1)
    run.why["stage06-ka1"] = "solutions/06-cmwq-keepalive/kweb.c does " \
                             "not exist (yet)"
    bench._server_event(run, bench.BenchEvent("server", "stage06-ka1",
                                              value="missing"), [], tmp_path)
    assert run.state["stage06-ka1"] == "missing"
    assert "does not exist (yet)" in capsys.readouterr().out
    run.build_failed.add("stage06-ka1")
    bench._server_event(run, bench.BenchEvent("server", "stage06-ka1",
                                              value="missing"), [], tmp_path)
    assert run.state["stage06-ka1"] == "failed"


class _Boot:
    panicked = False


def test_ended_why_says_hung_crashed_or_gone(tmp_path):
    console = tmp_path / "console.log"
    console.write_text("[ 1.0] booting\n")
    assert bench.ended_why("hung", console, _Boot()).startswith("hung:")
    assert bench.ended_why("gone", console, _Boot()) == \
        "the guest ended during its run (gone)"
    assert bench.ended_why("exit", console, _Boot(), "exit status 3") == \
        "the guest ended during its run (exit status 3)"
    assert bench.ended_why("", tmp_path / "none.log", _Boot()) == \
        "the guest ended during its run (?)"
    console.write_text("[ 2.0] BUG: kernel NULL pointer dereference, "
                       "address: 0000000000000000\n[ 2.0] RIP: 0010:"
                       "kweb_io_work+0x10/0x90 [kweb]\n")
    why = bench.ended_why("gone", console, _Boot())
    assert "NULL pointer" in why, why
