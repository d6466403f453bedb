"""Grade one stage in a throwaway QEMU guest (make grade).

    grading/kw grade STAGE [SRC] [KERNEL]

Environment: KWEB_ANSWERS (fill the stage's blanks from an answers file),
KWEB_OUT (the results folder), KWEB_TESTS (only these tests),
KWEB_INSTRUCTOR_PACK, KWEB_FEEDBACK=0, KWEB_ACCEL, KWEB_TIMEOUT_SCALE,
KWEB_QUIET=1; for a class: KWEB_REUSE (take the build and the guest's
results from a grade of the same module), KWEB_BASE_IMAGE.

Exit status: 0 full marks; 1 graded below full marks (a module with
unfilled blanks, a missing file, a build error or a refused module scores
0); 2 grading could not run.

The order of trust: nothing of the submission is looked at before it is
known to be regular files of bounded size; it is built in a sandbox; the
built module boots only if its symbols and instructions pass the static
gate; the guest's word counts only for the test the host expects next,
and a network test counts only if the host itself saw the server answer.
"""

import base64
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from . import console as kconsole
from . import blanks, build, gate, probe, protocol, report, stages, vm
from .model import Grade, TestResult, load_results
from .paths import BUILD, ROOT, KwebError, die, kernel_dir, kernel_series, \
    note, safe_label
from .stagefiles import load_stage

# Lines of each kernel report put in the test's log.
REPORT_SHOWN = 15

MAX_SOURCE = 1 << 20          # bytes of one source file
MAX_SUBMISSION = 4 << 20      # bytes of a submission folder in all
MAX_FILES = 200
FEEDBACK_SHOWN = 15


class Outcome(Exception):
    """Nothing (more) can be tested: every test left scores 0."""


class NoModule(Exception):
    """The guest asked for a module that was not built or was refused."""


def show(text, limit):
    """Text from a tool that read the submission, indented and made inert."""
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    for line in lines[:limit]:
        print("    " + protocol.clean(line, 300))
    if len(lines) > limit:
        print("    ... %d more" % (len(lines) - limit))


def check_submission(sub, shown, sources):
    """A submission folder holds regular files and folders only, inside
    itself, of bounded size. Returns the problem, or ''."""
    sub = Path(sub)
    if sub.is_symlink():
        return "%s is a symbolic link: submit the files themselves" % shown
    root = os.path.realpath(sub)
    count = size = 0
    for dirpath, dirnames, filenames in os.walk(sub):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, sub)
            if os.path.islink(p):
                return "%s/%s is a symbolic link (to %s): submit the files " \
                       "themselves" % (shown, rel, os.readlink(p))
            if not os.path.realpath(p).startswith(root + os.sep):
                return "%s/%s lies outside the submission" % (shown, rel)
            if n in filenames:
                st = os.lstat(p)
                if not (st.st_mode & 0o170000) == 0o100000:
                    return "%s/%s is not a regular file" % (shown, rel)
                count += 1
                size += st.st_size
        if count > MAX_FILES or size > MAX_SUBMISSION:
            return "%s holds more than %d files or %d MiB: submit only the " \
                   "stage's folder" % (shown, MAX_FILES, MAX_SUBMISSION >> 20)
    for f in sources:
        p = sub / f
        if p.is_symlink() or not p.is_file():
            return "%s/%s is missing or not a regular file (the stage needs " \
                   "%s)" % (shown, f, " ".join(sources))
        if p.stat().st_size > MAX_SOURCE:
            return "%s/%s is larger than 1 MiB" % (shown, f)
    return ""


def oops_summary(text):
    m = re.search(r"(BUG: [^\]\n]*|Oops: [^\]\n]*|general protection fault"
                  r"[^\]\n]*|kernel BUG at \S*|Kernel panic - not syncing: "
                  r"[^\]\n]*|watchdog: BUG: soft lockup[^\]\n]*)", text)
    rip = re.search(r"RIP: 00[0-9a-f]*:(\S+( \[[^\]]+\])?)", text)
    what = m.group(1).rstrip() if m else "panic"
    return protocol.clean("kernel crashed: %s%s" % (
        what, " in " + rip.group(1) if rip else ""), 300)


