"""Tests of grading/kweb/classbatch.py: the class and quiz batch, with a fake
grader (KWEB_GRADE_CMD) so that no guest boots.

    /usr/bin/python3 -m pytest tests/py/test_class.py
"""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import classbatch, stages  # noqa: E402
from kweb.paths import ROOT, KwebError  # noqa: E402

STAGE1 = "01-kthread-echo"
STAGE5 = "05-netns"

# The fake grader: "grading/kw grade STAGE SRC KERNEL" in a few lines. What
# it does is chosen by markers in the submission's text.
FAKE = textwrap.dedent("""\
    import json, os, sys, time
    from pathlib import Path
    stage, src, kernel = sys.argv[1:4]
    out = Path(os.environ["KWEB_OUT"])
    ans = os.environ.get("KWEB_ANSWERS", "")
    text = ""
    if ans:
        text = Path(ans).read_text()
    elif src != "stages":
        for p in sorted(Path(src).rglob("*")):
            if p.is_file():
                text += p.read_text(errors="replace")
    print("fake grade", stage, src, kernel, flush=True)
    if os.environ.get("FAKE_PIDS"):
        Path(os.environ["FAKE_PIDS"], str(os.getpid())).write_text("")
    if "@@HANG@@" in text:
        time.sleep(600)
    if "@@FLOOD@@" in text:
        while True:
            sys.stdout.write("x" * 65536)
    if "@@ERROR@@" in text:
        print("kweb: error: the guest did not boot (fake)")
        sys.exit(2)
    out.mkdir(parents=True, exist_ok=True)
    keys = ("KWEB_OUT", "KWEB_QUIET", "KWEB_ANSWERS", "KWEB_REUSE",
            "KWEB_BASE_IMAGE")
    (out / "env.json").write_text(json.dumps(
        {"argv": sys.argv[1:], "env": {k: os.environ.get(k) for k in keys}}))
    (out / "initrd.cpio").write_text("image")
    if "@@NORESULT@@" in text:
        sys.exit(0)
    total = 0 if "@@ZERO@@" in text else 10
    outcome = "the module does not build" if total == 0 else "all tests ran"
    (out / "results.info").write_text(
        "total\\t%d\\nmax\\t10\\noutcome\\t%s\\n" % (total, outcome))
    (out / "results.tsv").write_text(
        "name\\tstatus\\tscore\\tmax_score\\tseconds\\tvisibility\\tmessage\\n")
    sys.exit(0 if total == 10 else 1)
    """)


def answers_of(stage):
    return dict(stages.answers(ROOT / "solutions" / stage))


def answers_text(stage, **changed):
    a = answers_of(stage)
    a.update(changed)
    return "".join("%s = %s\n" % kv for kv in a.items())


