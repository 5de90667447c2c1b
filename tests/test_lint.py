r"""Static checks of the whole repository.

ruff's D301/W605 rules matter for the book: a docstring with TeX that is not a raw string turns
``\nabla`` or ``\frac`` into escape sequences, and the API page silently shows broken math.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "dnnf", "tests", "scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_library_file_is_longer_than_400_lines():
    long = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for p in sorted((ROOT / "dnnf").rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert not long, "split by idea: " + ", ".join(long)
