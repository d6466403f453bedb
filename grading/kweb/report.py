"""The writers of grading results: one grade, several formats.

    terminal_line(test, result, colour)   the terminal line of one test
    write_all(grade, out)                 the reports of a results folder,
                                          next to its results.tsv:
      report.md             for the student: hidden tests left out
      report-instructor.md  everything
      results.json          Gradescope's format
      junit.xml             JUnit (a crash or timeout is an <error>, a wrong
                            result a <failure>)
      results.ktap          KTAP

The grade (model.Grade) gives the tests, results and scores (points() is
the one place a status becomes points; nothing here recomputes a score);
grade.info the run's facts (stage, source, answers, kernel, release, accel,
started, seconds, outcome, reused). Beside them the results folder holds
tests/NAME.log, build.txt and feedback/ (blanks.txt, answers.tsv,
checkpatch.txt, sparse.txt, warnings.txt, NAME.unavailable).

Everything from the guest or the compiler is hostile: it is cleaned (valid
UTF-8, no control characters but tab and newline), cut to length, and never
given a place where it could act as markup or a KTAP line.

As a command (PYTHONPATH=grading):
    python3 -m kweb.report write OUTDIR STAGE
    python3 -m kweb.report line STATUS MAX NAME SECONDS [MESSAGE [VISIBILITY]]
"""

import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .model import RubricLine, TestResult, load_grade, load_results, one_line
from .model import points
from .paths import KwebError, error_line

LOG_LINES = 200              # a test log in a report: its last lines ...
LOG_BYTES = 64 * 1024        # ... of at most its last bytes
FILE_BYTES = 64 * 1024       # compiler output, feedback: the first bytes
LINE_CHARS = 2000           # a message, a description: one line of this
KTAP_LOG_LINES = 40
JSON_LOG_LINES = 120
MD_LOG_LINES = 80
JSON_TEST_CHARS = 16000
JSON_SUMMARY_CHARS = 32000
ALL_RAN = "all tests ran"

COLOURS = {"pass": "\033[32m", "fail": "\033[31m", "timeout": "\033[33m",
           "error": "\033[1;31m"}
OTHER_COLOUR = "\033[36m"
COLOUR_OFF = "\033[0m"

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional
# overrides that make text read differently from what it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                        r"(\.[0-9]+)?")


# --- text from outside ---------------------------------------------------------

