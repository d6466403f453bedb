"""The kernel build trees the pytest suite builds modules against, shared
by test_build.py and test_gate.py: where the grader keeps them
(KWEB_CACHE), or a skip that says how to get them."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb.paths import kernel_dir  # noqa: E402


def build_tree(kernel):
    """Where the build tree of kernel series KERNEL is, or would be."""
    return kernel_dir(kernel) / "build"


def kdir_or_skip(kernel):
    """The build tree of kernel series KERNEL; skip the test without it."""
    kdir = build_tree(kernel)
    if not kdir.exists():
        pytest.skip("%s is missing: run make kernels (or make grade once)"
                    % kdir)
    return kdir
