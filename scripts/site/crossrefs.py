"""MkDocs hook: linkable results, checked cross-references and the generated "Checked by" lists.

On every proof page (``docs/<chapter>/*.md``), before Markdown is rendered:

* numbered equations and theorem-like labels get per-page ids (``eq-15``, ``thm-3``; see ``refs.py``),
  a note under the title says that equations are numbered per page, and references to them in the prose
  (``(15)–(16)``, ``Theorem 5``) become links;
* inline code naming an object that a ``dnnf`` package exports becomes an autorefs cross-reference to
  the object's own API entry (an unknown name fails ``mkdocs build --strict``);
* ``<!-- checked-by -->`` is replaced by the tests that declare claims on the page
  (``@pytest.mark.claim``, see ``claims.py``), each linked to its source line at the commit being built.

After all pages are rendered, every declaration must point at an id that exists, every placeholder must
list something, and every numbered equation or theorem must be claimed by a test or carry an
``<!-- untested id: why -->`` note; anything else is a warning, which fails the strict build.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path

from markdown.extensions.toc import slugify

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hooks are loaded as lone modules
import claims  # noqa: E402
import refs  # noqa: E402

log = logging.getLogger("mkdocs.hooks.dnnf.crossrefs")

ROOT = Path(__file__).resolve().parents[2]
NOT_PROOF = ("api/", "tutorials/")
NUMBERING_NOTE = (
    "*Equations are numbered {how}: a reference such as (3) means equation (3) of this {scope}, and "
    "links to it.*\n{{: .dnnf-numbering-note }}"
)

_state: dict = {}


def is_proof_page(src_uri: str) -> bool:
    """Chapter pages (``projection/index.md``, ``flows/training.md``), not the API or tutorials."""
    return "/" in src_uri and src_uri.endswith(".md") and not src_uri.startswith(NOT_PROOF)


def _commit() -> str:
    sha = os.environ.get("GITHUB_SHA", "").strip()
    if sha:
        return sha
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        log.info("no git checkout: 'Checked by' links point at the main branch")
        return "main"


def on_config(config, **kwargs):
    _state.clear()
    _state["exports"] = refs.exported_names(ROOT / "dnnf")
    _state["registry"] = claims.read_claims(ROOT / "tests", ROOT)
    _state["commit"] = _commit()
    _state["repo_url"] = config.get("repo_url") or ""
    return config


def on_files(files, config, **kwargs):
    # Every proof page's results, read before any page is rendered, so a page can link to a named
    # equation of a sibling page ("the bound (BPD) of the chapter").
    _state["results"] = {}
    _state["untested"] = {}
    _state["placeholders"] = set()
    _state["ids"] = {}
    for file in files.documentation_pages():
        if not is_proof_page(file.src_uri):
            continue
        source = Path(file.abs_src_path).read_text(encoding="utf-8")
        _, anchors = refs.assign_anchors(source)
        _state["results"][file.src_uri] = {a.id: a.label for a in anchors}
        _state["untested"][file.src_uri] = claims.untested_notes(source)
        if claims.PLACEHOLDER in source:
            _state["placeholders"].add(file.src_uri)
    return files


def _siblings(page: str) -> dict[str, dict[str, str]]:
    """The results of the other proof pages in this page's chapter (folder)."""
    chapter = posixpath.dirname(page)
    return {o: r for o, r in _state["results"].items() if o != page and posixpath.dirname(o) == chapter}


def _elsewhere(page: str) -> dict[str, str]:
    """Equation ids this page lacks and exactly one other page of its chapter has -> relative URL."""
    own = _state["results"].get(page, {})
    where: dict[str, list[str]] = {}
    for other, results in _siblings(page).items():
        for anchor in results:
            if anchor.startswith("eq-") and anchor not in own:
                where.setdefault(anchor, []).append(other)
    chapter = posixpath.dirname(page)
    return {a: posixpath.relpath(o[0], chapter) for a, o in where.items() if len(o) == 1}


def _chapter(page: str) -> tuple[str, set[str]] | None:
    index = posixpath.join(posixpath.dirname(page), "index.md")
    if index == page or index not in _state["results"]:
        return None
    return "index.md", set(_state["results"][index])


def _numbering_note(page: str) -> str:
    own = {a for a in _state["results"].get(page, {}) if re.fullmatch(r"eq-\d+[a-z]?", a)}
    others = {a for r in _siblings(page).values() for a in r if re.fullmatch(r"eq-\d+[a-z]?", a)}
    if not own:  # named tags only, as in the flows chapter
        first = next(label for a, label in _state["results"][page].items() if a.startswith("eq-"))
        return f"*Equations are labelled by name, such as {first}, and every such label links to its equation.*\n{{: .dnnf-numbering-note }}"
    if others and not own & others:  # the chapter numbers its equations through its pages
        return NUMBERING_NOTE.format(how="through the chapter's pages", scope="chapter")
    return NUMBERING_NOTE.format(how="per page", scope="page")


def _add_numbering_note(md: str, note: str) -> str:
    lines = md.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "\n".join([*lines[: i + 1], "", note, *lines[i + 1 :]])
    return "\n".join([note, "", md])


def on_page_markdown(markdown, page, config, files, **kwargs):
    src = page.file.src_uri
    if src.startswith(NOT_PROOF) or not src.endswith(".md"):
        return markdown
    if not is_proof_page(src):  # the home page, "Run the tutorials locally": names link, nothing else
        return refs.link_api_names(markdown, _state["exports"])[0]
    markdown, anchors = refs.assign_anchors(markdown)
    labels = {a.id: a.label for a in anchors}
    for title in re.findall(r"^#{2,6}[ \t]+(.+?)[ \t#]*$", markdown, re.M):
        labels.setdefault(slugify(title.replace("`", ""), "-"), f"§ {title}")  # "Checked by" cites sections
    if claims.PLACEHOLDER in markdown:
        listing = claims.render_checked_by(
            src,
            _state["registry"],
            labels,
            claims.untested_notes(markdown),
            _state["repo_url"],
            _state["commit"],
        )
        markdown = markdown.replace(claims.PLACEHOLDER, listing)
    markdown = refs.link_references(markdown, set(labels), _elsewhere(src), _chapter(src))
    markdown, _ = refs.link_api_names(markdown, _state["exports"])
    if any(a.is_equation for a in anchors) and not re.search(
        r"equations\s+are\s+(numbered|labelled)", markdown, re.I
    ):
        markdown = _add_numbering_note(markdown, _numbering_note(src))
    return markdown


def on_page_content(html, page, config, files, **kwargs):
    _state["ids"][page.file.src_uri] = set(re.findall(r'\bid="([^"]+)"', html))
    return html


def on_env(env, config, files, **kwargs):
    # every page's Markdown is rendered by now (templates come later): check the registry once
    for problem in claims.problems(
        _state["registry"], _state["ids"], _state["results"], _state["untested"], _state["placeholders"]
    ):
        log.warning("claims: %s", problem)
    return env
