"""The built proof pages: every result can be linked to, and library names link to their API entries.

Reads the site that ``mkdocs build --strict`` wrote to ``$DNNF_SITE_DIR`` (default ``site/``), like the
browser test; skipped when there is none, except under CI, where a missing site is a failure.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "site"))
import crossrefs  # noqa: E402
import refs  # noqa: E402

SITE = Path(os.environ.get("DNNF_SITE_DIR", ROOT / "site"))
LABEL = re.compile(r"^(" + "|".join(refs.KINDS) + r")\s+(\d+|\([\w-]+\))")


def _proof_pages() -> list[tuple[str, BeautifulSoup]]:
    if not (SITE / "index.html").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no built site at {SITE}")
        pytest.skip(f"no built site at {SITE}; run `mkdocs build --strict` first")
    pages = []
    for md in sorted((ROOT / "docs").rglob("*.md")):
        src = md.relative_to(ROOT / "docs").as_posix()
        if crossrefs.is_proof_page(src):
            html = (
                SITE
                / (src[: -len("index.md")] if src.endswith("index.md") else src[:-3] + "/")
                / "index.html"
            )
            pages.append((src, BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")))
    return pages


@pytest.fixture(scope="module")
def pages():
    return _proof_pages()


def test_every_numbered_equation_and_result_label_has_an_id(pages):
    equations = labels = 0
    for src, soup in pages:
        article = soup.select_one("article")
        for tag in article.select(".katex-display .tag"):
            holder = tag.find_parent(class_="dnnf-equation")
            assert holder is not None and holder.get("id", "").startswith("eq-"), (src, tag.get_text())
            equations += 1
        for strong in article.find_all("strong"):
            if LABEL.match(strong.get_text()):
                assert strong.get("id"), (src, strong.get_text())
                labels += 1
        # the page says how its equations are numbered, and references are links
        if article.select(".dnnf-equation"):
            assert re.search(r"equations\s+are\s+(numbered|labelled)", article.get_text(), re.I), src
    assert equations >= 60 and labels >= 20


def test_references_to_results_link_to_their_ids(pages):
    for src, soup in pages:
        ids = {el["id"] for el in soup.select("[id]")}
        for a in soup.select("article a[href^='#eq-'], article a[href^='#thm-'], article a[href^='#lemma-']"):
            assert a["href"][1:] in ids, (src, a["href"])


def test_exported_names_on_proof_pages_link_to_their_own_entry(pages):
    # every exported name counts as a mention, also one without a docstring (hence without an entry)
    names = refs.exported_names(ROOT / "dnnf", documented_only=False)
    mentions = linked = 0
    missed = []
    for src, soup in pages:
        for code in soup.select("article code"):
            if code.find_parent("pre") is not None:
                continue  # code blocks are programs, not mentions
            target = refs.api_target(code.get_text().strip(), names)
            if target is None:
                continue
            mentions += 1
            a = code.find_parent("a")
            name = target.rsplit(".", 1)[-1]
            if (
                a is not None
                and "/api/" in a.get("href", "")
                and a["href"].split("#")[-1].endswith(f".{name}")
            ):
                linked += 1
            else:
                missed.append((src, code.get_text()))
    assert mentions >= 50
    assert linked / mentions >= 0.9, missed


def test_checked_by_entries_link_to_their_source(pages):
    for src, soup in pages:
        heading = soup.find(id="checked-by")
        assert heading is not None, src
        entries = []
        for sibling in heading.find_all_next():
            if sibling.name in {"h2", "footer"}:
                break
            if sibling.name == "a" and sibling.get_text().startswith("test_"):
                entries.append(sibling["href"])
        assert entries, src
        assert all(
            re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+/blob/\w+/tests/test_\w+\.py#L\d+", h)
            for h in entries
        )


def test_every_documented_exported_object_has_its_own_api_entry(pages):
    names = refs.exported_names(ROOT / "dnnf")
    ids = set()
    for html in (SITE / "api").rglob("index.html"):
        ids |= set(re.findall(r'id="(dnnf\.[\w.]+)"', html.read_text(encoding="utf-8")))
    missing = [path for name, path in names.items() if not any(i.endswith(f".{name}") for i in ids)]
    assert len(names) >= 100
    assert missing == [], "exported but without an entry on the API pages (a docstring is needed)"


def test_the_references_page_exists_and_every_chapter_links_into_it():
    """Issue 10: the built references page lists entries, and every chapter's main page links into it."""
    pages = dict(_proof_pages())
    references = SITE / "references" / "index.html"
    assert references.is_file(), "the built site has no references page"
    entries = BeautifulSoup(references.read_text(encoding="utf-8"), "html.parser").select("[id]")
    assert len(entries) >= 20
    chapters = [src for src in pages if src.count("/") == 1 and src.endswith("/index.md")]
    assert len(chapters) >= 5, chapters
    for src in chapters:
        hrefs = [a.get("href", "") for a in pages[src].select("article a[href]")]
        assert any("references/" in h for h in hrefs), f"{src} has no link into the references page"
