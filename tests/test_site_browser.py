r"""The built site, opened page by page in headless Chromium (scripts/check_site.py).

The fake-site tests prove that every check can fail (raw ``$$x$$``, an external request, a broken link,
...) and that a clean page passes; they take a few seconds. The real-site test is marked ``browser``: it
checks the site that ``mkdocs build --strict`` wrote to ``$DNNF_SITE_DIR`` (default ``site/``). When that
site is missing it is skipped locally, and fails under CI (``CI=true``), where the build must precede it.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_site.py"
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
# a valid 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


# scripts/ is not a package: make check_site.py and its sibling serve_site.py importable
sys.path.append(str(ROOT / "scripts"))
import check_site as cs  # noqa: E402


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where the site and the browser must be there."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the browser check must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if cs.find_chromium() is None:
        _skip_or_fail("no Chromium installed (apt-get install chromium, or set DNNF_CHROMIUM)")
    with cs.open_browser() as launched:
        yield launched


def _page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def _notebook(outputs: str) -> str:
    # the markup of mkdocs-jupyter 0.26, including its hidden copy of the code for the copy button
    return _page(
        "<div class='jp-Notebook'><div class='jp-Cell'><pre>plt.title(r'$\\sigma$')</pre>"
        "<div class='clipboard-copy-txt'>plt.title(r'$\\sigma$')</div>"
        f"<div class='jp-OutputArea'><div class='jp-OutputArea-output'>{outputs}</div></div></div></div>"
    )


def _write(site: Path, pages: dict[str, str | bytes]) -> Path:
    for rel, content in pages.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return site


CLEAN_PAGES = {
    "index.html": _page(
        "<h1 id='top'>Book</h1>"
        "<p>It costs $5 and $10, and 100$ is not math.</p>"
        "<pre><code>$$x^2$$ \\frac{a}{b} \\(y\\)</code></pre><p>Inline <code>$x_i$</code> stays code.</p>"
        "<a href='#top'>top</a> <a href='good.html#part'>part</a> <a href='tutorials/good/'>nb</a>"
        "<a href='tutorials/'>tutorials</a> <a href='https://example.org/reference'>a reference</a>"
        "<a href='mailto:someone@example.org'>mail</a> <img src='fig.png' alt='figure'>"
    ),
    "fig.png": PNG,
    "good.html": _page("<h2 id='part'>Part</h2><a href='index.html'>home</a>"),
    "tutorials/index.html": _page("<p>The tutorials: <a href='good/'>good</a></p>"),
    "tutorials/good/index.html": _notebook(f"<img src='{PNG_URI}' alt='a red dot'>"),
    "tutorials/file/index.html": _notebook("<img src='../../fig.png' alt='a red dot'>"),
    # a numbered equation with room for its number, and a code cell as wide as the text
    "layout.html": _page(
        "<div class='katex-display'><span><span class='katex-html' style='display:block;"
        "position:relative'><span class='base' style='display:inline-block;width:100px'>x</span>"
        "<span class='tag' style='position:absolute;right:0;top:0'>(2)</span></span></span></div>"
        "<div class='jp-CodeCell'><div class='jp-InputArea-editor'><div style='overflow:auto'>"
        "<pre style='white-space:pre-wrap'>x = 1  # a comment long enough to wrap on a phone</pre>"
        "</div></div></div>"
    ),
}

BROKEN_PAGES = {
    "raw.html": _page("<p>Energy $$E = mc^2$$ here.</p><p>Inline $x_i$ and \\(a\\) and \\frac{1}{2}.</p>"),
    "external.html": _page("<img src='https://example.com/x.png' alt='remote'>"),
    "links.html": _page(
        "<a href='missing.html'>gone</a> <a href='good.html#nope'>bad anchor</a> <a href='#nowhere'>here</a>"
    ),
    "katex.html": _page(
        "<span class='katex-error' title='KaTeX parse error: Undefined control sequence: \\foo' "
        "style='color:#cc0000'>\\foo</span>"
    ),
    "fonts.html": _page("<p>Math without its stylesheet: <span class='katex'>x</span></p>"),
    "console.html": _page("<script>console.error('boom')</script><script>throw new Error('kaput')</script>"),
    "resource.html": _page("<p>styled</p>", head="<link rel='stylesheet' href='nope.css'>"),
    "refused.html": _page("<img src='http://127.0.0.1:1/nothing-listens-here.png' alt='refused'>"),
    "tutorials/nofig/index.html": _notebook("<pre>no figure here</pre>"),
    "tutorials/brokenfig/index.html": _notebook("<img src='missing.png' alt='a figure'>"),
    # what issue 10 found: break-all outputs, nbconvert's default alt, the In [n] gutter on a phone, a
    # code line wider than its box, and an equation number laid over a formula wider than the column
    "breaks.html": _notebook("<pre style='word-break:break-all;white-space:pre-wrap'>14.51 0.562</pre>"),
    "alt.html": _page(
        "<img src='fig.png'> <img src='fig.png' alt='No description has been provided for this image'>"
    ),
    "gutter.html": _page(
        "<div class='jp-CodeCell'><div style='display:flex'><div style='flex:none;width:120px'>In [1]:</div>"
        "<div class='jp-InputArea-editor' style='flex:1;min-width:0'><div style='overflow:auto'>"
        f"<pre style='white-space:pre'>x = {'1 + ' * 200}1</pre></div></div></div></div>"
    ),
    "tags.html": _page(
        "<div class='katex-display'><span><span class='katex-html' style='display:block;"
        "position:relative'><span class='base' style='display:inline-block;width:500px'>x</span>"
        "<span class='tag' style='position:absolute;right:0;top:0'>(2)</span></span></span></div>"
    ),
}

EXPECTED_BROKEN = {
    ("raw.html", "raw-tex"),
    ("external.html", "external-request"),
    ("external.html", "broken-image"),
    ("links.html", "broken-link"),
    ("links.html", "broken-anchor"),
    ("katex.html", "katex-error"),
    ("fonts.html", "katex-fonts"),
    ("console.html", "console-error"),
    ("console.html", "page-error"),
    ("resource.html", "http-error"),
    ("refused.html", "request-failed"),
    ("refused.html", "broken-image"),
    ("tutorials/nofig/index.html", "missing-figure"),
    ("tutorials/brokenfig/index.html", "missing-figure"),
    ("tutorials/brokenfig/index.html", "broken-image"),
    ("tutorials/brokenfig/index.html", "http-error"),
    ("breaks.html", "output-breaks-words"),
    ("alt.html", "missing-alt"),
    ("gutter.html", "narrow-code"),
    ("gutter.html", "code-overflow"),
    ("tags.html", "tag-overlap"),
}


@pytest.fixture
def clean_site(tmp_path: Path) -> Path:
    return _write(tmp_path / "clean", CLEAN_PAGES)


def test_a_clean_site_passes(browser, clean_site: Path):
    assert cs.check_site(clean_site, browser=browser) == []


def test_screenshots_are_saved_one_per_page(browser, clean_site: Path, tmp_path: Path):
    shots = tmp_path / "shots"
    assert cs.check_site(clean_site, browser=browser, screenshot_dir=shots) == []
    names = sorted(p.name for p in shots.iterdir())
    assert names == sorted(rel.replace("/", "__")[:-5] + ".png" for rel in cs.html_pages(clean_site))
    assert all((shots / name).read_bytes().startswith(b"\x89PNG") for name in names)


def test_every_kind_of_breakage_is_reported_on_its_page(browser, tmp_path: Path):
    site = _write(tmp_path / "broken", {**CLEAN_PAGES, **BROKEN_PAGES})
    failures = cs.check_site(site, browser=browser)
    assert {(f.page, f.kind) for f in failures} == EXPECTED_BROKEN, cs.format_report(failures, 0)
    details = {(f.page, f.kind): [] for f in failures}
    for f in failures:
        details[f.page, f.kind].append(f.detail)
    raw = " ".join(details["raw.html", "raw-tex"])
    for piece in ("$$", "$x_i$", "\\(", "\\frac"):
        assert piece in raw, raw
    assert details["external.html", "external-request"] == ["https://example.com/x.png"]
    assert any("missing.html" in d for d in details["links.html", "broken-link"])
    assert len(details["links.html", "broken-anchor"]) == 2  # another page's and this page's anchor
    assert len(details["alt.html", "missing-alt"]) == 2  # no alt, and nbconvert's default
    assert len(details["gutter.html", "code-overflow"]) == 2  # at the desktop's width and at the phone's


def test_tutorial_figure_check_can_be_turned_off_for_preview_builds(browser, tmp_path: Path):
    rel = "tutorials/nofig/index.html"
    site = _write(tmp_path / "preview", {rel: BROKEN_PAGES[rel]})
    assert cs.check_site(site, browser=browser, require_figures=False) == []
    assert [f.kind for f in cs.check_site(site, browser=browser)] == ["missing-figure"]


@pytest.mark.skipif(not (KATEX_DIST / "katex.min.css").is_file(), reason="KaTeX not installed (npm ci)")
def test_katex_fonts_pass_when_the_stylesheet_and_fonts_are_served(browser, tmp_path: Path):
    site = tmp_path / "katex"
    shutil.copytree(KATEX_DIST / "fonts", site / "assets" / "katex" / "fonts")
    shutil.copy(KATEX_DIST / "katex.min.css", site / "assets" / "katex" / "katex.min.css")
    css = "<link rel='stylesheet' href='assets/katex/katex.min.css'>"
    math = "<span class='katex'><span class='katex-html'><span class='mord mathnormal'>x</span></span></span>"
    _write(site, {"index.html": _page(f"<p>Math {math}</p>", head=css)})
    assert cs.check_site(site, browser=browser) == []
    # KaTeX (throwOnError: false) colours an unknown command red inside otherwise rendered math
    red = "<span style='color:#cc0000'>\\bar</span>"
    _write(site, {"red.html": _page(f"<p>Math {math.replace('>x<', f'>{red}<')}</p>", head=css)})
    assert [(f.page, f.kind) for f in cs.check_site(site, browser=browser)] == [("red.html", "katex-error")]
    (site / "red.html").unlink()
    # the stylesheet falls back from woff2 to woff to ttf: remove every format of the face
    for font in (site / "assets" / "katex" / "fonts").glob("KaTeX_Main-Regular.*"):
        font.unlink()
    kinds = {f.kind for f in cs.check_site(site, browser=browser)}
    assert "katex-fonts" in kinds, kinds


def test_site_is_served_under_its_published_path(browser, tmp_path: Path):
    sitemap = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        "<url><loc>https://example.org/book/</loc></url><url><loc>https://example.org/book/good.html</loc></url>"
        "</urlset>"
    )
    site = _write(
        tmp_path / "prefixed",
        {
            "sitemap.xml": sitemap,
            "index.html": _page("<a href='/book/good.html'>ok</a> <a href='/good.html'>ignores the path</a>"),
            "good.html": _page("<p>good</p>"),
        },
    )
    assert cs.site_prefix(site) == "/book/"
    failures = cs.check_site(site, browser=browser)
    assert [(f.page, f.kind) for f in failures] == [("index.html", "broken-link")], failures
    assert "outside the site's path /book/" in failures[0].detail


def test_server_answers_404_outside_the_published_path(clean_site: Path):
    with cs.serve(clean_site, "/book/") as root_url:
        with urlopen(root_url + "good.html", timeout=10) as response:
            assert response.status == 200 and b"Part" in response.read()
        with pytest.raises(HTTPError) as outside:
            urlopen(root_url.replace("/book/", "/") + "good.html", timeout=10)
        assert outside.value.code == 404


def test_serve_rejects_a_malformed_prefix(clean_site: Path):
    with pytest.raises(ValueError, match="prefix must start and end with '/'"):
        with cs.serve(clean_site, "book"):
            pass


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("the energy $$E=mc^2$$", True),
        ("where $x_i$ is a sample", True),
        ("for every $n$", True),
        ("the map \\(f\\)", True),
        ("\\[ a \\]", True),
        ("a \\nabla here", True),
        ("costs $5 and $10", False),
        ("US$ 3 or 4 $", False),
        ("plain prose, no math", False),
    ],
)
def test_raw_tex_patterns(text: str, flagged: bool):
    assert bool(cs.raw_tex(text)) is flagged, cs.raw_tex(text)


@pytest.mark.slow  # a second Chromium in a subprocess: several seconds on two busy cores
def test_cli_reports_failures_by_page_with_exit_status_1(clean_site: Path):
    if cs.find_chromium() is None:
        _skip_or_fail("no Chromium installed")
    _write(clean_site, {"raw.html": BROKEN_PAGES["raw.html"]})
    cmd = [sys.executable, str(SCRIPT), str(clean_site)]
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "raw.html:\n  [raw-tex]" in bad.stdout and "index.html:" not in bad.stdout, bad.stdout


def test_cli_exit_status_0_when_clean_and_2_when_the_site_is_missing(
    clean_site: Path, tmp_path: Path, monkeypatch, capsys
):
    # the browser run itself is covered above; here only the command's wiring, without a second Chromium
    monkeypatch.setattr(cs, "check_site", lambda site, **kwargs: [])
    assert cs.main([str(clean_site)]) == 0
    assert "no problems" in capsys.readouterr().out
    monkeypatch.undo()
    assert cs.main([str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_site_fails_under_ci_and_is_skipped_elsewhere(monkeypatch, ci: str, outcome: type):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no built site"):
        _skip_or_fail("no built site at site/")


@pytest.mark.browser
@pytest.mark.slow
def test_built_site_has_no_broken_pages(browser):
    """Every page of the built book: math typeset with its fonts, nothing fetched from elsewhere, no
    console errors, every internal link and image resolving, and a figure on every tutorial page."""
    site = Path(os.environ.get("DNNF_SITE_DIR", ROOT / "site"))
    if not site.is_absolute():
        site = ROOT / site
    if not (site / "index.html").is_file():
        _skip_or_fail(f"no built site at {site}; run `mkdocs build --strict` (or bash scripts/test.sh)")
    failures = cs.check_site(site, browser=browser)
    assert failures == [], cs.format_report(failures, len(cs.html_pages(site)))
