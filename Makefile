# kweb-lab: the interface. `make help` lists the targets.
#
#   make grade STAGE=1 [SRC=stages|solutions|DIR] [KERNEL=6.12|6.1|7.3|debug] [ANSWERS=file]
#   make shell STAGE=1 [SRC=...] [KERNEL=...]
#   make vm-run STAGE=1 SCRIPT=path [SRC=...] [KERNEL=...]
#   make test
#   make handouts | make dist   (instructors: handouts, the student kit)
SHELL := /bin/bash
STAGE ?=
SRC ?= stages
KERNEL ?= 6.12
SCRIPT ?=
ANSWERS ?=
SUBMISSIONS ?=
CSV ?=

.PHONY: help grade grade-class grade-quiz shell vm-run kernels deps stages \
	check-stages test test-bn test-matrix mutants bench bench-http bench-fib clean handouts dist

help:
	@awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' Makefile
	@echo "  make kernels        fetch 6.12 and 6.1, build 7.3 and debug (about 10 min, once)"
	@echo "  make stages         regenerate stages/ from solutions/"
	@echo "  make test-bn [SRC=stages|solutions|DIR]   stage 7's bn.c against GMP, in user space"
	@echo "  make test-matrix    make test with every fixture on every kernel (instructors)"
	@echo "  make mutants [STAGE=n] [KERNEL=6.12] [LIST=1]   grade mutants of the solutions: the kill rate"
	@echo "  make bench          measure grading wall time"
	@echo "  make bench-http [KERNEL=6.12]   stages 2, 5, 6 and lighttpd under load (build/bench/http)"
	@echo "  make bench-fib [KERNEL=6.12]    stage 7's /fib/N against GMP (build/bench/fib)"
	@echo "  make grade-class STAGE=1 SUBMISSIONS=dir/   grade a class (gradebook, reports)"
	@echo "  make grade-quiz CSV=form.csv [STAGE=5]      grade a quiz form's export"
	@echo "  make handouts       build the handouts (HTML, PDF) into build/handouts"
	@echo "  make dist           the student kit: build/dist/kweb-lab-student.tar.gz"

# Graded, whatever the score, is success for make (no "Error 1" after the
# total); STRICT=1 makes anything below full marks fail (for CI pipelines).
grade:
	@KWEB_ANSWERS="$(ANSWERS)" grading/kw grade "$(STAGE)" "$(SRC)" "$(KERNEL)" || \
		{ rc=$$?; [ $$rc -eq 1 ] && [ -z "$(STRICT)" ] || exit $$rc; }

# A whole class: a folder of submissions, or a quiz form's CSV export (stage
# 5 unless STAGE= says otherwise). Writes a gradebook and a report each.
grade-class:
	@grading/kw class "$(STAGE)" "$(SUBMISSIONS)" "$(KERNEL)"

grade-quiz:
	@grading/kw quiz "$(or $(STAGE),5)" "$(CSV)" "$(KERNEL)"

shell:
	@grading/kw shell "$(STAGE)" "$(SRC)" "$(KERNEL)"

vm-run:
	@grading/kw vm-run "$(STAGE)" "$(SRC)" "$(KERNEL)" "$(SCRIPT)"

kernels:
	@grading/deps.sh grade
	@grading/kernel.sh 6.12 6.1 7.3 debug

deps:
	@grading/deps.sh test

stages:
	@grading/kw stages generate

# The student kit has no solutions, no kit tests and no handout sources.
instructor_only = [ -e $(1) ] || { echo "make $@: not in the student kit (it ships stages/ and handouts/ ready-made)" >&2; exit 2; }

check-stages:
	@grading/kw stages check

test:
	@$(call instructor_only,tests/run.sh)
	@tests/run.sh

# Stage 7's bn.c in user space, against GMP (no guest): yours by default.
BN_DIR = $(abspath $(if $(wildcard $(SRC)/bn.c),$(SRC),$(SRC)/07-fib))
test-bn:
	@grading/deps.sh unit
	@for f in "$(BN_DIR)/bn.c" "$(BN_DIR)/bn.h"; do \
		[ -f "$$f" ] || { echo "make test-bn: $$f does not exist (SRC=stages, solutions or a folder with bn.c)" >&2; exit 2; }; \
		b=$$(grep -owE '([A-Z])\1\1\1' "$$f" | head -n 1); \
		[ -z "$$b" ] || { echo "make test-bn: $$f still has the blank $$b: fill it in first" >&2; exit 2; }; \
	done
	@$(MAKE) -s --no-print-directory -C checker/unit BN="$(BN_DIR)"

# The fixtures on every kernel, not only the first (make test runs the
# solutions and unfilled stages on the others).
test-matrix:
	@$(call instructor_only,tests/run.sh)
	@KWEB_SELFTEST_MATRIX=1 tests/run.sh

# Mutation testing (instructors): small wrong versions of solutions/NN-*/
# graded with the stage's tests, every stage unless STAGE= names one;
# LIST=1 lists them without grading. See grading/kweb/mutants.py.
mutants:
	@$(call instructor_only,solutions)
	@rc=0; for s in $(or $(STAGE),$(patsubst checker/%/rubric,%,$(wildcard checker/[0-9][0-9]-*/rubric))); do \
		grading/kw mutants "$$s" "$(KERNEL)" $(if $(LIST),--list); r=$$?; \
		[ $$r -ne 2 ] || exit 2; [ $$r -eq 0 ] || rc=1; \
	done; exit $$rc

# Student and instructor editions; `make handouts EDITION=student` for one.
EDITION ?= all
handouts:
	@$(call instructor_only,handouts/build.sh)
	@handouts/build.sh $(EDITION)

dist:
	@$(call instructor_only,handouts/dist.sh)
	@handouts/dist.sh

bench:
	@tests/bench.sh

# One guest runs the same HTTP load against stage 2, stage 5, stage 6 (with
# and without keep-alive) and lighttpd; prints the table and ratios, writes
# CSV, PNG and SVG under build/bench/http.
bench-http:
	@$(call instructor_only,solutions)
	@grading/kw bench-http "$(KERNEL)"

# One guest times stage 7's GET /fib/N (its Server-Timing: total, binary
# computation, decimal conversion) and GMP's for N = 10^3 .. 10^7; prints
# the table and ratios, writes CSV and PNG under build/bench/fib.
bench-fib:
	@$(call instructor_only,solutions)
	@grading/kw bench-fib "$(KERNEL)"

clean:
	rm -rf build
