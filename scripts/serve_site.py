"""Serve a built site from 127.0.0.1 the way GitHub Pages serves it: under the path of its ``site_url``.

Usage::

    python scripts/serve_site.py [SITE_DIR] [--port 8000]   # default: $DNNF_SITE_DIR or site/

``mkdocs serve`` rebuilds from the sources and serves from ``/``; this serves the exact artifact the deploy
job publishes, under the path read from its ``sitemap.xml`` (``/dnnf/`` for ``https://.../dnnf/``), and
answers 404 outside that path, so an absolute link that ignores the path breaks here as it would online.
``scripts/check_site.py`` uses :func:`serve` to open every page in a browser.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


def site_prefix(site_dir: Path) -> str:
    """The URL path the site is published under (``/dnnf/`` for ``.../dnnf/``), from ``sitemap.xml``."""
    sitemap = site_dir / "sitemap.xml"
    if not sitemap.is_file():
        return "/"
    try:
        locs = [el.text or "" for el in ET.parse(sitemap).iter() if el.tag.endswith("loc")]
    except ET.ParseError:
        return "/"
    paths = [urlsplit(loc.strip()).path for loc in locs if loc.strip()]
    if not paths:
        return "/"
    root = min(paths, key=len)
    return root if root.endswith("/") else root.rsplit("/", 1)[0] + "/"


class _SiteHandler(SimpleHTTPRequestHandler):
    prefix = "/"

    def send_head(self):
        if not urlsplit(self.path).path.startswith(self.prefix):
            # outside the published path: a 404, as on the real host
            self.send_error(404, f"outside the site's path {self.prefix}")
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        return super().translate_path("/" + urlsplit(path).path[len(self.prefix) :])

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would bury the checker's report


@contextlib.contextmanager
def serve(site_dir: Path, prefix: str = "/", port: int = 0) -> Iterator[str]:
    """Serve ``site_dir`` on 127.0.0.1 under ``prefix`` (``port=0``: any free port); yield its root URL."""
    if not (prefix.startswith("/") and prefix.endswith("/")):
        raise ValueError(f"prefix must start and end with '/', got {prefix!r}")
    handler = functools.partial(type("Handler", (_SiteHandler,), {"prefix": prefix}), directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site_dir", nargs="?", default=os.environ.get("DNNF_SITE_DIR", "site"))
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--prefix", help="URL path to serve under (default: from sitemap.xml)")
    args = parser.parse_args(argv)
    site = Path(args.site_dir)
    if not site.is_dir():
        print(f"serve_site: site_dir {str(site)!r} is not a directory; build the site first", file=sys.stderr)
        return 2
    with serve(site, args.prefix or site_prefix(site), port=args.port) as url:
        print(f"serving {site} at {url} (Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
