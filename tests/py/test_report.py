"""Tests of grading/kweb/report.py: a grade built in memory (every status, a
hidden test, hostile messages and logs) written out and read back with the
formats' own parsers."""

import json
import os
import pty
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "grading"))

from kweb import report  # noqa: E402
from kweb.model import (Grade, RubricLine, Stage, StageConf,  # noqa: E402
                        load_grade)
from kweb.model import TestResult as Result  # noqa: E402 (not a test class)

HOSTILE = ("bad \\ \x1b[2J\x07 <x> & \"q\" ]]> </failure> | `tick`\r\n"
           "ok 9 injected\x85\u202e")


def rubric():
    return [
        RubricLine("load_default", 8, 20, "visible", "loads it", hint="H1"),
        RubricLine("echo_nc", 8, 20, "visible", "echoes <a> | line",
                   hint="Send back what you received."),
        RubricLine("rmmod_idle", 10, 20, "visible", "rmmod within 5 s"),
        RubricLine("echo_64k", 8, 30, "visible", "echoes 64 KiB"),
        RubricLine("echo_1k", 6, 20, "visible", ""),
        RubricLine("secret_load", 7, 20, "hidden", "SECRET-DESC",
                   hint="HIDDEN-HINT"),
        RubricLine("static_blanks", 3, 20, "visible", "the blank checker",
                   kind="static"),
    ]


def make_grade():
    stage = Stage("01-kthread-echo", ROOT / "checker" / "01-kthread-echo",
                  StageConf("kecho", ["kecho.c"]), rubric())
    g = Grade(stage, info={
        "stage": "01-kthread-echo", "source": "stages/01-kthread-echo",
        "answers": "", "kernel": "6.12", "release": "6.12.95+deb12-amd64",
        "accel": "tcg", "started": "2026-01-02T03:04:05Z", "seconds": "75.3",
        "pack": "", "outcome": "all tests ran", "reused": ""})
    g.record(Result("load_default", "pass", 0.5))
    g.record(Result("echo_nc", "fail", 0.4, HOSTILE))
    g.record(Result("rmmod_idle", "timeout", 60.2,
                        "the guest stopped responding"))
    g.record(Result("echo_64k", "error", 1.1,
                        "kernel crashed: BUG: NULL pointer"))
    g.record(Result("echo_1k", "skip", 0.1))
    g.record(Result("secret_load", "fail", 0.9, "the secret check failed"))
    g.record(Result("static_blanks", "pass", 0.0))
    return g


@pytest.fixture
def out(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "feedback").mkdir()
    logs = {
        "load_default": b"loaded\n",
        "echo_nc": (b"loaded kecho\nok 1 x\nnot ok 2 y\n1..5\nKTAP version 1\n"
                    b"]]> </failure> <b>&amp;\n````\n```````\n"
                    b"\x01\x02 control \xff\xfe bytes\x1b[31m\r\n"
                    b"split\xe2\x80\xa8here\n"),
        "rmmod_idle": b"TIMEOUT: the guest stopped responding\n",
        "echo_64k": b"".join(b"line %d\n" % i for i in range(5000)),
        "secret_load": b"SECRET-LOG-LINE\n",
    }
    for name, data in logs.items():
        (tmp_path / "tests" / (name + ".log")).write_bytes(data)
    (tmp_path / "build.txt").write_bytes(b"kecho.c:44: warning: <x> \x1b]0;t\x07\n")
    (tmp_path / "feedback" / "blanks.txt").write_text(
        "kecho.c:161: BBBB: style: write !x\n")
    (tmp_path / "feedback" / "checkpatch.txt").write_text(
        "kecho.c:161: ERROR:SPACING: space prohibited\n")
    (tmp_path / "feedback" / "sparse.unavailable").write_text(
        "sparse is not installed | <apt>\n")
    (tmp_path / "feedback" / "answers.tsv").write_text(
        "AAAA\tkecho.c:10\tsock->sk `x` | y\tok\nBBBB\t\tx\tstyle\n")
    g = make_grade()
    g.save(tmp_path)
    report.write_all(g, tmp_path)
    return tmp_path


def no_controls(text):
    return not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)


def test_every_report_written_valid_utf8(out):
    for name in ("report.md", "report-instructor.md", "results.json",
                 "junit.xml", "results.ktap"):
        text = (out / name).read_bytes().decode("utf-8")   # strict
        assert text and no_controls(text), name


# --- Gradescope ------------------------------------------------------------------

