"""console.py: the kernel's reports, read off the console and given to the
test that caused them."""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "grading"))

from kweb import console  # noqa: E402

NONCE = "0123456789abcdef"

KASAN = """\
[   12.000001] ==================================================================
[   12.000002] BUG: KASAN: slab-use-after-free in kweb_accept_work+0x3c/0x120 [kweb]
[   12.000003] Read of size 8 at addr ffff888004e1c018 by task kworker/u8:2/61
[   12.000004] Call Trace:
[   12.000005]  <TASK>
[   12.000006]  kasan_report+0xb5/0xf0
[   12.000007]  kweb_accept_work+0x3c/0x120 [kweb]
[   12.000008]  process_one_work+0x1f0/0x500
[   12.000009]  </TASK>
[   12.000010] ==================================================================
"""

ATOMIC = """\
[    5.100000] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580
[    5.100001] in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/1
[    5.100002] Call Trace:
[    5.100003]  <IRQ>
[    5.100004]  __might_resched+0x160/0x1c0
[    5.100005]  mutex_lock_nested+0x1f/0x30
[    5.100006]  kweb_data_ready+0x2a/0x60 [kweb]
[    5.100007]  tcp_data_queue+0x6e0/0xd00
"""

ODEBUG = """\
[    7.000000] ------------[ cut here ]------------
[    7.000001] ODEBUG: free active (active state 0) object: ffff8880045a1c40 object type: work_struct hint: kweb_client_work+0x0/0x90 [kweb]
[    7.000002] WARNING: CPU: 1 PID: 80 at lib/debugobjects.c:612 debug_print_object+0xc0/0xf0
[    7.000003] Call Trace:
[    7.000004]  kfree+0x110/0x2a0
[    7.000005]  kweb_stop+0x71/0xc0 [kweb]
[    7.000006] ---[ end trace 0000000000000000 ]---
"""

LOCKDEP = """\
[    9.000000] ======================================================
[    9.000001] WARNING: possible circular locking dependency detected
[    9.000002] 7.3.4-kweb-debug #1 Not tainted
[    9.000003] ------------------------------------------------------
[    9.000004] rmmod/120 is trying to acquire lock:
[    9.000005] ffff88800447a0b8 (&srv->lock){+.+.}-{4:4}, at: kweb_stop+0x20/0xc0 [kweb]
"""


def mark(w, i, nonce=NONCE, token=None):
    return "[   20.000000] kweb-end %s %d %s\n" % (nonce, i,
                                                   token or w.expect(i))


def feed(w, text, chunk=7):
    data = text.encode()
    for k in range(0, len(data), chunk):     # lines split across reads
        w.feed(data[k:k + chunk])


def test_reports_go_to_the_test_whose_mark_follows():
    w = console.ConsoleWatch(NONCE)
    feed(w, "[ 1.0] kweb: loading\n" + mark(w, 1) + KASAN + "noise\n" + mark(w, 2)
         + mark(w, 3))
    assert w.wait_mark(1, 0) == []
    got = w.wait_mark(2, 0)
    assert len(got) == 1
    assert got[0].kind() == "KASAN"
    assert got[0].header.startswith("BUG: KASAN: slab-use-after-free in "
                                    "kweb_accept_work")
    assert got[0].blamed("kweb") == "kweb_accept_work"
    assert "kweb_accept_work()" not in got[0].summary("kweb")
    assert "Call Trace:" in got[0].lines
    assert w.wait_mark(3, 0) == []


def test_a_missing_mark_is_none_after_the_timeout():
    w = console.ConsoleWatch(NONCE)
    feed(w, KASAN)
    assert w.wait_mark(1, 0.05) is None
    assert [r.kind() for r in w.unmarked()] == ["KASAN"]


def test_a_mark_with_another_nonce_is_not_a_mark():
    w = console.ConsoleWatch(NONCE)
    feed(w, mark(w, 1, "ffffffffffffffff") + mark(w, 1, NONCE + "00") + ATOMIC)
    assert w.wait_mark(1, 0) is None
    feed(w, mark(w, 1))
    assert [r.kind() for r in w.wait_mark(1, 0)] == ["atomic sleep"]


