"""MkDocs hook: which edition a build is, on every page, in the print page and in the PDF.

* ``on_config`` fills ``config.extra.edition`` (read by ``overrides/partials/copyright.html`` and the PDF's
  cover page): the edition (``MIKE_DOCS_VERSION``, which ``mike deploy`` sets for the build it runs), the
  library version of the tree being built (its pyproject.toml) and the commit it was built from.
  Material's version selector (``extra.version``) is kept only in a mike build: a plain build has no
  ``versions.json`` beside it, and the selector would request a missing file on every page.
* In an edition, "Open in Colab" opens the notebook that edition publishes on the ``gh-pages`` branch
  (``<edition>/tutorials/<name>.ipynb``) instead of the ``notebooks`` branch, which follows ``main``: a
  reader of the 0.2 edition runs the 0.2 notebooks.
* The print page (mkdocs-print-site-plugin, written after every page) gets each page's HTML as the other
  hooks leave it (``on_page_content``; this hook is listed last), its math rendered by the same
  KaTeX pass as the pages (``scripts/site/hooks.py``), and ``DNNF_PDF=true`` (which also turns the print page on, mkdocs.yml) prints it to ``dnnf.pdf`` at the
  end of the build (``scripts/build_pdf.py``), so that ``mike deploy`` publishes the PDF with its edition.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.dnnf.edition")

ROOT = Path(__file__).resolve().parents[2]
PROJECT_VERSION = re.compile(r'^\[project\]\s*$.*?^version\s*=\s*"([^"]+)"', re.M | re.S)
COLAB = re.compile(r'(https://colab\.research\.google\.com/github/[^/"]+/[^/"]+)/blob/[^/"]+/tutorials/')
PRINT_PAGE = Path("print_page") / "index.html"
PDF_NAME = "dnnf.pdf"


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def edition_info(root: Path, repo_url: str | None, edition: str | None) -> dict[str, str]:
    """What a page says about its build: edition, library version, commit (short, URL, date)."""
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    match = PROJECT_VERSION.search(pyproject)
    library = match.group(1) if match else "unknown"
    sha = _git(root, "rev-parse", "HEAD") or ""
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    date = _git(root, "show", "-s", "--format=%cs", "HEAD") or dt.date.today().isoformat()
    if edition is None:
        label = "Unreleased build"
    elif edition == "dev":
        label = "Development edition (follows main)"
    else:
        label = f"Edition {edition}"
    repo = (repo_url or "").rstrip("/")
    return {
        "name": edition or "",
        "label": label,
        "library_version": library,
        "commit": sha,
        "commit_short": (sha[:10] + (" + local changes" if dirty else "")) if sha else "no git checkout",
        "commit_url": f"{repo}/commit/{sha}" if sha and repo.startswith("https://") and not dirty else "",
        "date": date,
    }


def on_config(config, **kwargs):
    edition = os.environ.get("MIKE_DOCS_VERSION") or None
    root = Path(config.config_file_path).resolve().parent
    config["extra"]["edition"] = edition_info(root, config.get("repo_url"), edition)
    if edition is None:
        config["extra"].pop("version", None)
    return config


def on_page_content(html: str, page, config, files, **kwargs) -> str:
    # print-site keeps each page's HTML (page.html) in its own on_page_content, which runs before the hooks:
    # listed after every hook that edits page HTML, this one hands the print page their final HTML.
    if hasattr(page, "html"):
        page.html = html
    return html


def on_post_page(output: str, page, config, **kwargs) -> str:
    edition = config["extra"]["edition"]["name"]
    if edition and "colab.research.google.com" in output:
        output = COLAB.sub(rf"\g<1>/blob/gh-pages/{edition}/tutorials/", output)
    return output


def _site_hooks():
    """scripts/site/hooks.py as a module (MkDocs loads each hook file on its own, not as a package)."""
    module = sys.modules.get("dnnf_site_hooks")
    if module is None:
        spec = importlib.util.spec_from_file_location("dnnf_site_hooks", Path(__file__).with_name("hooks.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["dnnf_site_hooks"] = module
        spec.loader.exec_module(module)
    return module


def _fix_print_links(soup, config) -> None:
    """Links that print-site leaves pointing out of the print page: into it, or to the published site.

    A notebook's link to another notebook (``inpainting.py``) becomes the anchor of that page's section
    (print-site's ids: the page URL with ``/`` turned into ``-``); any other relative link (downloads, the
    PDF itself) becomes an absolute URL of this edition online, which a PDF reader can still open.
    """
    site_url = (config.get("site_url") or "").rstrip("/") + "/"
    for a in soup.select("a[href]"):
        href = a["href"]
        if href.startswith("#") or "://" in href or href.startswith("mailto:"):
            continue
        path = posixpath.normpath(posixpath.join(PRINT_PAGE.parent.as_posix(), href.split("#")[0]))
        if a.find_parent(class_="jupyter-wrapper") and path.endswith((".py", ".ipynb")):
            name = posixpath.basename(path).rsplit(".", 1)[0]
            a["href"] = "#" + f"tutorials/{name}".replace("/", "-")
        elif site_url != "/":
            a["href"] = site_url + ("" if path == "." else path)


def _fix_print_anchors(soup) -> int:
    """Make every ``#anchor`` of the print page land: print-site prefixes the links inside a page with the
    page's key but not the ids of code-line anchors (pymdownx.highlight), so those get the prefix too; a
    link whose target is still missing loses its href (dead links in a PDF only confuse). Returns how many."""
    for section in soup.select("section.print-page[id]"):
        if "md-section" in section.get("class", []):
            continue  # a nav section: its pages are sections of their own
        key = section["id"]
        for el in section.select('[id*="__codelineno"], a[name*="__codelineno"]'):
            for attr in ("id", "name"):
                if "__codelineno" in el.get(attr, "") and not el[attr].startswith(f"{key}-"):
                    el[attr] = f"{key}-{el[attr]}"
    ids = {el["id"] for el in soup.select("[id]")} | {el["name"] for el in soup.select("a[name]")}
    dropped = 0
    for a in soup.select('a[href^="#"]'):
        if len(a["href"]) > 1 and a["href"][1:] not in ids:
            del a["href"]
            dropped += 1
    return dropped


def on_post_build(config, **kwargs):
    site = Path(config["site_dir"])
    print_page = site / PRINT_PAGE
    if not print_page.is_file():
        return
    from bs4 import BeautifulSoup

    hooks = _site_hooks()
    soup = BeautifulSoup(print_page.read_text(encoding="utf-8"), "html.parser")
    hooks._remove_cdn_scripts(soup)
    _fix_print_links(soup, config)
    dropped = _fix_print_anchors(soup)
    if dropped:
        log.info("print page: %d links to anchors that are not in it lost their href", dropped)
    hooks._render_arithmatex(soup, str(PRINT_PAGE))
    hooks._render_notebook_markdown(soup, str(PRINT_PAGE))
    hooks._check_raw_tex(soup, str(PRINT_PAGE))
    print_page.write_text(str(soup), encoding="utf-8")
    if os.environ.get("DNNF_PDF", "").strip().lower() == "true":  # as mkdocs.yml reads it
        sys.path.insert(0, str(ROOT / "scripts"))
        from build_pdf import build_pdf

        seconds, pages = build_pdf(print_page, site / PDF_NAME)
        log.info("DNNF_PDF=true: %s, %d pages, built in %.0f s", site / PDF_NAME, pages, seconds)
