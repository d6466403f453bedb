"""Build a submitted module against a kernel build tree, in a sandbox.

build_module() compiles a module folder (the caller copies in only the
module's source files) at W=1 and returns what the student should see:
compiler errors and warnings about the module's own files, named as
SHOWN/file.c with gcc's context lines, and modpost's errors. The full kbuild
output is kept in MODDIR/build.log.

The submission is hostile, and compiling it reads whatever files it names.
The defences, in order:

1. A scan of the sources before the build: an #include of an absolute path
   or one that climbs out with "..", or any mention of incbin, is refused
   with a line saying so. This is only a courtesy (a clear message for the
   obvious cases): a macro or an assembler trick gets past it.
2. The sandbox (bubblewrap), which is the real defence. The compiler sees
   /usr, the kernel headers tree, a read-only copy of compat.h and the
   module's folder, and nothing else: not the kit (solutions/, tests,
   other submissions), not $HOME, /root or /work. No network, no /proc,
   a /dev with /dev/null only (so "#include "/dev/zero"" is a missing
   file), a clean environment, and limits on memory, CPU time, file size,
   processes and wall-clock time. Whatever .incbin or #include can reach
   there is the kernel's headers or the module's own files: harmless.
3. After the build, every file kbuild recorded as a dependency of the
   module's objects (.*.o.cmd: source_ and deps_ lines) must lie in the
   headers tree, the module's folder or the compat copy. Without the
   sandbox (KWEB_UNSANDBOXED=1, for a single trusted user) the build also
   makes FILE.i and FILE.s of each FILE.c (about 1 s more): every file the
   preprocessor entered (the .i's line markers) must lie there too, and
   neither the preprocessed text (adjacent string literals joined) nor the
   compiler's assembly (after C string concatenation) may use incbin. In
   the sandbox those two add nothing: what they catch can only reach
   harmless files there. An assembler macro that builds ".incbin" at
   assembly time gets past every scan; only the sandbox stops that.
"""

import os
import re
import resource
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .paths import ROOT

COMPAT = ROOT / "checker" / "include" / "compat.h"
INCLUDE_DIR = ".kweb-include"       # the compat copy, inside the module folder

# Limits of one build (each gcc, make, ld gets the rlimits; the wall clock
# covers the whole build).
MEMORY = 2 << 30                    # RLIMIT_AS, bytes
CPU_SECONDS = 120                   # RLIMIT_CPU, per process
FILE_SIZE = 64 << 20                # RLIMIT_FSIZE, bytes
PROCESSES = 4096                    # RLIMIT_NPROC (per user; not enforced for root)
WALL_SECONDS = 180
LOG_HEAD = 768 << 10                # bytes of kbuild output kept: the start
LOG_TAIL = 256 << 10                # ... and the end
SHOW_LINES = 200                    # lines of diagnostics shown at most
SHOW_CHARS = 16000

PATH = "/usr/bin:/bin"
ENV = {"PATH": PATH, "HOME": "/tmp", "LC_ALL": "C"}
UNSANDBOXED_NOTE = ("note: built without the sandbox (KWEB_UNSANDBOXED=1): "
                    "do this only for code you trust")
OUTSIDE = "outside the kernel headers and your module's folder"

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class BuildResult:
    ok: bool
    diagnostics: str      # what the student sees (capped, control chars stripped)
    log: Path             # full kbuild log (size-capped)
    warnings: list = field(default_factory=list)  # ': warning: ', 'WARNING: ' lines
    refusal: str = ""     # set when the build was refused: one line naming why
    sandboxed: bool = True


def clean_text(text):
    """Text safe for a terminal: no control characters but tab and newline."""
    return _CONTROL.sub("", text)


# --- running a command with limits -------------------------------------------

@dataclass
class Run:
    rc: int
    output: bytes         # capped: head and tail of stdout+stderr
    cut: int = 0          # bytes left out of output
    timed_out: bool = False


def _limits():
    for what, value in ((resource.RLIMIT_AS, MEMORY),
                        (resource.RLIMIT_CPU, CPU_SECONDS),
                        (resource.RLIMIT_FSIZE, FILE_SIZE),
                        (resource.RLIMIT_NPROC, PROCESSES),
                        (resource.RLIMIT_CORE, 0)):
        soft, hard = resource.getrlimit(what)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(what, (value, value))


