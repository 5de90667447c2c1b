r"""The claims registry: which test checks which claim of the book, declared once, on the test.

A test declares the claims it checks with a pytest marker (registered in ``pyproject.toml``)::

    @pytest.mark.claim("projection/index.md#thm-3", "projection/index.md#eq-7", note="against SLSQP")
    def test_variational_inequality(): ...

A target is ``<page>#<anchor>`` (an equation ``eq-n``, a theorem-like ``thm-n``/``lemma-n``/..., or a
heading's id, for a table or a section), or a bare ``<page>`` for what belongs to a page without a
numbered claim (input checks, helpers). The declarations are read from ``tests/*.py`` with ``ast``,
without importing anything, so the site build does not need the test dependencies.

A page lists them where it says ``<!-- checked-by -->``. A numbered result that no test checks must
say why on its page: ``<!-- untested eq-2: a restatement of the definition (1) -->``; the reason is
shown under "Checked by" too. ``problems`` lists everything that is wrong; the MkDocs hook turns
each into a warning (so ``mkdocs build --strict`` fails) and ``tests/test_claims.py`` into a failure.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDER = "<!-- checked-by -->"
UNTESTED = re.compile(r"<!--\s*untested\s+(?P<ids>[\w, -]+?)\s*:\s*(?P<why>.*?)\s*-->", re.S)


@dataclass(frozen=True)
class Claim:
    """One test's declaration: the targets it checks, a short note, and where the test is."""

    test: str  # function name (``TestClass.test_x`` for a method)
    file: str  # repository-relative path, e.g. ``tests/test_projection_sets.py``
    line: int
    targets: tuple[str, ...]
    note: str = ""

    def anchors_on(self, page: str) -> list[str]:
        """The anchors this test checks on ``page`` ('' for the page as a whole)."""
        return [t.partition("#")[2] for t in self.targets if t.partition("#")[0] == page]


@dataclass
class Registry:
    claims: list[Claim] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def for_page(self, page: str) -> list[Claim]:
        return [c for c in self.claims if c.anchors_on(page)]


def _is_claim_marker(node: ast.expr) -> bool:
    # pytest.mark.claim(...) (also `mark.claim` after `from pytest import mark`)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "claim"
        and isinstance(node.func.value, ast.Attribute | ast.Name)
        and (
            getattr(node.func.value, "attr", None) == "mark" or getattr(node.func.value, "id", None) == "mark"
        )
    )


