"""Grade a whole class: a folder of submissions, or a quiz form's export.

    grading/kw class STAGE SUBMISSIONS [KERNEL]   (make grade-class)
    grading/kw quiz STAGE CSV [KERNEL]            (make grade-quiz)

class: SUBMISSIONS holds one entry per student, named after the student: a
folder (a copy of the stage folder, or a folder holding it, or holding an
answers.txt) or an answers file ("AAAA = <expression>" lines; the student
is the file name without .txt or .answers). An entry is refused (status
"invalid") when it is a symlink or holds one, holds anything but regular
files and folders, or is over MAX_BYTES or MAX_ENTRIES.

quiz: CSV is the export of a quiz form: a header row, a student id column
(ID_COLUMN=name, else the first of ID_COLUMNS) and one column per blank,
headed by its name (AAAA, "BBBB (line 394)", ...). A student who answered
twice is graded on the last row; a malformed row is listed in problems.txt
and skipped. This module is the kit's one parser of quiz CSVs.

Environment: KWEB_CLASS_OUT (default build/class/STAGE-NAME-KERNEL),
KWEB_JOBS (grades at once; default: the number of cores), KWEB_TESTS,
KWEB_INSTRUCTOR_PACK, KWEB_FEEDBACK, KWEB_JOB_TIMEOUT (seconds a grade may
take, default 1800). Test hook: KWEB_GRADE_CMD, a command (split like a
shell would) run instead of "grading/kw grade" with the same arguments and
environment; with it set, the host is not prepared for a guest (no deps,
kernel, base image or checkpatch.pl), since a fake grader needs none.

Writes OUT/gradebook.csv (student, score, max_score, status, same_as,
seconds, report, message) and OUT/students/ID/ (the student's results
folder), OUT/log/ID.txt (the grade's output), OUT/problems.txt (quiz).
Submissions whose normalized answers are identical are graded once in the
guest; the others reuse that grade (KWEB_REUSE), each with its own static
checks. A broken submission scores 0 and the batch goes on; a grade that
could not run, ran longer than KWEB_JOB_TIMEOUT or wrote more than MAX_LOG
bytes is killed and is "error" in the gradebook.

Gradebook cells that start with = + - or @ get a leading ' so that a
spreadsheet shows them as text and never evaluates them (a student id or
a message is text a student chose). Exit status: 0 all graded, 1 some
errors, 2 the batch could not run.
"""

import concurrent.futures
import csv
import hashlib
import io
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from . import stages, vm
from .model import load_results, one_line
from .paths import (BUILD, ROOT, KwebError, die, error_line, kernel_dir,
                    kernel_series, note, now, safe_label)
from .stagefiles import load_stage

ID_COLUMNS = ("id", "student", "student id", "student_id", "studentid", "sid",
              "email", "email address", "username", "login")
MAX_BYTES = 4 << 20          # a submission, all files together
MAX_ENTRIES = 200            # files and folders in a submission
MAX_CSV_BYTES = 16 << 20     # a quiz export
MAX_ANSWER = 4096            # characters of one answer in a quiz export
MAX_ID = 200                 # characters of a student id
MAX_CELL = 1000              # characters of a gradebook cell
MAX_LOG = 8 << 20            # bytes a grade may write to its log
MAX_LABEL = 64               # characters of a student's folder name
KILL_GRACE = 30              # seconds between SIGTERM and SIGKILL
KWBLANK_TIMEOUT = 60         # seconds the blank checker may take
BLANK_RE = re.compile(r"(?<![A-Za-z0-9_])([A-Z])\1{3}(?![A-Za-z0-9_])")
PASSED_ENV = ("KWEB_OUT", "KWEB_QUIET", "KWEB_ANSWERS", "KWEB_REUSE",
              "KWEB_BASE_IMAGE")


@dataclass
class Entry:
    """One student's submission and how its grade went."""
    id: str                  # the student, as shown (never used as a path)
    kind: str                # folder | answers | invalid
    path: Optional[Path]     # the folder or answers file graded
    safe: str = ""           # the student's folder name in this batch
    note: str = ""
    key: str = ""            # the normalized answers, "" = graded alone
    rep: Optional["Entry"] = None   # the entry whose grade is reused
    rc: Optional[int] = None
    seconds: float = 0.0
    why: str = ""            # why the grade could not run
    total: str = ""
    max: str = ""
    outcome: str = ""
    graded_dir: Optional[Path] = None   # a folder's stage folder


