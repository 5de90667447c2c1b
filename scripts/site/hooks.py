"""MkDocs hooks of the dnnf book.

* Math: every formula (Markdown pages, docstrings through mkdocstrings, notebook Markdown cells) is
  rendered to HTML at build time by KaTeX under node, so the site needs no CDN and no JavaScript for
  math. A TeX error, or raw TeX left on a built page, is logged as a warning, which fails
  ``mkdocs build --strict``.
* Tutorials: each jupytext tutorial page gets a "Download notebook" / "Open in Colab" bar and its
  measured run time (set by ``execute_notebooks.py``, which also executes the notebooks; the ``.ipynb``
  files readers download are written by ``export_notebooks.py``).
  Scripts that mkdocs-jupyter's template loads from CDNs (MathJax, Mermaid) are removed.
* Authoring switches: ``DNNF_EXECUTE=0`` renders tutorials without running them (quick prose
  preview, never used by CI or the deploy); ``DNNF_EXECUTE_ONLY='<glob>'`` executes only the
  tutorials whose file name matches.
"""

from __future__ import annotations

import atexit
import fnmatch
import json
import logging
import os
import posixpath
import re
import shutil
import subprocess
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.dnnf")

ROOT = Path(__file__).resolve().parents[2]
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
KATEX_SERVER = Path(__file__).with_name("katex_server.js")
TUTORIALS_DIR = "tutorials"
SKIP_TAGS = {"code", "pre", "script", "style", "kbd", "samp", "textarea"}

# Pandoc's rule for inline math in notebook cells: no space after the opening or before the closing
# dollar, and no digit after the closing one, so "$100 and $200" stays text.
NOTEBOOK_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?![\s$])((?:[^$\\]|\\.)+?)(?<!\s)\$(?!\d)", re.S)
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\[A-Za-z]{2,}|\$[^$\s][^$\n]{0,80}[\^_{}][^$\n]{0,80}\$")


