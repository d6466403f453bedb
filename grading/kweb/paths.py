"""Where things are, and the one error type that ends a command cleanly."""

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("KWEB_ROOT") or Path(__file__).resolve().parents[2])
CACHE = Path(os.environ.get("KWEB_CACHE") or ROOT / ".cache")
BUILD = Path(os.environ.get("KWEB_BUILD") or ROOT / "build")
DEFAULT_KERNEL = "6.12"
KERNELS = ("6.12", "6.1", "7.3", "debug")
# Built here from Debian's linux-source (grading/kernel.sh), not unpacked.
BUILT_KERNELS = ("7.3", "debug")


class KwebError(Exception):
    """Grading cannot run: one line that says what to do. Exit status 2."""


def die(message):
    raise KwebError(message)


def _colour(code):
    if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        return code
    return ""


def error_line(message):
    return "%skweb: error:%s %s" % (_colour("\033[31m\033[1m"),
                                     _colour("\033[0m"), message)


def note(message):
    print("kweb: %s" % message, file=sys.stderr, flush=True)


def now():
    return time.monotonic()


def stage_names(root=None):
    root = Path(root or ROOT / "checker")
    return sorted(p.name for p in root.glob("[0-9][0-9]-*") if p.is_dir())


def stage_dir(n, root=None):
    """The folder of stage N (1, 01 or 01-kthread-echo) under root."""
    root = Path(root or ROOT / "checker")
    names = stage_names(root)
    if not n:
        die("no stage given: use STAGE=1 (stages: %s)" % " ".join(names))
    n = str(n)
    if re.fullmatch(r"[0-9]+", n):
        want = "%02d-" % int(n)
        found = [x for x in names if x.startswith(want)]
    else:
        found = [x for x in names if x == n]
    if not found:
        die("no stage '%s' in %s (stages: %s)" % (n, root, " ".join(names)))
    return root / found[0]


def kernel_series(name=None):
    """Normalise a KERNEL= value to one of KERNELS."""
    name = name or DEFAULT_KERNEL
    for k in sorted(KERNELS, key=len, reverse=True):
        if name == k or name.startswith(k + "."):
            return k
    die("unsupported KERNEL='%s': use KERNEL=6.12 (default), 6.1, 7.3 or "
        "debug (7.3 with sanitizers)" % name)


def kernel_dir(series):
    return CACHE / "kernels" / kernel_series(series)


def debug_kernel(kdir):
    """Whether kdir (a kernel's folder in the cache, or its build tree) is
    the debug kernel, the one with the sanitizers."""
    p = Path(kdir)
    return "debug" in (p.name, p.parent.name)


def safe_label(text):
    """A file-name-safe label (letters, digits, _ . -)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "_"


def run_main(main):
    """python3 -m kweb.X ARGS: main(argv) -> exit status; a KwebError is
    one line on stderr and exit 2."""
    try:
        sys.exit(main(sys.argv[1:]))
    except KwebError as e:
        print(error_line(str(e)), file=sys.stderr)
        sys.exit(2)
