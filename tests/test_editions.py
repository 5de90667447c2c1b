"""Editions (issue 15): mike publishes every release to its own folder of a ``gh-pages`` branch, next to a
``latest`` alias and a ``dev`` edition, and a newer edition never touches an older one.

The throw-away repository holds a two-page book configured from the real ``mkdocs.yml`` (theme, overrides,
``extra``, the edition hook, the mike plugin) so that each of its three builds (dev, 0.1, 0.2) takes
seconds; ``scripts/deploy_edition.sh`` runs exactly as in CI, minus the PDF (``DNNF_PDF=false``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "scripts" / "deploy_edition.sh"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "DNNF_PDF": "false", "NO_MKDOCS_2_WARNING": "1"}
    # mike runs `mkdocs build` as a subprocess: this interpreter's environment first on PATH
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("MIKE_DOCS_VERSION", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _git(repo: Path, *args: str) -> str:
    return _run(["git", *args], repo).stdout.strip()


def _tiny_book(repo: Path, version: str) -> None:
    """A two-page book with the real site's theme, overrides, extra and edition hook."""
    real = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config = {key: real[key] for key in ("site_name", "site_url", "repo_url", "theme", "extra")}
    config |= {"hooks": ["scripts/site/edition.py"], "plugins": ["search", "mike"], "strict": True}
    (repo / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (repo / "pyproject.toml").write_text(
        f'[project]\nname = "dnnf"\nversion = "{version}"\n', encoding="utf-8"
    )
    shutil.copytree(ROOT / "overrides", repo / "overrides", dirs_exist_ok=True)
    (repo / "scripts" / "site").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "scripts" / "site" / "edition.py", repo / "scripts" / "site" / "edition.py")
    shutil.copy2(DEPLOY, repo / "scripts" / "deploy_edition.sh")
    (repo / "docs").mkdir(exist_ok=True)
    (repo / "docs" / "chapter.md").write_text("# A chapter\n\nThe same in every edition.\n", encoding="utf-8")


def _release(repo: Path, version: str, text: str) -> str:
    _tiny_book(repo, f"{version}.0")
    (repo / "docs" / "index.md").write_text(f"# Home\n\n{text}\n", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"Release {version}")
    _git(repo, "tag", "-a", f"v{version}", "-m", f"Edition {version}")
    return _git(repo, "rev-parse", "HEAD")


def _tree(repo: Path, path: str) -> dict[str, str]:
    """``{file: blob hash}`` of ``path`` on the gh-pages branch (mode and hash: any change shows)."""
    out = _git(repo, "ls-tree", "-r", "--full-tree", "gh-pages", "--", path)
    return {line.split("\t")[1]: line.split("\t")[0] for line in out.splitlines()}


def _show(repo: Path, path: str) -> str:
    return _git(repo, "show", f"gh-pages:{path}")


def _edition_line(html: str) -> dict[str, str]:
    match = re.search(r'<div class="dnnf-edition"([^>]*)>(.*?)</div>', html, re.S)
    assert match, "the page does not say which edition it is"
    attrs = dict(re.findall(r'data-([\w-]+)="([^"]*)"', match.group(1)))
    return attrs | {"text": " ".join(match.group(2).split())}


@pytest.mark.slow
def test_two_editions_and_dev_on_a_gh_pages_branch(tmp_path: Path):
    repo = tmp_path / "book"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    deploy = ["bash", "scripts/deploy_edition.sh"]

    # dev first: before any release, the site root shows the dev edition
    _release(repo, "0.1", "First edition.")
    _run([*deploy, "main"], repo)
    assert json.loads(_show(repo, "versions.json"))[0]["version"] == "dev"
    assert "dev/" in _show(repo, "index.html")

    sha1 = _git(repo, "rev-parse", "v0.1^{commit}")
    _run([*deploy, "v0.1"], repo)
    first = _tree(repo, "0.1")
    assert "0.1/index.html" in first and "0.1/chapter/index.html" in first
    refused = _run([*deploy, "v0.1"], repo, check=False)
    assert refused.returncode != 0 and "frozen" in refused.stderr

    sha2 = _release(repo, "0.2", "Second edition, with a new section.")
    stale = _run([*deploy, "v0.1"], repo, check=False)  # a tag is built from its own commit only
    assert stale.returncode != 0 and "not the commit of tag v0.1" in stale.stderr
    _run([*deploy, "v0.2"], repo)

    # both editions at their own paths; the older one byte for byte as it was
    assert _tree(repo, "0.1") == first
    assert "0.2/index.html" in _tree(repo, "0.2")
    assert "Second edition" in _show(repo, "0.2/index.html")
    assert "Second edition" not in _show(repo, "0.1/index.html")

    # `latest` follows the newest release (a symbolic link to its folder), and the root redirects to it
    latest = _git(repo, "ls-tree", "--full-tree", "gh-pages", "latest")
    assert latest.startswith("120000 ") and _show(repo, "latest") == "0.2", latest
    assert "latest/" in _show(repo, "index.html")

    # the version selector: versions.json lists every edition, and the pages ask Material for it
    versions = {v["version"]: v for v in json.loads(_show(repo, "versions.json"))}
    assert set(versions) == {"dev", "0.2", "0.1"}
    assert versions["0.2"]["aliases"] == ["latest"] and versions["0.1"]["aliases"] == []
    config = re.search(
        r'<script id="__config" type="application/json">(.*?)</script>', _show(repo, "0.1/index.html")
    )
    assert config and json.loads(config.group(1))["version"]["provider"] == "mike"

    # each page names its edition, the library version and the commit its numbers came from
    for edition, sha in (("0.1", sha1), ("0.2", sha2)):
        for page in ("index.html", "chapter/index.html"):
            line = _edition_line(_show(repo, f"{edition}/{page}"))
            assert line["edition"] == edition and line["commit"] == sha, line
            assert line["library-version"] == f"{edition}.0" and f"Edition {edition}" in line["text"], line
    assert _edition_line(_show(repo, "dev/index.html"))["edition"] == "dev"