def read_claims(tests_dir: Path, root: Path) -> Registry:
    """Every ``@pytest.mark.claim`` under ``tests_dir``, parsed (never imported)."""
    registry = Registry()
    for path in sorted(tests_dir.glob("test_*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for deco in node.decorator_list:
                if not _is_claim_marker(deco):
                    continue
                assert isinstance(deco, ast.Call)
                where = f"{rel}:{deco.lineno}"
                try:
                    targets = tuple(ast.literal_eval(a) for a in deco.args)
                    kw = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                except ValueError:
                    registry.errors.append(f"{where}: claim(...) takes string literals only")
                    continue
                if not targets or not all(isinstance(t, str) for t in targets) or set(kw) - {"note"}:
                    registry.errors.append(f"{where}: write claim('page.md#anchor', ..., note='...')")
                    continue
                registry.claims.append(Claim(node.name, rel, node.lineno, targets, kw.get("note", "")))
    return registry


def untested_notes(md: str) -> dict[str, str]:
    """``{anchor: reason}`` from the page's ``<!-- untested eq-2, thm-1: reason -->`` comments."""
    notes: dict[str, str] = {}
    for m in UNTESTED.finditer(md):
        for anchor in re.split(r"[,\s]+", m.group("ids").strip()):
            notes[anchor] = " ".join(m.group("why").split())
    return notes


def source_url(repo_url: str, commit: str, claim: Claim) -> str:
    return f"{repo_url.rstrip('/')}/blob/{commit}/{claim.file}#L{claim.line}"


def render_checked_by(
    page: str,
    registry: Registry,
    labels: dict[str, str],
    untested: dict[str, str],
    repo_url: str,
    commit: str,
) -> str:
    """The Markdown of a page's "Checked by" list: tests grouped by file, each linking to its source.

    ``labels`` maps the page's anchors to what a reader sees ("(15)", "Theorem 3"); other anchors (a
    heading: a section or a table) are shown as "this section" links with the anchor's text.
    """
    by_file: dict[str, list[Claim]] = defaultdict(list)
    for claim in registry.for_page(page):
        by_file[claim.file].append(claim)
    lines: list[str] = []
    for file in sorted(by_file):
        lines.append(f"- `{file}`")
        for claim in sorted(by_file[file], key=lambda c: c.line):
            what = [_target_text(a, labels) for a in claim.anchors_on(page) if a]
            text = ", ".join(what)
            if claim.note:
                text = f"{text}: {claim.note}" if text else claim.note
            entry = f"[`{claim.test}`]({source_url(repo_url, commit, claim)})"
            lines.append(f"    - {entry}" + (f" — {text}" if text else ""))
    if untested:
        lines.append("")
        lines.append("Not checked by a test, and why:")
        lines.append("")
        for anchor, why in untested.items():
            lines.append(f"- {_target_text(anchor, labels)}: {why}")
    return "\n".join(lines) + "\n"


def _target_text(anchor: str, labels: dict[str, str]) -> str:
    # the equation reference itself, "(4)", is turned into a link by the reference pass afterwards
    label = labels.get(anchor)
    if label is None:
        return f"[§ {anchor.replace('-', ' ')}](#{anchor})"
    return label if re.fullmatch(r"\((\d+[a-z]?|[A-Z]{1,5})\)", label) else f"[{label}](#{anchor})"


def problems(
    registry: Registry,
    page_anchors: dict[str, set[str]],
    numbered: dict[str, dict[str, str]],
    untested: dict[str, dict[str, str]],
    placeholders: Iterable[str],
) -> list[str]:
    """Everything that breaks the registry's promises, one sentence each.

    ``page_anchors``: every id on every page (headings included); ``numbered``: each proof page's
    numbered results (``{anchor: label}``); ``untested``: each page's untested notes; ``placeholders``:
    the pages that have a "Checked by" placeholder.
    """
    found = list(registry.errors)
    claimed: dict[str, set[str]] = defaultdict(set)
    for claim in registry.claims:
        for target in claim.targets:
            page, _, anchor = target.partition("#")
            where = f"{claim.file}:{claim.line} {claim.test}"
            if page not in page_anchors:
                found.append(f"{where} declares claim {target!r}, but there is no page {page!r}")
            elif anchor and anchor not in page_anchors[page]:
                found.append(f"{where} declares claim {target!r}, but {page} has no anchor {anchor!r}")
            else:
                claimed[page].add(anchor)
    for page in sorted(placeholders):
        if not claimed.get(page):
            found.append(
                f"{page}: its 'Checked by' placeholder would be empty: no test declares a claim on it"
            )
    for page in sorted(claimed):
        if page not in set(placeholders):
            found.append(f"{page}: tests declare claims on it, but it has no {PLACEHOLDER} to list them")
    for page, results in sorted(numbered.items()):
        notes = untested.get(page, {})
        for anchor in notes:
            if anchor not in results:
                found.append(
                    f"{page}: an untested note names {anchor!r}, which is not a numbered result there"
                )
        for anchor, label in results.items():
            if anchor.startswith("ex-"):
                continue  # exercises carry their solutions; a test is welcome, not required
            if anchor not in claimed.get(page, set()) and anchor not in notes:
                found.append(
                    f"{page}: {label} (#{anchor}) has neither a test declaring it "
                    f"(@pytest.mark.claim('{page}#{anchor}')) nor a note <!-- untested {anchor}: why -->"
                )
    return found
