"""The book's source page (docs/source.md) and the errata boxes that point to it.

The book grew from homework 10 of Ernest Ryu's course; docs/source.md states its six problems and links
each to the page that answers it, and every errata box links back to the problem it concerns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
SOURCE = (DOCS / "source.md").read_text(encoding="utf-8")
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.name != "source.md")
ERRATA = re.compile(r'^!!! warning "Errata[^"]*"\n((?:    .*\n|\n)+)', re.M)


def test_source_page_states_six_problems_and_links_each_to_an_existing_page():
    for n in range(1, 7):
        section = SOURCE.split(f"{{#problem-{n}}}")[1].split("### ")[0]
        links = re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", section)
        assert links, f"problem {n} links to no page"
        for link in links:
            assert (DOCS / link).is_file(), f"problem {n} links to a missing page {link}"


@pytest.mark.parametrize("page", [p for p in PAGES if ERRATA.search(p.read_text(encoding="utf-8"))],
                         ids=lambda p: p.relative_to(DOCS).as_posix())  # fmt: skip
def test_every_errata_box_links_to_its_problem_on_the_source_page(page: Path):
    text = page.read_text(encoding="utf-8")
    for box in ERRATA.finditer(text):
        assert re.search(r"source\.md#problem-[1-6]\)", box.group(1)), f"{page.name}: box without a link"
    # the source page's summary links to "#errata" on this page: the anchor must exist
    assert '<div id="errata" markdown>' in text or "\n## Errata\n" in text


def test_the_homework_is_never_called_the_seed():
    """The word "seed" means a random seed only; the homework's solution is "the reference solution"."""
    jargon = re.compile(r"\bseed(?:'s| homework| recipe| solution| problem| pipeline)|\bthe seed\b", re.I)
    for page in [*PAGES, *sorted((DOCS / "tutorials").glob("*.py"))]:
        for line in page.read_text(encoding="utf-8").splitlines():
            if jargon.search(line) and "seed fixes" not in line:
                pytest.fail(f"{page.relative_to(DOCS)}: {line.strip()}")