@pytest.fixture
def env(tmp_path, monkeypatch):
    fake = tmp_path / "fake_grade.py"
    fake.write_text(FAKE)
    monkeypatch.setenv("KWEB_GRADE_CMD", "%s %s" % (sys.executable, fake))
    monkeypatch.setenv("KWEB_CLASS_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("KWEB_INSTRUCTOR_PACK", "none")
    monkeypatch.setenv("KWEB_JOBS", "2")
    for k in ("ID_COLUMN", "KWEB_JOB_TIMEOUT", "KWEB_ANSWERS", "KWEB_REUSE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(classbatch, "KILL_GRACE", 2)
    return tmp_path


def book(tmp_path):
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def book_rows(tmp_path):
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        return list(csv.reader(f))


def grade_env(tmp_path, safe):
    return json.loads((tmp_path / "out" / "students" / safe /
                       "env.json").read_text())


# --- a class -------------------------------------------------------------------

def make_class(sub):
    sub.mkdir()
    (sub / "alice.txt").write_text(answers_text(STAGE1))
    (sub / "bob.txt").write_text(answers_text(STAGE1).replace(", ", ","))
    subprocess.run(["cp", "-r", str(ROOT / "solutions" / STAGE1),
                    str(sub / "carol")], check=True)
    (sub / "dave.txt").write_text(answers_text(
        STAGE1, DDDD='kthread_create(kweb_accept_thread, NULL, "kecho")'))
    (sub / "olga").mkdir()
    (sub / "olga" / "answers.txt").write_text(answers_text(STAGE1))
    (sub / "nora.answers").write_text("# Nora\n\n" + answers_text(STAGE1))


def test_class_grades_and_dedups(env, capsys):
    sub = env / "sub"
    make_class(sub)
    rc = classbatch.run_class("1", sub, "6.12")
    cap = capsys.readouterr()
    out = cap.out
    assert rc == 0, cap.err
    b = book(env)
    assert list(b) == ["alice", "bob", "carol", "dave", "nora", "olga"]
    assert {k: r["same_as"] for k, r in b.items()} == {
        "alice": "", "bob": "alice", "carol": "alice", "dave": "",
        "nora": "alice", "olga": "alice"}
    assert all(r["status"] == "graded" and r["score"] == "10"
               and r["max_score"] == "10" for r in b.values())
    assert b["alice"]["report"] == "students/alice/report.md"
    assert book_rows(env)[0] == ["student", "score", "max_score", "status",
                                 "same_as", "seconds", "report", "message"]
    # Who reuses what, with which environment
    e = grade_env(env, "bob")
    assert e["env"]["KWEB_REUSE"] == str(env / "out" / "students" / "alice")
    assert e["env"]["KWEB_ANSWERS"] == str(sub / "bob.txt")
    assert e["env"]["KWEB_QUIET"] == "1"
    assert e["argv"] == [STAGE1, "stages", "6.12"]
    e = grade_env(env, "carol")
    assert e["argv"] == [STAGE1, str(sub / "carol"), "6.12"]
    assert e["env"]["KWEB_ANSWERS"] is None
    assert grade_env(env, "alice")["env"]["KWEB_REUSE"] is None
    assert grade_env(env, "olga")["env"]["KWEB_ANSWERS"] == \
        str(sub / "olga" / "answers.txt")
    # tidied, progress shown
    assert not (env / "out" / "students" / "alice" / "initrd.cpio").exists()
    assert "[1/6] " in out and "[6/6] " in out and "Gradebook: " in out
    assert "(same answers as alice)" in out


def test_changed_source_is_keyed_by_its_text(env):
    sub = env / "sub"
    make_class(sub)
    subprocess.run(["cp", "-r", str(ROOT / "solutions" / STAGE1),
                    str(sub / "ivan")], check=True)
    src = sub / "ivan" / "kecho.c"
    src.write_text("/* my version */\n" + src.read_text())
    assert classbatch.run_class("1", sub, "6.12") == 0
    assert book(env)["ivan"]["same_as"] == ""


def test_a_failed_representative_is_not_reused(env):
    sub = env / "sub"
    sub.mkdir()
    (sub / "a.txt").write_text("# @@ERROR@@\n" + answers_text(STAGE1))
    (sub / "b.txt").write_text(answers_text(STAGE1))
    assert classbatch.run_class("1", sub, "6.12") == 1
    b = book(env)
    assert b["a"]["status"] == "error"
    assert "the guest did not boot (fake): see log/a.txt" in b["a"]["message"]
    assert b["b"]["status"] == "graded" and b["b"]["score"] == "10"
    assert grade_env(env, "b")["env"]["KWEB_REUSE"] is None


def test_errors_timeouts_floods_and_no_results(env, monkeypatch, capsys):
    monkeypatch.setenv("KWEB_JOB_TIMEOUT", "2")
    monkeypatch.setattr(classbatch, "MAX_LOG", 1 << 20)
    sub = env / "sub"
    sub.mkdir()
    for name, blank, marker in (("hang", "1", "@@HANG@@"),
                                ("flood", "2", "@@FLOOD@@"),
                                ("none", "3", "@@NORESULT@@"),
                                ("zero", "4", "@@ZERO@@"),
                                ("fine", "5", "")):
        (sub / (name + ".txt")).write_text(
            "# %s\n" % marker + answers_text(STAGE1, AAAA=blank))
    rc = classbatch.run_class("1", sub, "6.12")
    capsys.readouterr()
    assert rc == 1
    b = book(env)
    assert b["hang"]["status"] == "error"
    assert "the grade took longer than 2 s" in b["hang"]["message"]
    assert b["flood"]["status"] == "error"
    assert "more than 1 MiB of output" in b["flood"]["message"]
    assert (env / "out" / "log" / "flood.txt").stat().st_size < (2 << 20)
    assert b["none"]["status"] == "error"
    assert "left no results" in b["none"]["message"]
    assert b["zero"]["status"] == "graded" and b["zero"]["score"] == "0"
    assert b["zero"]["message"] == "the module does not build"
    assert b["fine"]["score"] == "10"


def test_interrupted_batch_ends_its_grades(env, tmp_path):
    sub = env / "sub"
    sub.mkdir()
    for i in range(3):
        (sub / ("h%d.txt" % i)).write_text(
            "# @@HANG@@\n" + answers_text(STAGE1, AAAA=str(i)))
    pids = tmp_path / "pids"
    pids.mkdir()
    e = dict(os.environ, FAKE_PIDS=str(pids))
    p = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""\
        import signal, sys
        # a shell's background job starts with SIGINT ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path.insert(0, %r)
        from kweb import classbatch
        sys.exit(classbatch.run_class("1", %r, "6.12"))
        """) % (str(ROOT / "grading"), str(sub))], env=e,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if len(os.listdir(pids)) == 2:
            break
        time.sleep(0.1)
    assert len(os.listdir(pids)) == 2          # KWEB_JOBS=2 at once
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=20) != 0
    time.sleep(0.5)
    for pid in os.listdir(pids):
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
    assert len(os.listdir(pids)) == 2          # the third never started


# --- hostile entries ---------------------------------------------------------------

def test_symlinks_are_refused(env, capsys):
    sub = env / "sub"
    sub.mkdir()
    subprocess.run(["cp", "-r", str(ROOT / "solutions" / STAGE1),
                    str(sub / "student-a")], check=True)
    (sub / "student-b").mkdir()
    os.symlink("../student-a/kecho.c", sub / "student-b" / "kecho.c")
    (sub / "student-c").mkdir()
    os.symlink("../student-a", sub / "student-c" / STAGE1)
    os.symlink("/etc", sub / "mia")
    os.symlink("student-a", sub / "student-d")
    (sub / "student-e").mkdir()
    os.mkfifo(sub / "student-e" / "kecho.c")
    assert classbatch.run_class("1", sub, "6.12") == 0
    out = capsys.readouterr().out
    b = book(env)
    assert b["student-a"]["status"] == "graded"
    for s in ("student-b", "student-c", "mia", "student-d", "student-e"):
        assert b[s]["status"] == "invalid", s
        assert b[s]["score"] == ""
        assert not (env / "out" / "students" / s).exists()
    assert b["student-b"]["message"] == (
        "submission contains a symlink: student-b/kecho.c -> "
        "../student-a/kecho.c; copy the files instead")
    assert b["student-c"]["message"].startswith(
        "submission contains a symlink: student-c/%s -> ../student-a" % STAGE1)
    assert b["mia"]["message"] == \
        "submission is a symlink: mia -> /etc; copy the files instead"
    assert "neither a file nor a folder" in b["student-e"]["message"]
    assert "invalid: submission contains a symlink: student-b/kecho.c" in out


def test_size_caps(env):
    sub = env / "sub"
    sub.mkdir()
    (sub / "big").mkdir()
    with open(sub / "big" / "kecho.c", "wb") as f:
        f.truncate(classbatch.MAX_BYTES + 1)
    (sub / "many").mkdir()
    for i in range(classbatch.MAX_ENTRIES + 1):
        (sub / "many" / ("f%d" % i)).write_text("x")
    with open(sub / "huge.txt", "wb") as f:
        f.truncate(classbatch.MAX_BYTES + 1)
    (sub / "ok.txt").write_text(answers_text(STAGE1))
    assert classbatch.run_class("1", sub, "6.12") == 0
    b = book(env)
    assert b["big"]["status"] == "invalid"
    assert "over 4 MiB" in b["big"]["message"]
    assert b["many"]["status"] == "invalid"
    assert "more than 200 files" in b["many"]["message"]
    assert b["huge.txt"]["status"] == "invalid"
    assert b["ok"]["status"] == "graded"


def test_ids_are_unique_safe_folder_names(env):
    sub = env / "sub"
    (sub / "pat").mkdir(parents=True)
    # dot files are not entries (as in a shell's *)
    for e in ("p q.txt", "p?q.txt", "p_q.txt", "pat.txt", ".hidden.txt",
              "P_Q.txt", "=cmd|calc.txt", "esc\x1b[31m.txt"):
        (sub / e).write_text("AAAA = 1\n")
    (sub / "pat" / "answers.txt").write_text("AAAA = 1\n")
    (sub / ("x" * 250 + ".txt")).write_text("AAAA = 1\n")
    assert classbatch.run_class("1", sub, "6.12") == 0
    rows = book_rows(env)[1:]
    ids = [r[0] for r in rows]
    assert ids[:2] == ["'=cmd|calc", "P_Q"]
    assert "esc [31m" in ids and "pat.txt" in ids
    pat = [r for r in rows if r[0] == "pat.txt"][0]
    assert pat[3] == "invalid"
    assert pat[7] == "another entry is already the submission of pat"
    names = sorted(os.listdir(env / "out" / "students"))
    assert names == sorted(["_cmd_calc", "P_Q", "esc__31m", "p_q~2",
                            "p_q~3", "p_q~4", "pat", "x" * 64])
    with open(env / "out" / "gradebook.csv", "rb") as f:
        assert b"\x1b" not in f.read()


def test_could_not_run(env, monkeypatch, capsys):
    sub = env / "sub"
    sub.mkdir()
    assert classbatch.run_class("1", sub / "nope", "6.12") == 2
    assert "is not a folder" in capsys.readouterr().err
    assert classbatch.run_class("1", sub, "6.12") == 2       # empty
    assert "no submission in" in capsys.readouterr().err
    assert classbatch.run_class("99", sub, "6.12") == 2
    assert classbatch.run_class("1", sub, "5.4") == 2
    monkeypatch.setenv("KWEB_JOBS", "0")
    assert classbatch.run_class("1", sub, "6.12") == 2
    assert "KWEB_JOBS=0" in capsys.readouterr().err


def test_output_folder_is_never_the_input(env, monkeypatch, capsys):
    sub = env / "sub"
    make_class(sub)
    monkeypatch.setenv("KWEB_CLASS_OUT", str(sub))
    assert classbatch.run_class("1", sub, "6.12") == 2
    monkeypatch.setenv("KWEB_CLASS_OUT", str(sub / "out"))
    assert classbatch.run_class("1", sub, "6.12") == 2
    mine = env / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    monkeypatch.setenv("KWEB_CLASS_OUT", str(mine))
    assert classbatch.run_class("1", sub, "6.12") == 2
    assert (mine / "thesis.tex").exists() and (sub / "alice.txt").exists()
    assert "not a class batch's" in capsys.readouterr().err


# --- a quiz --------------------------------------------------------------------------

def q(text):
    return '"%s"' % text.replace('"', '""')


def quiz_csv(path, rows, header=None, bom=True):
    a = answers_of(STAGE5)
    header = header or ('"Timestamp","Student ID","Name","AAAA (kweb.c:336)",'
                        '"BBBB (line 394)","CCCC","DDDD"')
    lines = [header]
    for r in rows:
        lines.append(r.format(**{k: q(v) for k, v in a.items()}))
    data = "\r\n".join(lines) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode())
    return path


def test_read_quiz(env):
    blanks = ["AAAA", "BBBB", "CCCC", "DDDD"]
    f = quiz_csv(env / "form.csv", [
        "t,s001,\"Doe, Alice\",{AAAA},{BBBB},{CCCC},{DDDD}",
        "t,s002,\"Multi\r\nline \"\"name\"\"\",{AAAA},{BBBB},{CCCC},{DDDD}",
        "",
        "t,,x,{AAAA},{BBBB},{CCCC},{DDDD}",
        "t,s003,Too few",
        "t,s004,\"x\"y,{AAAA},{BBBB},{CCCC},{DDDD}",
        "t,s005,x,\"a\tb\x07c\r\nd\",{BBBB},{CCCC},{DDDD}",
        "t,s006,x," + "y" * (classbatch.MAX_ANSWER + 1) + ",{BBBB},{CCCC},{DDDD}",
        "t,s007,x," + "z" * 200000 + ",{BBBB},{CCCC},{DDDD}",
        "t,s001,again,{AAAA},{BBBB},{CCCC},1",
        "t,s008,\"Unclosed,x,y,z,w",
    ])
    rows, problems = classbatch.read_quiz(f, blanks)
    assert [(r.row, r.student) for r in rows] == [
        (2, "s001"), (3, "s002"), (9, "s005"), (13, "s001")]
    assert rows[0].answers["AAAA"] == answers_of(STAGE5)["AAAA"]
    assert rows[2].answers["AAAA"] == "a b c  d"
    assert rows[3].answers["DDDD"] == "1"
    assert problems == [
        "row 6: no student id: skipped",
        "row 7: 3 fields where the header has 7: skipped",
        "row 8: text follows a quoted field (',' expected after '\"'): "
        "skipped",
        "row 11: the answer to AAAA is over 4096 characters: skipped",
        "row 12: the answer to AAAA is over 4096 characters: skipped",
        "row 14: a quoted field is never closed: the rows from here on are "
        "skipped"]
    # the field size limit of csv is left as it was
    assert classbatch.csv.field_size_limit() == 131072
    # a quote closed in a later row spoils that row only
    f.write_text('id,AAAA\n"a,"1\nb,2\n')
    assert classbatch.read_quiz(f, ["AAAA"]) == (
        [classbatch.QuizRow(3, "b", {"AAAA": "2"})],
        ["row 2: text follows a quoted field (',' expected after '\"'): "
         "skipped"])


def test_quiz_ids_never_paths(env, capsys):
    f = env / "f.csv"
    f.write_text('id,AAAA\n..,1\n.,2\n../../x,3\n"=1+2",4\n-x,5\n@y,6\n+z,7\n')
    assert classbatch.run_quiz("1", f, "6.12") == 2       # no column BBBB
    assert "no column for blank BBBB" in capsys.readouterr().err
    head = "id," + ",".join(b * 4 for b in "ABCDE") + "\n"
    rows = ["..", ".", "../../x", "=1+2", "-x", "@y", "+z", "a\tb"]
    f.write_text(head + "".join('"%s",1,2,3,4,5\n' % r for r in rows))
    assert classbatch.run_quiz("1", f, "6.12") == 0
    assert [r[0] for r in book_rows(env)[1:]] == [
        "..", ".", "../../x", "'=1+2", "'-x", "'@y", "'+z", "a b"]
    assert sorted(os.listdir(env / "out" / "answers")) == sorted([
        "_.txt", "_~2.txt", "_.._x.txt", "_1_2.txt", "-x.txt", "_y.txt",
        "_z.txt", "a_b.txt"])


def test_id_column_choice(env, monkeypatch):
    blanks = ["AAAA"]
    f = env / "f.csv"
    f.write_text("Name,Email Address,Student ID,AAAA\nAl,a@x,s1,1\n")
    rows, _ = classbatch.read_quiz(f, blanks)
    assert rows[0].student == "a@x"
    rows, _ = classbatch.read_quiz(f, blanks, id_column="student id")
    assert rows[0].student == "s1"
    with pytest.raises(KwebError, match="no student id column named 'nope'"):
        classbatch.read_quiz(f, blanks, id_column="nope")
    f.write_text("Name,AAAA\nAl,1\n")
    with pytest.raises(KwebError, match="set ID_COLUMN=name"):
        classbatch.read_quiz(f, blanks)
    f.write_text("id,AAAA,AAAAX\n1,2,3\n")
    with pytest.raises(KwebError, match="no column for blank BBBB"):
        classbatch.read_quiz(f, ["AAAA", "BBBB"])
    f.write_text("")
    with pytest.raises(KwebError, match="is empty"):
        classbatch.read_quiz(f, blanks)
    f.write_text('"id,AAAA\n1,2\n')
    with pytest.raises(KwebError, match="header row cannot be read"):
        classbatch.read_quiz(f, blanks)


def test_quiz_batch(env, monkeypatch, capsys):
    f = quiz_csv(env / "form.csv", [
        "t,s001,A,{AAAA},{BBBB},{CCCC},{DDDD}",
        "t,s002,B,{AAAA},\"queue_work(kweb_wq,&client->work)\",{CCCC},{DDDD}",
        "t,s004,D,{AAAA},{BBBB},{CCCC},\"container_of(kobj->parent, struct "
        "kweb_data, kobj)\"",
        "t,,x,{AAAA},{BBBB},{CCCC},{DDDD}",
        "t,=HYPERLINK(\"http://x\"),evil,{AAAA},{BBBB},{CCCC},@@ERROR@@",
        "t,s004,D,{AAAA},{BBBB},{CCCC},{DDDD}",
    ])
    rc = classbatch.run_quiz("5", f, "6.12")
    cap = capsys.readouterr()
    assert rc == 1
    b = book(env)
    assert list(b) == ["s001", "s002", "s004", "'=HYPERLINK(\"http://x\")"]
    assert b["s002"]["same_as"] == "s001"
    assert b["s004"]["same_as"] == "s001"
    assert b["s004"]["message"] == "answered on rows 4, 7: row 7 is graded"
    assert b["'=HYPERLINK(\"http://x\")"]["status"] == "error"
    text = (env / "out" / "answers" / "s004.txt").read_text()
    assert text.startswith("# s004, row 7 of form.csv\nAAAA = ")
    assert "DDDD = container_of(kobj, struct kweb_data, kobj)\n" in text
    assert (env / "out" / "problems.txt").read_text() == \
        "row 5: no student id: skipped\n"
    assert "1 malformed row(s)" in cap.err
    assert "Malformed rows: " in cap.out
    names = sorted(os.listdir(env / "out" / "students"))
    assert names == ["s001", "s002", "s004"]     # the fake made no folder
    assert (env / "out" / "log" / "_HYPERLINK__http___x__.txt").is_file()
