"""grading/kw: the kit's host-side commands.

    grading/kw grade STAGE [SRC] [KERNEL]        make grade
    grading/kw shell STAGE [SRC] [KERNEL]        make shell
    grading/kw vm-run STAGE [SRC] [KERNEL] SCRIPT  make vm-run
    grading/kw class STAGE SUBMISSIONS [KERNEL]  make grade-class
    grading/kw quiz STAGE CSV [KERNEL]           make grade-quiz
    grading/kw stages generate|check|one|answers ...
    grading/kw fill STAGEDIR ANSWERS OUT         fill blanks from answers
    grading/kw strip-hidden CHECKER-COPY         hidden tests out (make dist)
    grading/kw bench-http [KERNEL]               make bench-http
    grading/kw bench-fib [KERNEL]                make bench-fib
    grading/kw mutants STAGE [KERNEL] [--list]   make mutants

Exit status 2 with one "kweb: error:" line when a command cannot run.
"""

import sys

from .paths import KwebError, error_line


def _grade(argv):
    from . import grade
    return grade.main(argv)


def _vmrun(mode):
    def run(argv):
        from . import vmrun
        return vmrun.main(mode, argv)
    return run


def _class(argv):
    from . import classbatch
    if len(argv) < 2:
        raise KwebError("usage: grading/kw class STAGE SUBMISSIONS [KERNEL]")
    return classbatch.run_class(argv[0], argv[1], argv[2] if len(argv) > 2
                                else None)


def _quiz(argv):
    from . import classbatch
    if len(argv) < 2:
        raise KwebError("usage: grading/kw quiz STAGE CSV [KERNEL]")
    return classbatch.run_quiz(argv[0], argv[1], argv[2] if len(argv) > 2
                               else None)


def _fill(argv):
    """fill STAGEDIR ANSWERS OUT: the stage's blanks filled from an answers
    file, as kwblank reads it (for the kit's fixtures and for instructors)."""
    from pathlib import Path
    from . import blanks
    from .stagefiles import parse_stage_conf
    if len(argv) != 3:
        raise KwebError("usage: grading/kw fill STAGEDIR ANSWERS OUT")
    stage, answers, out = (Path(a) for a in argv)
    conf = parse_stage_conf(stage / "stage.conf") \
        if (stage / "stage.conf").is_file() else None
    sources = conf.sources if conf else sorted(
        p.name for p in stage.glob("*.c"))
    rep = blanks.check(stage, sources, answers=answers, shown=answers.name)
    if rep.refusals or rep.unanswered:
        raise KwebError((rep.refusals or rep.text.strip().split("\n"))[0])
    blanks.fill(stage, rep, out)
    return 0


def _strip_hidden(argv):
    """strip-hidden CHECKER: hidden tests out of a copy of checker/."""
    from .stagefiles import strip_hidden
    if len(argv) != 1:
        raise KwebError("usage: grading/kw strip-hidden CHECKER-COPY")
    strip_hidden(argv[0])
    return 0


def _bench_http(argv):
    from . import bench
    return bench.main(argv)


def _bench_fib(argv):
    from . import benchfib
    return benchfib.main(argv)


def _mutants(argv):
    from . import mutants
    return mutants.main(argv)


def _stages(argv):
    from . import stages
    return stages.main(argv)


COMMANDS = {"grade": _grade, "shell": _vmrun("shell"),
            "vm-run": _vmrun("script"), "class": _class, "quiz": _quiz,
            "stages": _stages, "fill": _fill,
            "strip-hidden": _strip_hidden, "bench-http": _bench_http,
            "bench-fib": _bench_fib, "mutants": _mutants}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except KwebError as e:
        print(error_line(str(e)), file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print(error_line("interrupted"), file=sys.stderr)
        return 2