def test_deploy_edition_refuses_a_ref_that_is_neither_a_release_nor_main(tmp_path: Path):
    repo = tmp_path / "book"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _release(repo, "0.1", "x")
    for ref in ("v0.1.1", "feature", "0.1"):
        proc = _run(["bash", "scripts/deploy_edition.sh", ref], repo, check=False)
        assert proc.returncode != 0 and "expected vX.Y" in proc.stderr, (ref, proc.stderr)


def _edition_hook():
    spec = importlib.util.spec_from_file_location("edition_hook", ROOT / "scripts" / "site" / "edition.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_colab_links_of_an_edition_open_its_own_notebooks():
    hook = _edition_hook()
    link = '<a href="https://colab.research.google.com/github/o/r/blob/notebooks/tutorials/x.ipynb">'
    config = {"extra": {"edition": {"name": "0.2"}}}
    assert "/blob/gh-pages/0.2/tutorials/x.ipynb" in hook.on_post_page(link, None, config)
    config["extra"]["edition"]["name"] = ""  # a plain build keeps the notebooks branch (it follows main)
    assert hook.on_post_page(link, None, config) == link


def test_a_plain_build_has_no_version_selector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Without mike there is no versions.json beside the site: the selector would request a missing file."""
    hook = _edition_hook()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.2.0"\n', encoding="utf-8")

    class Config(dict):
        config_file_path = str(tmp_path / "mkdocs.yml")

    monkeypatch.delenv("MIKE_DOCS_VERSION", raising=False)
    plain = hook.on_config(Config(extra={"version": {"provider": "mike"}}))["extra"]
    assert "version" not in plain and plain["edition"]["library_version"] == "1.2.0"
    assert plain["edition"]["label"] == "Unreleased build"
    monkeypatch.setenv("MIKE_DOCS_VERSION", "1.2")
    edition = hook.on_config(Config(extra={"version": {"provider": "mike"}}))["extra"]
    assert edition["version"] == {"provider": "mike"} and edition["edition"]["name"] == "1.2"


def test_print_page_links_land_inside_the_pdf_or_on_the_edition_online():
    """The print page (the PDF's source): code-line anchors get their page's prefix, notebook links point at
    the notebook's section, other relative links at this edition online, and dead anchors lose their href."""
    from bs4 import BeautifulSoup

    hook = _edition_hook()
    html = (
        '<section class="print-page" id="tutorials-a"><div class="jupyter-wrapper">'
        '<a href="../tutorials/a/b.py">b</a><a href="#tutorials-a-__codelineno-0-1">1</a>'
        '<pre><a id="__codelineno-0-1"></a></pre><a href="#gone">x</a></div>'
        '<a href="../dnnf.pdf">pdf</a></section><section class="print-page" id="tutorials-b"></section>'
    )
    soup = BeautifulSoup(html, "html.parser")
    hook._fix_print_links(soup, {"site_url": "https://h/dnnf/0.2"})
    assert hook._fix_print_anchors(soup) == 1
    hrefs = [a.get("href") for a in soup.select("a")]
    assert hrefs == ["#tutorials-b", "#tutorials-a-__codelineno-0-1", None, None, "https://h/dnnf/0.2/dnnf.pdf"]
