"""Tests of grading/kweb/mutants.py: the operators on a small file and on
every solution, and the run with a fake grader (KWEB_GRADE_CMD), so that
no guest boots.

    /usr/bin/python3 -m pytest tests/py/test_mutants.py
"""

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import mutants, stages  # noqa: E402
from kweb.paths import ROOT, KwebError  # noqa: E402

SMALL = textwrap.dedent("""\
    struct srv {
    \tstruct work_struct work;
    \tstruct work_struct other;
    \tstruct mutex lock;
    \tint running;
    };

    struct peer {
    \tstruct work_struct work;
    };

    static void srv_work(struct work_struct *work)
    {
    \tstruct srv *s = /*{*/container_of(work, struct srv, work)/*}*/;

    \tif (/*{*/!s->running/*}*/)
    \t\treturn;
    \t/*{*/queue_work(wq, &s->work)/*}*/;
    }

    static ssize_t status_show(char *buf)
    {
    \treturn /*{*/sysfs_emit(buf, "%d\\n", 1)/*}*/;
    }

    static void srv_stop(struct srv *s)
    {
    \tmutex_lock(&s->lock);
    \ts->running = 0;
    \tmutex_unlock(&s->lock);
    \tcancel_work_sync(&s->work);
    \tkernel_sock_shutdown(sock, SHUT_RDWR);
    \tpr_info("stopped\\n");
    \tsock_release(sock);
    }
    """)


def small(tmp_path, text=SMALL):
    d = tmp_path / "sol"
    d.mkdir(exist_ok=True)
    (d / "kweb.c").write_text(text)
    (d / "Makefile").write_text("obj-m := kweb.o\n")
    return d


def changes(ms, op):
    return {(m.before, m.after) for m in ms if m.op == op}


def test_operators_on_a_small_file(tmp_path):
    ms = mutants.generate(small(tmp_path))
    assert ("queue_work(wq, &s->work)", "schedule_work(&s->work)") in \
        changes(ms, "call")
    assert ('sysfs_emit(buf, "%d\\n", 1)', 'sysfs_emit(buf, "%d", 1)') in \
        changes(ms, "fmt")
    assert ("!s->running", "s->running") in changes(ms, "neg")
    member = changes(ms, "member")
    assert ("container_of(work, struct srv, work)",
            "container_of(work, struct srv, other)") in member
    assert ("container_of(work, struct srv, work)",
            "container_of(work, struct peer, work)") in member
    # Not a member of another type: lock is a mutex.
    assert not any("lock)" in a for _, a in member)
    assert ("cancel_work_sync(&s->work);", "cancel_work(&s->work);") in \
        changes(ms, "sync")
    assert ("kernel_sock_shutdown(sock, SHUT_RDWR);",
            "kernel_sock_shutdown(sock, SHUT_WR);") in changes(ms, "flag")
    deleted = {b for b, _ in changes(ms, "del")}
    assert deleted == {"s->running = 0;", "cancel_work_sync(&s->work);",
                       "kernel_sock_shutdown(sock, SHUT_RDWR);",
                       "sock_release(sock);"}
    lock = [m for m in ms if m.op == "lock"]
    assert len(lock) == 1 and "mutex_" not in lock[0].text
    assert ("cancel_work_sync(&s->work); kernel_sock_shutdown(sock, "
            "SHUT_RDWR);", "kernel_sock_shutdown(sock, SHUT_RDWR); "
            "cancel_work_sync(&s->work);") in changes(ms, "order")
    # A log line is neither deleted nor moved; a declaration is not
    # deleted; markers never reach a mutant.
    for m in ms:
        assert "stopped" not in m.before
        assert "/*{*/" not in m.text and "/*}*/" not in m.text
        assert m.text != stages.strip_markers(SMALL)
    assert len({m.id for m in ms}) == len(ms)


def test_each_mutant_is_one_edit_of_the_solution(tmp_path):
    sol = stages.strip_markers(SMALL).split("\n")
    for m in mutants.generate(small(tmp_path)):
        got = m.text.split("\n")
        changed = [i for i in range(min(len(sol), len(got)))
                   if sol[i] != got[i]]
        if m.op in ("del", "lock"):
            assert len(got) < len(sol)
        elif m.op == "order":
            assert len(changed) == 2
        else:
            assert changed == [m.line - 1], (m.op, m.diff())


def test_ids_survive_edits_elsewhere(tmp_path):
    a = {m.id: m.diff() for m in mutants.generate(small(tmp_path))}
    moved = SMALL.replace("struct peer {", "/* a comment */\n\nstruct peer {")
    b = {m.id: m.diff() for m in mutants.generate(small(tmp_path, moved))}
    assert a == b