def run_limited(argv, cwd=None, timeout=WALL_SECONDS):
    """Run argv with the build's rlimits, a clean environment, no stdin and
    a wall-clock timeout (the whole process group is killed then); keep at
    most LOG_HEAD + LOG_TAIL bytes of its output."""
    proc = subprocess.Popen(argv, cwd=cwd, env=dict(ENV),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=_limits,
                            start_new_session=True)
    head, tail, cut = bytearray(), bytearray(), 0
    deadline = time.monotonic() + timeout
    timed_out = False
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if not sel.select(min(left, 1.0)):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            room = LOG_HEAD - len(head)
            head += chunk[:room]
            tail += chunk[room:] if room > 0 else chunk
            if len(tail) > LOG_TAIL:
                cut += len(tail) - LOG_TAIL
                del tail[:len(tail) - LOG_TAIL]
    if timed_out:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.stdout.close()
    rc = proc.wait()
    out = bytes(head)
    if cut:
        out += b"\n[... %d bytes of output left out ...]\n" % cut
    return Run(rc, out + bytes(tail), cut, timed_out)


# --- the sandbox ---------------------------------------------------------------

def _base_argv():
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"]
    for d in ("bin", "lib", "lib64", "sbin"):
        p = Path("/" + d)
        if p.is_symlink():
            argv += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            argv += ["--ro-bind", str(p), str(p)]
    # Debian's awk, cc, ... are symlinks through /etc/alternatives.
    if Path("/etc/alternatives").is_dir():
        argv += ["--ro-bind", "/etc/alternatives", "/etc/alternatives"]
    argv += ["--tmpfs", "/tmp", "--dir", "/dev",
             "--dev-bind", "/dev/null", "/dev/null",
             "--clearenv"]
    for k, v in ENV.items():
        argv += ["--setenv", k, v]
    return argv


def sandbox_argv(argv, ro=(), rw=(), chdir=None, proc=False):
    """bwrap's command line running argv with the paths ro (read-only) and
    rw (writable) visible at their own place, after the base view. proc
    mounts a /proc of the sandbox's own PID namespace (its own processes
    only), for the tools that read /proc/self."""
    out = _base_argv()
    if proc:
        out += ["--proc", "/proc"]
    for p in rw:
        out += ["--bind", str(p), str(p)]
    for p in ro:           # after rw: a read-only bind may lie inside one
        out += ["--ro-bind", str(p), str(p)]
    if chdir:
        out += ["--chdir", str(chdir)]
    return out + ["--"] + [str(a) for a in argv]


@lru_cache(maxsize=1)
def sandbox_available():
    """(True, "") if bubblewrap can make its namespaces here, else (False,
    why). Tried once per process."""
    if not shutil.which("bwrap", path=PATH):
        return False, "bwrap is not installed (apt-get install bubblewrap)"
    try:
        r = run_limited(sandbox_argv(["true"]), timeout=30)
    except OSError as e:
        return False, "bwrap cannot start: %s" % e
    if r.rc != 0:
        lines = clean_text(r.output.decode("utf-8", "replace")).split("\n")
        why = [x for x in lines if x.strip()]
        return False, (why[-1].strip() if why else "bwrap exited %d" % r.rc)
    return True, ""


def unsandboxed():
    return os.environ.get("KWEB_UNSANDBOXED") == "1"


def sandbox_refusal(why):
    return ("the build sandbox (bubblewrap) cannot run here: %s; grading "
            "untrusted code needs it (KWEB_UNSANDBOXED=1 builds without it, "
            "for a single trusted user)" % why)


# --- the kernel tree -------------------------------------------------------------

@dataclass
class KernelTree:
    build: Path           # the build tree, resolved (make -C here)
    binds: list           # what the sandbox shows of it, read-only
    roots: list           # where a dependency may lie
    proc: bool = False    # its build reads /proc/self (the sandbox's own)


