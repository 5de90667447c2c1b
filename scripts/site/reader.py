r"""MkDocs hooks for what a reader meets: figure descriptions, figure files, and a search that reads.

Self-contained (MkDocs loads each hook file as its own module) and independent of how the notebooks are
executed: it works on the HTML that ``on_post_page`` receives and on the site files after the build.

* **Alt text.** A tutorial describes its figures in the metadata of the code cell that draws them, one
  string per figure (jupytext: ``# %% alt="..."`` or ``# %% alt=["...", "..."]``). The hook matches each
  rendered code cell to its source cell and writes the descriptions into the figures' ``alt``; a figure
  left with nbconvert's "No description has been provided for this image", or a cell whose number of
  descriptions differs from its number of figures, is a warning, so ``mkdocs build --strict`` fails.
* **Figure files.** Notebook figures arrive as base64 ``data:`` URIs; each is written once as a PNG
  beside the page, so the page stays small and the lightbox (mkdocs-glightbox) opens a real file.
* **Search.** ``search/search_index.json`` is rewritten: TeX in previews becomes plain text
  (``\frac{a}{b}`` -> ``a/b``, ``\le`` -> ``≤``, by pylatexenc), notebook prompts are dropped, and a word
  of :data:`SPELLINGS` gets its other spelling as hidden text, so searching either spelling finds it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from pathlib import Path

import jupytext
from bs4 import BeautifulSoup
from pylatexenc.latex2text import LatexNodes2Text

log = logging.getLogger("mkdocs.hooks.dnnf.reader")

DEFAULT_ALT = "No description has been provided for this image"  # what nbconvert writes
# The book writes the first spelling; a reader may type the second. Lower case; matched case-insensitively.
SPELLINGS = {
    "dequantization": "dequantisation",
    "dequantize": "dequantise",
    "dequantized": "dequantised",
    "dequantizes": "dequantises",
    "quantization": "quantisation",
}
_TEX = LatexNodes2Text(math_mode="text")
# arithmatex (generic) writes \(...\) and \[...\]; notebook cells keep $...$ and $$...$$
_MATH = re.compile(
    r"\\\((.+?)\\\)|\\\[(.+?)\\\]|\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\w$])",
    re.S,
)
_PROMPT = re.compile(r"\b(?:In|Out)\s*\[\s*\d*\s*\]:\s*|\bCopied!\s*")


def _is_tutorial(page) -> bool:
    src = page.file.src_uri
    return src.startswith("tutorials/") and src.endswith((".py", ".ipynb"))


# -------------------------------------------------------------------------------------- figures
def _alt_texts(cell) -> list[str]:
    alt = cell.metadata.get("alt", [])
    return [alt] if isinstance(alt, str) else list(alt)


def _normalise(code: str) -> str:
    return re.sub(r"\s+", "", code)


def _describe_figures(soup: BeautifulSoup, page) -> None:
    """Write each code cell's ``alt`` metadata into the ``alt`` of the figures it drew."""
    where = page.file.src_uri
    cells = [c for c in jupytext.read(page.file.abs_src_path).cells if c.cell_type == "code"]
    # mkdocs-jupyter wraps every cell in a second div of the same classes: keep the innermost
    rendered = [
        el for el in soup.select("div.jp-CodeCell") if el.select_one("div.jp-CodeCell") is None
    ]
    if len(rendered) != len(cells):
        log.warning(
            "%s: %d code cells in the source, %d on the page", where, len(cells), len(rendered)
        )
        return
    for number, (cell, html) in enumerate(zip(cells, rendered, strict=True), start=1):
        shown = html.select_one(".jp-InputArea pre")
        if shown is not None and _normalise(shown.get_text()) != _normalise(cell.source):
            log.warning(
                "%s: code cell %d on the page is not the source's code cell %d",
                where,
                number,
                number,
            )
            return
        images = html.select(".jp-OutputArea img")
        alts = _alt_texts(cell)
        if images and len(alts) != len(images):
            log.warning(
                "%s: code cell %d draws %d figure(s) and describes %d: give it alt=[...] with one "
                "description per figure",
                where, number, len(images), len(alts),
            )  # fmt: skip
        for image, alt in zip(images, alts, strict=False):
            image["alt"] = alt
    for image in soup.select("article img"):
        if image.get("alt", "").strip() in {"", DEFAULT_ALT}:
            log.warning("%s: a figure has no description (alt text)", where)


def _figures_to_files(soup: BeautifulSoup, page, config) -> None:
    """Write ``data:image/png`` figures as files beside the page (named by content) and link them."""
    folder = Path(config["site_dir"]) / Path(page.file.dest_uri).parent
    for image in soup.select("article img[src^='data:image/png;base64,']"):
        data = base64.b64decode(image["src"].split(",", 1)[1])
        name = f"fig-{hashlib.sha1(data).hexdigest()[:12]}.png"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        image["src"] = name
        if not image.get("width"):  # a retina figure comes with its display size; else the PNG's (IHDR)
            image["width"], image["height"] = (str(int.from_bytes(data[i : i + 4], "big")) for i in (16, 20))
        image["loading"] = "lazy"
        link = image.find_parent("a", class_="glightbox")
        if link is not None:  # mkdocs-glightbox copied the data URI into the link
            link["href"] = name


def on_post_page(output: str, page, config, **kwargs) -> str:
    if not _is_tutorial(page):
        return output
    soup = BeautifulSoup(output, "html.parser")
    _describe_figures(soup, page)
    _figures_to_files(soup, page, config)
    return str(soup)


# --------------------------------------------------------------------------------------- search
def tex_to_text(tex: str) -> str:
    r"""Plain text for a formula in a search preview: ``\frac{a}{b} \le c`` -> ``a/b ≤ c``."""
    tex = re.sub(r"\\(?:tag|label)\{[^}]*\}", "", tex).replace("\\|", "‖")
    tex = re.sub(r"\\[dt]?frac(?:(\d)(\d))?", lambda m: r"\frac" + (f"{{{m[1]}}}{{{m[2]}}}" if m[1] else ""), tex)
    tex = re.sub(
        r"\\([A-Za-z]+)(?=\s)", r"\\\1{}", tex
    )  # keep the space that TeX swallows after a macro
    try:
        text = _TEX.latex_to_text(tex)
    except Exception:  # a preview is best effort; the page itself is checked by the KaTeX hook
        text = re.sub(r"\\[A-Za-z]+|[{}]", " ", tex)
    return re.sub(r"\s+", " ", text).strip()


def search_text(html: str) -> str:
    """A search entry's text with formulas as plain text, prompts dropped, other spellings added."""
    text = _MATH.sub(lambda m: tex_to_text(next(g for g in m.groups() if g is not None)), html)
    text = _PROMPT.sub("", text)
    others = [
        alt
        for word, alt in SPELLINGS.items()
        if re.search(rf"\b{word}\b", text, re.I) and alt not in text
    ] + [
        word
        for word, alt in SPELLINGS.items()
        if re.search(rf"\b{alt}\b", text, re.I) and word not in text
    ]
    if others:  # Material's search indexes the text of every element but shows a hidden one nowhere
        text += f"<span hidden>{' '.join(dict.fromkeys(others))}</span>"
    return text


def on_post_build(config, **kwargs) -> None:
    path = Path(config["site_dir"]) / "search" / "search_index.json"
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    for doc in index.get("docs", []):
        doc["title"] = _MATH.sub(lambda m: tex_to_text(next(g for g in m.groups() if g is not None)),
                                 doc.get("title", ""))  # fmt: skip
        doc["text"] = search_text(doc.get("text", ""))
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