@dataclass
class Batch:
    mode: str                # class | quiz
    stage: str               # 01-kthread-echo
    sources: List[str]
    series: str
    input: Path
    out: Path
    jobs: int
    timeout: int
    pristine: Path = None
    blanks: List[str] = field(default_factory=list)
    kwblank: Path = None
    base: str = ""
    accel: str = ""
    entries: List[Entry] = field(default_factory=list)
    used: Dict[str, bool] = field(default_factory=dict)

    # --- students ------------------------------------------------------------

    def label(self, student):
        """A folder name for the student, unique in this batch (whatever the
        case): safe_label, no leading dot, at most MAX_LABEL characters."""
        s = safe_label(student).lstrip(".")[:MAX_LABEL] or "_"
        try_, n = s, 1
        while try_.casefold() in self.used:
            n += 1
            try_ = "%s~%d" % (s, n)
        self.used[try_.casefold()] = True
        return try_

    def add(self, student, kind, path, why="", entry_name=None):
        """A submission; a second one of the same student is invalid, under
        its entry's own name."""
        if any(e.id == student for e in self.entries):
            if kind != "invalid":
                why = "another entry is already the submission of %s" % student
            student, kind = entry_name or student, "invalid"
        e = Entry(student, kind, path, self.label(student), why)
        self.entries.append(e)
        return e


# --- once, before the batch ------------------------------------------------

def _script(args, what, **kw):
    try:
        return subprocess.run([str(a) for a in args], check=True,
                              stdin=subprocess.DEVNULL, **kw)
    except (OSError, subprocess.CalledProcessError) as e:
        die("%s failed (%s)" % (what, e))


def prepare_host(b):
    """Make ready what all grades share, so that grades in parallel only read
    it: host packages, the kernel, the guest's base image, the accelerator
    probe, checkpatch.pl."""
    g = ROOT / "grading"
    _script([g / "deps.sh", "grade"], "grading/deps.sh grade")
    _script([g / "kernel.sh", b.series], "grading/kernel.sh %s" % b.series)
    b.base = _script([g / "image.sh", "base"], "grading/image.sh base",
                     stdout=subprocess.PIPE, text=True).stdout.strip()
    b.accel = vm.accel(kernel_dir(b.series))
    if os.environ.get("KWEB_FEEDBACK", "1") != "0":
        with open(b.out / "log" / "fetch.log", "w") as log:
            r = subprocess.run([str(g / "feedback.sh"), "ensure", b.series],
                               stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT)
        if r.returncode:
            note("checkpatch.pl is unavailable (see %s): grades go on "
                 "without it" % (b.out / "log" / "fetch.log"))


def prepare_blanks(b):
    """The blank checker and the pristine stage that normalized answers are
    computed against."""
    host_bin = BUILD / "host-bin"
    _script(["make", "-s", "-C", ROOT / "checker" / "kwblank",
             "OUT=%s" % host_bin], "building the blank checker "
            "(checker/kwblank)", stdout=2)
    b.kwblank = host_bin / "kwblank"
    b.pristine = b.out / "work" / "pristine"
    sol = ROOT / "solutions" / b.stage
    if sol.is_dir():
        stages.generate_one(sol, b.pristine)
    else:
        shutil.copytree(ROOT / "stages" / b.stage, b.pristine)
    b.blanks = stage_blanks(b.pristine, b.sources)
    if not b.blanks:
        die("the pristine stage %s has no blanks" % b.stage)


def stage_blanks(pristine, sources):
    """The blank tokens (AAAA, BBBB, ...) of the stage's sources, in order."""
    found = []
    for f in sources:
        text = (Path(pristine) / f).read_text(errors="replace")
        for m in BLANK_RE.finditer(text):
            if m.group(0) not in found:
                found.append(m.group(0))
    return found


# --- the submissions ---------------------------------------------------------