def kernel_tree(kdir):
    """Debian's headers: KDIR/build -> .../usr/src/linux-headers-ABI, whose
    Makefile includes ../linux-headers-ABI-common, and whose scripts are
    ../../lib/linux-kbuild-V: show the whole usr/ of the unpacked package.
    A kernel built here (7.3, debug) is an out-of-tree build: KDIR/build is
    its O= folder, whose "source" link names the source tree; its objtool
    (7.3) reads /proc/self/maps at start."""
    build = Path(os.path.realpath(kdir))
    if build.parent.name == "src" and build.parent.parent.name == "usr":
        usr = build.parent.parent
        roots = sorted((usr / "src").glob("linux-*"))
        roots += sorted((usr / "lib").glob("linux-kbuild-*"))
        roots = [Path(os.path.realpath(p)) for p in roots]
        return KernelTree(build, [usr], roots)
    if (build / "source").is_symlink():
        src = Path(os.path.realpath(build / "source"))
        return KernelTree(build, [build, src], [build, src], proc=True)
    return KernelTree(build, [build], [build])


def _inside(path, roots):
    return any(path == r or r in path.parents for r in roots)


# --- checks of the sources and of what the compiler read ----------------------------

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*(include|include_next|import)\b[ \t]*'
                      r'([<"])([^">\n]*)[">]', re.M)


