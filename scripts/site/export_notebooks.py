r"""The downloadable tutorials: ``tutorials/<name>.ipynb`` (and the jupytext ``.py``) for readers and Colab.

A notebook that leaves the site must run on its own, so each generated ``.ipynb``

* opens with a code cell that installs the library when ``import dnnf`` fails (Colab, a fresh
  environment), pinned to the commit that built it so that the notebook and its library agree, and does
  nothing where ``dnnf`` is importable (a local checkout after ``pip install -e .``);
* links to the published book instead of the repository's files (``../flows/index.md`` becomes
  ``<site_url>flows/``), since relative links are dead once the notebook is downloaded.

The jupytext sources under ``docs/tutorials/`` are not changed: the cell and the links exist only in the
generated copies. Used two ways:

* as an MkDocs hook (``on_post_build``): writes the notebooks into the built site;
* from the command line, by CI's ``notebooks`` job, which publishes the same files on the branch that
  Colab opens: ``python scripts/site/export_notebooks.py --out DIR [--commit SHA]``.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
import shutil
import subprocess
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS_DIR = "tutorials"
DISTRIBUTION = "dnnf-book"

# The first code cell of every downloadable notebook. DNNF_INSTALL_SPEC overrides the pip target (the
# offline test points it at a local wheel); torch is installed from PyTorch's CPU index first, because
# a plain `pip install torch` on Linux pulls a multi-GB CUDA build (Colab already has torch).
INSTALL_CELL = """\
# Installs the dnnf library (distribution "{dist}") when it is missing, e.g. on Colab or in a fresh
# environment, pinned to the commit that built this notebook; does nothing where `import dnnf` works.
import importlib
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("dnnf") is None:
    if importlib.util.find_spec("torch") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "torch",
                        "--index-url", "https://download.pytorch.org/whl/cpu"], check=True)
    spec = os.environ.get("DNNF_INSTALL_SPEC", "{dist} @ git+{repo}@{commit}")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], check=True)
    importlib.invalidate_caches()
"""

# A Markdown link or image target: ](target) or ](target "title").
_LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")


def build_commit() -> str:
    """The commit the site is built from: ``GITHUB_SHA`` on CI, else ``git rev-parse HEAD``."""
    sha = os.environ.get("GITHUB_SHA", "").strip()
    if not sha:
        try:
            sha = subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            sha = ""
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise RuntimeError(f"cannot tell which commit builds the notebooks (got {sha!r}): set GITHUB_SHA")
    return sha


def site_link(target: str, page_dir: str, site_url: str) -> str:
    """Map a relative link written in a tutorial to the published page it means; others are kept.

    ``page_dir`` is the tutorial's folder relative to docs/ (``tutorials``). With MkDocs' directory URLs,
    ``x/index.md`` is served at ``x/``, ``x.md`` at ``x/`` and a tutorial ``t.py`` at ``tutorials/t/``.
    """
    if "://" in target or target.startswith(("#", "/", "mailto:")):
        return target
    path, hash_, fragment = target.partition("#")
    if not path.endswith((".md", ".py", ".ipynb")):
        return target
    src = posixpath.normpath(posixpath.join(page_dir, path))
    stem = posixpath.splitext(src)[0]
    url = stem[: -len("index")] if posixpath.basename(stem) == "index" else stem + "/"
    return site_url.rstrip("/") + "/" + url.lstrip("/") + hash_ + fragment


def downloadable_notebook(src: Path, *, site_url: str, repo_url: str, commit: str) -> nbformat.NotebookNode:
    """The tutorial ``src`` (jupytext) as a self-contained notebook: install cell first, site links."""
    notebook = jupytext.read(src)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = _LINK.sub(
                lambda m: m.group(1) + site_link(m.group(2), TUTORIALS_DIR, site_url) + m.group(3),
                cell.source,
            )
    install = nbformat.v4.new_code_cell(
        INSTALL_CELL.format(dist=DISTRIBUTION, repo=repo_url.rstrip("/"), commit=commit)
    )
    install.metadata["tags"] = ["dnnf-install"]
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells))
    notebook.cells.insert(first_code, install)
    return notebook


def export(docs_dir: Path, out_dir: Path, *, site_url: str, repo_url: str, commit: str) -> list[Path]:
    """Write ``<name>.ipynb`` and ``<name>.py`` of every tutorial into ``out_dir``; return the notebooks."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted((docs_dir / TUTORIALS_DIR).glob("*.py")):
        notebook = downloadable_notebook(src, site_url=site_url, repo_url=repo_url, commit=commit)
        dest = out_dir / f"{src.stem}.ipynb"
        jupytext.write(notebook, dest, fmt="ipynb")
        shutil.copy2(src, dest.with_suffix(".py"))
        written.append(dest)
    return written


def _require(config, key: str) -> str:
    value = config.get(key) or ""
    if not value.startswith("https://"):
        raise RuntimeError(f"mkdocs.yml must set {key} to an https:// URL (downloaded notebooks link there)")
    return value


def on_post_build(config, **kwargs):
    export(
        Path(config["docs_dir"]),
        Path(config["site_dir"]) / TUTORIALS_DIR,
        site_url=_require(config, "site_url"),
        repo_url=_require(config, "repo_url"),
        commit=build_commit(),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the downloadable tutorial notebooks.")
    parser.add_argument("--out", required=True, type=Path, help="folder for <name>.ipynb and <name>.py")
    parser.add_argument("--commit", help="commit to pin the install cell to (default: GITHUB_SHA or HEAD)")
    args = parser.parse_args(argv)
    # BaseLoader: mkdocs.yml may hold tags (!ENV, !relative) that only MkDocs resolves; we need two strings.
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    for path in export(
        ROOT / "docs",
        args.out,
        site_url=_require(config, "site_url"),
        repo_url=_require(config, "repo_url"),
        commit=args.commit or build_commit(),
    ):
        print(path)


if __name__ == "__main__":
    main()
