"""The execution hook (scripts/site/execute_notebooks.py): cached outputs never go stale, errors fail.

The build tests make a one-notebook site in a temporary folder with the book's hooks and a cache of its
own (DNNF_CACHE_DIR), so they check the real hook without executing the book's tutorials.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "execute_notebooks", ROOT / "scripts" / "site" / "execute_notebooks.py"
)
execute_notebooks = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = execute_notebooks  # dataclasses look their module up there
spec.loader.exec_module(execute_notebooks)

pytestmark = pytest.mark.skipif(
    not (ROOT / "node_modules" / "katex").is_dir(), reason="KaTeX not installed (run `npm ci`)"
)

HEADER = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Demo
#
# {prose}

# %%
{code}
"""


def _site(tmp_path: Path, code: str, prose: str = "Some prose.") -> Path:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["hooks"] = [str(ROOT / "scripts" / "site" / name) for name in ("hooks.py", "execute_notebooks.py")]
    config["theme"]["custom_dir"] = str(ROOT / "overrides")
    config["nav"] = ["index.md", "tutorials/demo.py"]
    config["plugins"] = ["search", {"mkdocs-jupyter": {
        "include": ["tutorials/*.py"], "execute": True, "allow_errors": False, "cache": False}}]  # fmt: skip
    docs = tmp_path / "docs"
    (docs / "tutorials").mkdir(parents=True, exist_ok=True)
    (docs / "assets").mkdir(exist_ok=True)
    (docs / "assets" / "dnnf.css").write_text("")
    (docs / "index.md").write_text("# Home\n")
    (docs / "tutorials" / "demo.py").write_text(HEADER.format(prose=prose, code=code))
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    return tmp_path


def _build(site: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DNNF_", "MPLBACKEND"))}
    env.update(NO_MKDOCS_2_WARNING="1", DNNF_CACHE_DIR=str(cache))
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=site,
                          capture_output=True, text=True, env=env)  # fmt: skip


def _note(site: Path) -> str:
    html = (site / "site" / "tutorials" / "demo" / "index.html").read_text()
    return html.split('dnnf-build-note">', 1)[1].split("<", 1)[0]


@pytest.mark.slow
def test_outputs_are_reused_after_a_prose_edit_and_redone_after_a_code_edit(tmp_path):
    cache = tmp_path / "cache"
    site = _site(tmp_path / "a", "print('answer', 6 * 7)")
    first = _build(site, cache)
    assert first.returncode == 0, first.stderr
    assert "answer 42" in (site / "site" / "tutorials" / "demo" / "index.html").read_text()
    assert "executed by this build" in _note(site)

    _site(tmp_path / "a", "print('answer', 6 * 7)", prose="Other prose.")
    second = _build(site, cache)
    assert second.returncode == 0, second.stderr
    assert "reused from an earlier build" in _note(site)
    html = (site / "site" / "tutorials" / "demo" / "index.html").read_text()
    assert "answer 42" in html and "Other prose." in html

    _site(tmp_path / "a", "print('answer', 6 * 8)")
    third = _build(site, cache)
    assert third.returncode == 0, third.stderr
    assert "answer 48" in (site / "site" / "tutorials" / "demo" / "index.html").read_text()
    assert "executed by this build" in _note(site)


@pytest.mark.slow
def test_a_failing_cell_fails_the_build_with_its_traceback(tmp_path):
    site = _site(tmp_path, "raise ValueError('boom from the notebook')")
    result = _build(site, tmp_path / "cache")
    assert result.returncode != 0
    assert "boom from the notebook" in result.stderr


def test_environment_key_follows_the_library_source(tmp_path, monkeypatch):
    """One byte more in any dnnf source file gives another cache folder: outputs are not reused."""
    package = tmp_path / "dnnf"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "x.py").write_text("a = 1\n")
    fake = importlib.util.spec_from_loader("dnnf", loader=None, is_package=True)
    fake.submodule_search_locations = [str(package)]
    monkeypatch.setattr(execute_notebooks.importlib.util, "find_spec", lambda name: fake)
    key = execute_notebooks.environment_key()
    assert key == execute_notebooks.environment_key()
    (package / "sub" / "x.py").write_text("a = 1 \n")
    changed = execute_notebooks.environment_key()
    assert changed != key
    monkeypatch.setenv("DNNF_DEVICE", "cuda")
    assert execute_notebooks.environment_key() != changed


def test_environment_key_follows_the_dependency_versions(monkeypatch):
    key = execute_notebooks.environment_key()

    class Dist:
        metadata = {"Name": "numpy"}
        version = "0.0.1"

    monkeypatch.setattr(execute_notebooks.importlib.metadata, "distributions", lambda: [Dist()])
    assert execute_notebooks.environment_key() != key


def test_jobs_wait_for_their_dependencies_and_run_in_parallel(tmp_path):
    def job(name, deps=(), seconds=1.0):
        stamp = tmp_path / name
        code = (
            f"import time, pathlib; s = time.time(); time.sleep(0.5); "
            f"pathlib.Path({str(stamp)!r}).write_text(f'{{s}} {{time.time()}}')"
        )
        return execute_notebooks.Job(name, [sys.executable, "-c", code], seconds, set(deps))

    jobs = {j.name: j for j in (job("train", seconds=10), job("free"), job("uses-model", deps=["train"]))}
    start = time.perf_counter()
    execute_notebooks.run_jobs(jobs, 2, dict(os.environ))
    span = {n: tuple(map(float, (tmp_path / n).read_text().split())) for n in jobs}
    assert span["uses-model"][0] >= span["train"][1]
    assert span["free"][0] < span["train"][1], "independent jobs run beside the training"
    assert time.perf_counter() - start < 3.0 + 1.5


def test_a_failing_job_raises_with_its_output(tmp_path):
    bad = execute_notebooks.Job("bad", [sys.executable, "-c", "raise SystemExit('nope')"], 1.0,
                                log_path=tmp_path / "bad.log")  # fmt: skip
    with pytest.raises(RuntimeError, match="nope"):
        execute_notebooks.run_jobs({"bad": bad}, 2, dict(os.environ))