def test_every_solution_has_mutants_of_its_blanks_and_paths():
    for sol in stages.solutions():
        ms = mutants.generate(sol)
        ops = {m.op for m in ms}
        assert {"del", "order"} <= ops, sol.name
        tokens = {m.token for m in ms if m.token}
        assert tokens == {b.token for b in stages.blanks(sol)}, sol.name
        assert len({m.id for m in ms}) == len(ms)
        text = {p.name: stages.strip_markers(stages._read(p))
                for p in stages._sources(sol)}
        for m in ms:
            assert m.text != text[m.file]


def test_the_equivalent_file(tmp_path):
    p = tmp_path / "equivalent"
    p.write_text("# why\n0123abcd  sprintf writes the same here\n\n")
    assert mutants.equivalents(p) == {"0123abcd":
                                      "sprintf writes the same here"}
    p.write_text("0123abcd\n")
    with pytest.raises(KwebError, match="ID  reason"):
        mutants.equivalents(p)
    p.write_text("0123abcd a\n0123abcd b\n")
    with pytest.raises(KwebError, match="twice"):
        mutants.equivalents(p)


# The fake grader: decides on the mutant's text what a grade would say.
FAKE = textwrap.dedent("""\
    import os, sys
    from pathlib import Path
    stage, src, kernel = sys.argv[1:4]
    out = Path(os.environ["KWEB_OUT"])
    text = "".join(p.read_text() for p in sorted(Path(src).glob("*.c")))
    log = os.environ.get("FAKE_LOG")
    if log:
        with open(log, "a") as f:
            f.write(src + "\\n")
    if "kthread_create(kweb_accept_thread" in text:
        outcome, total, failed = "does not build", 0, "build"
    elif "MSG_WAITALL" in text:
        print("kweb: error: the guest did not boot (fake)")
        sys.exit(2)
    elif "sock_set_reuseaddr" not in text or "SHUT_WR)" in text:
        outcome, total, failed = "all tests ran", 90, "rmmod_idle"
    else:
        outcome, total, failed = "all tests ran", 100, ""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.info").write_text(
        "total\\t%d\\nmax\\t100\\noutcome\\t%s\\n" % (total, outcome))
    rows = "name\\tstatus\\tscore\\tmax_score\\tseconds\\tvisibility\\tmessage\\n"
    rows += "load_default\\tpass\\t8\\t8\\t1.0\\tvisible\\t\\n"
    if failed:
        rows += "%s\\tfail\\t0\\t8\\t1.0\\tvisible\\tno\\n" % failed
    (out / "results.tsv").write_text(rows)
    sys.exit(0 if total == 100 else 1)
    """)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    f = tmp_path / "fake.py"
    f.write_text(FAKE)
    monkeypatch.setenv("KWEB_GRADE_CMD", "%s %s" % (sys.executable, f))
    monkeypatch.setenv("KWEB_MUTANTS_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "graded.log"))
    for k in ("KWEB_MUTANTS", "KWEB_MUTANTS_OPS", "KWEB_MUTANTS_LIMIT",
              "KWEB_MUTANTS_BUDGET", "KWEB_JOBS", "KWEB_TESTS"):
        monkeypatch.delenv(k, raising=False)
    sol = tmp_path / "sol"
    shutil.copytree(ROOT / "solutions" / "01-kthread-echo", sol)
    return sol


def by_change(ms, op, before, after):
    found = [m for m in ms if m.op == op and m.before == before
             and m.after == after]
    assert len(found) == 1, (op, before, after)
    return found[0]


def tsv(tmp_path):
    lines = (tmp_path / "out" / "mutants.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    return {r[0]: dict(zip(head, r)) for r in (x.split("\t")
                                               for x in lines[1:])}


def test_a_run_sorts_every_mutant(fake, tmp_path, monkeypatch, capsys):
    ms = mutants.generate(fake)
    kfree = by_change(ms, "del", "sock_set_reuseaddr(sock->sk);",
                      "(deleted)")
    create = by_change(ms, "call", 'kthread_run(kweb_accept_thread, NULL, '
                       '"kecho")', 'kthread_create(kweb_accept_thread, '
                       'NULL, "kecho")')
    wait = [m for m in ms if "MSG_WAITALL" in m.after][0]
    survivor = by_change(ms, "del", "kfree(client);", "(deleted)")
    listed = next(m for m in ms if m.op == "order" and "SHUT_WR)" not in
                  m.text and "sock_set_reuseaddr" in m.text)
    (fake / "equivalent").write_text("%s  the order does not matter\n"
                                     % listed.id)
    monkeypatch.setenv("KWEB_MUTANTS", " ".join(
        m.id for m in (kfree, create, wait, survivor, listed)))
    rc = mutants.run("1", "6.12", sol=fake)
    out = capsys.readouterr().out
    rows = tsv(tmp_path)
    assert rows[kfree.id]["status"] == "KILLED"
    assert rows[kfree.id]["tests"] == "rmmod_idle"
    assert rows[create.id]["status"] == "STILLBORN"
    assert rows[wait.id]["status"] == "ERROR"
    assert rows[survivor.id]["status"] == "SURVIVED"
    assert rows[listed.id]["status"] == "EQUIVALENT"
    assert rows[listed.id]["reason"] == "the order does not matter"
    assert "Kill rate: 50.0% (1 killed, 1 survived; 1 equivalent, " \
        "1 stillborn, 1 errors, 0 not run)" in out
    assert "Survivors:\n  %s" % survivor.id in out
    assert rc == 1