class KatexRenderer:
    """A long-lived ``node katex_server.js`` process; one JSON line per formula, memoised."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._memo: dict[tuple[str, bool], tuple[str | None, str | None]] = {}

    def _start(self) -> subprocess.Popen[str]:
        if not (KATEX_DIST / "katex.min.css").is_file():
            raise RuntimeError(f"KaTeX is missing under {KATEX_DIST}: run `npm ci` in {ROOT} first")
        proc = subprocess.Popen(
            ["node", str(KATEX_SERVER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        atexit.register(proc.kill)
        return proc

    def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        """Return ``(html, None)`` or ``(None, error_message)``."""
        key = (tex, display)
        if key not in self._memo:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
            self._proc.stdin.flush()
            reply = json.loads(self._proc.stdout.readline())
            self._memo[key] = (reply.get("html"), reply.get("error"))
        return self._memo[key]


KATEX = KatexRenderer()
_files = None  # the build's Files, for rewriting links written in notebook Markdown cells


# --------------------------------------------------------------------------------------------- config
def on_config(config, **kwargs):
    # Kernels inherit the environment: a non-interactive MPLBACKEND (e.g. Agg) would make plt.show()
    # draw nothing, and tutorial pages would lose their figures.
    os.environ.pop("MPLBACKEND", None)
    nb = config.plugins.get("mkdocs-jupyter")
    if nb is None:
        return config
    if os.environ.get("DNNF_EXECUTE", "1").strip().lower() in {"0", "false", "no", "off"}:
        nb.config["execute"] = False
        log.info("DNNF_EXECUTE=0: tutorials are rendered without execution (preview only)")
    only = os.environ.get("DNNF_EXECUTE_ONLY", "").strip()
    if only:
        tutorials = sorted((Path(config["docs_dir"]) / TUTORIALS_DIR).glob("*.py"))
        skipped = [f"*/{TUTORIALS_DIR}/{p.name}" for p in tutorials if not fnmatch.fnmatch(p.name, only)]
        nb.config["execute_ignore"] = list(nb.config["execute_ignore"]) + skipped
        log.info("DNNF_EXECUTE_ONLY=%s: %d tutorial(s) not executed", only, len(skipped))
    return config


def on_files(files, config, **kwargs):
    global _files
    _files = files
    return files


def _is_tutorial(page) -> bool:
    src = page.file.src_uri
    return src.startswith(f"{TUTORIALS_DIR}/") and src.endswith((".py", ".ipynb"))


# ---------------------------------------------------------------------------------------------- math
def _katex_node(soup: BeautifulSoup, tex: str, display: bool, where: str):
    html, error = KATEX.render(tex, display)
    if error is not None:
        log.warning("%s: KaTeX cannot render %r: %s", where, tex[:120], error)
        node = soup.new_tag("span", attrs={"class": "katex-error"})
        node.string = tex
        return node
    return BeautifulSoup(html, "html.parser")


def _render_arithmatex(soup: BeautifulSoup, where: str) -> None:
    """Replace pymdownx.arithmatex (generic mode) wrappers by KaTeX HTML."""
    for el in soup.select(".arithmatex"):
        text = el.get_text()
        display = el.name == "div"
        tex = text.strip()
        for left, right in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$")):
            if tex.startswith(left) and tex.endswith(right):
                tex = tex[len(left) : len(tex) - len(right)]
                break
        node = _katex_node(soup, tex.strip(), display, where)
        if display:
            wrapper = soup.new_tag("div", attrs={"class": "dnnf-math-display"})
            wrapper.append(node)
            node = wrapper
        el.replace_with(node)


def _render_notebook_markdown(soup: BeautifulSoup, where: str) -> None:
    """Render ``$...$`` / ``$$...$$`` left raw by nbconvert in notebook Markdown cells."""
    for cell in soup.select(".jp-MarkdownOutput, .jp-RenderedMarkdown"):
        for text in list(cell.find_all(string=True)):
            if not isinstance(text, NavigableString) or text.find_parent(SKIP_TAGS | {"math"}):
                continue
            value = str(text)
            if "$" not in value:
                continue
            pieces, pos = [], 0
            for m in NOTEBOOK_MATH.finditer(value):
                pieces.append(value[pos : m.start()].replace("\\$", "$"))
                display = m.group(1) is not None
                pieces.append(_katex_node(soup, (m.group(1) or m.group(2)).strip(), display, where))
                pos = m.end()
            if pos == 0:
                continue
            pieces.append(value[pos:].replace("\\$", "$"))
            for piece in pieces:
                text.insert_before(piece if not isinstance(piece, str) else NavigableString(piece))
            text.extract()


def _check_raw_tex(soup: BeautifulSoup, where: str) -> None:
    main = soup.select_one("article") or soup
    for text in main.find_all(string=True):
        # .clipboard-copy-txt is the hidden copy of a notebook code cell kept for its copy button
        hidden = text.find_parent(class_=["katex", "katex-error", "clipboard-copy-txt"])
        if hidden or text.find_parent(SKIP_TAGS):
            continue
        m = RAW_TEX.search(str(text))
        if m:
            snippet = str(text)[max(0, m.start() - 40) : m.end() + 40].replace("\n", " ")
            log.warning("%s: raw TeX left on the page: ...%s...", where, snippet)


def _remove_cdn_scripts(soup: BeautifulSoup) -> None:
    for script in soup.find_all("script"):
        src = script.get("src", "")
        body = script.string or ""
        if src.startswith(("http://", "https://", "//")) or "MathJax" in body or "https://" in body:
            script.decompose()


# --------------------------------------------------------------------------------------- tutorials
def _rewrite_notebook_links(soup: BeautifulSoup, page) -> None:
    """Turn links to source files (``../projection/index.md``), which work inside Jupyter, into site URLs.

    MkDocs rewrites such links in Markdown pages but not in notebook cells rendered by nbconvert.
    """
    for a in soup.select(".jupyter-wrapper a[href]"):
        href = a["href"]
        if "://" in href or href.startswith(("#", "/", "mailto:")):
            continue
        path, _, fragment = href.partition("#")
        if not path.endswith((".md", ".py", ".ipynb")):
            continue
        src = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), path))
        target = _files.get_file_from_path(src) if _files is not None else None
        if target is None:
            log.warning("%s: notebook link %r points to no page of the site", page.file.src_uri, href)
            continue
        a["href"] = target.url_relative_to(page.file) + (f"#{fragment}" if fragment else "")


def _colab_url(config, name: str) -> str | None:
    repo = (config.get("repo_url") or "").rstrip("/")
    if not repo.startswith("https://github.com/"):
        return None
    slug = repo.removeprefix("https://github.com/")
    branch = config["extra"].get("notebooks_branch", "notebooks")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{TUTORIALS_DIR}/{name}.ipynb"


def _add_tutorial_bar(soup: BeautifulSoup, page, config) -> None:
    name = Path(page.file.src_uri).stem
    here = page.file.dest_uri
    bar = soup.new_tag("p", attrs={"class": "dnnf-notebook-bar"})
    links = [
        ("Download notebook (.ipynb)", get_relative_url(f"{TUTORIALS_DIR}/{name}.ipynb", here), True),
        ("Jupytext source (.py)", get_relative_url(f"{TUTORIALS_DIR}/{name}.py", here), True),
    ]
    colab = _colab_url(config, name)
    if colab:
        links.append(("Open in Colab", colab, False))
    for label, href, download in links:
        a = soup.new_tag("a", attrs={"class": "md-button", "href": href})
        if download:
            a["download"] = ""
        a.string = label
        bar.append(a)
        bar.append(" ")
    note = soup.new_tag("span", attrs={"class": "dnnf-build-note"})
    # scripts/site/execute_notebooks.py sets the note: the measured run time, or why there is none.
    note.string = getattr(page, "dnnf_build_note", "Preview build: this notebook was not executed.")
    bar.append(note)
    heading = soup.select_one(".jupyter-wrapper h1") or soup.select_one("article h1")
    if heading is not None:
        heading.insert_after(bar)
    else:
        (soup.select_one("article") or soup).insert(0, bar)


# ------------------------------------------------------------------------------------ page + build
def on_post_page(output, page, config, **kwargs):
    where = page.file.src_uri
    soup = BeautifulSoup(output, "html.parser")
    _remove_cdn_scripts(soup)
    _render_arithmatex(soup, where)
    if _is_tutorial(page):
        _render_notebook_markdown(soup, where)
        _rewrite_notebook_links(soup, page)
        _add_tutorial_bar(soup, page, config)
    _check_raw_tex(soup, where)
    return str(soup)


def on_post_build(config, **kwargs):
    site = Path(config["site_dir"])
    target = site / "assets" / "katex"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(KATEX_DIST / "katex.min.css", target / "katex.min.css")
    shutil.copytree(KATEX_DIST / "fonts", target / "fonts", dirs_exist_ok=True)
