"""The library's docstrings: every public name shows an example, and no Sphinx role is left.

The examples themselves run under ``pytest --doctest-modules`` (``testpaths`` in pyproject.toml holds
``dnnf``); this file checks that they exist, so that a new public function without one, or an example
that is only skipped, lowers the count and fails here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = [
    "dnnf.projection",
    "dnnf.estimators",
    "dnnf.flows",
    "dnnf.inpainting",
    "dnnf.rare_events",
    "dnnf.training",
]
MIN_COVERAGE = 0.9


def _attribute_docstrings(package: str) -> dict[str, str]:
    """Docstrings of module-level constants (a string right after the assignment) in a package."""
    found: dict[str, str] = {}
    for path in (ROOT / package.replace(".", "/")).glob("*.py"):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for node, after in zip(body, body[1:], strict=False):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                for target in targets:
                    if isinstance(target, ast.Name) and isinstance(after.value.value, str):
                        found[target.id] = after.value.value
    return found


def _has_example(doc: str | None) -> bool:
    """An ``Examples`` section with at least one statement that doctest runs (not all skipped)."""
    if not doc or not re.search(r"^\s*Examples\n\s*-{3,}", doc, re.MULTILINE):
        return False
    prompts = [line for line in doc.splitlines() if line.lstrip().startswith(">>> ")]
    return any("doctest: +SKIP" not in line for line in prompts)


def _public_names() -> list[tuple[str, str, bool]]:
    rows = []
    for package in SUBPACKAGES:
        module = importlib.import_module(package)
        constants = _attribute_docstrings(package)
        for name in module.__all__:
            obj = getattr(module, name)
            doc = inspect.getdoc(obj) if inspect.isclass(obj) or callable(obj) else constants.get(name)
            rows.append((package, name, _has_example(doc)))
    return rows


def test_public_names_have_examples():
    """Issue 12: at least 90% of the names in the subpackages' ``__all__`` have a runnable example."""
    rows = _public_names()
    missing = [f"{package}.{name}" for package, name, ok in rows if not ok]
    coverage = 1 - len(missing) / len(rows)
    assert coverage >= MIN_COVERAGE, f"{coverage:.0%} of {len(rows)} have an example; missing: {missing}"


def test_example_check_can_fail():
    """The detector above rejects a docstring without examples and one whose example is only skipped."""
    assert _has_example("Text.\n\nExamples\n--------\n>>> 1 + 1\n2\n")
    assert not _has_example("Text without an example.")
    assert not _has_example("Examples\n--------\n>>> train()  # doctest: +SKIP\n")


@pytest.mark.parametrize("path", sorted((ROOT / "dnnf").rglob("*.py")), ids=lambda p: p.name)
def test_no_sphinx_roles(path: Path):
    """mkdocstrings does not resolve ``:func:`x``` and shows it raw: cross-references are ``[x][dnnf.x]``."""
    text = path.read_text(encoding="utf-8")
    roles = re.findall(r":(?:func|meth|class|mod|attr|data|obj|exc):`[^`]*`", text)
    assert not roles, f"{path.relative_to(ROOT)}: {roles}"