def test_a_killed_equivalent_and_a_stale_one_are_errors(fake, tmp_path,
                                                        monkeypatch, capsys):
    ms = mutants.generate(fake)
    kfree = by_change(ms, "del", "sock_set_reuseaddr(sock->sk);",
                      "(deleted)")
    (fake / "equivalent").write_text("%s  wrongly listed\nfeedf00d  gone\n"
                                     % kfree.id)
    monkeypatch.setenv("KWEB_MUTANTS", kfree.id)
    assert mutants.run("1", "6.12", sol=fake) == 1
    out = capsys.readouterr().out
    assert "%s is listed as equivalent" % kfree.id in out
    assert "rmmod_idle kill(s) it" in out
    assert "lists feedf00d, which no operator makes any more" in out


def test_variants_are_equivalent_without_a_grade(fake, tmp_path,
                                                 monkeypatch, capsys):
    ms = mutants.generate(fake)
    m = by_change(ms, "flag", "kernel_sock_shutdown(listen_sock, SHUT_RDWR)",
                  "kernel_sock_shutdown(listen_sock, SHUT_RD)")
    (fake / "variants").write_text("# the listener has nothing to send\n"
                                   "%s = %s\n" % (m.token, m.expr))
    monkeypatch.setenv("KWEB_MUTANTS", m.id)
    assert mutants.run("1", "6.12", sol=fake) == 0
    assert tsv(tmp_path)[m.id]["status"] == "EQUIVALENT"
    assert not (tmp_path / "graded.log").exists()


def test_verdicts_are_reused_until_something_changes(fake, tmp_path,
                                                     monkeypatch, capsys):
    ms = mutants.generate(fake)
    pick = [m.id for m in ms if m.op == "del"][:3]
    monkeypatch.setenv("KWEB_MUTANTS", " ".join(pick))
    mutants.run("1", "6.12", sol=fake)
    log = tmp_path / "graded.log"
    assert len(log.read_text().splitlines()) == 3
    mutants.run("1", "6.12", sol=fake)
    assert len(log.read_text().splitlines()) == 3
    assert capsys.readouterr().out.count("(reused)") == 3
    # Another kernel, or a changed mutant, is graded anew.
    mutants.run("1", "6.1", sol=fake)
    assert len(log.read_text().splitlines()) == 6
    v = tmp_path / "out" / "verdicts" / "6.12" / (pick[0] + ".json")
    data = json.loads(v.read_text())
    data["key"] = "stale"
    v.write_text(json.dumps(data))
    mutants.run("1", "6.12", sol=fake)
    assert len(log.read_text().splitlines()) == 7


def test_seed_limit_and_budget(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KWEB_MUTANTS_OPS", "del")
    monkeypatch.setenv("KWEB_MUTANTS_LIMIT", "4")
    monkeypatch.setenv("KWEB_MUTANTS_SEED", "7")
    ms = mutants.generate(fake, ["del"])
    first, _ = mutants.select(ms, {}, {})
    again, _ = mutants.select(ms, {}, {})
    assert [m.id for m in first] == [m.id for m in again]
    assert len(first) == 4
    monkeypatch.setenv("KWEB_MUTANTS_SEED", "8")
    other, _ = mutants.select(ms, {}, {})
    assert [m.id for m in other] != [m.id for m in first]
    # A budget already spent starts no grade: every one is "not run".
    monkeypatch.setenv("KWEB_MUTANTS_BUDGET", "1")
    monkeypatch.setattr(mutants, "now", iter(range(0, 1000, 5)).__next__)
    assert mutants.run("1", "6.12", sol=fake) == 0
    assert "0 errors, 4 not run" in capsys.readouterr().out
    assert not (tmp_path / "graded.log").exists()


def test_bad_settings_say_what_to_do(fake, monkeypatch):
    monkeypatch.setenv("KWEB_MUTANTS_OPS", "delete")
    with pytest.raises(KwebError, match="unknown operator delete"):
        mutants.run("1", "6.12", sol=fake)
    monkeypatch.delenv("KWEB_MUTANTS_OPS")
    monkeypatch.setenv("KWEB_MUTANTS", "00000000")
    with pytest.raises(KwebError, match="no operator makes"):
        mutants.run("1", "6.12", sol=fake)
    monkeypatch.setenv("KWEB_MUTANTS", "")
    monkeypatch.setenv("KWEB_JOBS", "two")
    with pytest.raises(KwebError, match="KWEB_JOBS=two"):
        mutants.run("1", "6.12", sol=fake)
