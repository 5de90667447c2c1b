"""The site hooks (scripts/site/hooks.py): server-side math, and a strict build that fails on bad math.

These build a two-page site in a temporary folder with the project's own hooks and Markdown settings,
so the checks can fail without touching the real book.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "site"))
import hooks  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (ROOT / "node_modules" / "katex").is_dir(), reason="KaTeX not installed (run `npm ci`)"
)

NOTEBOOK_HEADER = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""


def _build(tmp_path: Path, page: str, notebook_md: str = "Plain text.") -> subprocess.CompletedProcess[str]:
    """Build a site with one Markdown page and one (unexecuted) notebook using the book's config."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["hooks"] = [str(ROOT / "scripts" / "site" / name) for name in ("hooks.py", "export_notebooks.py")]
    config["theme"]["custom_dir"] = str(ROOT / "overrides")
    config["nav"] = ["index.md", "tutorials/demo.py"]
    config["plugins"] = [
        "search",
        {"mkdocs-jupyter": {"include": ["tutorials/*.py"], "execute": False, "cache": False}},
    ]
    (tmp_path / "docs" / "tutorials").mkdir(parents=True)
    (tmp_path / "docs" / "assets").mkdir()
    (tmp_path / "docs" / "assets" / "dnnf.css").write_text("")
    (tmp_path / "docs" / "index.md").write_text(page)
    cell = "\n".join(f"# {line}" if line else "#" for line in notebook_md.splitlines())
    (tmp_path / "docs" / "tutorials" / "demo.py").write_text(
        NOTEBOOK_HEADER + "\n# %% [markdown]\n# # Demo\n#\n" + cell + "\n\n# %%\nx = 1\n"
    )
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path)},
    )


def test_good_math_renders_to_katex_html(tmp_path):
    """Inline and display math on a page and in a notebook cell become KaTeX HTML; no raw TeX is left."""
    result = _build(
        tmp_path,
        "# Home\n\nInline $\\nabla_\\phi f$ and\n\n$$\n\\int_0^1 x\\,dx = \\tfrac12\n$$\n",
        "Bet $100 to win $200; math $a_1 + \\frac{x}{y}$ and\n\n"
        "$$\n\\begin{aligned} a &= b \\\\ c &< d\\end{aligned}\n$$",
    )
    assert result.returncode == 0, result.stderr
    index = (tmp_path / "site" / "index.html").read_text()
    assert index.count('class="katex"') == 2 and "arithmatex" not in index
    notebook = (tmp_path / "site" / "tutorials" / "demo" / "index.html").read_text()
    assert notebook.count('class="katex"') == 2
    assert "Bet $100 to win $200" in notebook
    scripts = re.findall(r"<script.*?</script>", notebook, flags=re.S)
    assert "cdnjs" not in notebook and not any("mathjax" in s.lower() for s in scripts)
    assert (tmp_path / "site" / "tutorials" / "demo.ipynb").is_file()
    assert (tmp_path / "site" / "assets" / "katex" / "fonts").is_dir()


@pytest.mark.parametrize(
    "page",
    [
        "# Home\n\nBroken $\\frac{a$ formula.\n",  # a TeX error
        "# Home\n\nRaw \\nabla outside math.\n",  # raw TeX left on the page
    ],
)
def test_bad_math_fails_the_strict_build(tmp_path, page):
    result = _build(tmp_path, page)
    assert result.returncode != 0
    assert "KaTeX cannot render" in result.stderr or "raw TeX" in result.stderr


def test_bad_math_in_a_notebook_cell_fails_the_strict_build(tmp_path):
    result = _build(tmp_path, "# Home\n", "Broken $\\frac{a$ here.")
    assert result.returncode != 0 and "KaTeX cannot render" in result.stderr


@pytest.mark.parametrize(
    ("text", "formulas"),
    [
        ("costs $100 and $200", []),
        ("$x$ and $y^2$", ["x", "y^2"]),
        ("$$\na &= b\n$$", ["a &= b"]),
        ("escaped \\$5 then $z$", ["z"]),
    ],
)
def test_notebook_math_follows_pandoc_dollar_rules(text, formulas):
    found = [(m.group(1) or m.group(2)).strip() for m in hooks.NOTEBOOK_MATH.finditer(text)]
    assert found == formulas
