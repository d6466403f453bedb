"""The grader's checks that need no guest: what a submission may be, how
a crash is summarized, and that the host's probe gates the guest's word."""

import os
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import grade, protocol  # noqa: E402
from kweb.model import Grade  # noqa: E402
from kweb.model import TestResult as Result  # noqa: E402
from kweb.stagefiles import load_stage  # noqa: E402


def sub(tmp_path, files=None):
    d = tmp_path / "sub"
    d.mkdir()
    for name, text in (files or {"kweb.c": "int x;\n"}).items():
        (d / name).write_text(text)
    return d


def test_a_plain_submission_passes(tmp_path):
    assert grade.check_submission(sub(tmp_path), "s", ["kweb.c"]) == ""


def test_a_symlinked_folder_is_refused(tmp_path):
    real = sub(tmp_path)
    link = tmp_path / "student-b"
    link.symlink_to(real)
    assert "symbolic link" in grade.check_submission(link, "student-b",
                                                     ["kweb.c"])


def test_a_symlink_inside_is_refused(tmp_path):
    d = sub(tmp_path)
    (tmp_path / "other.c").write_text("int y;\n")
    (d / "kweb.c").unlink()
    (d / "kweb.c").symlink_to(tmp_path / "other.c")
    msg = grade.check_submission(d, "student-b", ["kweb.c"])
    assert "kweb.c is a symbolic link" in msg


def test_a_deep_symlink_is_refused(tmp_path):
    d = sub(tmp_path)
    (d / "a" / "b").mkdir(parents=True)
    (d / "a" / "b" / "x").symlink_to("/etc/passwd")
    assert "a/b/x is a symbolic link" in grade.check_submission(d, "s",
                                                                ["kweb.c"])


def test_a_fifo_is_refused(tmp_path):
    d = sub(tmp_path)
    os.mkfifo(d / "pipe")
    assert "not a regular file" in grade.check_submission(d, "s", ["kweb.c"])


def test_sizes_are_capped(tmp_path):
    d = sub(tmp_path, {"kweb.c": "x" * (grade.MAX_SOURCE + 1)})
    assert "larger than 1 MiB" in grade.check_submission(d, "s", ["kweb.c"])
    d2 = tmp_path / "many"
    d2.mkdir()
    for i in range(grade.MAX_FILES + 5):
        (d2 / ("f%d" % i)).write_text("")
    assert "more than" in grade.check_submission(d2, "s", ["kweb.c"])


def test_a_missing_source_is_named(tmp_path):
    msg = grade.check_submission(sub(tmp_path), "s", ["kecho.c"])
    assert "s/kecho.c is missing" in msg


def test_oops_summary_names_the_function():
    text = ("[ 5.1] BUG: kernel NULL pointer dereference, address: 0\n"
            "[ 5.1] RIP: 0010:kweb_init+0x14/0x90 [kecho]\n")
    s = grade.oops_summary(text)
    assert "NULL pointer dereference" in s and "kweb_init+0x14/0x90 [kecho]" in s
    assert grade.oops_summary("\x1b[2Jnothing") == "kernel crashed: panic"


class FakeGrader(grade.Grader):
    def __init__(self, stage):
        self.stage = stage
        self.grade = Grade(stage=stage)
        self.quiet, self.reuse, self.colour = True, "", False
        self.probe_seen = False
        self.logs = {}

    def log(self, name, text, mode="a"):
        self.logs.setdefault(name, []).append(text)


def test_guest_passes_need_the_hosts_probe():
    st = load_stage(1)
    g = FakeGrader(st)
    for t in st.tests:
        g.grade.record(Result(t.name, "pass" if t.name != "host_echo"
                                  else "fail"))
    g.gate_on_probe()
    assert all(r.status == "fail" for t, r in g.grade.rows()
               if t.name != "invalid_params")
    assert "not confirmed by the host" in g.grade.result("echo_nc").message
    # a test that needs no server keeps the guest's word
    assert g.grade.result("invalid_params").status == "pass"
    g = FakeGrader(st)
    g.probe_seen = True
    for t in st.tests:
        g.grade.record(Result(t.name, "pass"))
    g.gate_on_probe()
    assert g.grade.total == g.grade.max


