r"""What the book's PDF must hold, read back with pypdf (used by tests/test_pdf.py).

Usage::

    python scripts/check_pdf.py site/dnnf.pdf site     # the PDF and the site it was printed from

* ``titles``: every chapter title of the nav (mkdocs.yml) is in the text;
* ``math``: the math is rendered (text drawn in KaTeX's fonts, math symbols in the text), and no TeX source
  (``$$``, ``\frac{`` ...) is left in it;
* ``fonts``: every font is embedded (a reader's machine substitutes nothing);
* ``figures``: at least as many images as the tutorial pages show in their notebook outputs;
* ``toc``: a "Contents" page and a PDF outline (bookmarks) with the chapters; internal links that stay
  inside the file (none pointing at the local server that printed it);
* ``page-numbers``: every page's footer says "page N of M".
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml
from pypdf import PdfReader
from pypdf.generic import IndirectObject

TEX_SOURCE = re.compile(r"\$\$|\\(?:frac|mathbb|mathcal|sum|nabla|left|right|begin|operatorname)\b")
MATH_GLYPHS = set("∇∑∏∫≤≥≈∈∥‖⊤→∞∂")


def _squash(text: str) -> str:
    """Lower case without whitespace or soft hyphens: line breaks in a PDF's text layer do not matter."""
    return re.sub(r"[\s\u00ad]+", "", text).lower()


def chapter_titles(mkdocs_yml: Path) -> list[str]:
    """The nav's section titles (the chapters), from mkdocs.yml."""
    # BaseLoader: the nav is all strings, and it leaves MkDocs tags such as !ENV alone
    nav = yaml.load(mkdocs_yml.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)["nav"]
    return [
        next(iter(item))
        for item in nav
        if isinstance(item, dict) and isinstance(next(iter(item.values())), list)
    ]


def tutorial_figures(site: Path) -> int:
    """How many images the tutorial pages show in notebook outputs."""
    from bs4 import BeautifulSoup

    count = 0
    for page in sorted((site / "tutorials").glob("*/index.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        count += len(soup.select(".jp-OutputArea img, .jp-RenderedImage img, .output_area img"))
    return count


def _resolve(obj):
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _fonts_and_images(reader: PdfReader) -> tuple[dict[str, bool], int]:
    """``{font name: embedded?}`` over every page, and the number of distinct image XObjects."""
    fonts: dict[str, bool] = {}
    images: set = set()

    def walk(resources, depth: int = 0) -> None:
        resources = _resolve(resources) or {}
        for font in (_resolve(resources.get("/Font")) or {}).values():
            font = _resolve(font)
            name = str(font.get("/BaseFont", "?"))
            if font.get("/Subtype") == "/Type3":
                fonts[name] = True  # glyphs drawn by the PDF itself
                continue
            described = font
            if "/DescendantFonts" in font:
                described = _resolve(_resolve(font["/DescendantFonts"])[0])
            descriptor = _resolve(described.get("/FontDescriptor")) or {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts[name] = fonts.get(name, True) and embedded
        for ref in (_resolve(resources.get("/XObject")) or {}).values():
            xobject = _resolve(ref)
            if xobject.get("/Subtype") == "/Image":
                images.add(ref.idnum if isinstance(ref, IndirectObject) else id(xobject))
            elif xobject.get("/Subtype") == "/Form" and depth < 8:
                walk(xobject.get("/Resources"), depth + 1)

    for page in reader.pages:
        walk(page.get("/Resources"))
    return fonts, len(images)


def _outline_titles(outline) -> list[str]:
    titles = []
    for item in outline:
        titles += _outline_titles(item) if isinstance(item, list) else [str(item.title)]
    return titles


def check_pdf(pdf: Path, site: Path, mkdocs_yml: Path) -> tuple[list[str], dict[str, object]]:
    """Return (problems, facts) for ``pdf``, printed from the built ``site``."""
    reader = PdfReader(pdf)
    math_chars = 0

    def count_math(text, _cm, _tm, font, _size) -> None:
        nonlocal math_chars
        if font is not None and "KaTeX" in str(font.get("/BaseFont", "")):
            math_chars += len(text.strip())

    texts = [page.extract_text(visitor_text=count_math) or "" for page in reader.pages]
    text = "\n".join(texts)
    squashed = _squash(text)
    problems: list[str] = []
    n = len(reader.pages)

    titles = chapter_titles(mkdocs_yml)
    problems += [f"titles: chapter {t!r} is not in the text" for t in titles if _squash(t) not in squashed]

    fonts, n_images = _fonts_and_images(reader)
    problems += [f"fonts: {name} is not embedded" for name, ok in sorted(fonts.items()) if not ok]
    if not any("KaTeX" in name for name in fonts) or math_chars == 0:
        problems.append("math: no KaTeX font in the PDF (math printed in a fallback font, or not rendered)")
    if not MATH_GLYPHS & set(text):
        problems.append("math: no rendered math symbol (such as ∇, ∑, ≤) in the text")
    problems += [
        f"math: TeX source in the text: ...{text[max(m.start() - 30, 0) : m.end() + 30]!r}..."
        for m in list(TEX_SOURCE.finditer(text))[:5]
    ]

    figures = tutorial_figures(site)
    if n_images < figures:
        problems.append(f"figures: {n_images} images in the PDF, but the tutorial pages show {figures}")

    outline = _outline_titles(reader.outline)
    missing = [t for t in titles if not any(_squash(t) == _squash(o) for o in outline)]
    problems += [f"toc: chapter {t!r} is not in the PDF outline" for t in missing]
    if "contents" not in _squash("\n".join(texts[:3])):
        problems.append("toc: no 'Contents' page at the start")
    internal = external_local = 0
    for page in reader.pages:
        for annot in _resolve(page.get("/Annots")) or []:
            annot = _resolve(annot)
            action = _resolve(annot.get("/A")) or {}
            if "/Dest" in annot or action.get("/S") == "/GoTo":
                internal += 1
            elif str(action.get("/URI", "")).startswith(("http://127.0.0.1", "http://localhost")):
                external_local += 1
    if internal == 0:
        problems.append("toc: no internal link in the PDF")
    if external_local:
        problems.append(f"toc: {external_local} links point at the local server instead of inside the PDF")

    unnumbered = [i + 1 for i, t in enumerate(texts) if f"page {i + 1} of {n}" not in " ".join(t.split())]
    if unnumbered:
        problems.append(
            f"page-numbers: {len(unnumbered)} pages lack 'page N of {n}' (first: {unnumbered[:5]})"
        )
    facts = {
        "pages": n,
        "math_chars": math_chars,
        "images": n_images,
        "figures": figures,
        "fonts": len(fonts),
        "internal_links": internal,
    }
    return problems, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("site", type=Path)
    parser.add_argument("--mkdocs-yml", type=Path, default=Path("mkdocs.yml"))
    args = parser.parse_args(argv)
    problems, facts = check_pdf(args.pdf, args.site, args.mkdocs_yml)
    print(f"check_pdf: {facts}")
    print("\n".join(problems) or "check_pdf: no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