def shown_name(name):
    """A file name as text that prints and writes anywhere (bytes that are
    not UTF-8 become U+FFFD)."""
    return os.fsencode(name).decode("utf-8", "replace")


def tree_problem(path, shown):
    """'' when path is a regular file, or a folder of only regular files and
    folders, within MAX_BYTES and MAX_ENTRIES; else why it is refused."""
    path = str(path)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("submission is a symlink: %s -> %s; copy the files instead"
                % (shown, one_line(shown_name(os.readlink(path)))[:200]))
    if stat.S_ISREG(st.st_mode):
        if st.st_size > MAX_BYTES:
            return ("submission %s is over %d MiB: hand in the answers only"
                    % (shown, MAX_BYTES >> 20))
        return ""
    if not stat.S_ISDIR(st.st_mode):
        return "neither a folder nor an answers file"
    top = os.path.realpath(path)
    count = size = 0
    errors = []
    for dirpath, dirnames, filenames in os.walk(path, onerror=errors.append):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = "%s/%s" % (shown, one_line(shown_name(
                os.path.relpath(p, path)))[:200])
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                return ("submission contains a symlink: %s -> %s; copy the "
                        "files instead"
                        % (rel, one_line(shown_name(os.readlink(p)))[:200]))
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                return ("submission contains %s, which is neither a file nor "
                        "a folder: remove it" % rel)
            if os.path.commonpath([top, os.path.realpath(p)]) != top:
                return "submission reaches outside itself at %s" % rel
            count += 1
            size += st.st_size if stat.S_ISREG(st.st_mode) else 0
            if count > MAX_ENTRIES:
                return ("submission has more than %d files and folders: hand "
                        "in the stage folder only" % MAX_ENTRIES)
            if size > MAX_BYTES:
                return ("submission is over %d MiB: hand in the sources only"
                        % (MAX_BYTES >> 20))
    if errors:
        return ("cannot read the submission: %s"
                % one_line(shown_name(str(errors[0]))))
    return ""


def class_entries(b):
    first_source = b.sources[0]
    names = sorted(n for n in os.listdir(b.input) if not n.startswith("."))
    for name in names:
        e = b.input / name
        student = one_line(shown_name(name))[:MAX_ID] or "_"
        why = tree_problem(e, student)
        if why:
            b.add(student, "invalid", e, why)
        elif e.is_dir():
            if (not (e / first_source).exists() and not (e / b.stage).is_dir()
                    and (e / "answers.txt").is_file()):
                b.add(student, "answers", e / "answers.txt", entry_name=student)
            else:
                b.add(student, "folder", e, entry_name=student)
        else:
            stem = re.sub(r"\.answers$", "", re.sub(r"\.txt$", "", student))
            b.add(stem or student, "answers", e, entry_name=student)


@dataclass
class QuizRow:
    row: int                 # the line of the export the row starts on
    student: str
    answers: Dict[str, str]


