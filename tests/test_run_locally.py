"""docs/run-locally.md: every command, extra, file and option that the page tells a reader to use exists.

The page's shell blocks are parsed command by command, so a renamed extra, script, option or file
fails here instead of on a reader's machine.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "docs" / "run-locally.md", ROOT / "docs" / "index.md", ROOT / "README.md"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MKDOCS = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)


def _commands(page: Path) -> list[list[str]]:
    """The commands of the page's ```bash blocks, split into words; `&&`, `;`, `&` separate commands."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            words: list[str] = []
            for word in shlex.split(line.replace(";", " ; ").replace("&", " & ")):
                if word in {"&&", ";", "&", "do", "done", "then", "fi"}:
                    if words:
                        commands.append(words)
                    words = []
                else:
                    words.append(word)
            if words:
                commands.append(words)
    return commands


COMMANDS = _commands(ROOT / "docs" / "run-locally.md")


def _argument_names(script: Path) -> str:
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_page_has_shell_commands():
    assert len(COMMANDS) >= 8


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_installs_the_unrelated_pypi_project(page: Path):
    """`pip install dnnf` installs someone else's project from PyPI: no page may say it."""
    assert not re.search(r"pip install\s+['\"]?dnnf(?![-\w])", page.read_text())


def test_distribution_name_is_dnnf_book():
    assert PYPROJECT["project"]["name"] == "dnnf-book"


def test_every_command_names_something_that_exists():
    extras = PYPROJECT["project"]["optional-dependencies"]
    repo = MKDOCS["repo_url"].rstrip("/")
    torch_pin = re.search(r"torch==([\d.]+)", (ROOT / "scripts" / "install.sh").read_text()).group(1)
    checked = set()
    for words in COMMANDS:
        if words[:2] == ["git", "clone"]:
            assert words[2].rstrip("/") == repo
            checked.add("git")
        elif words[:2] == ["pip", "install"]:
            for arg in words[2:]:
                if arg.startswith("torch=="):
                    assert arg == f"torch=={torch_pin}", "the torch pin differs from scripts/install.sh"
                elif arg.startswith(".["):
                    for extra in arg[2:-1].split(","):
                        assert extra in extras, f"no extra {extra!r} in pyproject.toml"
                    checked.add("extra")
                elif " @ " in arg:
                    name, _, url = arg.partition(" @ ")
                    assert name == PYPROJECT["project"]["name"]
                    assert url.startswith(f"git+{repo}@"), url
                    checked.add("git url")
        elif words[0] == "jupyter":
            assert words[1] == "lab" and any(d.startswith("jupyterlab") for d in extras["jupyter"])
            assert any(d.startswith("jupytext") for d in extras["jupyter"]), "jupytext opens the .py files"
            assert (ROOT / words[2]).is_file(), words
            checked.add("jupyter")
        elif words[0] in {"python", "bash"} and words[1].endswith((".py", ".sh")):
            path = ROOT / words[1]
            assert path.is_file(), words
            options = [w for w in words[2:] if w.startswith("--")]
            if options:
                help_text = _argument_names(path)
                for option in options:
                    assert option in help_text, f"{words[1]} has no option {option}"
            checked.add(words[1])
        elif words[0] == "OMP_NUM_THREADS=1":
            assert (ROOT / words[2]).is_file() and "--pretrained" in _argument_names(ROOT / words[2])
            checked.add("pretrained")
    assert {"git", "extra", "git url", "jupyter", "pretrained", "scripts/serve.sh"} <= checked, checked


def test_jupyter_extra_provides_a_kernel_and_the_front_end():
    deps = " ".join(PYPROJECT["project"]["optional-dependencies"]["jupyter"])
    for name in ("jupyterlab", "ipykernel", "jupytext"):
        assert name in deps
