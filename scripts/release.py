"""Cut a release: ``python scripts/release.py X.Y`` publishes the edition ``X.Y`` of the book.

From a clean ``main`` that matches ``origin/main``, it

1. sets ``version = "X.Y.0"`` in pyproject.toml (the library version every page of the edition names);
2. turns the changelog's *Unreleased* section into ``## [X.Y.0] - <today>`` under a new, empty
   *Unreleased*, and updates the links at the bottom;
3. commits "Release X.Y", tags it ``vX.Y`` (annotated), and pushes the commit and the tag in one atomic push.

The tag push starts the CI workflow, whose ``edition`` job builds the book from the tag with mike into the
``gh-pages`` branch as ``X.Y`` and moves the ``latest`` alias to it (.github/workflows/ci.yml).
``--no-push`` stops before the push (to inspect the commit; push later with the command it prints).
Every check runs before anything is written, so a refused release leaves the checkout as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

EDITION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)")
PROJECT_VERSION = re.compile(r'^(version\s*=\s*")([^"]+)(")', re.M)
UNRELEASED = "## [Unreleased]"
UNRELEASED_LINK = re.compile(r"^\[Unreleased\]:\s*(https://github\.com/[^/\s]+/[^/\s]+)/\S*$", re.M)


class ReleaseError(RuntimeError):
    """A release refused before anything was changed; the message says why and what to do."""


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def bump_pyproject(text: str, version: str) -> str:
    """Return pyproject.toml with the ``[project]`` table's version set to ``version``."""
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if project is None or not PROJECT_VERSION.search(project.group(1)):
        raise ReleaseError('pyproject.toml has no `version = "..."` in its [project] table')
    body = PROJECT_VERSION.sub(rf"\g<1>{version}\g<3>", project.group(1), count=1)
    return text[: project.start(1)] + body + text[project.end(1) :]


def current_version(pyproject: str) -> str:
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", pyproject, re.M | re.S)
    match = PROJECT_VERSION.search(project.group(1)) if project else None
    if match is None:
        raise ReleaseError('pyproject.toml has no `version = "..."` in its [project] table')
    return match.group(2)


def release_changelog(text: str, version: str, tag: str, date: str) -> str:
    """Move the *Unreleased* entries under ``## [version] - date`` and point the links at the tags."""
    start = text.find(UNRELEASED)
    if start < 0:
        raise ReleaseError(f"CHANGELOG.md has no '{UNRELEASED}' section")
    body_start = start + len(UNRELEASED)
    following = re.search(r"^## \[|^\[[^\]]+\]:", text[body_start:], re.M)
    body_end = body_start + (following.start() if following else len(text) - body_start)
    entries = [line for line in text[body_start:body_end].splitlines() if line.strip().startswith(("-", "*"))]
    if not entries:
        raise ReleaseError(
            "the changelog's Unreleased section lists no change: write what this release brings"
        )
    link = UNRELEASED_LINK.search(text)
    if link is None:
        raise ReleaseError("CHANGELOG.md has no '[Unreleased]: https://github.com/OWNER/REPO/...' link")
    repo = link.group(1)
    previous = re.search(r"^## \[(\d+\.\d+\.\d+)\]", text[body_end:], re.M)
    released = text[:body_start] + f"\n\n## [{version}] - {date}" + text[body_start:]
    links = f"[Unreleased]: {repo}/compare/{tag}...HEAD\n"
    links += (
        f"[{version}]: {repo}/compare/v{previous.group(1).rsplit('.', 1)[0]}...{tag}\n"
        if previous
        else f"[{version}]: {repo}/releases/tag/{tag}\n"
    )
    return UNRELEASED_LINK.sub(links.rstrip("\n"), released, count=1)


def release(root: Path, edition: str, *, push: bool = True, remote: str = "origin", date: str | None = None):
    """Check, edit, commit, tag and (unless ``push=False``) push the release ``edition`` (``"X.Y"``)."""
    if not EDITION.fullmatch(edition):
        raise ReleaseError(f"edition must look like X.Y (two numbers, e.g. 0.2), got {edition!r}")
    tag, version = f"v{edition}", f"{edition}.0"
    if _git(root, "status", "--porcelain", "--untracked-files=normal"):
        raise ReleaseError("the working tree has uncommitted changes: commit or stash them first")
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    if branch != "main":
        raise ReleaseError(f"releases are cut from main; this checkout is on {branch!r}")
    if _git(root, "tag", "--list", tag):
        raise ReleaseError(f"tag {tag} already exists: an edition is never rebuilt under the same name")
    if push:
        _git(root, "fetch", "--quiet", remote, "main")
        if _git(root, "rev-parse", "HEAD") != _git(root, "rev-parse", "FETCH_HEAD"):
            raise ReleaseError(f"main differs from {remote}/main: pull (or push) first")
        if _git(root, "ls-remote", "--tags", remote, f"refs/tags/{tag}"):
            raise ReleaseError(f"{remote} already has the tag {tag}")
    pyproject_path, changelog_path = root / "pyproject.toml", root / "CHANGELOG.md"
    pyproject = pyproject_path.read_text(encoding="utf-8")
    current = current_version(pyproject)
    if _version_tuple(version) < _version_tuple(current):
        raise ReleaseError(f"{version} is older than the current version {current}")
    date = date or dt.datetime.now(dt.timezone.utc).date().isoformat()
    changelog = release_changelog(changelog_path.read_text(encoding="utf-8"), version, tag, date)

    pyproject_path.write_text(bump_pyproject(pyproject, version), encoding="utf-8")
    changelog_path.write_text(changelog, encoding="utf-8")
    _git(root, "add", "pyproject.toml", "CHANGELOG.md")
    _git(root, "commit", "--quiet", "-m", f"Release {edition} (dnnf {version})")
    _git(root, "tag", "-a", tag, "-m", f"Edition {edition} of the book (dnnf {version})")
    push_command = ["push", "--atomic", remote, "main", tag]
    if push:
        _git(root, *push_command)
        print(f"released {tag}: CI now builds the edition {edition} and moves `latest` to it")
    else:
        print(f"committed and tagged {tag}; publish it with: git {' '.join(push_command)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("edition", help="X.Y: the tag is vX.Y, the library version X.Y.0")
    parser.add_argument("--no-push", action="store_true", help="commit and tag, but do not push")
    parser.add_argument("--remote", default="origin", help="the remote to push to (default: origin)")
    args = parser.parse_args(argv)
    try:
        root = Path(_git(Path.cwd(), "rev-parse", "--show-toplevel"))
        release(root, args.edition, push=not args.no_push, remote=args.remote)
    except ReleaseError as exc:
        print(f"release refused: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
