# kweb-lab: the interface. `make help` lists the targets.
#
#   make grade STAGE=1 [SRC=stages|solutions|DIR] [KERNEL=6.12|6.1]
#   make shell STAGE=1 [SRC=...] [KERNEL=...]
#   make vm-run STAGE=1 SCRIPT=path [SRC=...] [KERNEL=...]
#   make test
SHELL := /bin/bash
STAGE ?=
SRC ?= stages
KERNEL ?= 6.12
SCRIPT ?=

.PHONY: help grade shell vm-run kernels deps stages check-stages test \
	test-unit test-grader bench clean

help:
	@sed -n '2,8p' Makefile | sed 's/^# \{0,1\}//'
	@echo "  make kernels        fetch the 6.12 and 6.1 guest kernels ahead of time"
	@echo "  make stages         regenerate stages/ from solutions/"
	@echo "  make bench          measure grading wall time"

# Graded, whatever the score, is success for make (no "Error 1" after the
# total); STRICT=1 makes anything below full marks fail (for CI pipelines).
grade:
	@grading/grade.sh "$(STAGE)" "$(SRC)" "$(KERNEL)" || \
		{ rc=$$?; [ $$rc -eq 1 ] && [ -z "$(STRICT)" ] || exit $$rc; }

shell:
	@grading/vm-run.sh shell "$(STAGE)" "$(SRC)" "$(KERNEL)"

vm-run:
	@grading/vm-run.sh script "$(STAGE)" "$(SRC)" "$(KERNEL)" "$(SCRIPT)"

kernels:
	@grading/deps.sh grade
	@grading/kernel.sh 6.12 6.1

deps:
	@grading/deps.sh test

stages:
	@grading/stages.sh generate

check-stages:
	@grading/stages.sh check

test:
	@tests/run.sh

bench:
	@tests/bench.sh

clean:
	rm -rf build