def read_quiz(path, blanks, id_column="", stage=""):
    """The quiz export's rows (QuizRow, in order) and its problems (one line
    each, "row N: ...: skipped"). Dies when the export cannot be graded at
    all (empty, no id column, a blank without a column)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        die("%s is %d MiB: a quiz export is far smaller (at most %d MiB); "
            "export the form again" % (path, size >> 20, MAX_CSV_BYTES >> 20))
    data = path.read_bytes()
    text = data.decode("utf-8-sig", errors="replace").replace("\0", " ")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        note("%s is not all UTF-8: the bytes that are not were replaced"
             % path.name)
    problems, rows = [], []
    old_limit = csv.field_size_limit(max(len(text) + 1, 131072))
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header, prev = None, 0
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                start, prev = prev + 1, reader.line_num
                if header is None:
                    die("%s: the header row cannot be read (%s)" % (path, e))
                if "end of data" in str(e):
                    problems.append("row %d: a quoted field is never closed: "
                                    "the rows from here on are skipped"
                                    % start)
                    break
                if "expected after" in str(e):
                    e = "text follows a quoted field (%s)" % e
                problems.append("row %d: %s: skipped" % (start, e))
                continue
            start, prev = prev + 1, reader.line_num
            if header is None:
                header = [h.strip() for h in rec]
                id_col, cols = _quiz_columns(path, header, blanks, id_column,
                                             stage)
                continue
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue     # an empty line
            if len(rec) != len(header):
                problems.append("row %d: %d fields where the header has %d: "
                                "skipped" % (start, len(rec), len(header)))
                continue
            student = one_line(rec[id_col])
            if not student:
                problems.append("row %d: no student id: skipped" % start)
                continue
            if len(student) > MAX_ID:
                problems.append("row %d: a student id of %d characters (at "
                                "most %d): skipped"
                                % (start, len(student), MAX_ID))
                continue
            answers = {bl: one_line(rec[cols[bl]]) for bl in blanks}
            long_ = [bl for bl in blanks if len(answers[bl]) > MAX_ANSWER]
            if long_:
                problems.append("row %d: the answer to %s is over %d "
                                "characters: skipped"
                                % (start, long_[0], MAX_ANSWER))
                continue
            rows.append(QuizRow(start, student, answers))
    finally:
        csv.field_size_limit(old_limit)
    if header is None:
        die("%s is empty" % path)
    return rows, problems


def _quiz_columns(path, header, blanks, id_column, stage):
    """The index of the student id column and of each blank's column."""
    shown = ",".join(one_line(h)[:60] for h in header)[:500]
    want = id_column.strip().lower()
    id_col = None
    for i, h in enumerate(header):
        h = h.lower()
        if (h == want) if want else (h in ID_COLUMNS):
            id_col = i
            break
    if id_col is None:
        die("%s: no student id column%s (columns: %s); set ID_COLUMN=name"
            % (path, " named '%s'" % one_line(id_column) if want else "",
               shown))
    cols = {}
    for i, h in enumerate(header):
        m = re.match(r"([A-Z])\1{3}(?![A-Za-z0-9_])", h)
        if m:
            cols[m.group(0)] = i
    for bl in blanks:
        if bl not in cols:
            die("%s: no column for blank %s of stage %s (columns: %s)"
                % (path, bl, stage, shown))
    for bl in cols:
        if bl not in blanks:
            note("%s: column %s is not a blank of stage %s: ignored"
                 % (path.name, bl, stage))
    return id_col, cols


def quiz_entries(b):
    rows, problems = read_quiz(b.input, b.blanks,
                               os.environ.get("ID_COLUMN", ""), b.stage)
    (b.out / "problems.txt").write_text("".join(p + "\n" for p in problems))
    seen: Dict[str, List[QuizRow]] = {}
    for r in rows:
        seen.setdefault(r.student, []).append(r)
    for student, its in seen.items():       # in the order of first rows
        last = its[-1]
        e = b.add(student, "answers", None)
        e.path = b.out / "answers" / (e.safe + ".txt")
        with open(e.path, "w", encoding="utf-8") as f:
            f.write("# %s, row %d of %s\n"
                    % (student, last.row, one_line(shown_name(b.input.name))))
            for bl in b.blanks:
                f.write("%s = %s\n" % (bl, last.answers[bl]))
        if len(its) > 1:
            e.note = ("answered on rows %s: row %d is graded"
                      % (", ".join(str(r.row) for r in its), last.row))
    if problems:
        note("%d malformed row(s) in %s (see %s):"
             % (len(problems), b.input.name, b.out / "problems.txt"))
        for p in problems:
            print("  " + p, file=sys.stderr)


# --- one grade per normalized answer set -------------------------------------

def answer_key(b, e, key_file):
    """The normalized answers kwblank wrote for the submission (its --key
    file: "AAAA = canonical" lines, and "changed" when lines outside the
    blanks changed), or None when kwblank cannot read it. The one place that
    reads kwblank's key output: switch it here to kwblank's JSON."""
    args = [str(b.kwblank), "check", "--stage", str(b.pristine)]
    for f in b.sources:
        args += ["--file", f]
    if e.kind == "answers":
        args += ["--answers", str(e.path)]
    else:
        args += ["--submission", str(e.graded_dir)]
    args += ["--key", str(key_file)]
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=KWBLANK_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode > 1 or not key_file.is_file():
        return None
    text = key_file.read_text(errors="replace")
    return {"answers": text, "changed": "changed" in text.splitlines()}


