"""Print the book's one-page rendering (mkdocs-print-site-plugin) to a PDF with headless Chromium.

Usage::

    python scripts/build_pdf.py site/print_page/index.html site/dnnf.pdf

No LaTeX and no network: the site is served from 127.0.0.1 (``scripts/serve_site.py``; fonts cannot load
from ``file://``), Chromium (``/usr/bin/chromium`` or ``$DNNF_CHROMIUM``, driven by Playwright) waits until
every font (KaTeX's included) and image is loaded, then prints with the print stylesheet: A4, a table of
contents (the print page's, whose links become internal PDF links), the PDF outline from the headings,
and "page N of M" in every footer. The math is already HTML (rendered by KaTeX at build time) and the
tutorials carry their executed outputs, so what is printed is what the site shows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_site import open_browser  # noqa: E402  (scripts/ is not a package)
from serve_site import serve  # noqa: E402

FOOTER = (
    "<div style='font-size:8px;width:100%;text-align:center;color:#555;'>"
    "<span class='title'></span> &middot; page <span class='pageNumber'></span> of "
    "<span class='totalPages'></span></div>"
)
# Wait for what the print needs: every font face (KaTeX's are loaded lazily, by the glyphs in use) and
# every image decoded, lazy ones included.
READY = """
async () => {
  for (const img of document.images) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all([...document.images].map((img) => img.decode().catch(() => null)));
  await document.fonts.ready;
  return {images: document.images.length, katex: document.fonts.check('16px KaTeX_Main')};
}
"""


def build_pdf(print_page: Path, out: Path, *, timeout_s: float = 600) -> tuple[float, int]:
    """Print ``print_page`` (a file inside a built site) to ``out``; return (seconds, number of pages)."""
    print_page, out = Path(print_page).resolve(), Path(out).resolve()
    if not print_page.is_file():
        raise FileNotFoundError(f"print_page {print_page} does not exist: build the site first")
    site = print_page.parents[1]  # site/print_page/index.html
    start = time.perf_counter()
    with open_browser() as browser, serve(site) as root_url:
        page = browser.new_page()
        page.set_default_timeout(timeout_s * 1000)
        url = root_url + print_page.relative_to(site).as_posix()
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status if response else 'no response'}")
        ready = page.evaluate(READY)
        if not ready["katex"]:
            raise RuntimeError(
                f"{url}: the KaTeX fonts did not load; the math would print in a fallback font"
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(
            path=str(out),
            format="A4",
            print_background=True,
            margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=FOOTER,
            outline=True,
            tagged=True,
        )
    from pypdf import PdfReader

    return time.perf_counter() - start, len(PdfReader(out).pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("print_page", type=Path, help="the built print page, e.g. site/print_page/index.html")
    parser.add_argument("out", type=Path, help="the PDF to write, e.g. site/dnnf.pdf")
    args = parser.parse_args(argv)
    seconds, pages = build_pdf(args.print_page, args.out)
    size = args.out.stat().st_size / 2**20
    print(f"build_pdf: {args.out}: {pages} pages, {size:.1f} MiB, {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
