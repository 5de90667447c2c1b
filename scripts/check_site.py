r"""Open every page of a built site in headless Chromium and report what a reader would see broken.

Usage::

    python scripts/check_site.py [SITE_DIR]        # default: $DNNF_SITE_DIR or site/
    python scripts/check_site.py site --no-figures  # a DNNF_EXECUTE=0 preview build (no notebook outputs)
    python scripts/check_site.py site --screenshots /tmp/shots   # and look at every page

The site is served from 127.0.0.1 on an ephemeral port, under the path of its ``site_url`` (read from
``sitemap.xml``), exactly as GitHub Pages serves it, so absolute links that ignore that path break here as
they would in production. One browser opens every ``*.html`` file and collects, for every page at once:

* ``raw-tex``: TeX left in the text outside code (``$$``, ``\(``, ``\[``, ``\command``, ``$x^2$``);
* ``katex-error``: ``.katex-error`` elements or KaTeX's red error colour ``#cc0000``;
* ``katex-fonts``: a page with ``.katex`` whose ``KaTeX_Main`` font face is absent or fails to load;
* ``external-request``: any request to a host other than 127.0.0.1/localhost (blocked, then reported);
* ``console-error`` / ``page-error``: console errors and uncaught exceptions;
* ``http-error`` / ``request-failed``: a resource of the site that is missing or fails;
* ``missing-figure``: a tutorial page (under ``tutorials/``) without a loaded image in a notebook output;
* ``broken-link`` / ``broken-anchor``: an ``a[href]`` into the site whose file (or ``#id``) does not exist;
* ``broken-image``: an ``img`` that did not load;
* the reader's layout checks of scripts/check_reader.py: ``output-breaks-words``, ``missing-alt``,
  ``code-overflow``, and at a phone's width ``narrow-code`` and ``tag-overlap``.

The exit status is 0 when nothing is found, 1 when something is, 2 when the site or browser is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from check_reader import reader_findings  # scripts/check_reader.py, beside this file
from serve_site import serve, site_prefix  # scripts/serve_site.py, beside this file

if TYPE_CHECKING:  # playwright is imported only when a browser is launched
    from playwright.sync_api import Browser, ConsoleMessage, Request

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# Debian's chromium first (what this project's machines have); Google Chrome is what GitHub's
# ubuntu-latest images ship, so CI needs no browser install.
CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
MAX_PER_KIND = 5  # per page: enough to locate a problem without drowning the report

RAW_TEX = (
    ("display delimiter", re.compile(r"\$\$")),
    ("\\( or \\[ delimiter", re.compile(r"\\[(\[]")),
    ("TeX command", re.compile(r"\\[A-Za-z]+")),
)
# $...$ hugging non-space text; whether the inside is TeX is decided by _looks_like_tex.
INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]{1,120}?)(?<=\S)\$(?![\w$])")

# Everything the page needs, measured in one round trip after load, fonts and image decoding.
PAGE_PROBE = r"""
async () => {
  await document.fonts.ready;
  const imgs = [...document.images];
  await Promise.all(imgs.map((img) => {
    if (img.loading === 'lazy') img.loading = 'eager';
    return img.decode().catch(() => null);
  }));
  // code, rendered math, and mkdocs-jupyter's hidden copy of each code cell (.clipboard-copy-txt)
  const SKIP = 'code, pre, script, style, noscript, template, textarea, kbd, samp, svg, math, '
             + '.katex, .katex-display, .katex-error, .clipboard-copy-txt';
  const BLOCK = 'p, li, td, th, h1, h2, h3, h4, h5, h6, dt, dd, figcaption, summary, blockquote, '
              + 'caption, label, div, section, article, aside, nav, header, footer, main, details, body';
  const blocks = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(SKIP)) continue;
    const block = el.closest(BLOCK) || document.body;
    blocks.set(block, (blocks.get(block) || '') + node.data);
  }
  const texts = [...blocks.values()].filter((t) => t.trim()).map((t) => t.replace(/\s+/g, ' '));
  const katexErrors = [...document.querySelectorAll('.katex-error, [style*="cc0000" i]')]
    .map((e) => (e.getAttribute('title') || e.textContent || '').slice(0, 120));
  let fonts = null;
  if (document.querySelector('.katex')) {
    let faces = [];
    try { faces = await document.fonts.load('16px KaTeX_Main'); } catch (e) { faces = []; }
    fonts = {faces: faces.length, check: document.fonts.check('16px KaTeX_Main')};
  }
  const OUTPUT = '.jp-OutputArea-output, .jp-OutputArea, .output_area, .output_subarea, .jp-RenderedImage';
  const shown = (img) => img.complete && img.naturalWidth > 0;
  return {
    texts,
    katexErrors,
    fonts,
    images: imgs.map((img) => ({src: img.currentSrc || img.src, ok: shown(img),
                                output: !!img.closest(OUTPUT)})),
    links: [...new Set([...document.querySelectorAll('a[href]')].map((a) => a.href))],
    ids: [...document.querySelectorAll('[id], a[name]')].map((e) => e.id || e.getAttribute('name')),
  };
}
"""


@dataclass(frozen=True, order=True)
class Failure:
    """One problem found on one page (``page`` is the path relative to the site directory)."""

    page: str
    kind: str
    detail: str


def find_chromium() -> str | None:
    """Return ``$DNNF_CHROMIUM`` if set, else the first installed Chromium/Chrome, else ``None``."""
    explicit = os.environ.get("DNNF_CHROMIUM")
    if explicit:
        return explicit
    return next((path for path in CHROMIUM_CANDIDATES if os.access(path, os.X_OK)), None)


@contextlib.contextmanager
def open_browser(executable_path: str | None = None) -> Iterator[Browser]:
    """Launch one headless Chromium (never downloads one); yield the Playwright ``Browser``."""
    from playwright.sync_api import sync_playwright

    executable_path = executable_path or find_chromium()
    if executable_path is None:
        raise FileNotFoundError(
            f"no Chromium found (tried {', '.join(CHROMIUM_CANDIDATES)}); set DNNF_CHROMIUM"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _looks_like_tex(inside: str) -> bool:
    return bool(re.search(r"[\\^_{}]", inside) or re.fullmatch(r"[A-Za-z]\d?", inside))


def raw_tex(text: str) -> list[str]:
    r"""Snippets of ``text`` that are TeX left unrendered (``$$``, ``\(``, ``\frac``, ``$x_i$`` ...)."""
    found = []
    for label, pattern in RAW_TEX:
        found += [f"{label}: …{text[max(m.start() - 30, 0) : m.end() + 30]}…" for m in pattern.finditer(text)]
    found += [f"inline $...$: {m.group(0)}" for m in INLINE_MATH.finditer(text) if _looks_like_tex(m[1])]
    return found


class _IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


@functools.cache
def _ids_in(path: Path) -> frozenset[str]:
    collector = _IdCollector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(collector.ids)


def _link_problem(
    href: str, root_url: str, site_dir: Path, page_url: str, page_ids: set[str]
) -> tuple[str, str] | None:
    """Check one resolved link: ``(kind, detail)``, or ``None`` when it is fine or leaves the site."""
    link, root = urlsplit(href), urlsplit(root_url)
    if link.scheme not in ("http", "https") or link.netloc != root.netloc:
        return None
    path = unquote(link.path)
    if not path.startswith(root.path):
        return "broken-link", f"{href} is outside the site's path {root.path}"
    target = site_dir / path[len(root.path) :]
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return "broken-link", f"{href} (no file {target.relative_to(site_dir)})"
    anchor = unquote(link.fragment)
    if not anchor or target.suffix != ".html":
        return None
    same_page = href.split("#", 1)[0] == page_url.split("#", 1)[0]
    ids = page_ids if same_page else _ids_in(target)
    if anchor not in ids:
        return "broken-anchor", f"{href} (no element with id {anchor!r})"
    return None


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS


def is_tutorial(rel: str) -> bool:
    """A notebook page: under ``tutorials/``, except the section's own index page."""
    return rel.startswith("tutorials/") and rel != "tutorials/index.html"


class PageVisitor:
    """One browser tab that visits page after page and records what goes wrong on each.

    Reusing a single tab is about three times faster than a fresh context per page, which matters on
    a two-core CI machine; listeners write into ``found``, which :meth:`visit` resets for every page.
    """

    def __init__(self, browser: Browser, timeout_ms: int = 30_000) -> None:
        self.found: list[tuple[str, str]] = []
        self.timeout_ms = timeout_ms
        self.context = browser.new_context(service_workers="block")
        # External requests are recorded by the request listener and aborted here, so an offline
        # machine neither waits on DNS nor masks the report with a timeout.
        self.context.route(_is_external, lambda route: route.abort())
        page = self.page = self.context.new_page()
        page.on("request", lambda r: _is_external(r.url) and self._add("external-request", r.url))
        page.on("response", lambda r: r.status >= 400 and self._add("http-error", f"{r.status} {r.url}"))
        page.on("requestfailed", self._on_request_failed)
        page.on("pageerror", lambda exc: self._add("page-error", str(exc)))
        page.on("console", self._on_console)

    def _add(self, kind: str, detail: str) -> None:
        self.found.append((kind, detail))

    def _on_request_failed(self, request: Request) -> None:
        # External requests are aborted on purpose (reported above). ERR_ABORTED is the browser
        # cancelling a request: a resource answered 404 (reported as http-error) or one still in flight
        # (say the favicon) when the tab moves on to the next page, which is no fault of either page.
        if not _is_external(request.url) and request.failure != "net::ERR_ABORTED":
            self._add("request-failed", f"{request.failure} {request.url}")

    def _on_console(self, msg: ConsoleMessage) -> None:
        # A failed resource also logs "Failed to load resource"; the network listeners report it with its URL.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self._add("console-error", f"{msg.text} ({msg.location.get('url', '')})")

    def visit(self, url: str, screenshot: Path | None = None) -> dict | None:
        """Load ``url`` and return the page probe (``None`` if it could not be loaded)."""
        self.found = []
        try:
            response = self.page.goto(url, wait_until="load", timeout=self.timeout_ms)
            if response is None or response.status >= 400:
                self._add("load-failed", f"HTTP {response.status if response else 'no response'}")
            probe = self.page.evaluate(PAGE_PROBE)
            if screenshot is not None:  # after the probe: fonts loaded, images decoded
                self.page.screenshot(path=str(screenshot), full_page=True)
            self.found += reader_findings(self.page)
            return probe
        except Exception as exc:  # a page that cannot be opened is one more finding, not the end of the run
            self._add("load-failed", f"{type(exc).__name__}: {exc}".splitlines()[0])
            return None

    def close(self) -> None:
        self.context.close()


def check_page(
    visitor: PageVisitor,
    root_url: str,
    site_dir: Path,
    rel: str,
    *,
    require_figures: bool = True,
    screenshot_dir: Path | None = None,
) -> list[Failure]:
    """Open one page (``rel``, relative to the site) and return every problem found on it."""
    url = root_url + rel
    shot = (
        screenshot_dir / (rel.replace("/", "__").removesuffix(".html") + ".png") if screenshot_dir else None
    )
    probe = visitor.visit(url, shot)
    found = list(visitor.found)
    if probe is not None:
        for text in probe["texts"]:
            found += [("raw-tex", snippet) for snippet in raw_tex(text)]
        found += [("katex-error", detail) for detail in probe["katexErrors"]]
        fonts = probe["fonts"]
        if fonts is not None and (fonts["faces"] == 0 or not fonts["check"]):
            detail = f"KaTeX_Main not loaded (faces={fonts['faces']}, check={fonts['check']})"
            found.append(("katex-fonts", detail))
        for image in probe["images"]:
            if not image["ok"]:
                found.append(("broken-image", image["src"][:120]))
        if require_figures and is_tutorial(rel) and not any(i["ok"] and i["output"] for i in probe["images"]):
            found.append(("missing-figure", "no loaded image in any notebook output"))
        page_ids = set(probe["ids"])
        for href in probe["links"]:
            problem = _link_problem(href, root_url, site_dir, url, page_ids)
            if problem is not None:
                found.append(problem)

    failures, per_kind = [], {}
    for kind, detail in dict.fromkeys(found):  # drop duplicates, keep order
        per_kind[kind] = per_kind.get(kind, 0) + 1
        if per_kind[kind] <= MAX_PER_KIND:
            failures.append(Failure(rel, kind, detail))
    failures += [
        Failure(rel, kind, f"... and {count - MAX_PER_KIND} more")
        for kind, count in per_kind.items()
        if count > MAX_PER_KIND
    ]
    return failures


def html_pages(site_dir: Path) -> list[str]:
    """Every HTML file of the site, as paths relative to it (``/``-separated, sorted).

    Except ``print_page/``: it repeats every page checked here, is about 10 MB (a minute to load on a busy
    runner), and what it becomes, the PDF, is checked by tests/test_pdf.py."""
    pages = (p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html"))
    return sorted(p for p in pages if not p.startswith("print_page/"))


def check_site(
    site_dir: str | os.PathLike,
    *,
    browser: Browser | None = None,
    require_figures: bool = True,
    prefix: str | None = None,
    executable_path: str | None = None,
    screenshot_dir: str | os.PathLike | None = None,
) -> list[Failure]:
    """Check every HTML page of ``site_dir``; return all failures (empty when the site is clean).

    ``browser`` reuses a Playwright browser (see :func:`open_browser`); ``prefix`` overrides the URL path
    read from ``sitemap.xml``; ``require_figures=False`` skips the tutorial-figure check (preview builds);
    ``screenshot_dir`` saves a full-page PNG of every page there, to look at what readers will see.
    """
    site = Path(site_dir)
    if not site.is_dir():
        raise FileNotFoundError(f"site_dir {str(site)!r} is not a directory; build the site first")
    pages = html_pages(site)
    if not pages:
        return [Failure("", "no-pages", f"no *.html under {site}")]
    if browser is None:
        with open_browser(executable_path) as own:
            return check_site(
                site,
                browser=own,
                require_figures=require_figures,
                prefix=prefix,
                screenshot_dir=screenshot_dir,
            )
    shots = Path(screenshot_dir) if screenshot_dir is not None else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    _ids_in.cache_clear()  # pages may have been rebuilt since the last run in this process
    failures = []
    visitor = PageVisitor(browser)
    try:
        with serve(site, prefix or site_prefix(site)) as root_url:
            for rel in pages:
                failures += check_page(
                    visitor, root_url, site, rel, require_figures=require_figures, screenshot_dir=shots
                )
    finally:
        visitor.close()
    return failures


def format_report(failures: list[Failure], n_pages: int) -> str:
    if not failures:
        return f"check_site: {n_pages} pages, no problems"
    n_bad = len({f.page for f in failures})
    lines = [f"check_site: {len(failures)} problem(s) on {n_bad} of {n_pages} pages"]
    page = None
    for failure in failures:
        if failure.page != page:
            page = failure.page
            lines.append(f"{page or '(site)'}:")
        lines.append(f"  [{failure.kind}] {failure.detail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site_dir", nargs="?", default=os.environ.get("DNNF_SITE_DIR", "site"))
    parser.add_argument("--no-figures", action="store_true", help="skip the tutorial-figure check")
    parser.add_argument("--prefix", help="URL path the site is served under (default: from sitemap.xml)")
    parser.add_argument("--chromium", help="browser executable (default: $DNNF_CHROMIUM or a known path)")
    parser.add_argument("--screenshots", metavar="DIR", help="save a full-page PNG of every page in DIR")
    args = parser.parse_args(argv)
    site = Path(args.site_dir)
    try:
        failures = check_site(
            site,
            require_figures=not args.no_figures,
            prefix=args.prefix,
            executable_path=args.chromium,
            screenshot_dir=args.screenshots,
        )
    except FileNotFoundError as exc:
        print(f"check_site: {exc}", file=sys.stderr)
        return 2
    print(format_report(failures, len(html_pages(site))))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
