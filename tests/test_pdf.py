"""The book's PDF (issue 15): printed from the site's print page by scripts/build_pdf.py, checked by
scripts/check_pdf.py (chapter titles, rendered math and no TeX source, embedded fonts, every tutorial figure,
contents and outline, internal links, page numbers).

The real-PDF test reads ``$DNNF_SITE_DIR/dnnf.pdf`` (default ``site/``), which scripts/test.sh prints after
the site build; without it the test is skipped locally and fails under CI (``CI=true``). The fake-book test
prints a one-page "book" with TeX left in it and no figure, to show that each check can fail.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_pdf  # noqa: E402
import check_pdf  # noqa: E402
import check_site  # noqa: E402

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def test_the_books_pdf_has_every_chapter_its_math_fonts_figures_contents_and_page_numbers():
    site = Path(os.environ.get("DNNF_SITE_DIR", ROOT / "site"))
    pdf = site / "dnnf.pdf"
    if not pdf.is_file():
        message = f"no {pdf}: run scripts/build_pdf.py after the site build (scripts/test.sh does)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    problems, facts = check_pdf.check_pdf(pdf, site, ROOT / "mkdocs.yml")
    assert problems == [], "\n".join(problems)
    assert facts["pages"] > 50 and facts["internal_links"] > 50, facts
    # the home page links the PDF
    assert 'href="dnnf.pdf"' in (site / "index.html").read_text(encoding="utf-8")


@pytest.mark.skipif(check_site.find_chromium() is None, reason="no Chromium installed")
def test_each_pdf_check_can_fail(tmp_path: Path):
    site = tmp_path / "site"
    (site / "print_page").mkdir(parents=True)
    (site / "print_page" / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>x</title></head><body>"
        "<h1>Not a chapter</h1><p>$$\\frac{a}{b}$$ and \\nabla f</p></body></html>",
        encoding="utf-8",
    )
    png = base64.b64encode(PNG).decode()
    figure = f"<div class='jp-OutputArea'><img src='data:image/png;base64,{png}'></div>"
    (site / "tutorials" / "t").mkdir(parents=True)
    (site / "tutorials" / "t" / "index.html").write_text(figure, encoding="utf-8")
    mkdocs_yml = tmp_path / "mkdocs.yml"
    nav = {"nav": [{"Home": "index.md"}, {"Chapter One": ["a.md"]}]}
    mkdocs_yml.write_text(yaml.safe_dump(nav), encoding="utf-8")

    _, pages = build_pdf.build_pdf(site / "print_page" / "index.html", site / "dnnf.pdf")
    assert pages == 1
    problems, facts = check_pdf.check_pdf(site / "dnnf.pdf", site, mkdocs_yml)
    kinds = {p.split(":", 1)[0] for p in problems}
    text = "\n".join(problems)
    assert {"titles", "math", "figures", "toc"} <= kinds, text
    assert "'Chapter One' is not in the text" in text and "TeX source" in text and "no KaTeX font" in text
    assert "1 images" not in text and "show 1" in text, text
    assert "page-numbers" not in kinds, text  # build_pdf's footer numbers every page
    assert "fonts" not in kinds, text  # Chromium embeds the fonts it uses


def test_chapter_titles_are_the_nav_sections():
    titles = check_pdf.chapter_titles(ROOT / "mkdocs.yml")
    assert "Projection onto convex sets" in titles and "Home" not in titles
    assert len(titles) >= 5