def dedup_key(b, e):
    """The key of e's grade: the hash of its normalized answers when only the
    blanks were filled in; of its sources when other lines changed too; ""
    (graded alone) when the blank checker cannot read it."""
    if e.kind == "folder":
        d = e.path / b.stage if (e.path / b.stage).is_dir() else e.path
        e.graded_dir = d
        for f in b.sources:
            if (d / f).is_symlink() or not (d / f).is_file():
                return ""
    elif e.kind != "answers":
        return ""
    k = answer_key(b, e, b.out / "work" / ("key-" + e.safe))
    if k is None:
        return ""
    if e.kind == "folder" and k["changed"]:
        h = hashlib.sha256()
        for f in b.sources:
            h.update((e.graded_dir / f).read_bytes())
        return "source:" + h.hexdigest()
    return "answers:" + hashlib.sha256(k["answers"].encode()).hexdigest()


def group(b):
    """Each distinct key's first entry is graded; the others reuse it."""
    first = {}
    for e in b.entries:
        e.key = dedup_key(b, e)
        if not e.key:
            continue
        if e.key in first:
            e.rep = first[e.key]
        else:
            first[e.key] = e


# --- the grades, in parallel -------------------------------------------------

def grade_command():
    hook = os.environ.get("KWEB_GRADE_CMD", "")
    if hook:
        return shlex.split(hook)
    return [str(ROOT / "grading" / "kw"), "grade"]


# The grades running now, to end them all when the batch is interrupted
# (each runs in a session of its own, out of reach of the terminal's ^C).
_live = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def run_grade(cmd, env, log_path, timeout):
    """Run one grade with its output in log_path; kill its process group
    when it runs over timeout seconds or writes over MAX_LOG bytes.
    (exit status or None, why it was killed)."""
    with _live_lock:
        if _stopping.is_set():
            return None, "the batch was interrupted"
        with open(log_path, "wb") as log:
            p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        _live.add(p)
    try:
        return _watch(p, log_path, timeout)
    finally:
        with _live_lock:
            _live.discard(p)


def _watch(p, log_path, timeout):
    deadline = now() + timeout
    why = ""
    while True:
        try:
            rc = p.wait(timeout=0.2 if timeout < 5 else 1)
            kill_group(p)      # what it left running
            return rc, ""
        except subprocess.TimeoutExpired:
            pass
        if now() > deadline:
            why = "the grade took longer than %d s" % timeout
        elif log_path.stat().st_size > MAX_LOG:
            why = "the grade wrote more than %d MiB of output" % (MAX_LOG >> 20)
        if why:
            break
    kill_group(p)
    with open(log_path, "r+b") as log:
        log.truncate(min(log_path.stat().st_size, MAX_LOG))
        log.seek(0, os.SEEK_END)
        log.write(("\nkweb: error: %s: the batch stopped it\n" % why).encode())
    return None, why


def kill_group(p):
    """End the grade's process group: SIGTERM, then SIGKILL after
    KILL_GRACE seconds (the group's id is not reused while it has members,
    so this never reaches another process)."""
    if p.returncode is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=KILL_GRACE)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def grade(b, e):
    """Grade one student; fills e.rc, e.seconds, e.why and the score."""
    res = b.out / "students" / e.safe
    log = b.out / "log" / (e.safe + ".txt")
    src = "stages"
    env = {k: v for k, v in os.environ.items() if k not in PASSED_ENV}
    env.update(KWEB_OUT=str(res), KWEB_QUIET="1", KWEB_BASE_IMAGE=b.base)
    if e.kind == "answers":
        env["KWEB_ANSWERS"] = str(e.path)
    else:
        src = str(e.path)
    # A grade that could not run leaves nothing to reuse: grade anew.
    if e.rep and (e.rep.rc is None or e.rep.rc > 1):
        e.rep = None
    if e.rep:
        env["KWEB_REUSE"] = str(b.out / "students" / e.rep.safe)
    t0 = now()
    try:
        rc, why = run_grade(grade_command() + [b.stage, src, b.series], env,
                            log, b.timeout)
    except OSError as err:
        rc, why = None, "the grader did not start (%s)" % err
    e.seconds = now() - t0
    if res.is_dir():
        tidy(res)
    if why:
        e.rc, e.why = 2, why
        return e
    e.rc = rc
    if rc in (0, 1):
        try:
            info, _ = load_results(res)
            e.total, e.max = info.get("total", ""), info.get("max", "")
            e.outcome = info.get("outcome", "")
            if not (e.total.isdigit() and e.max.isdigit()):
                raise ValueError("no score")
        except (OSError, ValueError):
            # Graded means results: anything else is an error of the grader.
            e.rc = 2
            e.why = "the grader left no results in students/%s" % e.safe
    if e.rc not in (0, 1) and not e.why:
        e.why = error_of(log)
    return e


