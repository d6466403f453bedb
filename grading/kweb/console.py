"""What the guest kernel reports on its console, test by test.

The console (ttyS0) carries the kernel's own messages. Among them are the
reports a kernel prints when it catches a bug: an oops, a WARN, and on the
debug kernel (KERNEL=debug) those of KASAN, KFENCE, lockdep, the atomic-sleep
check and debugobjects. The host reads them here, as QEMU passes them on,
not from anything the runner in the guest says.

After each test's result the host sends the runner a fresh token, and the
runner writes a mark into the kernel log at error level (so that "quiet"
still prints it): "kweb-end NONCE INDEX TOKEN". The kernel prints its log in
order, so once the host has seen test N's mark, every report the kernel
printed before it has arrived too; the reports between test N-1's mark and
test N's belong to test N (its script, the module's unloading and the checks
after it). The module can read the nonce, but a test's token exists only
once the test is over: a mark written earlier, to hide a report in another
test, has no valid token and is no mark (it is counted in forged).

Limits: a report keeps its first REPORT_LINES lines of at most LINE_CAP
characters; a test keeps at most MAX_REPORTS reports (a flood of them says
no more than the first ones, and fails its test all the same). A console
line "** N printk messages dropped **" is a report too: the kernel's log
overflowed before the console printed it, and what was lost may have been
a report (a module that floods the log to bury its KASAN report fails).
"""

import re
import secrets
import threading
from dataclasses import dataclass, field

REPORT_LINES = 40
LINE_CAP = 300
MAX_REPORTS = 32
PARTIAL_CAP = 4096

_TIME = re.compile(r"^\[\s*[0-9]+\.[0-9]+\]\s?")
# The first line of a report. Lockdep's and the atomic-sleep check's start
# with "WARNING:" or "BUG:" too; debugobjects' with "ODEBUG:".
_HEADER = re.compile(
    r"^(BUG: .*|WARNING: .*|ODEBUG: .*|UBSAN: .*|kernel BUG at .*|"
    r"Oops: .*|general protection fault.*|Kernel panic - not syncing: .*|"
    r"watchdog: BUG: .*|INFO: task .* blocked for more than .*|"
    r"unreferenced object .*|rcu: INFO: .*detected stall.*|"
    r"\*\* [0-9]+ printk messages dropped \*\*)$")
_END = re.compile(r"^(---\[ end trace|={20,}$)")


def _clean(text):
    return "".join(c if c.isprintable() else "?" for c in text)[:LINE_CAP]


@dataclass
class KernelReport:
    lines: list = field(default_factory=list)    # the header first

    @property
    def header(self):
        return self.lines[0]

    def kind(self):
        """KASAN, KFENCE, lockdep, atomic-sleep, debugobjects, warning,
        oops, hung task, leak."""
        h = self.header
        for pat, name in ((r"KASAN", "KASAN"), (r"KFENCE", "KFENCE"),
                          (r"^ODEBUG", "debugobjects"),
                          (r"sleeping function called from invalid|"
                           r"scheduling while atomic", "atomic sleep"),
                          (r"locking|lock state|lock held|RCU usage|"
                           r"leaked lock|lock order", "lockdep"),
                          (r"^unreferenced object", "kmemleak"),
                          (r"^INFO: task", "hung task"),
                          (r"^rcu: ", "RCU stall"),
                          (r"printk messages dropped", "a lost log (a "
                           "flood of messages hid what it held)"),
                          (r"^WARNING", "warning")):
            if re.search(pat, h):
                return name
        return "oops"

    def blamed(self, module):
        """The function of module the report names first (the header's
        "in f+0x..", else the first of the module's frames after it), or
        "". For debugobjects, that is the function that freed or reset the
        object; the header's hint names the object's own function."""
        at = re.compile(r"(?:^|[\s(])([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/"
                        r"0x[0-9a-f]+ \[%s\]" % re.escape(module))
        m = re.search(r"\bin ([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/0x[0-9a-f]+"
                      r" \[%s\]" % re.escape(module), self.header)
        if m:
            return m.group(1)
        for line in self.lines[1:] + self.lines[:1]:
            m = at.search(line)
            if m:
                return m.group(1)
        return ""

    def summary(self, module):
        """One line: what the kernel caught, and where in the module."""
        who = self.blamed(module)
        where = ", in %s()" % who if who and who + "+" not in self.header \
            else ""
        return "the kernel reported %s: %s%s" % (self.kind(), self.header[:160],
                                                 where)


class ConsoleWatch:
    """Fed the console's bytes by the reader thread; read by the grader."""

    def __init__(self, nonce):
        self._mark = re.compile(r"kweb-end %s ([0-9]{1,6}) ([0-9a-f]{1,64})$"
                                % re.escape(nonce))
        self._tokens = {}             # mark index -> its token
        self.forged = 0               # marks with no valid token
        self._cv = threading.Condition()
        self._partial = b""
        self._current = None          # the report being read
        self._pending = []            # reports since the last mark
        self._by_mark = {}            # mark index -> its reports
        self.dropped = 0              # reports beyond a test's MAX_REPORTS

    def feed(self, data):
        buf = self._partial + data
        start = 0
        while True:             # linear in len(buf), however short the lines
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            if nl - start <= PARTIAL_CAP:
                self._line(_TIME.sub("", buf[start:nl].decode(
                    "utf-8", "replace").rstrip("\r")))
            start = nl + 1
        self._partial = buf[start:][-PARTIAL_CAP:]

    def expect(self, index):
        """The token of test index's mark, made when first asked for: the
        host sends it to the runner once the test's result is in."""
        with self._cv:
            return self._tokens.setdefault(index, secrets.token_hex(8))

    def _line(self, line):
        m = self._mark.search(line)
        with self._cv:
            if m and (int(m.group(1)) in self._by_mark or
                      self._tokens.get(int(m.group(1))) != m.group(2)):
                self.forged += 1
                return
            if m:
                self._current = None
                self._by_mark[int(m.group(1))] = self._pending
                self._pending = []
                self._cv.notify_all()
                return
            if _HEADER.match(line) and not (
                    self._current and len(self._current.lines) < 3):
                self._current = None
                if len(self._pending) >= MAX_REPORTS:
                    self.dropped += 1       # the test fails on those it has
                    return
                self._current = KernelReport([_clean(line)])
                self._pending.append(self._current)
                return
            cur = self._current
            if cur is None:
                return
            if len(cur.lines) < REPORT_LINES:
                cur.lines.append(_clean(line))
            if _END.match(line) or len(cur.lines) >= REPORT_LINES:
                self._current = None

    def wait_mark(self, index, timeout):
        """Wait until test index's mark has been seen; its reports (or None
        if the mark did not come within timeout seconds)."""
        with self._cv:
            self._cv.wait_for(lambda: index in self._by_mark, timeout)
            return self._by_mark.get(index)

    def unmarked(self):
        """Reports after the last mark (a crash, or a test cut short)."""
        with self._cv:
            return list(self._pending)
