"""The downloadable notebooks (scripts/site/export_notebooks.py): install cell first, links to the book.

The slow test runs one downloaded notebook as a reader would: a fresh virtual environment with nothing
but a Jupyter kernel, whose install cell must fetch the library, and which must run to the end. A local
folder of wheels stands in for the package registries (pip runs with ``--no-index``), so it is offline.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "export_notebooks", ROOT / "scripts" / "site" / "export_notebooks.py"
)
export_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export_notebooks)

MKDOCS = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
SITE, REPO = MKDOCS["site_url"], MKDOCS["repo_url"]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.py"))


def _notebook(src: Path) -> nbformat.NotebookNode:
    return export_notebooks.downloadable_notebook(src, site_url=SITE, repo_url=REPO, commit=COMMIT)


@pytest.mark.parametrize("src", TUTORIALS, ids=lambda p: p.stem)
def test_first_code_cell_installs_the_pinned_library(src: Path):
    nb = _notebook(src)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert f'"dnnf-book @ git+{REPO.rstrip("/")}@{COMMIT}"' in first.source
    assert 'find_spec("dnnf") is None' in first.source
    # the sources stay untouched: the cell exists only in the generated copy
    assert "DNNF_INSTALL_SPEC" not in src.read_text()


@pytest.mark.parametrize("src", TUTORIALS, ids=lambda p: p.stem)
def test_links_point_at_the_published_book(src: Path):
    nb = _notebook(src)
    targets = [
        t for c in nb.cells if c.cell_type == "markdown" for t in re.findall(r"\]\(([^)\s]+)", c.source)
    ]
    for target in targets:
        assert target.startswith(("https://", "http://", "#")), f"relative link left: {target}"
    originals = re.findall(r"\]\((\.\./[^)\s]+|\w+\.py)\)", src.read_text())
    assert len([t for t in targets if t.startswith(SITE)]) >= len(originals)


def test_site_link_mapping():
    link = export_notebooks.site_link
    assert link("../flows/index.md", "tutorials", SITE) == f"{SITE}flows/"
    assert link("../flows/training.md#bits", "tutorials", SITE) == f"{SITE}flows/training/#bits"
    assert link("inpainting.py", "tutorials", SITE) == f"{SITE}tutorials/inpainting/"
    assert link("../index.md", "tutorials", SITE) == SITE
    assert link("https://example.org/a.md", "tutorials", SITE) == "https://example.org/a.md"
    assert link("#top", "tutorials", SITE) == "#top"


def test_install_cell_does_nothing_where_dnnf_is_importable(monkeypatch):
    """In a checkout with dnnf installed, the cell must not call pip."""
    source = next(c for c in _notebook(TUTORIALS[0]).cells if c.cell_type == "code").source

    def no_pip(*args, **kwargs):
        raise AssertionError(f"pip was called: {args}")

    monkeypatch.setattr(subprocess, "run", no_pip)
    exec(compile(source, "install-cell", "exec"), {})


def test_export_writes_every_tutorial(tmp_path):
    written = export_notebooks.export(ROOT / "docs", tmp_path, site_url=SITE, repo_url=REPO, commit=COMMIT)
    assert sorted(p.stem for p in written) == [p.stem for p in TUTORIALS]
    for path in written:
        nbformat.validate(nbformat.read(path, as_version=4))
        assert (
            path.with_suffix(".py").read_text()
            == (ROOT / "docs" / "tutorials" / path.with_suffix(".py").name).read_text()
        )


# ------------------------------------------------------------------------------------ the reader's run
def _pip(python: Path, *args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _wheelhouse() -> Path:
    """The library built as a wheel, and every wheel it and a kernel need, in one folder (kept in .cache/).

    This is the only step that may use the registries; everything after it runs with pip's --no-index.
    """
    import torch

    house = ROOT / ".cache" / "test-wheelhouse"
    house.mkdir(parents=True, exist_ok=True)
    for old in house.glob("dnnf_book-*.whl"):
        old.unlink()
    _pip(Path(sys.executable), "wheel", "--quiet", "--no-deps", "--wheel-dir", str(house), str(ROOT))
    wheel = next(house.glob("dnnf_book-*.whl"))
    # torch pinned to the build in use: the CPU wheel from a local find-links folder, never a CUDA build.
    _pip(Path(sys.executable), "download", "--quiet", "--dest", str(house), "--find-links", str(house),
         str(wheel), "ipykernel", f"torch=={torch.__version__}")  # fmt: skip
    return house


@pytest.mark.slow
def test_downloaded_notebook_runs_in_a_fresh_environment(tmp_path):
    """The quickest tutorial, downloaded, installs dnnf in a bare environment and runs to the end."""
    from nbclient import NotebookClient

    house = _wheelhouse()
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    offline = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(house),
               "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # fmt: skip
    _pip(python, "install", "--quiet", "ipykernel", env=offline)
    probe = [
        str(python),
        "-c",
        "import importlib.util as u; print(u.find_spec('dnnf'), u.find_spec('torch'))",
    ]
    # cwd: outside the checkout, or `import dnnf` would find the repository's folder
    assert subprocess.run(probe, capture_output=True, text=True, cwd=tmp_path).stdout.strip() == "None None"

    kernels = tmp_path / "jupyter" / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernels / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "fresh", "language": "python"})
    )
    written = export_notebooks.export(
        ROOT / "docs", tmp_path / "site", site_url=SITE, repo_url=REPO, commit=COMMIT
    )
    nb = nbformat.read(next(p for p in written if p.stem == "projection"), as_version=4)

    kernel_env = {
        **offline,
        "DNNF_INSTALL_SPEC": "dnnf-book",
        "OMP_NUM_THREADS": "1",
        "JUPYTER_PATH": str(tmp_path / "jupyter"),
    }
    kernel_env.pop("MPLBACKEND", None)
    kernel_env.pop("PYTHONPATH", None)
    old = dict(os.environ)
    os.environ["JUPYTER_PATH"] = kernel_env["JUPYTER_PATH"]
    try:
        client = NotebookClient(nb, kernel_name="fresh", timeout=900, allow_errors=False,
                                resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
        client.execute(env=kernel_env)
    finally:
        os.environ.clear()
        os.environ.update(old)
    probe = [str(python), "-c", "import dnnf, torch; print(dnnf.__file__, torch.__version__)"]
    installed = subprocess.run(probe, capture_output=True, text=True, cwd=tmp_path)
    assert str(env_dir) in installed.stdout, installed.stdout + installed.stderr
    assert any(o.get("output_type") == "display_data" for c in nb.cells for o in c.get("outputs", []))