def oops_text(text):
    out, on = [], False
    for line in text.split("\n"):
        if re.search(r"BUG:|Oops:|general protection fault|kernel BUG at|"
                     r"WARNING:|Kernel panic|soft lockup|Call Trace:", line):
            on = True
        if on:
            out.append(protocol.clean(line))
        if len(out) >= 80:
            break
    return "\n".join(out)


class Grader:
    def __init__(self, stage_arg, src_arg="stages", kernel=None):
        self.t0 = time.monotonic()
        self.series = kernel_series(kernel)
        self.answers = os.environ.get("KWEB_ANSWERS", "")
        self.reuse = os.environ.get("KWEB_REUSE", "")
        self.quiet = bool(os.environ.get("KWEB_QUIET"))
        only = os.environ.get("KWEB_TESTS", "").split() or None
        self.stage = load_stage(stage_arg, only=self._with_probe(stage_arg,
                                                                 only))
        need = self.stage.kernels
        if need and self.series not in need:
            die("the rubric of %s requires KERNEL=%s (it is graded there "
                "only): run it again with KERNEL=%s" % (
                    self.stage.name, " or KERNEL=".join(need), need[0]))
        self.src_arg = src_arg
        self.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.outcome = "all tests ran"
        self.phases = {}          # seconds spent in each part of the grade
        self.probe_seen = False   # a host probe reached a listening server
        self.ko_ready = None      # set when the module for the guest is ready

    def phase(self, name, t0):
        self.phases[name] = self.phases.get(name, 0.0) + time.monotonic() - t0

    @staticmethod
    def _with_probe(stage_arg, only):
        # The host's probe is part of every grade of a stage that has one:
        # without it no network test can pass.
        if only is None:
            return None
        full = load_stage(stage_arg)
        probes = [t.name for t in full.tests if t.name.startswith("host_")]
        return list(only) + [p for p in probes if p not in only]

    # --- results ---------------------------------------------------------

    def report(self, name, status, seconds=0.0, message=""):
        r = self.grade.record(TestResult(name, status, round(seconds, 1),
                                         protocol.clean(message, 500)))
        if not self.quiet:
            print(report.terminal_line(self.stage.test(name), r, self.colour),
                  flush=True)

    def log(self, name, text, mode="a"):
        with open(self.out / "tests" / (name + ".log"), mode) as f:
            f.write(text if text.endswith("\n") or not text else text + "\n")

    def fail_all(self, why):
        self.outcome = why
        for t in self.grade.pending():
            self.grade.record(TestResult(t.name, "fail", 0.0, why))
            self.log(t.name, why, "w")
        raise Outcome(why)

    # --- the grade -------------------------------------------------------

    def run(self):
        st = self.stage
        self.started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.answers:
            a = Path(self.answers)
            if not a.is_file():
                die("ANSWERS=%s is not a file" % self.answers)
            if self.src_arg != "stages":
                die("ANSWERS= fills the kit's own copy of the stage: leave "
                    "SRC= out")
            self.answers = str(a.resolve())
            label = "answers-" + safe_label(a.name)
            self.sub, self.shown = None, ""
        elif self.src_arg in ("stages", "solutions"):
            self.sub = ROOT / self.src_arg / st.name
            self.shown = "%s/%s" % (self.src_arg, st.name)
            label = self.src_arg
        else:
            p = Path(self.src_arg)
            if not p.is_dir():
                die("SRC=%s is not a folder (use stages, solutions or a "
                    "folder)" % self.src_arg)
            if (p / st.name).is_dir() and not (p / st.name).is_symlink():
                p = p / st.name
            self.sub, self.shown = p, self.src_arg
            label = safe_label(p.resolve().name)
        if self.sub is not None and not self.sub.is_dir():
            die("no folder %s to grade" % self.shown)
        out = os.environ.get("KWEB_OUT") or \
            BUILD / "grade" / ("%s-%s-%s" % (st.name, label, self.series))
        self.out = Path(out)
        shutil.rmtree(self.out, ignore_errors=True)
        (self.out / "tests").mkdir(parents=True)
        (self.out / "feedback").mkdir()
        self.out = self.out.resolve()
        self.grade = Grade(stage=st)
        self.info = dict(stage=st.name, source=self.shown,
                         answers=self.answers, kernel=self.series, release="",
                         accel="", started=self.started)
        print("Grading %s (%s) on Linux %s" % (
            st.name, self.shown or "answers from " + self.answers,
            self.series), flush=True)
        try:
            t = time.monotonic()
            self.prepare()
            self.phase("static", t)
            self.kernel()
            if self.reuse:
                self.take_reused()
            if self.grade.pending("guest"):
                self.build_and_boot()
            else:
                self.build()
        except Outcome:
            pass
        return self.finish()

    def build_and_boot(self):
        """The build, the static gate and the feedback tools run while the
        guest boots: the guest asks for the module when it is up, and gets
        it once it is built and admitted (a refused module is never sent;
        that guest is killed)."""
        self.ko_ready = threading.Event()
        self.ko_data = None
        failure = []

        def work():
            try:
                self.build()
            except BaseException as e:      # handed to the main thread
                failure.append(e)
            finally:
                self.ko_ready.set()
        th = threading.Thread(target=work, daemon=True)
        th.start()
        try:
            self.guest()
        finally:
            th.join()
        if failure:
            raise failure[0]

    def prepare(self):
        """The pristine stage, the submission's sources, the blanks."""
        st, out = self.stage, self.out
        self.pristine = out / "pristine"
        sol = ROOT / "solutions" / st.name
        if sol.is_dir():
            stages.generate_one(sol, self.pristine)
        else:
            shutil.copytree(ROOT / "stages" / st.name, self.pristine)
        self.src = out / "source"
        self.src.mkdir()
        rules = st.check_dir / "blanks.rules"
        rules = rules if rules.is_file() else None
        if self.answers:
            if not blanks.unfilled(sorted(self.pristine.glob("*.c")), ""):
                die("%s in this kit has no blanks left to fill (stages/%s was "
                    "filled in?): ANSWERS= needs the stage as handed out"
                    % (st.name, st.name))
            rep = blanks.check(self.pristine, st.conf.sources, rules,
                               answers=Path(self.answers),
                               shown=Path(self.answers).name,
                               out=out / "feedback")
            (out / "feedback" / "blanks.txt").write_text(rep.text)
            if rep.refusals:
                for r in rep.refusals:
                    print("  " + r)
                print("  An answer is one C expression: nothing was built or "
                      "run.")
                self.fail_all("an answer is not one C expression: "
                              + rep.refusals[0])
            if rep.unanswered:
                show(rep.text, 50)
                print('  Answer every blank, one "AAAA = <expression>" line '
                      'each (nothing was run).')
                self.fail_all("blanks not answered")
            filled = out / "filled"
            blanks.fill(self.pristine, rep, filled)
            self.sub = filled
            self.shown = os.path.relpath(out / "source")
        bad = check_submission(self.sub, self.shown, st.conf.sources)
        if bad:
            print("  %s (nothing was run)" % bad)
            self.fail_all(bad)
        for f in st.conf.sources:
            shutil.copyfile(self.sub / f, self.src / f)
        files = [self.src / f for f in st.conf.sources]
        left = blanks.unfilled(files, self.shown)
        (out / "blanks.txt").write_text("".join(x + "\n" for x in left))
        if left:
            for x in left:
                print("  " + x)
            print("  Fill in every blank, then grade again (nothing was run).")
            self.fail_all("unfilled blanks")
        if not self.answers:
            rep = blanks.check(self.pristine, st.conf.sources, rules,
                               submission=self.src, shown=self.shown,
                               out=out / "feedback")
        (out / "feedback" / "blanks.txt").write_text(rep.text)
        graded = st.test("static_blanks") is not None
        if rep.text.strip():
            print("  Blank checker%s:" % ("" if graded else
                                          " (feedback, not graded)"))
            show(rep.text, FEEDBACK_SHOWN)
        if graded:
            self.log("static_blanks", rep.text, "w")
            if rep.findings == 0:
                self.report("static_blanks", "pass")
            else:
                self.report("static_blanks", "fail", 0.0, "the blank checker "
                            "has %d finding(s)" % rep.findings)

    def want_feedback(self, name):
        return os.environ.get("KWEB_FEEDBACK", "1") != "0" or \
            self.stage.test(name) is not None

    def feedback_tool(self, what, args, title, label):
        """checkpatch or sparse through grading/feedback.sh: exit 0 nothing
        to say, 1 findings, 2 the tool could not run."""
        fb = self.out / "feedback"
        r = subprocess.run([str(ROOT / "grading" / "feedback.sh")] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        text = _text(r.stdout[:1 << 20])
        name = "static_" + what
        graded = self.stage.test(name) is not None
        if r.returncode <= 1:
            (fb / (what + ".txt")).write_text(text)
            if text.strip():
                print("  %s%s:" % (title, "" if graded else
                                   " (feedback, not graded)"))
                show(text, 10)
            if graded:
                n = len([x for x in text.split("\n") if x.strip()])
                self.log(name, text, "w")
                if n == 0:
                    self.report(name, "pass")
                else:
                    self.report(name, "fail", 0.0, "%s: %d finding(s)"
                                % (label, n))
        else:
            err = [x for x in _text(r.stderr).split("\n") if x.strip()]
            why = "%s is unavailable: %s" % (label, err[-1] if err else "?")
            print("  " + why)
            (fb / (what + ".unavailable")).write_text(why + "\n")
            if graded:
                die("%s (the rubric grades %s)" % (why, name))

    def kernel(self):
        """The guest's kernel and headers; the build sandbox, before any
        submission is built."""
        if subprocess.run([str(ROOT / "grading" / "kernel.sh"),
                           self.series]).returncode != 0:
            die("the kernel %s is not available (see above)" % self.series)
        self.kdir = kernel_dir(self.series)
        self.info["release"] = (self.kdir / "release").read_text().strip()
        if not self.reuse and not build.unsandboxed():
            ok, why = build.sandbox_available()
            if not ok:
                die(build.sandbox_refusal(why))

    def build(self):
        st, out = self.stage, self.out
        t = time.monotonic()
        bdir = out / "module"
        bdir.mkdir()
        for f in st.conf.sources:
            shutil.copyfile(self.src / f, bdir / f)
        res = build.build_module(self.kdir / "build", bdir, st.conf.module,
                                 self.shown)
        (out / "build.txt").write_text(res.diagnostics)
        if res.refusal:
            print("  " + res.refusal)
            self.fail_all(res.refusal)
        if not res.ok:
            show(res.diagnostics, 200)
            print("  The module does not build: fix the errors above "
                  "(nothing was run).")
            self.fail_all("does not build")
        (out / "feedback" / "warnings.txt").write_text(
            "".join(w + "\n" for w in res.warnings))
        graded = st.test("static_warnings") is not None
        if res.diagnostics.strip():
            print("  Compiler feedback%s:" % ("" if graded else " (not graded)"))
            show(res.diagnostics, 200)
        if graded:
            self.log("static_warnings", "\n".join(res.warnings), "w")
            if res.warnings:
                self.report("static_warnings", "fail", 0.0, "compiler warnings "
                            "at W=1: %d finding(s)" % len(res.warnings))
            else:
                self.report("static_warnings", "pass")
        self.ko = bdir / (st.conf.module + ".ko")
        self.phase("build", t)
        t = time.monotonic()
        refused = gate.check_module(self.ko, st.name, self.kdir)
        self.phase("gate", t)
        if refused:
            (out / "feedback" / "gate.txt").write_text("\n".join(refused) + "\n")
            for r in refused:
                print("  refused: " + r)
            print("  The module was not run: it uses what this stage does "
                  "not allow.")
            self.fail_all("refused before boot: " + refused[0])
        self.module_ready()
        t = time.monotonic()
        if self.want_feedback("static_checkpatch"):
            self.feedback_tool("checkpatch", [
                "checkpatch", self.series, str(self.pristine), str(self.src),
                self.shown] + st.conf.sources, "checkpatch.pl on your changes",
                "checkpatch.pl")
        if self.want_feedback("static_sparse"):
            self.sparse(bdir)
        self.phase("static", t)

    def module_ready(self):
        """The admitted module, without its debug information (a twentieth
        of the size), base64 for the guest's results port."""
        ready = self.ko_ready
        if ready is None:
            return
        small = self.out / "module" / (self.stage.conf.module + ".ko.sent")
        r = subprocess.run(["strip", "--strip-debug", "-o", str(small),
                            str(self.ko)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=60)
        data = small.read_bytes() if r.returncode == 0 else \
            self.ko.read_bytes()
        self.ko_data = base64.encodebytes(data).decode()
        ready.set()

    def sparse(self, bdir):
        """sparse on a copy of the module's sources, in the build's sandbox (it
        compiles the source again: outside the sandbox a __has_include()
        could reach what the build never saw)."""
        name, label = "static_sparse", "sparse"
        graded = self.stage.test(name) is not None
        fb = self.out / "feedback"
        if not shutil.which("sparse"):
            why = "sparse is unavailable: it is not installed (apt-get " \
                  "install sparse)"
        else:
            sdir = self.out / "sparse"
            sdir.mkdir()
            for f in self.stage.conf.sources:
                shutil.copyfile(bdir / f, sdir / f)
            run = build.run_kbuild(self.kdir / "build", sdir,
                                   self.stage.conf.module,
                                   ["W=1", "C=2", "CHECK=sparse", "modules"])
            log = _text(run.output)
            if run.rc == 0:
                found = []
                prefix = str(sdir) + "/"
                for line in log.split("\n"):
                    if line.startswith(prefix) and \
                            re.search(r" (error|warning): ", line) and \
                            not re.search(r" \[-W[^]]*\]$", line):
                        found.append(self.shown + "/" + line[len(prefix):])
                text = "".join(x + "\n" for x in found)
                shutil.rmtree(sdir, ignore_errors=True)
                (fb / "sparse.txt").write_text(text)
                if text:
                    print("  sparse%s:" % ("" if graded else
                                           " (feedback, not graded)"))
                    show(text, 10)
                if graded:
                    self.log(name, text, "w")
                    if found:
                        self.report(name, "fail", 0.0, "%s: %d finding(s)"
                                    % (label, len(found)))
                    else:
                        self.report(name, "pass")
                return
            tail = [x for x in log.split("\n") if x.strip()][-1:]
            why = "sparse cannot check this module: %s" % protocol.clean(
                tail[0] if tail else "exit %d" % run.rc, 200)
        print("  " + why)
        (fb / "sparse.unavailable").write_text(why + "\n")
        if graded:
            die("%s (the rubric grades %s)" % (why, name))

    def take_reused(self):
        """The same module was built and run before: take its results."""
        reuse = Path(self.reuse)
        if not (reuse / "results.tsv").is_file():
            die("KWEB_REUSE=%s holds no results" % reuse)
        info, rows = load_results(reuse)
        if info.get("stage") != self.stage.name or \
                info.get("kernel") != self.series:
            die("KWEB_REUSE=%s graded another stage or kernel" % reuse)
        for f in ("build.txt", "feedback/sparse.txt",
                  "feedback/sparse.unavailable", "feedback/warnings.txt",
                  "feedback/gate.txt"):
            if (reuse / f).is_file():
                shutil.copyfile(reuse / f, self.out / f)
        text = (self.out / "build.txt").read_text() \
            if (self.out / "build.txt").is_file() else ""
        if text.strip():
            print("  Compiler feedback%s:" % (
                "" if self.stage.test("static_warnings") else " (not graded)"))
            show(text, 200)
        self.info["accel"] = info.get("accel", "")
        print("  same module as %s: its build and test results are reused"
              % os.path.relpath(reuse))
        for row in rows:
            n = row["name"]
            if not self.stage.test(n) or self.grade.result(n) or \
                    n in ("static_blanks", "static_checkpatch"):
                continue
            if (reuse / "tests" / (n + ".log")).is_file():
                shutil.copyfile(reuse / "tests" / (n + ".log"),
                                self.out / "tests" / (n + ".log"))
            self.report(n, row["status"], float(row["seconds"] or 0),
                        row.get("message", ""))
        if info.get("outcome"):
            self.outcome = info["outcome"]
        raise Outcome(self.outcome)

    # --- the guest -------------------------------------------------------

    def guest(self):
        tests = self.grade.pending("guest")
        if not tests:
            return
        t = time.monotonic()
        base = vm.base_image()
        self.phase("image", t)
        self.accel = vm.accel(self.kdir)
        self.info["accel"] = self.accel
        self.scale = vm.scale(self.accel, self.kdir)
        print("  guest: Linux %s, %s, timeouts x%d" % (
            self.info["release"], self.accel, self.scale), flush=True)
        index = {t.name: i + 1 for i, t in enumerate(self.stage.tests)}
        deadline = time.monotonic() + 120 + len(tests) * 90 * self.scale
        boots, stalls = 0, 0
        trouble = ""
        while self.grade.pending("guest"):
            if self.ko_ready.is_set() and self.ko_data is None:
                return          # the build failed or was refused
            boots += 1
            if boots > len(tests) * 2 + 3:
                die("the guest keeps failing: %s" % trouble)
            if time.monotonic() > deadline:
                for t in self.grade.pending("guest"):
                    self.report(t.name, "timeout", 0.0,
                                "not run: grading ran out of time")
                break
            before = len(self.grade.pending("guest"))
            try:
                trouble = self.boot(boots, [(index[t.name], t) for t in
                                            self.grade.pending("guest")],
                                    base, deadline)
            except NoModule:
                return
            if len(self.grade.pending("guest")) == before:
                said = trouble
                trouble = trouble or "no test ran (see %s/console-%d.log)" \
                    % (self.out, boots)
                stalls += 1
                if stalls >= 3:
                    die(trouble)
                note("%s; booting a fresh one" % (
                    said or "the guest ended before any test ran"))
            else:
                stalls = 0

    def boot(self, n, tests, base, deadline_all):
        """Boot once and run the tests that have no result yet; returns
        what went wrong when no test ended."""
        out = self.out
        t = time.monotonic()
        ov = out / ("overlay-%d" % n)
        vm.overlay(ov, self.kdir, self.stage, None, tests)
        initrd = vm.initrd(out, base, ov)
        shutil.rmtree(ov)
        self.phase("image", t)
        t_boot, first = time.monotonic(), True
        nonce = protocol.new_nonce()
        stream = protocol.ResultStream(nonce, [protocol.Expected(i, t.name)
                                               for i, t in tests])
        raw = open(out / ("ktap-%d.log" % n), "w")
        console = out / ("console-%d.log" % n)
        watch = kconsole.ConsoleWatch(nonce)
        boot = vm.start(self.accel, self.kdir, initrd,
                        "kweb.mode=test kweb.scale=%d kweb.nonce=%s"
                        % (self.scale, nonce), console,
                        out / ("qemu-%d.err" % n), watch)
        by_index = {i: t for i, t in tests}
        cur, t_start, host_timeout = None, 0.0, False
        first_result = True
        deadline = time.monotonic() + 60 * self.scale
        probes = {}
        over = False
        try:
            while True:
                now = time.monotonic()
                if now > deadline or now > deadline_all:
                    host_timeout = True
                    boot.kill()
                    break
                lines = boot.lines(1.0)
                if lines is None:
                    break
                for line in lines:
                    ev = stream.feed(line)
                    raw.write(protocol.clean(line, 300) + "\n")
                    if ev.kind == "boot":
                        boot.send("KWEB-MARK %s %s\n" % (nonce,
                                                         watch.expect(0)))
                    elif ev.kind == "module":
                        self.ko_ready.wait()
                        if self.ko_data is None:
                            raise NoModule()
                        boot.send(self.ko_data + "KWEB-END %s\n" % nonce)
                        deadline = time.monotonic() + 60 * self.scale
                    elif ev.kind == "start":
                        cur, t_start = by_index[ev.index], time.monotonic()
                        if first:
                            self.phase("boot", t_boot)
                            t_boot, first = time.monotonic(), False
                        self.log(cur.name, "", "w")
                        boot.send(cur.script.read_text() +
                                  "\nKWEB-END %s\n" % nonce)
                        deadline = time.monotonic() + \
                            cur.timeout * self.scale + 20
                    elif ev.kind == "text" and cur:
                        self.log(cur.name, ev.value)
                    elif ev.kind == "probe" and cur and \
                            cur.name.startswith("host_") and \
                            ev.value == self.stage.conf.probe and \
                            cur.name not in probes:
                        probes[cur.name] = None
                        threading.Thread(target=self._probe, args=(
                            boot, nonce, cur.name, ev.value, probes),
                            daemon=True).start()
                    elif ev.kind == "result" and cur:
                        # The token for the runner's end mark: it exists
                        # only now that the test is over (console.py).
                        boot.send("KWEB-MARK %s %s\n"
                                  % (nonce, watch.expect(ev.index)))
                        if first_result:
                            first_result = False
                            early = self.boot_reports(n, watch)
                            if early:
                                return early    # not this test's doing
                        self.guest_result(cur, ev.value, t_start, probes,
                                          watch, by_index)
                        cur = None
                        deadline = time.monotonic() + 30 * self.scale
                    elif ev.kind in ("dirty", "done"):
                        over = True     # nothing more to hear: no need
                        break           # to wait for the guest's reboot
                if over:
                    break
        finally:
            boot.kill()
            boot.wait()
            raw.close()
            self.phase("boot" if first else "tests", t_boot)
            for f in (initrd, out / "overlay.cpio"):
                f.unlink(missing_ok=True)
        if boot.flooded:
            print("  boot %d: %s; the first %d MiB and the last %d KiB are in "
                  "%s" % (n, boot.flooded, vm.CONSOLE_HEAD >> 20,
                          vm.CONSOLE_TAIL >> 10, console.name), flush=True)
        text = console.read_text(errors="replace") if console.is_file() else ""
        if stream.rejected:
            note("%d forged or malformed control line(s) from the guest were "
                 "ignored" % stream.rejected)
        if watch.forged:
            note("%d forged end-of-test mark(s) in the kernel log were "
                 "ignored" % watch.forged)
        if cur is not None:
            secs = time.monotonic() - t_start
            if boot.flooded:
                self.log(cur.name, "ERROR: %s" % boot.flooded)
                self.report(cur.name, "error", secs, boot.flooded)
            elif host_timeout and not boot.panicked:
                self.log(cur.name, "TIMEOUT: the guest stopped responding; "
                         "it was killed")
                self.report(cur.name, "timeout", secs, "the guest stopped "
                            "responding (hung kernel?)")
            else:
                self.log(cur.name, "ERROR: the guest kernel crashed during "
                         "this test%s\n%s" % (
                             " (QEMU's pvpanic device saw the panic)"
                             if boot.panicked else "", oops_text(text)))
                early = [r for r in watch.unmarked() if r.kind() != "oops"]
                for r in early[:3]:
                    self.log(cur.name, "before the crash, " + self._report_text(r))
                self.report(cur.name, "error", secs, oops_summary(text))
            return ""
        if not stream.done and not stream.dirty:
            return "the guest ended unexpectedly: %s (see %s, %s)" % (
                boot.flooded or oops_summary(text), console,
                out / ("qemu-%d.err" % n))
        return ""

    def boot_reports(self, n, watch):
        """What the kernel reported before the boot's mark (index 0, which
        the runner writes before the module is even sent): a report of the
        kernel's own boot, which no test and no module caused. The boot is
        thrown away, its first result with it, and a fresh guest runs the
        tests again (three such boots in a row end the grade with the
        reason). Returns the reason, or "" when the boot was clean or its
        mark never came (then the reports count for the first test, as
        they did before the mark existed)."""
        early = watch.wait_mark(0, 10 * self.scale)
        if not early:
            return ""
        return "boot %d: the kernel reported a problem while booting, " \
               "before any test ran (%s); this is not the submission's " \
               "doing" % (n, early[0].summary(self.stage.conf.module))

    def _probe(self, boot, nonce, name, kind, probes):
        try:
            r = probe.PROBES[kind](boot.host_port, self.scale)
        except Exception as e:      # a probe must never stop the grade
            r = probe.ProbeResult(False, False, "the probe failed: %s" % e)
        probes[name] = r
        boot.send("KWEB-PROBED %s %s\n" % (nonce, "ok" if r.correct
                                            else "fail"))

    def _report_text(self, r):
        return "%s:\n%s" % (r.summary(self.stage.conf.module),
                            "\n".join("    " + x for x in r.lines[:REPORT_SHOWN]))

    def kernel_reports(self, t, index, watch):
        """What the kernel reported on its console during test t, waiting
        for the runner's end-of-test mark: (status, message), or None when
        it reported nothing."""
        reports = watch.wait_mark(index, 10 * self.scale)
        if reports is None:
            return ("fail", "the kernel log did not show this test's end "
                    "within %d s (a module that floods or stops the kernel's "
                    "log?)" % (10 * self.scale))
        if not reports:
            return None
        self.log(t.name, "--- what the kernel reported (console) ---")
        for r in reports[:3]:
            self.log(t.name, self._report_text(r))
        if len(reports) > 3:
            self.log(t.name, "... and %d more report(s): see the console log"
                     % (len(reports) - 3))
        return ("fail", reports[0].summary(self.stage.conf.module))

    def guest_result(self, t, status, t_start, probes, watch=None,
                     by_index=None):
        secs = time.monotonic() - t_start
        logf = self.out / "tests" / (t.name + ".log")
        msg, seen = "", None
        if watch is not None:
            index = next(i for i, x in by_index.items() if x is t)
            seen = self.kernel_reports(t, index, watch)
            if seen and status in ("pass", "fail", "skip"):
                status, msg = seen
        if t.name.startswith("host_"):
            p = probes.get(t.name)
            if p is None:
                status, msg = "fail", "the host's probe did not run (the " \
                    "test never asked for it, or it did not finish)"
            else:
                self.probe_seen = self.probe_seen or p.alive
                self.log(t.name, "host probe: %s" % p.message)
                if status == "pass" and not p.correct:
                    status = "fail"
                if not p.correct and not seen:     # the kernel's word first
                    msg = p.message
        if status != "pass" and not msg:
            text = logf.read_text(errors="replace") if logf.is_file() else ""
            m = re.search(r"^(?:FAIL|TIMEOUT): (.*)$", text, re.M)
            msg = m.group(1) if m else "failed: see %s" % logf
        self.report(t.name, status, secs, msg)

    # --- the end ---------------------------------------------------------

    def gate_on_probe(self):
        """A guest test counts only if the host saw the server answer: a
        module that forges results in the guest still fails them. The
        stage's LOCAL_TESTS need no server (insmod refusing host=abc), so a
        module that crashes when it serves keeps their points."""
        probes = [t for t in self.stage.tests if t.name.startswith("host_")]
        if not probes or self.reuse:
            return
        if self.probe_seen:
            return
        why = "not confirmed by the host: its own probe (%s) never reached " \
              "a working server, so the guest's word is not taken" % \
              probes[0].name
        for t, r in list(self.grade.rows()):
            if t.kind == "guest" and r.status == "pass" and t not in probes \
                    and t.name not in self.stage.conf.local:
                self.grade.results[t.name] = TestResult(t.name, "fail",
                                                        r.seconds, why)
                self.log(t.name, "FAIL: " + why)
                if not self.quiet:
                    print(report.terminal_line(t, self.grade.results[t.name],
                                               self.colour))

    def finish(self):
        for t in self.grade.pending():
            self.grade.record(TestResult(t.name, "error", 0.0, "not run"))
        self.gate_on_probe()
        self.info.update(seconds="%.1f" % (time.monotonic() - self.t0),
                         phases=" ".join("%s=%.1f" % kv for kv in
                                         self.phases.items()),
                         pack=str(self.stage.pack_dir or ""),
                         outcome=self.outcome, reused=self.reuse)
        self.grade.info = self.info
        self.grade.save(self.out)
        try:
            report.write_all(self.grade, self.out)
        except OSError as e:
            die("writing the reports into %s failed: %s" % (self.out, e))
        print("Results: %s" % self.out)
        print("Report: %s/report.md" % self.out)
        print("Total: %d/%d" % (self.grade.total, self.grade.max), flush=True)
        return 0 if self.grade.total == self.grade.max else 1


def _text(b):
    return b.decode("utf-8", "replace")


def main(argv):
    if not argv:
        die("usage: grading/kw grade STAGE [SRC] [KERNEL]")
    if subprocess.run([str(ROOT / "grading" / "deps.sh"), "grade"]).returncode:
        die("the host lacks packages grading needs (see above)")
    g = Grader(argv[0], argv[1] if len(argv) > 1 else "stages",
               argv[2] if len(argv) > 2 else None)
    return g.run()


__all__ = ["main", "Grader", "KwebError"]