def tidy(res):
    """Drop what only the guest needed (the image, the overlay)."""
    for name in ("initrd.cpio", "overlay.cpio", "overlay", "filled",
                 "pristine"):
        p = res / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists() or p.is_symlink():
            p.unlink()
    module = res / "module"
    if module.is_dir() and not module.is_symlink():
        for dirpath, _, filenames in os.walk(module):
            for name in filenames:
                p = Path(dirpath) / name
                if p.suffix not in (".c", ".log") and (p.is_symlink()
                                                      or p.is_file()):
                    p.unlink()


def error_of(log):
    """Why a grade could not run: its first "kweb: error:" line."""
    try:
        with open(log, errors="replace") as f:
            for line in f:
                if "kweb: error:" in line:
                    m = re.sub(r"\x1b\[[0-9;]*m", "",
                               line.split("kweb: error:", 1)[1])
                    return one_line(m)[:300] or "grading could not run"
    except OSError:
        pass
    return "grading could not run"


def stop_all():
    """End every grade still running (the batch was interrupted)."""
    with _live_lock:
        _stopping.set()
        for p in _live:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def pool(b, entries, counter):
    if not entries:
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=b.jobs) as ex:
        futures = [ex.submit(grade, b, e) for e in entries]
        try:
            done = concurrent.futures.as_completed(futures)
            for f in done:
                _progress(b, f.result(), counter)
        except BaseException:
            ex.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise


def _progress(b, e, counter):
    counter.append(e)
    if e.rc in (0, 1):
        what = "%s/%s" % (e.total, e.max)
    else:
        what = "error: " + e.why
    if e.rep:
        what += " (same answers as %s)" % e.rep.id
    print("[%d/%d] %s: %s, %.1fs" % (len(counter), len(b.entries),
                                     one_line(e.id), what, e.seconds),
          flush=True)


# --- the gradebook -------------------------------------------------------------

def cell(text):
    """A text cell: one line, bounded, never a spreadsheet formula."""
    text = one_line(text)[:MAX_CELL]
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_gradebook(b):
    path = b.out / "gradebook.csv"
    errors = graded = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student", "score", "max_score", "status", "same_as",
                    "seconds", "report", "message"])
        for e in b.entries:
            score = max_ = report = secs = ""
            message = e.note
            if e.kind == "invalid":
                status = "invalid"
            elif e.rc in (0, 1):
                status = "graded"
                graded += 1
                score, max_ = e.total, e.max
                report = "students/%s/report.md" % e.safe
                secs = "%.1f" % e.seconds
                if e.outcome != "all tests ran":
                    message = "; ".join(m for m in (e.outcome, message) if m)
            else:
                status = "error"
                errors += 1
                secs = "%.1f" % e.seconds
                message = "; ".join(m for m in (
                    "%s: see log/%s.txt" % (e.why, e.safe), message) if m)
            w.writerow([cell(e.id), score, max_, status,
                        cell(e.rep.id if e.rep else ""), secs, cell(report),
                        cell(message)])
    return path, graded, errors


# --- the batch -----------------------------------------------------------------

def _number(name, default, what):
    v = os.environ.get(name, "") or str(default)
    if not v.isdigit() or int(v) == 0:
        die("%s=%s: use %s, 1 or more" % (name, one_line(v), what))
    return int(v)


