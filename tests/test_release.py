"""Cutting a release (CONTRIBUTING.md, "Cutting a release"): ``python scripts/release.py X.Y``, checked
offline against a local bare repository standing in for GitHub."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "scripts" / "release.py"
sys.path.insert(0, str(ROOT / "scripts"))
import release as rel  # noqa: E402

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
CHANGELOG = """# Changelog

Intro.

## [Unreleased]

### Added

- A chapter on something.

## [0.1.0] - 2026-01-01

### Added

- The first edition.

[Unreleased]: https://github.com/o/r/compare/v0.1...HEAD
[0.1.0]: https://github.com/o/r/releases/tag/v0.1
"""
PYPROJECT = (
    '[build-system]\nrequires = []\n\n[project]\nname = "dnnf"\nversion = "0.1.0"\n\n'
    '[tool.x]\nversion = "9"\n'
)


def _run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, timeout=60
    )
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _git(repo: Path, *args: str) -> str:
    return _run(["git", *args], repo).stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of a bare "GitHub" repository whose main holds a pyproject.toml and a changelog."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    _run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path)
    _run(["git", "clone", "-q", str(origin), str(work)], tmp_path)
    _git(work, "checkout", "-q", "-b", "main")
    (work / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (work / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "init")
    _git(work, "push", "-q", "origin", "main")
    return work


def _release(work: Path, *args: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, str(RELEASE), *args], work, check=False)


def test_release_bumps_moves_the_changelog_commits_tags_and_pushes(clone: Path):
    proc = _release(clone, "0.2")
    assert proc.returncode == 0, proc.stderr
    origin = clone.parent / "origin.git"
    assert _git(origin, "tag", "--list") == "v0.2"
    assert _git(origin, "rev-parse", "v0.2^{commit}") == _git(origin, "rev-parse", "main")
    assert 'version = "0.2.0"' in _git(origin, "show", "v0.2:pyproject.toml")
    assert 'version = "9"' in _git(origin, "show", "v0.2:pyproject.toml")  # other tables untouched
    changelog = _git(origin, "show", "v0.2:CHANGELOG.md")
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    unreleased, rest = changelog.split(f"## [0.2.0] - {today}")
    assert unreleased.rstrip().endswith("## [Unreleased]"), "the new Unreleased section must be empty"
    assert rest.index("A chapter on something") < rest.index("## [0.1.0]")
    assert "[Unreleased]: https://github.com/o/r/compare/v0.2...HEAD" in changelog
    assert "[0.2.0]: https://github.com/o/r/compare/v0.1...v0.2" in changelog
    assert "Edition 0.2" in _git(origin, "tag", "-l", "--format=%(contents)", "v0.2")
    # a second release with nothing new in the changelog is refused
    again = _release(clone, "0.3")
    assert again.returncode == 1 and "lists no change" in again.stderr


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ["0.2.1"], "must look like X.Y"),
        (None, ["v0.2"], "must look like X.Y"),
        (None, ["0.0"], "older than the current version"),
        ("dirty", ["0.2"], "uncommitted changes"),
        ("branch", ["0.2"], "releases are cut from main"),
        ("tagged", ["0.2"], "already exists"),
        ("behind", ["0.2"], "differs from origin/main"),
    ],
)
def test_a_refused_release_changes_nothing(clone: Path, setup: str | None, args: list[str], message: str):
    if setup == "dirty":
        (clone / "notes.txt").write_text("x", encoding="utf-8")
    elif setup == "branch":
        _git(clone, "checkout", "-q", "-b", "topic")
    elif setup == "tagged":
        _git(clone, "tag", "v0.2")
    elif setup == "behind":  # someone else pushed to main meanwhile
        other = clone.parent / "other"
        _run(["git", "clone", "-q", str(clone.parent / "origin.git"), str(other)], clone.parent)
        (other / "x.txt").write_text("x", encoding="utf-8")
        _git(other, "add", "-A")
        _git(other, "commit", "-q", "-m", "x")
        _git(other, "push", "-q", "origin", "main")
    head = _git(clone, "rev-parse", "HEAD")
    proc = _release(clone, *args)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr
    assert _git(clone, "rev-parse", "HEAD") == head
    assert (clone / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
    assert _git(clone.parent / "origin.git", "tag", "--list") == ""


def test_no_push_commits_and_tags_locally_only(clone: Path):
    proc = _release(clone, "1.0", "--no-push")
    assert proc.returncode == 0 and "git push --atomic origin main v1.0" in proc.stdout
    assert _git(clone, "tag", "--list") == "v1.0"
    assert _git(clone.parent / "origin.git", "tag", "--list") == ""


def test_the_first_release_links_its_tag():
    text = CHANGELOG.split("## [0.1.0]")[0] + "[Unreleased]: https://github.com/o/r/commits/main\n"
    out = rel.release_changelog(text, "0.1.0", "v0.1", "2026-12-02")
    assert "## [Unreleased]\n\n## [0.1.0] - 2026-12-02" in out
    assert "[0.1.0]: https://github.com/o/r/releases/tag/v0.1" in out


def test_the_real_changelog_and_pyproject_can_be_released():
    """The files a release edits have what it needs: a [project] version, an Unreleased section, its link."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = rel.current_version(pyproject)
    assert rel.current_version(rel.bump_pyproject(pyproject, "9.9.0")) == "9.9.0" != version
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert rel.UNRELEASED in changelog and rel.UNRELEASED_LINK.search(changelog), (
        "CHANGELOG.md lost its structure"
    )
