"""The reader hook (scripts/site/reader.py): figure descriptions from cell metadata, search text."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "site"))
import reader  # noqa: E402

SOURCE = """# %% [markdown]
# Title

# %% alt="A red dot."
plot(1)

# %% alt=["First.", "Second."]
plot(2)
plot(3)

# %%
x = 4
"""


def _cell(code: str, images: int) -> str:
    img = f"<img src='f.png' alt='{reader.DEFAULT_ALT}'>"
    outputs = f"<div class='jp-OutputArea-output'>{img}</div>" * images
    wrapper = "<div class='jp-Cell jp-CodeCell'>{}</div>"
    return wrapper.format(
        wrapper.format(
            f"<div class='jp-InputArea'><pre>{code}</pre></div><div class='jp-OutputArea'>{outputs}</div>"
        )
    )


def _page(tmp_path: Path, cells: list[str]) -> tuple[BeautifulSoup, SimpleNamespace]:
    src = tmp_path / "t.py"
    src.write_text(SOURCE, encoding="utf-8")
    page = SimpleNamespace(file=SimpleNamespace(src_uri="tutorials/t.py", abs_src_path=str(src)))
    return BeautifulSoup("<article>" + "".join(cells) + "</article>", "html.parser"), page


def test_each_figure_gets_its_cells_description(tmp_path: Path, caplog):
    soup, page = _page(tmp_path, [_cell("plot(1)", 1), _cell("plot(2)\nplot(3)", 2), _cell("x = 4", 0)])
    with caplog.at_level(logging.WARNING):
        reader._describe_figures(soup, page)
    assert [img["alt"] for img in soup.select("img")] == ["A red dot.", "First.", "Second."]
    assert caplog.records == []


def test_a_figure_without_description_or_a_wrong_count_is_a_warning(tmp_path: Path, caplog):
    soup, page = _page(tmp_path, [_cell("plot(1)", 2), _cell("plot(2)\nplot(3)", 2), _cell("x = 4", 1)])
    with caplog.at_level(logging.WARNING):
        reader._describe_figures(soup, page)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "code cell 1 draws 2 figure(s) and describes 1" in messages
    assert "code cell 3 draws 1 figure(s) and describes 0" in messages
    assert "a figure has no description" in messages


def test_cells_that_do_not_match_the_source_are_a_warning(tmp_path: Path, caplog):
    soup, page = _page(tmp_path, [_cell("plot(9)", 1), _cell("plot(2)\nplot(3)", 2), _cell("x = 4", 0)])
    with caplog.at_level(logging.WARNING):
        reader._describe_figures(soup, page)
    assert "code cell 1 on the page is not the source's code cell 1" in caplog.text


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"f(x_k) - f^\star \le L\|x_0 - x^\star\|^2 / (2k)", "f(x_k) - f^⋆ ≤ L‖x_0 - x^⋆‖^2 / (2k)"),
        (r"\tfrac12 (x - c)^\top Q (x - c) \tag{3}", "1/2 (x - c)^⊤ Q (x - c)"),
        (r"\frac{\partial \log p}{\partial x}", "∂ log p/∂ x"),
    ],
)
def test_tex_becomes_plain_text(tex: str, text: str):
    assert reader.tex_to_text(tex) == text


def test_search_text_has_no_tex_and_both_spellings():
    html = r"<p>Uniform dequantization of \(x \in \{0, \dots, 255\}\):</p>"
    html += "<p>In\xa0[\xa0]: In [3]: Copied! code</p>"  # nbconvert's prompts have no-break spaces
    text = reader.search_text(html)
    assert "\\(" not in text and "\\dots" not in text and "x ∈ {0, …, 255}" in text
    assert "In" not in text and "Copied!" not in text
    assert text.endswith("<span hidden>dequantisation</span>")
    assert reader.search_text("<p>dequantised pixels</p>").endswith("<span hidden>dequantized</span>")
    assert "hidden" not in reader.search_text("<p>nothing to add</p>")