def test_json_gradescope_shape_and_totals(out):
    r = json.loads((out / "results.json").read_text())
    assert set(r) == {"score", "execution_time", "output", "visibility",
                      "tests"}
    assert r["score"] == 11 and r["execution_time"] == 75
    assert sum(t["score"] for t in r["tests"]) == r["score"]
    assert sum(t["max_score"] for t in r["tests"]) == 50
    for t in r["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "output",
                          "visibility"}
        assert t["status"] in ("passed", "failed")
        assert isinstance(t["output"], str) and len(t["output"]) <= 16000
    by = {t["name"]: t for t in r["tests"]}
    assert by["secret_load"]["visibility"] == "hidden"
    assert by["load_default"]["status"] == "passed"
    assert by["echo_1k"]["status"] == "failed"
    assert "Hint: Send back what you received." in by["echo_nc"]["output"]
    assert "\ufffd" in by["echo_nc"]["output"]
    assert "Blank checker:" in r["output"] and "Compiler (W=1):" in r["output"]


# --- JUnit -----------------------------------------------------------------------

def test_junit_parses_with_failures_errors_skips(out):
    root = ET.parse(out / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("7", "2", "2", "1")
    assert suite.get("timestamp") == "2026-01-02T03:04:05"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    fail = cases["echo_nc"].find("failure")
    assert fail.get("type") == "fail"
    assert "]]> </failure>" in fail.get("message")
    assert "\n" not in fail.get("message")
    assert "]]> </failure> <b>&amp;" in fail.text
    assert cases["rmmod_idle"].find("error").get("type") == "timeout"
    assert cases["echo_64k"].find("error").get("type") == "error"
    assert cases["echo_1k"].find("skipped") is not None
    assert cases["load_default"].find("system-out").text == "loaded\n"
    assert len(list(cases["load_default"])) == 1
    # The last 200 lines of a long log.
    lines = cases["echo_64k"].find("error").text.splitlines()
    assert len(lines) == 200 and lines[-1] == "line 4999"
    props = {p.get("name"): p.get("value")
             for p in suite.find("properties")}
    assert props["total"] == "11" and props["max"] == "50"


@pytest.mark.skipif(not shutil.which("xmllint"), reason="no xmllint")
def test_junit_validates_against_schema(out):
    subprocess.run(["xmllint", "--noout", "--schema",
                    str(ROOT / "tests" / "junit.xsd"), str(out / "junit.xml")],
                   check=True, capture_output=True)


# --- KTAP ------------------------------------------------------------------------

RESULT = re.compile(r"(not )?ok [0-9]+ ")


def test_ktap_one_result_per_test_nothing_injected(out):
    lines = (out / "results.ktap").read_text().split("\n")
    assert lines[0] == "KTAP version 1" and lines[-1] == ""
    lines = lines[1:-1]
    results = [x for x in lines if RESULT.match(x)]
    assert results == [
        "ok 1 load_default",
        "not ok 2 echo_nc",
        "not ok 3 rmmod_idle # TIMEOUT the guest stopped responding",
        "not ok 4 echo_64k # ERROR kernel crashed: BUG: NULL pointer",
        "ok 5 echo_1k # SKIP",
        "not ok 6 secret_load",
        "ok 7 static_blanks",
    ]
    for x in lines:
        assert x in results or x == "1..7" or x.startswith("# "), x
    assert "# ok 1 x" in lines and "# KTAP version 1" in lines
    assert "# 1..5" in lines
    # A log in KTAP: its last 40 lines.
    assert sum(1 for x in lines if x.startswith("# line ")) == 40


def test_ktap_message_with_newline_stays_one_line(tmp_path):
    g = make_grade()
    g.results["rmmod_idle"] = Result("rmmod_idle", "timeout", 1.0,
                                         "hung\nok 3 rmmod_idle")
    report.write_all(g, tmp_path)
    lines = (tmp_path / "results.ktap").read_text().splitlines()
    assert "not ok 3 rmmod_idle # TIMEOUT hung ok 3 rmmod_idle" in lines
    assert sum(1 for x in lines if RESULT.match(x)) == 7


# --- Markdown --------------------------------------------------------------------

def test_student_report_leaves_hidden_tests_out(out):
    md = (out / "report.md").read_text()
    assert md.startswith("# 01-kthread-echo: 11/43\n")
    for secret in ("secret_load", "SECRET-LOG-LINE", "HIDDEN-HINT",
                   "SECRET-DESC"):
        assert secret not in md
    assert "1 hidden test(s) worth 7 point(s)" in md
    assert "### `echo_nc`: FAIL, 0/8" in md
    assert "Hint: Send back what you received." in md
    assert "- What it checks: echoes &lt;a> \\| line" in md
    assert "### `load_default`" not in md
    assert "| AAAA | kecho.c:10 | `sock->sk 'x' \\| y` | ok |" in md
    assert "_sparse is not installed \\| &lt;apt>_" in md


def test_instructor_report_has_everything(out):
    md = (out / "report-instructor.md").read_text()
    assert md.startswith("# 01-kthread-echo: 11/50\n")
    assert "`secret_load` (hidden)" in md and "SECRET-LOG-LINE" in md
    assert "Students see 11/43 (visible tests only)." in md


def test_markdown_log_cannot_close_its_fence(out):
    md = (out / "report.md").read_text()
    # The echo_nc log has a line of 7 backticks: its fence is longer.
    assert "\n````````text\nloaded kecho\n" in md
    assert "\n```````\n" in md
    # Each "What happened" is one line; no HTML from a message.
    happened = [x for x in md.split("\n") if x.startswith("- What happened")]
    assert all("<" not in x for x in happened)


def test_saved_and_in_memory_grades_report_the_same(out):
    g = load_grade(out, make_grade().stage)
    again = out / "again"
    shutil.copytree(out, again)
    report.write_all(g, again)
    for name in ("report.md", "report-instructor.md", "results.json",
                 "junit.xml", "results.ktap"):
        assert (out / name).read_text() == (again / name).read_text(), name


# --- the terminal ----------------------------------------------------------------

def line(status, name="echo_nc", msg="", vis="visible", pts=8, secs=0.4,
         colour=False):
    return report.terminal_line(RubricLine(name, pts, 20, vis, ""),
                                Result(name, status, secs, msg), colour)


def test_terminal_line_layout():
    assert line("fail", msg="nc got nothing") == \
        "  FAIL      0/8    echo_nc                 0.4s  nc got nothing"
    assert line("pass", "load_default", pts=10, secs=12.25) == \
        "  PASS     10/10   load_default           12.2s  "
    assert line("pass", "secret", vis="hidden", pts=7).endswith(
        "0.4s  (hidden)")
    assert line("fail", "secret", msg="m", vis="hidden").endswith("m  (hidden)")


def test_terminal_line_colour_and_hostile_message():
    assert line("pass", colour=True).startswith("  \033[32mPASS   \033[0m ")
    assert line("error", colour=True).startswith("  \033[1;31mERROR  \033[0m ")
    out = line("fail", msg="a\x1b[2Jb\nc\x9bd")
    assert "\x1b" not in out and "\n" not in out and "\x9b" not in out


def run_cli(*args, env=None, tty=False):
    cmd = [sys.executable, "-m", "kweb.report"] + list(args)
    e = dict(os.environ, PYTHONPATH=str(ROOT / "grading"), **(env or {}))
    if not tty:
        return subprocess.run(cmd, env=e, capture_output=True, text=True)
    master, slave = pty.openpty()
    p = subprocess.run(cmd, env=e, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    data = os.read(master, 4096).decode()
    os.close(master)
    return p.returncode, data


def test_cli_line_colour_only_on_a_terminal():
    env = {"NO_COLOR": ""}
    p = run_cli("line", "fail", "8", "echo_nc", "0.4", "nc got nothing",
                env=env)
    assert p.returncode == 0 and p.stdout == \
        "  FAIL      0/8    echo_nc                 0.4s  nc got nothing\n"
    rc, data = run_cli("line", "pass", "8", "load_default", "0.5", env=env,
                       tty=True)
    assert rc == 0 and "\033[32mPASS" in data
    rc, data = run_cli("line", "pass", "8", "load_default", "0.5",
                       env={"NO_COLOR": "1"}, tty=True)
    assert rc == 0 and "\033" not in data


def test_cli_bad_arguments_one_line_exit_2(tmp_path):
    p = run_cli("line", "bogus", "8", "x", "0.4")
    assert p.returncode == 2 and len(p.stderr.splitlines()) == 1
    p = run_cli("write", str(tmp_path), "1")
    assert p.returncode == 2 and "holds no results.tsv" in p.stderr
    assert len(p.stderr.splitlines()) == 1
    p = run_cli()
    assert p.returncode == 2 and "usage" in p.stderr


def test_long_message_and_one_line_log_are_cut(tmp_path):
    g = make_grade()
    g.results["echo_nc"] = Result("echo_nc", "fail", 1.0, "x" * 100000)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "echo_nc.log").write_bytes(b"y" * 1000000)
    report.write_all(g, tmp_path)
    r = json.loads((tmp_path / "results.json").read_text())
    out = [t["output"] for t in r["tests"] if t["name"] == "echo_nc"][0]
    assert 64 * 1024 > len(out) > 1000
    root = ET.parse(tmp_path / "junit.xml").getroot()
    fail = root.find("testsuite/testcase[@name='echo_nc']/failure")
    assert len(fail.get("message")) == report.LINE_CHARS
    assert fail.text == "y" * report.LOG_BYTES + "\n"
    for name in ("report.md", "results.ktap"):
        assert (tmp_path / name).stat().st_size < 200 * 1024
