"""The claims registry and the linkable results of the proof pages (scripts/site/claims.py, refs.py).

These read the Markdown sources and the tests' ``@pytest.mark.claim`` declarations, without building the
site: every declaration must point at an id that exists, every numbered equation or theorem must be
claimed by a test or say on its page why not, and the code a proof page shows must run.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import replace
from pathlib import Path

import markdown
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "scripts" / "site"))
import claims  # noqa: E402
import crossrefs  # noqa: E402
import refs  # noqa: E402

PROOF_PAGES = sorted(
    p.relative_to(DOCS).as_posix()
    for p in DOCS.rglob("*.md")
    if crossrefs.is_proof_page(p.relative_to(DOCS).as_posix())
)


def _markdown_extensions() -> tuple[list[str], dict]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    names, options = [], {}
    for entry in config["markdown_extensions"]:
        name, opts = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
        names.append(name)
        options[name] = opts or {}
    return names, options


def _page_facts() -> tuple[
    dict[str, set[str]], dict[str, dict[str, str]], dict[str, dict[str, str]], set[str]
]:
    """Every id on each proof page (rendered with the book's Markdown settings), its results and notes."""
    names, options = _markdown_extensions()
    ids, results, untested, placeholders = {}, {}, {}, set()
    for page in PROOF_PAGES:
        source = (DOCS / page).read_text(encoding="utf-8")
        text, anchors = refs.assign_anchors(source)
        html = markdown.Markdown(extensions=names, extension_configs=options).convert(text)
        ids[page] = set(re.findall(r'\bid="([^"]+)"', html))
        results[page] = {a.id: a.label for a in anchors}
        untested[page] = claims.untested_notes(source)
        if claims.PLACEHOLDER in source:
            placeholders.add(page)
    return ids, results, untested, placeholders


@pytest.fixture(scope="module")
def facts():
    return _page_facts()


@pytest.fixture(scope="module")
def registry() -> claims.Registry:
    return claims.read_claims(ROOT / "tests", ROOT)


def test_the_registry_and_the_pages_agree(facts, registry):
    problems = claims.problems(registry, *facts)
    assert problems == [], "\n".join(problems)


def test_every_proof_page_lists_its_tests(facts, registry):
    ids, results, _, placeholders = facts
    assert placeholders == set(PROOF_PAGES)
    assert len(registry.claims) >= 130
    numbered = sum(len(r) for r in results.values())
    claimed = {(p, a) for c in registry.claims for t in c.targets for p, _, a in [t.partition("#")]}
    assert numbered >= 60 and len(claimed) >= 60


def test_a_claim_on_a_missing_anchor_is_reported(facts, registry):
    bad = replace(registry.claims[0], targets=("projection/index.md#thm-99",))
    broken = claims.Registry([*registry.claims, bad])
    problems = claims.problems(broken, *facts)
    assert any(
        "declares claim 'projection/index.md#thm-99', but projection/index.md has no anchor" in p
        for p in problems
    )
    ghost = replace(bad, targets=("no-such-chapter/index.md#eq-1",))
    assert any(
        "there is no page 'no-such-chapter/index.md'" in p
        for p in claims.problems(claims.Registry([ghost]), *facts)
    )


def test_deleting_the_only_test_of_an_equation_is_reported(facts, registry):
    """Remove ``test_linear_rate_strongly_convex``, the one test of (17) on the projection page."""
    kept = [c for c in registry.claims if c.test != "test_linear_rate_strongly_convex"]
    assert len(kept) == len(registry.claims) - 1
    problems = claims.problems(claims.Registry(kept), *facts)
    assert problems == [
        "projection/index.md: (17) (#eq-17) has neither a test declaring it "
        "(@pytest.mark.claim('projection/index.md#eq-17')) nor a note <!-- untested eq-17: why -->"
    ]


def test_an_empty_placeholder_and_a_page_without_one_are_reported(facts, registry):
    ids, results, untested, placeholders = facts
    only_projection = claims.Registry([c for c in registry.claims if c.anchors_on("projection/index.md")])
    problems = claims.problems(only_projection, ids, {}, {}, placeholders)
    assert (
        "flows/index.md: its 'Checked by' placeholder would be empty: no test declares a claim on it"
        in problems
    )
    problems = claims.problems(registry, ids, {}, {}, placeholders - {"flows/index.md"})
    assert (
        "flows/index.md: tests declare claims on it, but it has no <!-- checked-by --> to list them"
        in problems
    )


def test_declarations_are_read_without_importing(tmp_path: Path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.claim('a/index.md#eq-1', 'a/index.md', note='n')\n"
        "@pytest.mark.parametrize('v', [1])\n"
        "def test_one(v):\n    pass\n\n\n"
        "@pytest.mark.claim(SOME_NAME)\n"
        "def test_two():\n    pass\n"
    )
    registry = claims.read_claims(tmp_path / "tests", tmp_path)
    assert registry.claims == [
        claims.Claim("test_one", "tests/test_x.py", 6, ("a/index.md#eq-1", "a/index.md"), "n")
    ]
    assert registry.errors == ["tests/test_x.py:10: claim(...) takes string literals only"]


def test_checked_by_links_each_test_to_its_source_line(registry):
    page = "projection/index.md"
    _, anchors = refs.assign_anchors((DOCS / page).read_text(encoding="utf-8"))
    listing = claims.render_checked_by(
        page, registry, {a.id: a.label for a in anchors}, {}, "https://github.com/o/r", "abc123"
    )
    links = re.findall(
        r"\[`(test_\w+)`\]\(https://github\.com/o/r/blob/abc123/(tests/\S+?)#L(\d+)\)", listing
    )
    assert len(links) == len(registry.for_page(page)) >= 25
    for name, file, line in links:
        assert (
            (ROOT / file)
            .read_text(encoding="utf-8")
            .split("\n")[int(line) - 1]
            .lstrip()
            .startswith(f"def {name}(")
        )


# ------------------------------------------------------------------------------------- references
def test_equations_and_theorems_get_ids_and_references_link_to_them():
    md = "**Theorem 3 (rates).** Bound:\n\n$$\nf \\le g \\tag{15}\n$$\n\n"
    md += "By (15)–(16) and Theorem 3, not $(15)$.\n"
    text, anchors = refs.assign_anchors(md)
    assert [(a.id, a.label) for a in anchors] == [("thm-3", "Theorem 3"), ("eq-15", "(15)")]
    assert "**[Theorem 3 (rates).](#thm-3)**{#thm-3 .dnnf-claim}" in text
    assert '<div class="dnnf-equation" id="eq-15" markdown>' in text
    linked = refs.link_references(text, {"thm-3", "eq-15"}, {})
    assert "By [(15)](#eq-15)–(16) and [Theorem 3](#thm-3), not $(15)$." in linked
    assert "**[Theorem 3 (rates).](#thm-3)**{#thm-3" in linked  # the label is not linked twice


def test_exercises_written_as_a_numbered_list_get_ids():
    md = "## Exercises\n\n1. Show it.\n\n2. And this,\n   see exercise 1.\n\n## Checked by\n\n1. not one\n"
    text, anchors = refs.assign_anchors(md)
    assert [a.id for a in anchors] == ["ex-1", "ex-2"]
    assert '2. <span class="dnnf-claim" id="ex-2"></span>And this,' in text
    assert "see [exercise 1](#ex-1)." in refs.link_references(text, {"ex-1", "ex-2"}, {})


def test_a_display_with_two_tags_gets_two_ids():
    text, anchors = refs.assign_anchors("$$\n\\begin{aligned} a \\tag{2} \\\\ b \\tag{3}\\end{aligned}\n$$\n")
    assert [a.id for a in anchors] == ["eq-2", "eq-3"]
    assert '<span class="dnnf-equation-anchor" id="eq-3"></span>' in text


def test_a_tag_written_in_math_is_linked_too():
    text, anchors = refs.assign_anchors("$$\nx \\tag{$*$}\n$$\n\nby ($*$) and $(*)$\n")
    assert [a.id for a in anchors] == ["eq-star"]
    assert "by [($*$)](#eq-star) and $(*)$" in refs.link_references(text, {"eq-star"}, {})


def test_references_leave_code_counts_and_other_pages_alone():
    md = "`f(3)` and 1036 (3) and **392** (0); (BPD) of the chapter; (3)\n"
    out = refs.link_references(md, {"eq-3", "eq-0"}, {"eq-bpd": "index.md"})
    assert (
        out == "`f(3)` and 1036 (3) and **392** (0); [(BPD)](index.md#eq-bpd) of the chapter; [(3)](#eq-3)\n"
    )


def test_chapter_equation_links_to_the_chapter_page():
    md = "its variance (chapter equation (5)) and its own (5)\n"
    out = refs.link_references(md, {"eq-5"}, {}, ("index.md", {"eq-5"}))
    assert out == "its variance (chapter equation [(5)](index.md#eq-5)) and its own [(5)](#eq-5)\n"


def test_inline_code_naming_an_exported_object_links_to_its_entry():
    names = refs.exported_names(ROOT / "dnnf")
    assert names["project_box"] == "dnnf.projection.project_box"
    md = (
        "This is `project_box(y, lower, upper)`, i.e. `torch.clamp`; see [`inpaint`](../api/inpainting.md)"
        " and [`dnnf.projection`](../api/projection.md).\n\n```python\nproject_box(y)\n```\n"
    )
    out, count = refs.link_api_names(md, names)
    assert count == 2
    assert "[`project_box(y, lower, upper)`][dnnf.projection.project_box]" in out
    assert "[`inpaint`][dnnf.inpainting.inpaint]" in out
    assert "`torch.clamp`;" in out and "[`dnnf.projection`](../api/projection.md)" in out
    assert out.endswith("```python\nproject_box(y)\n```\n")


# ---------------------------------------------------------------------------- code on proof pages
def _python_blocks() -> list[tuple[str, int, str]]:
    blocks = []
    for page in PROOF_PAGES:
        source = (DOCS / page).read_text(encoding="utf-8")
        for m in re.finditer(r"^```python[^\n]*\n(.*?)^```", source, re.S | re.M):
            blocks.append((page, source.count("\n", 0, m.start()) + 1, m.group(1)))
    return blocks


@pytest.mark.parametrize(("page", "line", "code"), _python_blocks(), ids=lambda v: str(v)[:40])
def test_code_shown_on_a_proof_page_runs(page: str, line: int, code: str):
    compiled = compile(ast.parse(code, filename=f"docs/{page}:{line}"), f"docs/{page}:{line}", "exec")
    exec(compiled, {"__name__": "__docs__"})  # noqa: S102 - the book's own code, run as a reader would
