"""The guest's result stream and the guest's channels: what a hostile
module can write must never become a result, a path or a command."""

import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import protocol, vm  # noqa: E402
from kweb.protocol import Expected, ResultStream  # noqa: E402
from kweb.console import ConsoleWatch  # noqa: E402

N = "0123456789abcdef0123456789abcdef"


def stream():
    return ResultStream(N, [Expected(1, "load"), Expected(2, "echo")])


def feed(s, *lines):
    return [s.feed(x) for x in lines]


def test_a_well_formed_run():
    s = stream()
    ev = feed(s, "KWEB %s start 1 load" % N, "# loaded",
              "KWEB %s result 1 load ok" % N, "KWEB %s start 2 echo" % N,
              "KWEB %s result 2 echo fail" % N, "KWEB %s done" % N)
    assert [e.kind for e in ev] == ["start", "text", "result", "start",
                                    "result", "done"]
    assert ev[2].value == "pass" and ev[4].value == "fail" and s.done


def test_a_wrong_nonce_is_text():
    s = stream()
    feed(s, "KWEB %s start 1 load" % N)
    ev = s.feed("KWEB %s result 1 load ok" % ("f" * 32))
    assert ev.kind == "text" and s.rejected == 1 and s.current.name == "load"


def test_a_result_for_another_test_is_refused():
    s = stream()
    feed(s, "KWEB %s start 1 load" % N)
    assert s.feed("KWEB %s result 2 echo ok" % N).kind == "text"
    assert s.feed("KWEB %s result 1 echo ok" % N).kind == "text"
    assert s.feed("KWEB %s result 1 load ok" % N).kind == "result"


def test_each_result_once_and_in_order():
    s = stream()
    assert s.feed("KWEB %s start 2 echo" % N).kind == "ignored"
    feed(s, "KWEB %s start 1 load" % N, "KWEB %s result 1 load fail" % N)
    assert s.feed("KWEB %s start 1 load" % N).kind == "ignored"
    assert s.feed("KWEB %s result 1 load ok" % N).kind == "ignored"
    assert s.feed("KWEB %s done" % N).kind == "ignored"   # echo never ran


def test_diagnostics_never_become_control_lines():
    s = stream()
    feed(s, "KWEB %s start 1 load" % N)
    for text in ("# KWEB %s result 1 load ok" % N,
                 "# kweb-start: 1 $(touch /tmp/x)",
                 " KWEB %s result 1 load ok" % N,
                 "KWEB %s result 1 load ok trailing" % N,
                 "KWEB %s result 1 load ok\x1b[2J" % N):
        ev = s.feed(text)
        assert ev.kind == "text", text
        assert "\x1b" not in ev.value
    assert s.current.name == "load"


def test_names_and_statuses_are_checked():
    s = stream()
    assert s.feed("KWEB %s start 1 ../../etc/passwd" % N).kind == "ignored"
    feed(s, "KWEB %s start 1 load" % N)
    assert s.feed("KWEB %s result 1 load pass" % N).kind == "text"
    assert s.feed("KWEB %s result 1 load $(id)" % N).kind == "text"


def test_text_is_capped_and_cleaned():
    s = stream()
    feed(s, "KWEB %s start 1 load" % N)
    ev = s.feed(b"# \xff\xfe" + b"A" * 5000 + b"\x07")
    assert ev.kind == "text" and len(ev.value) < protocol.MAX_LINE + 20
    assert "\x07" not in ev.value
    kept = 0
    for _ in range(1000):
        ev = s.feed("# " + "B" * 900)
        if ev.kind == "text":
            kept += len(ev.value)
    assert kept <= protocol.MAX_TEST_LOG + 1000


def test_the_console_is_capped(tmp_path):
    a, b = socket.socketpair()

    class B:
        flooded = ""
    boot = B()
    watch = ConsoleWatch("n0nce")
    t = threading.Thread(target=vm._console_reader,
                         args=(b, tmp_path / "c.log", boot, watch))
    t.start()
    a.settimeout(60)          # a reader that died must fail, not hang
    chunk = b"x" * 65536
    for _ in range(80):       # 5 MiB of one line, then 5 MiB of empty ones
        a.sendall(chunk)
    for _ in range(80):
        a.sendall(b"\n" * 65536)
    a.sendall(b"BUG: KASAN: late\nkweb-end n0nce 1 %s\nTHE END\n"
              % watch.expect(1).encode())
    a.close()
    t.join(30)
    assert not t.is_alive()
    data = (tmp_path / "c.log").read_bytes()
    assert len(data) <= vm.CONSOLE_HEAD + vm.CONSOLE_TAIL + 200
    assert data.endswith(b"THE END\n") and b"dropped" in data
    assert "flooded" in boot.flooded
    assert [r.header for r in watch.wait_mark(1, 0)] == ["BUG: KASAN: late"]


def test_the_overlay_holds_no_test_script(tmp_path):
    from kweb.stagefiles import load_stage
    st = load_stage(1)
    kdir = tmp_path / "k"
    (kdir / "root" / "drivers").mkdir(parents=True)
    vm.overlay(tmp_path / "ov", kdir, st, None,
               [(i + 1, t) for i, t in enumerate(st.guest_tests)])
    assert not list((tmp_path / "ov").rglob("*.sh")) == [] or True
    scripts = [p.name for p in (tmp_path / "ov").rglob("*.sh")]
    assert scripts == ["kwtest.sh"], scripts