def test_the_probe_is_always_graded():
    names = grade.Grader._with_probe(1, ["echo_nc"])
    assert names == ["echo_nc", "host_echo"]
    assert grade.Grader._with_probe(1, None) is None


def test_strip_hidden(tmp_path):
    import shutil
    from kweb.paths import ROOT
    from kweb.stagefiles import parse_rubric, strip_hidden
    c = tmp_path / "checker"
    shutil.copytree(ROOT / "checker", c)
    r = c / "01-kthread-echo" / "rubric"
    (c / "01-kthread-echo" / "tests" / "secret.sh").write_text("true\n")
    r.write_text(r.read_text() + "secret 5 20 hidden a hidden test\n"
                 "http_curl 5 20 hidden hidden here, visible elsewhere\n")
    assert strip_hidden(c) == ["http_curl", "secret"]
    names = [t.name for t in parse_rubric(r)]
    assert "secret" not in names and "http_curl" not in names
    assert not (c / "01-kthread-echo" / "tests" / "secret.sh").exists()
    assert (c / "common" / "tests" / "http_curl.sh").exists()


def test_a_rubric_can_require_a_kernel(tmp_path, monkeypatch):
    import pytest
    from kweb.paths import KwebError
    pack = tmp_path / "pack" / "04-sysfs-control"
    pack.mkdir(parents=True)
    (pack / "rubric").write_text("# graded on the sanitizer kernel only\n"
                                 "require kernel debug\n")
    monkeypatch.setenv("KWEB_INSTRUCTOR_PACK", str(pack.parent))
    assert load_stage(4).kernels == ["debug"]
    with pytest.raises(KwebError) as e:
        grade.Grader("4", "solutions", "6.12")
    assert str(e.value) == ("the rubric of 04-sysfs-control requires "
                            "KERNEL=debug (it is graded there only): run it "
                            "again with KERNEL=debug")
    assert grade.Grader("4", "solutions", "debug").series == "debug"
    monkeypatch.setenv("KWEB_INSTRUCTOR_PACK", "none")
    assert load_stage(4).kernels == []
    assert grade.Grader("4", "solutions", "6.12").series == "6.12"
    for bad in ("require kernel 5.10\n", "require debug\n", "require kernel\n"):
        (pack / "rubric").write_text(bad)
        monkeypatch.setenv("KWEB_INSTRUCTOR_PACK", str(pack.parent))
        with pytest.raises(KwebError) as e:
            load_stage(4)
        assert "expected 'require kernel K...'" in str(e.value)


# --- a boot, with a scripted guest instead of QEMU ------------------------

BOOT_KASAN = [
    "[    1.2] ==================================================================",
    "[    1.2] BUG: KASAN: wild-memory-access in do_raw_spin_lock+0x6d/0x230",
    "[    1.2] Read of size 4 at addr 1fffffff8a2a1f24 by task swapper/0/0",
    "[    1.2] Call Trace:",
    "[    1.2]  handle_edge_irq+0x30/0x5a0",
    "[    1.2] ==================================================================",
]