def _normalise(text):
    """Backslash-newlines joined and comments blanked, newlines kept."""
    text = re.sub(r"\\\r?\n", "", text)
    text = re.sub(r"/\*.*?\*/", lambda m: " " + "\n" * m.group(0).count("\n"),
                  text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def scan_sources(mod_dir, names):
    """The first refusal of a source file's text, or ""."""
    for name in names:
        raw = (Path(mod_dir) / name).read_text("utf-8", "replace")
        m = re.search("incbin", raw, re.I)
        if m:
            line = raw.count("\n", 0, m.start()) + 1
            return ("%s:%d uses incbin, which pulls a file into the module: "
                    "not allowed" % (name, line))
        text = _normalise(raw)
        for m in _INCLUDE.finditer(text):
            target = m.group(3).strip()
            if target.startswith("/") or ".." in Path(target).parts:
                line = text.count("\n", 0, m.start()) + 1
                return ("%s:%d includes %s, %s"
                        % (name, line, clean_text(target)[:200], OUTSIDE))
    return ""


def _dep_words(block):
    """The file names of a deps_ block (make's escapes undone)."""
    block = re.sub(r"\$\(wildcard [^)\n]*\)", " ", block)
    for word in re.split(r"(?<!\\)\s+", block):
        word = word.strip()
        if not word or word == "\\":
            continue
        yield word.replace("\\ ", " ").replace("\\#", "#").replace("$$", "$")


def cmd_dependencies(mod_dir):
    """(object's source name, dependency) for each .*.o.cmd in mod_dir."""
    out = []
    for cmd in sorted(Path(mod_dir).glob(".*.o.cmd")):
        text = cmd.read_text("utf-8", "replace")
        source = ""
        m = re.search(r"^source_\S+ := (.*)$", text, re.M)
        if m:
            source = m.group(1).strip()
            out.append((source, source))
        m = re.search(r"^deps_\S+ := \\\n((?:.*\\\n|[ \t]+\S.*\n)*)", text, re.M)
        if m:
            out += [(source, w) for w in _dep_words(m.group(1))]
    return out


def preprocessed_files(i_text):
    """The files the preprocessor entered, from the line markers of a .i."""
    names = set()
    for m in re.finditer(r'^# \d+ "((?:[^"\\]|\\.)*)"', i_text, re.M):
        name = m.group(1)
        if not name.startswith("<"):
            names.add(name.replace('\\"', '"').replace("\\\\", "\\"))
    return names


def _outside_file(where, dep, tree, mod_dir):
    p = Path(dep)
    if not p.is_absolute():
        p = tree.build / p
    real = Path(os.path.realpath(p))
    if _inside(real, tree.roots + [Path(os.path.realpath(mod_dir))]):
        return ""
    src = Path(where).name if where else "the module"
    return "%s includes %s, %s" % (clean_text(src), clean_text(str(real))[:300],
                                   OUTSIDE)


def check_outputs(tree, mod_dir, module, deep):
    """The first refusal after a build, or "". deep: each FILE.i and FILE.s
    were made, check them too."""
    for where, dep in cmd_dependencies(mod_dir):
        why = _outside_file(where, dep, tree, mod_dir)
        if why:
            return why
    if not deep:
        return ""
    for unit in _units(mod_dir, module):
        why = _check_unit(tree, mod_dir, unit)
        if why:
            return why
    return ""


def _check_unit(tree, mod_dir, unit):
    """The deep checks of one source file's UNIT.i and UNIT.s."""
    i_file = Path(mod_dir) / (unit + ".i")
    s_file = Path(mod_dir) / (unit + ".s")
    if not i_file.is_file() or not s_file.is_file():
        return ("the module's preprocessed text and assembly could not be "
                "made for the checks (see %s)" % (Path(mod_dir) / "checks.log"))
    i_text = i_file.read_text("utf-8", "replace")
    for name in sorted(preprocessed_files(i_text)):
        why = _outside_file(unit + ".c", name, tree, mod_dir)
        if why:
            return why
    joined = re.sub(r'"\s*"', "", i_text)
    if re.search("incbin", joined, re.I):
        return "%s.c uses incbin, which pulls a file into the module: not allowed" % unit
    if re.search("incbin", s_file.read_text("utf-8", "replace"), re.I):
        return ("%s.c makes the assembler use incbin, which pulls a file into "
                "the module: not allowed" % unit)
    return ""


def _units(mod_dir, module):
    """The module's source files without .c: [module] for a module of one
    file (MODULE.c), else every .c in the folder, in name order."""
    units = sorted(p.stem for p in Path(mod_dir).iterdir()
                   if p.suffix == ".c" and p.is_file())
    return units if units else [module]


def kbuild_text(module, units, inc):
    """The Kbuild the kit writes: obj-m alone for a module of one file,
    MODULE-y listing the objects of one made of several (LKMPG, "Modules
    Spanning Multiple Files"), where no file may be named MODULE.c (kbuild
    would take the object MODULE.o for both)."""
    text = "obj-m := %s.o\n" % module
    if units != [module]:
        if module in units:
            return None
        text += "%s-y := %s\n" % (module, " ".join(u + ".o" for u in units))
    return text + "ccflags-y := -I%s\n" % inc


# --- what the student sees ----------------------------------------------------------

def student_diagnostics(log_text, mod_dir, shown, rc):
    """The filter of kbuild's output: diagnostics about the module's own files (named
    SHOWN/file) with gcc's context lines, modpost's errors and warnings, or
    the log's tail after a failure that printed no error."""
    mdir = str(mod_dir).rstrip("/") + "/"
    compat = mdir + INCLUDE_DIR + "/"
    shown = str(shown).rstrip("/") + "/"

    def show(s):
        return s.replace(compat, "checker/include/").replace(mdir, shown)

    out, ctx = [], False
    for line in log_text.split("\n"):
        if line.startswith(mdir) and re.search(r" (error|warning|note): ", line):
            out.append(show(line))
            ctx = True
        elif line.startswith(mdir) and ": In function " in line:
            out.append(show(line))
        elif ctx and re.match(r"^ *[0-9]* *\|", line):
            out.append(line)
        else:
            ctx = False
            if re.match(r"^(ERROR|WARNING): modpost: ", line):
                out.append(show(line))
    if rc != 0 and not re.search(r" error: |^ERROR: ", log_text, re.M):
        lines = [x for x in log_text.split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        out += [show(x) for x in lines[-15:]]
    if len(out) > SHOW_LINES:
        more = len(out) - SHOW_LINES
        out = out[:SHOW_LINES] + ["[... %d more lines in build.log]" % more]
    text = clean_text("\n".join(out))
    if len(text) > SHOW_CHARS:
        text = text[:SHOW_CHARS] + "\n[... cut: see build.log]"
    return text


def _warnings(diagnostics):
    return [x for x in diagnostics.split("\n")
            if ": warning: " in x or x.startswith("WARNING: ")]


# --- the build --------------------------------------------------------------------------

def _prepare(mod_dir, module):
    """Kbuild and the compat copy, written by the kit; refuse links."""
    for p in mod_dir.iterdir():
        if p.is_symlink() or not (p.is_file() or p.is_dir()):
            return "%s in the module folder is not a regular file" % clean_text(p.name)
    inc = mod_dir / INCLUDE_DIR
    if inc.exists():
        os.chmod(inc, 0o755)
        shutil.rmtree(inc)
    inc.mkdir()
    shutil.copyfile(COMPAT, inc / "compat.h")
    os.chmod(inc / "compat.h", 0o444)
    os.chmod(inc, 0o555)
    units = _units(mod_dir, module)
    for stale in ["build.log", "checks.log", module + ".ko"] + \
            [u + x for u in units for x in (".i", ".s")]:
        (mod_dir / stale).unlink(missing_ok=True)
    text = kbuild_text(module, units, inc)
    if text is None:
        return ("a module built from several files cannot have one named "
                "%s.c: rename it" % module)
    (mod_dir / "Kbuild").write_text(text)
    return ""


def _make(tree, mod_dir, targets, sandboxed):
    argv = ["make", "-C", str(tree.build), "M=%s" % mod_dir] + targets
    if sandboxed:
        argv = sandbox_argv(argv, ro=tree.binds + [mod_dir / INCLUDE_DIR],
                            rw=[mod_dir], chdir=mod_dir, proc=tree.proc)
    return run_limited(argv, cwd=str(mod_dir))


def run_kbuild(kdir, mod_dir, module, make_args):
    """Run kbuild again on a module folder build_module() prepared, or a
    copy of one (e.g. sparse: ["C=2", "CHECK=sparse", "modules"]), in the
    same sandbox and limits (none with KWEB_UNSANDBOXED=1); a Run. The
    Kbuild and compat copy are written again for this folder: a copy's
    Kbuild would name the original's include folder, which the sandbox
    does not show. Another tool that reads the submission's source must go
    through here too: outside the sandbox, "#if __has_include(...)" can
    pick what the sandboxed build never saw."""
    mod_dir = Path(os.path.realpath(mod_dir))
    why = _prepare(mod_dir, module)
    if why:
        return Run(1, why.encode() + b"\n")
    return _make(kernel_tree(kdir), mod_dir, list(make_args), not unsandboxed())


def _write_log(path, run):
    text = run.output.decode("utf-8", "replace")
    if run.timed_out:
        text += "\n[stopped after %d s]\n" % WALL_SECONDS
    path.write_text(text)
    return text


def build_module(kdir, mod_dir, module, shown):
    """Build mod_dir/MODULE.ko against the build tree kdir, at W=1."""
    mod_dir = Path(os.path.realpath(mod_dir))
    log = mod_dir / "build.log"
    sandboxed = not unsandboxed()
    note = "" if sandboxed else UNSANDBOXED_NOTE

    def refuse(why, diagnostics=""):
        if not log.exists():
            log.write_text(why + "\n")
        text = "\n".join(x for x in (note, diagnostics) if x)
        return BuildResult(False, text, log, _warnings(diagnostics),
                           clean_text(why), sandboxed)

    if sandboxed:
        ok, why = sandbox_available()
        if not ok:
            return refuse(sandbox_refusal(why))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", module):
        return refuse("module name '%s' is not lower_case" % clean_text(module))
    why = _prepare(mod_dir, module)
    sources = sorted(p.name for p in mod_dir.iterdir()
                     if p.is_file() and p.suffix in (".c", ".h"))
    why = why or scan_sources(mod_dir, sources)
    if why:
        return refuse(why)

    tree = kernel_tree(kdir)
    run = _make(tree, mod_dir, ["W=1", "modules"], sandboxed)
    text = _write_log(log, run)
    diagnostics = student_diagnostics(text, mod_dir, shown, run.rc)
    if run.timed_out:
        return refuse("the build took longer than %d s and was stopped"
                      % WALL_SECONDS, diagnostics)
    if run.rc != 0 and re.search(r"out of memory|virtual memory exhausted|"
                                 r"Killed signal terminated", text):
        return refuse("the compiler ran out of memory (the limit is %d MiB)"
                      % (MEMORY >> 20), diagnostics)
    if run.rc != 0 and re.search(r"File size limit exceeded|"
                                 r"signal terminated program", text):
        return refuse("the build was stopped by a limit (files %d MiB, CPU "
                      "%d s)" % (FILE_SIZE >> 20, CPU_SECONDS), diagnostics)
    if run.rc != 0:
        return BuildResult(False, "\n".join(x for x in (note, diagnostics) if x),
                           log, _warnings(diagnostics), "", sandboxed)

    if not sandboxed:
        checks = _make(tree, mod_dir, [u + x for u in _units(mod_dir, module)
                                       for x in (".i", ".s")], False)
        _write_log(mod_dir / "checks.log", checks)
    why = check_outputs(tree, mod_dir, module, deep=not sandboxed)
    if why:
        return refuse(why, diagnostics)
    text = "\n".join(x for x in (note, diagnostics) if x)
    return BuildResult(True, text, log, _warnings(diagnostics), "", sandboxed)