def test_kinds_and_the_function_blamed():
    w = console.ConsoleWatch(NONCE)
    feed(w, ATOMIC + ODEBUG + LOCKDEP + mark(w, 1))
    got = w.wait_mark(1, 0)
    assert [r.kind() for r in got] == ["atomic sleep", "debugobjects",
                                       "lockdep"]
    assert got[0].blamed("kweb") == "kweb_data_ready"
    assert "in kweb_data_ready()" in got[0].summary("kweb")
    # debugobjects' header hints at the work function; the function to
    # blame is the one that freed it, in the call trace. The WARNING line
    # that follows at once is part of the same report.
    assert got[1].blamed("kweb") == "kweb_stop"
    assert "hint: kweb_client_work" in got[1].summary("kweb")
    assert got[1].lines[1].startswith("WARNING: CPU: 1")
    assert got[2].blamed("kweb") == "kweb_stop"
    assert got[2].blamed("other") == ""


def test_a_report_keeps_its_first_lines_only():
    w = console.ConsoleWatch(NONCE)
    feed(w, "BUG: KASAN: double-free in x+0x1/0x2 [kweb]\n" +
         "".join(" line %d %s\n" % (i, "\x01" * 3 + "x" * 500)
                 for i in range(100)) + mark(w, 1))
    r = w.wait_mark(1, 0)[0]
    assert len(r.lines) == console.REPORT_LINES
    assert all(len(x) <= console.LINE_CAP for x in r.lines)
    assert "\x01" not in "".join(r.lines)


def test_a_flood_of_reports_is_capped():
    w = console.ConsoleWatch(NONCE)
    feed(w, "WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1\n\n\n\n" * 100 +
         mark(w, 1), chunk=4096)
    assert len(w.wait_mark(1, 0)) == console.MAX_REPORTS
    assert w.dropped == 100 - console.MAX_REPORTS
    # The cap is a test's, not the boot's: a test that spends it on fake
    # reports leaves the next test's real one in place.
    feed(w, KASAN + mark(w, 2))
    assert [r.kind() for r in w.wait_mark(2, 0)] == ["KASAN"]


def test_a_lost_log_and_a_stall_are_reports():
    w = console.ConsoleWatch(NONCE)
    feed(w, "[ 3.0] ** 2043 printk messages dropped **\n" + mark(w, 1) +
         "[ 30.0] rcu: INFO: rcu_preempt self-detected stall on CPU\n" +
         mark(w, 2))
    got = w.wait_mark(1, 0)
    assert [r.kind() for r in got] == [
        "a lost log (a flood of messages hid what it held)"]
    assert [r.kind() for r in w.wait_mark(2, 0)] == ["RCU stall"]


def test_a_long_line_without_newline_is_bounded():
    w = console.ConsoleWatch(NONCE)
    w.feed(b"A" * (10 * console.PARTIAL_CAP))
    assert len(w._partial) <= console.PARTIAL_CAP
    feed(w, "\n" + mark(w, 1))
    assert w.wait_mark(1, 0) == []


def test_wait_mark_wakes_when_the_mark_comes():
    w = console.ConsoleWatch(NONCE)
    t = threading.Timer(0.1, lambda: feed(w, mark(w, 4)))
    t.start()
    assert w.wait_mark(4, 5) == []
    t.join()


def test_a_mark_without_its_token_is_forged():
    # The module, which can read the nonce, writes test 2's mark early, so
    # that its report would go to test 1 and test 2 would end clean. The
    # token does not exist yet: the forged mark is no mark.
    w = console.ConsoleWatch(NONCE)
    feed(w, mark(w, 1) + mark(w, 2, token="0" * 16) + KASAN)
    assert w.wait_mark(1, 0) == [] and w.wait_mark(2, 0) is None
    feed(w, mark(w, 2) + mark(w, 2))        # the real one; then a replay
    assert [r.kind() for r in w.wait_mark(2, 0)] == ["KASAN"]
    assert w.forged == 2