def _out_dir(stage, name, series, inp):
    out = os.environ.get("KWEB_CLASS_OUT", "")
    out = Path(out) if out else BUILD / "class" / (
        "%s-%s-%s" % (stage, safe_label(name), series))
    out = Path(os.path.abspath(out))
    real, real_in = os.path.realpath(out), os.path.realpath(inp)
    for a, b_ in ((real, real_in), (real_in, real)):
        if os.path.commonpath([a, b_]) == a:
            die("KWEB_CLASS_OUT=%s and the submissions %s are inside one "
                "another: choose an output folder elsewhere" % (out, inp))
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        die("KWEB_CLASS_OUT=%s is not a folder: remove it or choose another"
            % out)
    if out.is_dir() and any(out.iterdir()) and not (
            (out / "gradebook.csv").exists() or (out / "students").is_dir()):
        die("KWEB_CLASS_OUT=%s holds files that are not a class batch's: "
            "remove them or choose another folder" % out)
    if out.is_dir():
        shutil.rmtree(out)
    for d in ("students", "log", "answers", "work"):
        (out / d).mkdir(parents=True, exist_ok=True)
    return out


def _batch(mode, stage_arg, inp, kernel):
    series = kernel_series(kernel or "")
    if mode == "class":
        if not inp or not str(inp):
            die("no submissions given: use SUBMISSIONS=folder/")
        if not Path(inp).is_dir():
            die("SUBMISSIONS=%s is not a folder" % inp)
    else:
        if not inp or not str(inp):
            die("no quiz export given: use CSV=form.csv")
        if not Path(inp).is_file():
            die("CSV=%s is not a file" % inp)
    inp = Path(os.path.abspath(inp))
    stage = load_stage(stage_arg)
    jobs = _number("KWEB_JOBS", os.cpu_count() or 1, "a number of grades "
                   "at once")
    timeout = _number("KWEB_JOB_TIMEOUT", 1800, "the seconds a grade may take")
    name = re.sub(r"\.csv$", "", inp.name)
    out = _out_dir(stage.name, name, series, inp)
    return Batch(mode, stage.name, list(stage.conf.sources), series, inp, out,
                 jobs, timeout)


def _run(mode, stage_arg, inp, kernel):
    t0 = now()
    _stopping.clear()
    try:
        b = _batch(mode, stage_arg, inp, kernel)
        if os.environ.get("KWEB_GRADE_CMD"):
            b.accel = "test grader"
        else:
            prepare_host(b)
        prepare_blanks(b)
        if mode == "class":
            class_entries(b)
        else:
            quiz_entries(b)
        if not b.entries:
            die("no submission in %s" % b.input)
        group(b)
    except KwebError as e:
        print(error_line(str(e)), file=sys.stderr)
        return 2
    print("Grading %d submission(s) of %s on Linux %s (%s), %d at a time"
          % (len(b.entries), b.stage, b.series, b.accel, b.jobs), flush=True)
    done: List[Entry] = []
    first, rest = [], []
    for e in b.entries:
        if e.kind == "invalid":
            done.append(e)
            print("[%d/%d] %s: invalid: %s" % (len(done), len(b.entries),
                                               one_line(e.id), e.note))
        elif e.rep:
            rest.append(e)
        else:
            first.append(e)
    # Each distinct answer set is graded in the guest first; the others
    # then reuse its results.
    pool(b, first, done)
    pool(b, rest, done)
    path, graded, errors = write_gradebook(b)
    reused = sum(1 for e in b.entries if e.rep and e.rc in (0, 1))
    print("Gradebook: %s" % path)
    print("%d submission(s): %d graded (%d on their own, %d reusing the grade "
          "of an identical answer set), %d error(s), in %d s"
          % (len(b.entries), graded, graded - reused, reused, errors,
             now() - t0))
    if (b.out / "problems.txt").is_file() and \
            (b.out / "problems.txt").stat().st_size:
        print("Malformed rows: %s" % (b.out / "problems.txt"))
    return 1 if errors else 0


def run_class(stage_arg: str, submissions: Path, kernel: str) -> int:
    """make grade-class: exit 0 all graded, 1 some errors, 2 could not run."""
    return _run("class", stage_arg, submissions, kernel)


def run_quiz(stage_arg: str, csv_path: Path, kernel: str) -> int:
    """make grade-quiz: exit 0 all graded, 1 some errors, 2 could not run."""
    return _run("quiz", stage_arg, csv_path, kernel)