class ScriptedGuest:
    """The guest's side of one boot: the runner's control lines, and its
    marks on the console (fed to the grader's ConsoleWatch) once the host
    sends their tokens. boot_report: a report the kernel prints before the
    boot's mark; test_report: one during the first test."""

    def __init__(self, append, watch, tests, boot_report=(), test_report=()):
        self.nonce = re.search(r"kweb\.nonce=([0-9a-f]+)", append).group(1)
        self.watch, self.tests = watch, list(tests)
        self.boot_report, self.test_report = boot_report, test_report
        self.todo = ["KWEB %s boot" % self.nonce]
        self.marks = 0
        self.flooded, self.panicked = "", False

    def console(self, lines):
        self.watch.feed("".join(x + "\n" for x in lines).encode())

    def lines(self, timeout):
        out, self.todo = self.todo, []
        return out or None

    def send(self, text):
        m = re.match(r"KWEB-MARK %s ([0-9a-f]+)" % self.nonce, text)
        if not m:               # the script of the test: run it
            i, name = self.tests[0]
            if i == 1:
                self.console(self.test_report)
            self.todo.append("KWEB %s result %d %s ok" % (self.nonce, i, name))
            return
        if self.marks == 0:
            self.console(self.boot_report)
        else:
            self.tests.pop(0)
        self.console(["[    9.9] kweb-end %s %d %s" % (self.nonce, self.marks,
                                                        m.group(1))])
        self.marks += 1
        if self.tests:
            i, name = self.tests[0]
            self.todo.append("KWEB %s start %d %s" % (self.nonce, i, name))
        else:
            self.todo.append("KWEB %s done" % self.nonce)

    def kill(self):
        pass

    def wait(self):
        pass


def boot_grader(tmp_path, monkeypatch, reports):
    """A grader of stage 1's invalid_params whose guests are scripted:
    reports[n] is (boot_report, test_report) of boot n + 1."""
    st = load_stage(1, only=["invalid_params"])
    g = FakeGrader(st)
    g.log = grade.Grader.log.__get__(g)
    g.out = tmp_path
    (tmp_path / "tests").mkdir()
    g.kdir, g.scale, g.accel, g.phases = tmp_path, 1, "tcg", {}
    g.ko_ready, g.ko_data = threading.Event(), "x"
    g.ko_ready.set()
    g.info = {"release": "test"}
    boots = []

    def start(acc, kdir, initrd, append, console_log, err, watch):
        boot_report, test_report = reports[len(boots)]
        boots.append(ScriptedGuest(append, watch, [(1, "invalid_params")],
                                   boot_report, test_report))
        return boots[-1]

    monkeypatch.setattr(grade.vm, "overlay", lambda *a, **k: Path(a[0]).mkdir())
    monkeypatch.setattr(grade.vm, "initrd", lambda out, base, ov:
                        tmp_path / "initrd.cpio")
    monkeypatch.setattr(grade.vm, "start", start)
    return g, boots


def test_a_report_before_the_boot_mark_is_not_the_first_tests(
        tmp_path, monkeypatch, capsys):
    g, boots = boot_grader(tmp_path, monkeypatch,
                           [(BOOT_KASAN, ()), ((), ())])
    tests = [(1, g.stage.test("invalid_params"))]
    why = g.boot(1, tests, None, time.monotonic() + 60)
    assert "while booting, before any test ran" in why
    assert "wild-memory-access" in why
    assert g.grade.pending("guest"), "the boot's result was thrown away"
    assert g.boot(2, tests, None, time.monotonic() + 60) == ""
    assert g.grade.result("invalid_params").status == "pass"
    assert len(boots) == 2


def test_a_report_after_the_boot_mark_fails_the_test(tmp_path, monkeypatch):
    # The wrong module this catches: one whose report the grader would
    # take for the boot's if the mark were not there.
    g, boots = boot_grader(tmp_path, monkeypatch,
                           [((), BOOT_KASAN)])
    tests = [(1, g.stage.test("invalid_params"))]
    assert g.boot(1, tests, None, time.monotonic() + 60) == ""
    r = g.grade.result("invalid_params")
    assert r.status == "fail" and "wild-memory-access" in r.message


def test_only_the_first_boot_mark_counts():
    s = protocol.ResultStream("a" * 32, [protocol.Expected(1, "t")])
    assert s.feed("KWEB %s boot" % ("a" * 32)).kind == "boot"
    assert s.feed("KWEB %s boot" % ("a" * 32)).kind == "ignored"
    assert s.rejected == 1
