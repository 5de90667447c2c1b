"""MkDocs hook: citations and the references page, rendered at build time from one BibTeX file.

* ``docs/references.bib`` is the book's only bibliography. pybtex parses and formats it; nothing is
  typed twice.
* In a Markdown page, ``[@key]`` becomes "(Author Year)", ``[@a; @b, sec. 2]`` becomes
  "(A Year; B Year, sec. 2)" and ``[-@key]`` becomes "(Year)" (for "Siegmund [-@siegmund1976] showed"),
  each linked to the entry's anchor on ``references.md``. Code spans and fenced code are left alone.
* ``references.md`` carries the marker ``<!-- bibliography -->``, replaced by the formatted entries
  (sorted by author and year), each with an ``id`` equal to its key and the pages that cite it.
* A citation of an unknown key, or an entry no page cites, is logged as a warning, which fails
  ``mkdocs build --strict``.

This file is self-contained (MkDocs loads each hook file as its own module).
"""

from __future__ import annotations

import logging
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from mkdocs.utils import get_relative_url
from pybtex.database import BibliographyData, Person, parse_file
from pybtex.plugin import find_plugin
from pybtex.richtext import Text

log = logging.getLogger("mkdocs.hooks.dnnf.bibliography")

ROOT = Path(__file__).resolve().parents[2]
BIB_FILE = ROOT / "docs" / "references.bib"
REFERENCES_PAGE = "references.md"
MARKER = "<!-- bibliography -->"

# A citation group "[@key]" / "[-@key, locator; @other]" outside code. The first alternative swallows
# fenced blocks and code spans so that citations inside them are left as written.
CODE_OR_CITE = re.compile(
    r"(?P<code>^[ \t]*(?P<fence>```|~~~).*?^[ \t]*(?P=fence)|`[^`\n]+`)"
    r"|\[(?P<body>-?@[\w:-]+[^\[\]\n]*)\]",
    re.S | re.M,
)
ITEM = re.compile(r"^(?P<suppress>-?)@(?P<key>[\w:-]+)(?:\s*,\s*(?P<locator>.+))?$")
H1 = re.compile(r"^#\s+(.+?)\s*$", re.M)


@dataclass
class _State:
    data: BibliographyData | None = None
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (authors, year)
    cited_by: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # key -> [(page url, title)]


STATE = _State()


def _surname(person: Person) -> str:
    name = " ".join(person.prelast_names + person.last_names)
    return Text.from_latex(name).render_as("text")


def _label(key: str, data: BibliographyData) -> tuple[str, str]:
    entry = data.entries[key]
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in people]
    if not names:
        raise ValueError(f"{BIB_FILE.name}: entry {key!r} has no author or editor")
    if len(names) == 1:
        authors = names[0]
    elif len(names) == 2:
        authors = f"{names[0]} and {names[1]}"
    else:
        authors = f"{names[0]} et al."
    return authors, entry.fields["year"]


def _citations(markdown: str) -> list[str]:
    keys = []
    for match in CODE_OR_CITE.finditer(markdown):
        if match.group("body"):
            for item in match.group("body").split(";"):
                parsed = ITEM.match(item.strip())
                if parsed:
                    keys.append(parsed.group("key"))
    return keys


def on_config(config, **kwargs):
    STATE.data = parse_file(str(BIB_FILE), bib_format="bibtex")
    STATE.labels = {key: _label(key, STATE.data) for key in STATE.data.entries}
    seen: dict[tuple[str, str], str] = {}
    for key, label in STATE.labels.items():
        if label in seen:  # "Dinh et al. 2015" must name one work; add a suffix to the year if not
            log.warning("%s: %s and %s both cite as %s %s", BIB_FILE.name, seen[label], key, *label)
        seen[label] = key
    return config


def on_files(files, config, **kwargs):
    """Collect, before any page is rendered, which pages cite which entries (for the back-links)."""
    STATE.cited_by = {key: [] for key in STATE.labels}
    for file in files.documentation_pages():
        if not file.src_uri.endswith(".md") or file.src_uri == REFERENCES_PAGE:
            continue
        text = Path(file.abs_src_path).read_text(encoding="utf-8")
        title_match = H1.search(text)
        title = title_match.group(1) if title_match else file.src_uri
        for key in dict.fromkeys(_citations(text)):
            if key in STATE.cited_by:
                STATE.cited_by[key].append((file.url, title))
    for key, pages in STATE.cited_by.items():
        if not pages:
            log.warning("%s: entry %r is cited by no page", BIB_FILE.name, key)
    return files


def _cite(body: str, src_uri: str) -> str | None:
    target = posixpath.relpath(REFERENCES_PAGE, posixpath.dirname(src_uri) or ".")
    parts = []
    for item in body.split(";"):
        parsed = ITEM.match(item.strip())
        if parsed is None:
            log.warning("%s: cannot read the citation [%s]; write [@key] or [@key, locator]", src_uri, body)
            return None
        key = parsed.group("key")
        if key not in STATE.labels:
            log.warning("%s: citation of %r, which is not in %s", src_uri, key, BIB_FILE.name)
            return None
        authors, year = STATE.labels[key]
        text = year if parsed.group("suppress") else f"{authors} {year}"
        locator = f", {parsed.group('locator')}" if parsed.group("locator") else ""
        parts.append(f"[{text}]({target}#{key}){locator}")
    return "(" + "; ".join(parts) + ")"


def _bibliography(page_url: str) -> str:
    style = find_plugin("pybtex.style.formatting", "plain")()
    backend = find_plugin("pybtex.backends", "html")()
    items = []
    for entry in style.format_bibliography(STATE.data):
        # Raw HTML is not rewritten by MkDocs, so the back-links use the pages' final URLs.
        links = ", ".join(
            f'<a href="{get_relative_url(url, page_url)}">{title}</a>'
            for url, title in STATE.cited_by.get(entry.key, [])
        )
        authors, year = STATE.labels[entry.key]
        items.append(
            f'<li id="{entry.key}"><strong class="dnnf-cite-label">{authors} {year}.</strong> '
            f"{entry.text.render(backend)}"
            + (f'<br><span class="dnnf-cited-by">Cited in: {links}</span>' if links else "")
            + "</li>"
        )
    return '<ul class="dnnf-references">\n' + "\n".join(items) + "\n</ul>"


def on_page_markdown(markdown, page, config, files, **kwargs):
    src_uri = page.file.src_uri
    if src_uri == REFERENCES_PAGE:
        if MARKER not in markdown:
            log.warning("%s: the marker %s is missing", REFERENCES_PAGE, MARKER)
        markdown = markdown.replace(MARKER, _bibliography(page.url))

    def replace(match: re.Match[str]) -> str:
        if match.group("code"):
            return match.group(0)
        rendered = _cite(match.group("body"), src_uri)
        return match.group(0) if rendered is None else rendered

    return CODE_OR_CITE.sub(replace, markdown)
