"""The bibliography hook (scripts/site/bibliography.py) and the book's use of it (docs/references.bib).

Citations are rewritten into links to the references page, code is left alone, an unknown key is a
warning (so the strict build fails), and every entry of the one BibTeX file is cited by some page.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "site"))
import bibliography  # noqa: E402

CHAPTERS = ["projection", "estimators", "flows", "inpainting", "rare-events"]


@pytest.fixture(scope="module", autouse=True)
def _loaded_bibliography():
    bibliography.on_config({})


def _page(src_uri: str, url: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri), url=url)


def _render(markdown: str, src_uri: str = "estimators/index.md", url: str = "estimators/") -> str:
    return bibliography.on_page_markdown(markdown, _page(src_uri, url), {}, None)


def test_labels_name_one_two_or_the_first_author():
    labels = bibliography.STATE.labels
    assert labels["williams1992"] == ("Williams", "1992")
    assert labels["kingma2014"] == ("Kingma and Welling", "2014")
    assert labels["dinh2015"] == ("Dinh et al.", "2015")
    assert labels["deboer2005"] == ("de Boer et al.", "2005")  # the "von" part stays with the surname


def test_citations_become_links_to_the_references_page():
    text = _render("REINFORCE [@williams1992] and [@kingma2014; @rezende2014, sec. 3].")
    assert text == (
        "REINFORCE ([Williams 1992](../references.md#williams1992)) and "
        "([Kingma and Welling 2014](../references.md#kingma2014); "
        "[Rezende et al. 2014](../references.md#rezende2014), sec. 3)."
    )
    year_only = _render("Siegmund [-@siegmund1976]", "index.md", "")
    assert year_only == "Siegmund ([1976](references.md#siegmund1976))"


def test_code_is_left_alone():
    markdown = (
        "`[@williams1992]`\n\n```python\nx = [@williams1992]\n```\n\n"
        "!!! note\n    ```\n    [@owen2013]\n    ```\n"
    )
    assert _render(markdown) == markdown


def test_unknown_key_or_bad_syntax_is_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.dnnf.bibliography"):
        assert _render("[@nobody1900]") == "[@nobody1900]"
        assert _render("[@williams1992 @owen2013]") == "[@williams1992 @owen2013]"
    assert "nobody1900" in caplog.text
    assert "cannot read the citation" in caplog.text


def test_references_page_lists_every_entry_with_its_anchor_and_back_links():
    bibliography.STATE.cited_by = {key: [] for key in bibliography.STATE.labels}
    bibliography.STATE.cited_by["owen2013"] = [("rare-events/", "Rare events")]
    html = _render("# References\n\n<!-- bibliography -->\n", "references.md", "references/")
    for key in bibliography.STATE.labels:
        assert f'<li id="{key}">' in html
    assert '<a href="../rare-events/">Rare events</a>' in html


def test_every_entry_is_cited_and_every_chapter_cites():
    """The book's own pages: no entry of references.bib is uncited, no citation names a missing key."""
    cited: dict[str, set[str]] = {}
    for path in (ROOT / "docs").rglob("*.md"):
        for key in bibliography._citations(path.read_text(encoding="utf-8")):
            cited.setdefault(key, set()).add(path.relative_to(ROOT / "docs").as_posix())
    assert set(cited) <= set(bibliography.STATE.labels), set(cited) - set(bibliography.STATE.labels)
    assert set(bibliography.STATE.labels) <= set(cited), set(bibliography.STATE.labels) - set(cited)
    pages = set().union(*cited.values())
    for chapter in CHAPTERS:
        assert f"{chapter}/index.md" in pages, f"{chapter}/index.md cites nothing"
