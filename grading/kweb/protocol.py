"""The guest's result stream, and the one parser of it.

The guest's runner writes to its results port (ttyS1) lines of two kinds:

  KWEB <nonce> boot                         the runner asks for the token
                                            of the boot's mark (index 0 in
                                            the kernel log: what the kernel
                                            reported before it is the
                                            boot's, not a test's); once a
                                            boot, before any test
  KWEB <nonce> module                       the runner asks for the module
                                            (once a boot, before any test)
  KWEB <nonce> start <index> <name>         a test begins
  KWEB <nonce> result <index> <name> <ok|fail|timeout|skip>
  KWEB <nonce> dirty <index> <reason...>    the guest can no longer be trusted
  KWEB <nonce> done                         every test ran
  KWEB <nonce> probe <index> <name> <kind>  the test asks the host to probe
  KWEB <nonce> exit <status>                (script mode) the script's status
  # <text>                                  diagnostic text of the test

The nonce is fresh for each boot (on the kernel command line, which a
module the static gate admitted cannot read). The host accepts a control
line only if its nonce matches and, for start/result, its index and name
are the test expected next; each test's result is accepted once.
Everything else is inert text: capped, stripped of control characters,
and never read again as a control line.
"""

import re
import secrets
from dataclasses import dataclass, field
from typing import List, Optional

MAX_LINE = 1000          # characters of one diagnostic line kept
MAX_TEST_LOG = 256 * 1024   # characters of diagnostics kept per test
CONTROL_RE = re.compile(r"KWEB ([0-9a-f]{32}) "
                        r"(boot|module|start|result|dirty|done|probe|exit)"
                        r"((?: [!-~]{1,100}){0,8})")
GUEST_STATUS = {"ok": "pass", "fail": "fail", "timeout": "timeout",
                "skip": "skip"}


def new_nonce():
    return secrets.token_hex(16)


def clean(text, limit=MAX_LINE):
    """Text from the guest, made inert: printable characters and tabs only,
    at most limit characters (an ellipsis says it was cut)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = "".join(c if (c.isprintable() or c == "\t") else "?" for c in text)
    if len(out) > limit:
        out = out[:limit] + " [...]"
    return out


@dataclass
class Event:
    kind: str                # boot | module | start | result | dirty | done | probe | exit | text | ignored
    index: int = 0
    name: str = ""
    value: str = ""          # status, reason, probe kind, exit status, text


@dataclass
class Expected:
    index: int
    name: str


@dataclass
class ResultStream:
    """The host's reading of one boot's results port.

    expected: the tests this boot runs, in order (index, name)."""
    nonce: str
    expected: List[Expected]
    current: Optional[Expected] = None
    finished: set = field(default_factory=set)
    done: bool = False
    dirty: str = ""
    rejected: int = 0        # control-looking lines that were refused
    asked: set = field(default_factory=set)   # boot, module: once a boot
    log_size: int = 0

    def _next(self):
        for e in self.expected:
            if e.index not in self.finished:
                return e
        return None

    def feed(self, raw):
        """One line from the port -> an Event (text when not accepted)."""
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        m = CONTROL_RE.fullmatch(line)
        if not m or not secrets.compare_digest(m.group(1), self.nonce):
            if line.startswith("KWEB "):
                self.rejected += 1
            return self._text(line)
        verb, args = m.group(2), m.group(3).split()
        ev = self._control(verb, args)
        if ev is None:
            self.rejected += 1
            return self._text(line)
        return ev

    def _text(self, line):
        if line.startswith("# "):
            line = line[2:]
        if self.current is None:
            return Event("ignored", value=clean(line))
        if self.log_size >= MAX_TEST_LOG:
            return Event("ignored")
        text = clean(line)
        self.log_size += len(text) + 1
        if self.log_size >= MAX_TEST_LOG:
            text += "\n[kweb: this test's output is over %d KiB: the rest " \
                    "is dropped]" % (MAX_TEST_LOG // 1024)
        return Event("text", self.current.index, self.current.name, text)

    def _control(self, verb, args):
        if verb in ("boot", "module") and not args \
                and verb not in self.asked \
                and self.current is None and not self.finished:
            self.asked.add(verb)
            return Event(verb)
        if verb == "start" and len(args) == 2 and self.current is None:
            nxt = self._next()
            if nxt and args == [str(nxt.index), nxt.name]:
                self.current = nxt
                self.log_size = 0
                return Event("start", nxt.index, nxt.name)
        elif verb == "result" and len(args) == 3 and self.current:
            cur = self.current
            if args[:2] == [str(cur.index), cur.name] and args[2] in GUEST_STATUS:
                self.finished.add(cur.index)
                self.current = None
                return Event("result", cur.index, cur.name,
                             GUEST_STATUS[args[2]])
        elif verb == "probe" and len(args) == 3 and self.current:
            cur = self.current
            if args[:2] == [str(cur.index), cur.name]:
                return Event("probe", cur.index, cur.name, args[2])
        elif verb == "dirty" and args and self.current is None \
                and args[0].isdigit() and int(args[0]) in self.finished:
            self.dirty = clean(" ".join(args[1:]), 200)
            return Event("dirty", int(args[0]), value=self.dirty)
        elif verb == "done" and not args and self.current is None \
                and self._next() is None:
            self.done = True
            return Event("done")
        elif verb == "exit" and len(args) == 1 and args[0].isdigit() \
                and int(args[0]) < 256:
            return Event("exit", value=args[0])
        return None
