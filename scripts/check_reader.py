r"""Layout checks of a page as a reader sees it, run by check_site.py on every page it opens.

On the page as loaded (desktop width):

* ``output-breaks-words``: a notebook output block whose computed style lets the browser cut a word or
  a number in two (``word-break: break-all``, or ``overflow-wrap: anywhere / break-word`` where lines wrap);
* ``missing-alt``: an ``img`` without a description, or with nbconvert's default one;
* ``code-overflow``: a notebook code cell whose code is wider than its box.

Then, on pages with code cells or numbered equations, at a phone's width (:data:`PHONE_WIDTH` px):

* ``narrow-code``: a code cell less than :data:`MIN_CODE_SHARE` of the text column wide (the ``In [n]:``
  gutter took the rest), and ``code-overflow`` again;
* ``tag-overlap``: an equation number (KaTeX ``\tag``) whose box meets its formula's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

PHONE_WIDTH = 390
MIN_CODE_SHARE = 0.8
DEFAULT_ALT = "No description has been provided for this image"

# Shared by both passes: the code cells' boxes and how far their code runs past them.
_CODE_CELLS = r"""
  const text = (document.querySelector('article') || document.body).getBoundingClientRect().width;
  const cells = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-editor')].map((box, i) => {
    const code = box.querySelector('pre');
    const scroller = code && code.parentElement;
    return {i: i + 1, share: box.getBoundingClientRect().width / text,
            overflow: scroller ? scroller.scrollWidth - scroller.clientWidth : 0};
  });
"""

DESKTOP_PROBE = (
    r"""
(DEFAULT_ALT) => {
  const outputs = [...document.querySelectorAll('.jp-OutputArea-output pre, .jp-OutputArea-output code')];
  const breaking = outputs.filter((el) => {
    const s = getComputedStyle(el);
    const wraps = !['pre', 'nowrap'].includes(s.whiteSpace);
    return s.wordBreak === 'break-all' || (wraps && ['anywhere', 'break-word'].includes(s.overflowWrap));
  }).map((el) => el.textContent.trim().slice(0, 60));
  const badAlt = [...document.images].filter((img) => {
    const alt = (img.getAttribute('alt') || '').trim();
    return !alt || alt === DEFAULT_ALT;
  }).map((img) => [(img.currentSrc || img.src).slice(0, 80), img.getAttribute('alt')]);
"""
    + _CODE_CELLS
    + r"""
  return {breaking, badAlt, overflow: cells.filter((c) => c.overflow > 1),
          phone: cells.length > 0 || !!document.querySelector('.katex-display .tag')};
}
"""
)

PHONE_PROBE = (
    r"""
() => {
"""
    + _CODE_CELLS
    + r"""
  const overlaps = [];
  for (const display of document.querySelectorAll('.katex-display')) {
    const tag = display.querySelector('.tag');
    if (!tag) continue;
    const range = document.createRange();
    range.selectNodeContents(tag);
    const t = range.getBoundingClientRect();
    for (const base of display.querySelectorAll('.katex-html > .base')) {
      const b = base.getBoundingClientRect();
      const meet = t.left < b.right - 0.5 && b.left < t.right - 0.5 && t.top < b.bottom && b.top < t.bottom;
      if (meet) { overlaps.push(tag.textContent); break; }
    }
  }
  return {cells, overlaps};
}
"""
)


def reader_findings(page: Page) -> list[tuple[str, str]]:
    """``(kind, detail)`` for every layout problem on the loaded ``page`` (its viewport is restored)."""
    found: list[tuple[str, str]] = []
    desk = page.evaluate(DESKTOP_PROBE, DEFAULT_ALT)
    found += [("output-breaks-words", f"an output block may break words: {t!r}") for t in desk["breaking"]]
    found += [
        ("missing-alt", f"img without a description (alt={alt!r}): {src}") for src, alt in desk["badAlt"]
    ]
    found += [
        ("code-overflow", f"code cell {c['i']}: code {c['overflow']:.0f} px wider than its box")
        for c in desk["overflow"]
    ]
    if not desk["phone"]:
        return found
    size = page.viewport_size or {"width": 1280, "height": 720}
    page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
    try:
        phone = page.evaluate(PHONE_PROBE)
    finally:
        page.set_viewport_size(size)
    for c in phone["cells"]:
        if c["share"] < MIN_CODE_SHARE:
            detail = f"at {PHONE_WIDTH} px, code cell {c['i']} gets {100 * c['share']:.0f}% of the text width"
            found.append(("narrow-code", detail))
        if c["overflow"] > 1:
            detail = (
                f"at {PHONE_WIDTH} px, code cell {c['i']}: code {c['overflow']:.0f} px wider than its box"
            )
            found.append(("code-overflow", detail))
    found += [
        ("tag-overlap", f"at {PHONE_WIDTH} px, equation number {t} overlaps its formula")
        for t in phone["overlaps"]
    ]
    return found
