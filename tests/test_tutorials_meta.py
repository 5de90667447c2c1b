"""Every tutorial is a jupytext notebook that states its seed and its CPU run time, and is in the nav."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.py"))


def _nav_entries(nav) -> list[str]:
    out: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        out.extend(_nav_entries(value) if isinstance(value, list) else [value])
    return out


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 6


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_states_seed_and_cpu_run_time(path: Path):
    notebook = jupytext.read(path)
    first = next(c for c in notebook.cells if c.cell_type == "markdown")
    text = " ".join(first.source.split())
    assert first.source.lstrip().startswith("# "), "the first Markdown cell opens with the title"
    assert re.search(r"CPU run time: about \d+(\.\d+)? (s|min)", text), "state the measured CPU run time"
    assert re.search(r"[Ss]eed", text), "state the seed"
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def test_every_tutorial_is_in_the_nav():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    nav = set(_nav_entries(config["nav"]))
    missing = [p.name for p in TUTORIALS if f"tutorials/{p.name}" not in nav]
    assert not missing, f"tutorials missing from mkdocs.yml nav: {missing}"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_every_cell_that_shows_a_figure_describes_it(path: Path):
    """The alt text of a figure is the ``alt`` metadata of the cell that draws it (scripts/site/reader.py
    writes it into the page; the strict build also checks that the counts match)."""
    cells = [c for c in jupytext.read(path).cells if c.cell_type == "code" and "plt.show()" in c.source]
    undescribed = [c.source.splitlines()[0] for c in cells if not c.metadata.get("alt")]
    assert not undescribed, f"code cells that draw without # %% alt=...: {undescribed}"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_in_two_minutes_on_one_thread(path: Path):
    """A student runs any tutorial on a laptop CPU in at most 2 minutes (the stated, measured run time)."""
    first = next(c for c in jupytext.read(path).cells if c.cell_type == "markdown")
    text = " ".join(first.source.split())
    value, unit = re.search(r"CPU run time: about (\d+(?:\.\d+)?) (s|min)", text).groups()
    assert float(value) * (60 if unit == "min" else 1) <= 120