def clean(text):
    """Text safe for every report: valid UTF-8 (bad bytes become U+FFFD), no
    control character but tab and newline."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    else:
        text = str(text).encode("utf-8", errors="surrogatepass") \
            .decode("utf-8", errors="replace")
    return _CONTROL.sub("", text)


def one(text):
    """Clean text on one line (a message, a description, a table cell): as
    results.tsv keeps it (model.one_line), then cleaned."""
    text = clean(one_line(text)).strip()
    return text if len(text) <= LINE_CHARS else text[:LINE_CHARS - 3] + "..."


def _lines(text):
    """Lines split on newlines only (not on U+2028 and the like, as
    str.splitlines() would), without the final empty one."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_tail(path, lines=LOG_LINES, limit=LOG_BYTES):
    """A log's last lines (from its last limit bytes at most), cleaned;
    "" when there is no such file."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read(limit)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return ""
    if size > limit and b"\n" in data:   # a line cut in two: drop its start
        data = data.partition(b"\n")[2]
    kept = _lines(clean(data))[-lines:] if lines else []
    return "".join(line + "\n" for line in kept)


def read_head(path, limit=FILE_BYTES):
    """A file's text (its first limit bytes at most), cleaned; "" when there
    is no such file."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return ""
    text = clean(data[:limit])
    if len(data) > limit:
        text = text.rpartition("\n")[0] + "\n" if "\n" in text else text + "\n"
        text += "[... cut at %d KiB: see %s in the results folder]\n" \
            % (limit // 1024, Path(path).name)
    return text


def _number(text, default="0"):
    text = str(text or "").strip()
    return text if _NUMBER.fullmatch(text) else default


def _secs(seconds):
    seconds = float(seconds or 0)
    return "%.1f" % (seconds if math.isfinite(seconds) and seconds > 0 else 0)


# --- the terminal ------------------------------------------------------------

def use_colour(stream=None):
    """Colour on a terminal, unless NO_COLOR is set."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR")


def terminal_line(test: RubricLine, result: TestResult, colour: bool) -> str:
    """'  FAIL      0/8    echo_nc                 0.4s  nc got nothing'"""
    label = "%-7s" % result.status.upper()
    if colour:
        label = COLOURS.get(result.status, OTHER_COLOUR) + label + COLOUR_OFF
    text = one(result.message)
    if test.visibility != "visible":
        text += ("  " if text else "") + "(hidden)"
    score = points(result.status, test.points)
    return "  %s %3s/%-3s  %-20s %6ss  %s" % (label, score, test.points,
                                            test.name, _secs(result.seconds),
                                            text)


# --- one results folder ----------------------------------------------------------

class _Folder:
    """A grade and its results folder, as the writers read them."""

    def __init__(self, grade, out):
        self.grade = grade
        self.out = Path(out)
        self.stage = grade.stage.name
        self.info = {k: one(v) for k, v in grade.info.items()}
        self.rows = [(t, r, points(r.status, t.points))
                     for t, r in grade.rows()]

    def get(self, key):
        return self.info.get(key, "")

    def log(self, name, lines=LOG_LINES):
        if not _NAME.fullmatch(name):
            return ""
        return read_tail(self.out / "tests" / (name + ".log"), lines)

    def has_log(self, name):
        p = self.out / "tests" / (name + ".log")
        return bool(_NAME.fullmatch(name)) and p.is_file() and \
            p.stat().st_size > 0

    def text(self, rel):
        return read_head(self.out / rel)

    def has(self, rel):
        p = self.out / rel
        return p.is_file() and p.stat().st_size > 0

    @property
    def seconds(self):
        return _number(self.get("seconds"))


# --- KTAP ------------------------------------------------------------------------

def ktap(f):
    g = f.grade
    out = ["KTAP version 1",
           "# kweb-lab %s on Linux %s: %d/%d" % (f.stage, f.get("kernel"),
                                                 g.total, g.max),
           "1..%d" % len(f.rows)]
    for i, (t, r, _) in enumerate(f.rows, 1):
        if r.status != "pass":
            # Every line of the log is a diagnostic: none can be a result.
            out += ["# " + line for line in _lines(f.log(t.name,
                                                         KTAP_LOG_LINES))]
        msg = one(r.message)
        directive = {"skip": " # SKIP", "timeout": " # TIMEOUT " + msg,
                     "error": " # ERROR " + msg}.get(r.status, "")
        ok = "ok" if r.status in ("pass", "skip") else "not ok"
        out.append(("%s %d %s%s" % (ok, i, t.name, directive)).rstrip())
    return "\n".join(out) + "\n"


# --- JUnit -----------------------------------------------------------------------

def junit(f):
    counts = {"fail": 0, "error": 0, "skip": 0}
    for _, r, _ in f.rows:
        kind = {"pass": None, "skip": "skip", "timeout": "error",
                "error": "error"}.get(r.status, "fail")
        if kind:
            counts[kind] += 1
    tally = {"tests": str(len(f.rows)), "failures": str(counts["fail"]),
             "errors": str(counts["error"]), "skipped": str(counts["skip"]),
             "time": f.seconds}
    root = ET.Element("testsuites", {"name": "kweb-lab", **tally})
    suite = ET.SubElement(root, "testsuite", {"name": f.stage, **tally})
    started = f.get("started").rstrip("Z")
    if _TIMESTAMP.fullmatch(started):
        suite.set("timestamp", started)
    suite.set("hostname", clean(os.uname().nodename))
    props = ET.SubElement(suite, "properties")
    values = dict(f.info, total=str(f.grade.total), max=str(f.grade.max))
    for k in ("kernel", "release", "accel", "source", "answers", "total",
              "max"):
        ET.SubElement(props, "property", name=k, value=values.get(k, ""))
    for t, r, _ in f.rows:
        case = ET.SubElement(suite, "testcase", name=t.name,
                             classname="kweb." + f.stage,
                             time=_secs(r.seconds))
        msg = one(r.message)
        if r.status == "skip":
            ET.SubElement(case, "skipped", message=msg)
        elif r.status != "pass":
            tag = "error" if r.status in ("timeout", "error") else "failure"
            ET.SubElement(case, tag, message=msg, type=r.status).text = \
                f.log(t.name)
        elif f.has_log(t.name):
            ET.SubElement(case, "system-out").text = f.log(t.name)
    ET.indent(root, space="  ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


# --- Gradescope ------------------------------------------------------------------

def feedback_text(f):
    """The static feedback, as plain text."""
    parts = []
    for rel, title in (("feedback/blanks.txt", "Blank checker"),
                       ("build.txt", "Compiler (W=1)"),
                       ("feedback/checkpatch.txt", "checkpatch"),
                       ("feedback/sparse.txt", "sparse")):
        if f.has(rel):
            parts.append("%s:\n%s\n" % (title, _ensure_nl(f.text(rel))))
    return "".join(parts)


def _ensure_nl(text):
    return text if not text or text.endswith("\n") else text + "\n"


def gradescope(f):
    """Gradescope's results.json: score, execution_time, output, visibility,
    tests (name, score, max_score, status, output, visibility)."""
    g = f.grade
    tests = []
    for t, r, score in f.rows:
        text = one(t.description) + "\n"
        if r.status != "pass":
            text += "%s: %s\n" % (r.status.upper(), one(r.message))
            if t.hint:
                text += "Hint: %s\n" % one(t.hint)
            text += "\n" + f.log(t.name, JSON_LOG_LINES)
        tests.append({"name": t.name, "score": score, "max_score": t.points,
                      "status": "passed" if r.status == "pass" else "failed",
                      "output": text[:JSON_TEST_CHARS],
                      "visibility": t.visibility})
    summary = "%s on Linux %s: %d/%d (%s)\n\n" % (
        f.stage, f.get("kernel"), g.total, g.max, f.get("outcome"))
    summary += feedback_text(f)
    result = {"score": g.total,
              "execution_time": int(round(float(f.seconds))),
              "output": summary[:JSON_SUMMARY_CHARS],
              "visibility": "visible",
              "tests": tests}
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


# --- Markdown --------------------------------------------------------------------

def cell(text):
    """Text for one line of Markdown: no table or HTML markup from it."""
    return one(text).replace("|", "\\|").replace("<", "&lt;")


def code(text):
    """Text for a `code span`: it cannot end it."""
    return one(text).replace("`", "'")


def fenced(text):
    """A block of text, in a fence longer than any run of backticks in it:
    no line of it can close the fence (CommonMark)."""
    runs = [len(m) for m in re.findall("`+", text)]
    fence = "`" * max([4] + [n + 1 for n in runs])
    body = "".join(line + "\n" for line in _lines(text))
    return "%stext\n%s%s\n" % (fence, body, fence)


def _answers(f):
    """feedback/answers.tsv (kwblank's table): blank, where, expression,
    verdict, tab-separated, one blank a line."""
    rows = []
    for line in _lines(f.text("feedback/answers.tsv")):
        cols = line.split("\t", 3)
        rows.append(cols + [""] * (4 - len(cols)))
    return rows


UNAVAILABLE = {"checkpatch": "## checkpatch.pl on your changes",
               "sparse": "## sparse"}


def markdown(f, who):
    """The report for who: "student" (hidden tests left out) or
    "instructor" (everything)."""
    g, info = f.grade, f.info
    student = who == "student"
    hidden = g.hidden_count
    if student:
        shown = (g.visible_total, g.visible_max)
    else:
        shown = (g.total, g.max)
    out = ["# %s: %d/%d\n\n" % ((f.stage,) + shown)]
    release = info.get("release", "")
    if release and info.get("accel"):
        release += ", " + info["accel"]
    line = "Graded `%s` on Linux %s%s, %s, in %s s." % (
        code(info.get("answers") or info.get("source", "")),
        info.get("kernel", ""), " (%s)" % release if release else "",
        info.get("started", ""), f.get("seconds"))
    if info.get("outcome", ALL_RAN) != ALL_RAN:
        line += " **%s**: nothing was run in the guest." % cell(info["outcome"])
    out.append(line + "\n\n")
    if not student and hidden > 0:
        out.append("Students see %d/%d (visible tests only).\n\n"
                   % (g.visible_total, g.visible_max))
    if not student and info.get("reused"):
        out.append("The module is the same as that of `%s` (the same "
                   "normalized answers): its build and test results were "
                   "reused; the static checks are this submission's own.\n\n"
                   % code(info["reused"]))
    out.append("| Result | Test | Points | What it checks |\n")
    out.append("| --- | --- | ---: | --- |\n")
    shown_rows = [(t, r, s) for t, r, s in f.rows
                  if not student or t.visibility == "visible"]
    for t, r, score in shown_rows:
        label = r.status.upper()
        if r.status != "pass":
            label = "**%s**" % label
        vis = "" if t.visibility == "visible" else " (hidden)"
        out.append("| %s | `%s`%s | %d/%d | %s |\n" % (
            label, t.name, vis, score, t.points, cell(t.description)))
    if student and hidden > 0:
        out.append("\n%d hidden test(s) worth %d point(s) are graded as well; "
                   "your instructor releases their results.\n"
                   % (hidden, g.max - g.visible_max))
    if f.has("feedback/answers.tsv"):
        out.append("\n## Your answers\n\n")
        out.append("| Blank | Where | Expression | Blank checker |\n")
        out.append("| --- | --- | --- | --- |\n")
        for blank, where, expr, verdict in _answers(f):
            out.append("| %s | %s | `%s` | %s |\n" % (
                cell(blank), cell(where), cell(code(expr)), cell(verdict)))
    if f.has("feedback/blanks.txt"):
        out.append("\n## Blank checker\n\n")
        out.append("Each blank holds one C expression, in kernel style, in its "
                   "simplest form,\nas `checker/%s/blanks.rules` asks. These "
                   "findings cost points only if\nthe rubric has a "
                   "`static_blanks` test; the tests decide whether the module "
                   "works.\n\n" % f.stage)
        out.append(fenced(f.text("feedback/blanks.txt")))
    bad = [(t, r, s) for t, r, s in shown_rows if r.status != "pass"]
    if bad:
        out.append("\n## What went wrong\n")
    for t, r, score in bad:
        out.append("\n### `%s`: %s, %d/%d\n\n" % (t.name, r.status.upper(),
                                                  score, t.points))
        if one(t.description):
            out.append("- What it checks: %s\n" % cell(t.description))
        out.append("- What happened: %s\n" % cell(one(r.message)
                                                  or "see the log"))
        if one(t.hint):
            out.append("- Hint: %s\n" % cell(t.hint))
        if f.has_log(t.name):
            out.append("\n<details><summary>Test log</summary>\n\n")
            out.append(fenced(f.log(t.name, MD_LOG_LINES)))
            out.append("\n</details>\n")
    if f.has("build.txt"):
        out.append("\n## Compiler output (W=1)\n\n")
        out.append(fenced(f.text("build.txt")))
    for name in ("checkpatch", "sparse"):
        if f.has("feedback/%s.txt" % name):
            out.append("\n%s\n\n" % UNAVAILABLE[name])
            out.append(fenced(f.text("feedback/%s.txt" % name)))
        elif f.has("feedback/%s.unavailable" % name):
            out.append("\n_%s_\n" % cell(f.text("feedback/%s.unavailable"
                                                % name)))
    return "".join(out)


# --- all of them -----------------------------------------------------------------

def write_all(grade, out):
    """The five reports of grade, into its results folder out."""
    out = Path(out)
    if not out.is_dir():
        raise KwebError("no results folder %s" % out)
    f = _Folder(grade, out)
    for name, text in (("results.ktap", ktap(f)), ("junit.xml", junit(f)),
                       ("results.json", gradescope(f)),
                       ("report.md", markdown(f, "student")),
                       ("report-instructor.md", markdown(f, "instructor"))):
        tmp = out / (name + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, out / name)


# --- the command -----------------------------------------------------------------

def saved_grade(out, stage_arg):
    """A grade saved in out (results.tsv, results.info), with the stage's
    rubric as it was graded: the tests of results.tsv, the instructor pack
    of results.info unless KWEB_INSTRUCTOR_PACK says otherwise."""
    from .stagefiles import load_stage
    out = Path(out)
    if not (out / "results.tsv").is_file() or \
            not (out / "results.info").is_file():
        raise KwebError("%s holds no results.tsv and results.info" % out)
    info, rows = load_results(out)
    pack = os.environ.get("KWEB_INSTRUCTOR_PACK")
    if pack is None:
        pack = str(Path(info["pack"]).parent) if info.get("pack") else "none"
    names = [row["name"] for row in rows]
    stage = load_stage(stage_arg, pack=pack, only=set(names))
    missing = [n for n in names if not stage.test(n)]
    if missing:
        raise KwebError("%s/results.tsv has test(s) %s, which the rubric of %s "
                        "does not have (set KWEB_INSTRUCTOR_PACK as when it "
                        "was graded)" % (out, " ".join(missing), stage.name))
    return load_grade(out, stage)


USAGE = ("usage: python3 -m kweb.report write OUTDIR STAGE | "
         "line STATUS MAX NAME SECONDS [MESSAGE [VISIBILITY]]")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        if len(argv) == 3 and argv[0] == "write":
            write_all(saved_grade(argv[1], argv[2]), argv[1])
        elif 5 <= len(argv) <= 7 and argv[0] == "line":
            status, top, name, secs = argv[1:5]
            msg = argv[5] if len(argv) > 5 else ""
            vis = argv[6] if len(argv) > 6 else "visible"
            if not top.isdigit() or not _NUMBER.fullmatch(secs):
                raise KwebError("line: MAX and SECONDS are numbers")
            try:
                result = TestResult(name, status, float(secs), msg)
            except ValueError as e:
                raise KwebError("line: %s" % e)
            test = RubricLine(name, int(top), 1, vis, "")
            print(terminal_line(test, result, use_colour()))
        else:
            raise KwebError(USAGE)
    except KwebError as e:
        print(error_line(str(e)), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
