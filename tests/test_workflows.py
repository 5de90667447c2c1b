"""The GitHub Actions workflows: schema-valid, clean under an offline zizmor audit, and shaped as intended.

Nothing here touches the network: check-jsonschema uses the GitHub-workflow schema it vendors, and zizmor
runs with ``--offline``. Each external check is paired with a test that feeds it a deliberately broken
workflow, so a checker that silently accepts everything fails the suite.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.yml")) + sorted(WORKFLOWS_DIR.glob("*.yaml"))
TEST_COMMAND = "bash scripts/test.sh"
MAIN_PUSH = ("github.event_name == 'push'", "github.ref == 'refs/heads/main'")


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean True; give it its name back.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _triggers(doc: dict) -> set[str]:
    on = doc["on"]
    if isinstance(on, str):
        return {on}
    return set(on)


def _tool(name: str) -> str:
    """Path of a console script installed next to this interpreter (the test extra installs both)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the project's test extra (pip install -e '.[test]')")
    return found


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess:
    cmd = [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, files)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _zizmor(target: Path, *extra: str) -> tuple[int, list[dict]]:
    cmd = [_tool("zizmor"), "--offline", "--format", "json", *extra, str(target)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    try:
        findings = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        pytest.fail(f"zizmor printed no JSON (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, findings


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict]:
    return {path.name: _load(path) for path in WORKFLOW_FILES}


@pytest.fixture(scope="module")
def ci(workflows: dict[str, dict]) -> dict:
    return workflows["ci.yml"]


def test_the_expected_workflows_exist():
    names = {path.name for path in WORKFLOW_FILES}
    assert {"ci.yml", "gpu.yml"} <= names, names


# --- external validators ---------------------------------------------------------------------------


def test_every_workflow_matches_the_github_workflow_schema():
    proc = _check_jsonschema(*WORKFLOW_FILES)
    assert proc.returncode == 0, proc.stdout + proc.stderr


BROKEN_WORKFLOWS = {
    "job without runs-on": "on: push\njobs:\n  build:\n    steps:\n      - run: echo hi\n",
    "unknown permission level": (
        "on: push\npermissions:\n  contents: admin\njobs:\n  build:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n"
    ),
    "step with neither run nor uses": (
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - name: nothing\n"
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN_WORKFLOWS))
def test_schema_check_rejects_a_broken_workflow(tmp_path: Path, name: str):
    path = tmp_path / "broken.yml"
    path.write_text(BROKEN_WORKFLOWS[name], encoding="utf-8")
    proc = _check_jsonschema(path)
    assert proc.returncode != 0, f"schema accepted a workflow with a {name}:\n{proc.stdout}"


def test_zizmor_offline_audit_finds_nothing():
    """The strictest persona, with the project's config (.github/zizmor.yml documents its one ignore)."""
    rc, findings = _zizmor(WORKFLOWS_DIR, "--persona=auditor")
    summary = [(f["ident"], json.dumps(f["locations"][0]["symbolic"]["key"])) for f in findings]
    assert rc == 0 and findings == [], summary


def test_the_zizmor_config_ignores_only_the_self_hosted_gpu_runner():
    rc, findings = _zizmor(WORKFLOWS_DIR, "--persona=auditor", "--no-config")
    # the location's JSON shape differs between zizmor versions; its text names the file either way
    flagged = [(f["ident"], json.dumps(f["locations"][0]["symbolic"]["key"])) for f in findings]
    assert rc != 0 and len(flagged) == 1, flagged
    assert flagged[0][0] == "self-hosted-runner" and "gpu.yml" in flagged[0][1], flagged


def test_zizmor_flags_an_insecure_workflow(tmp_path: Path):
    workflows_dir = tmp_path / ".github" / "workflows"
    workflows_dir.mkdir(parents=True)
    (workflows_dir / "insecure.yml").write_text(
        "name: insecure\n"
        "on: pull_request_target\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
        "      - uses: someone/some-action@main\n",
        encoding="utf-8",
    )
    rc, findings = _zizmor(workflows_dir, "--no-config")
    found = {f["ident"] for f in findings}
    assert rc != 0
    assert {"artipacked", "template-injection", "unpinned-uses", "dangerous-triggers"} <= found, found


# --- structure: permissions, pins, checkout ----------------------------------------------------------


def test_no_workflow_grants_token_permissions_by_default(workflows: dict[str, dict]):
    for name, doc in workflows.items():
        assert doc.get("permissions") == {}, f"{name}: top-level permissions must be {{}}"
        for job_id, job in doc["jobs"].items():
            assert "permissions" in job, f"{name}:{job_id} must declare its own permissions"


def test_only_the_deploy_job_can_write(workflows: dict[str, dict]):
    for name, doc in workflows.items():
        for job_id, job in doc["jobs"].items():
            perms = job["permissions"]
            writes = {scope for scope, level in perms.items() if level == "write"}
            if (name, job_id) == ("ci.yml", "deploy"):
                assert perms == {"pages": "write", "id-token": "write"}, perms
            elif (name, job_id) == ("ci.yml", "publish"):
                assert perms == {"contents": "write"}, perms  # fast-forwards gh-pages, runs no project code
            elif (name, job_id) == ("ci.yml", "notebooks"):
                assert perms == {"contents": "write"}, perms  # pushes the Colab notebooks branch
            else:
                assert writes == set(), f"{name}:{job_id} writes {writes}"
                assert set(perms.values()) <= {"read", "none"}, perms


USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<action>[^\s@#]+)@(?P<ref>[^\s#]+)\s*(?P<comment>#.*)?$")


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version():
    pins = []
    for path in WORKFLOW_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES_LINE.match(line)
            if match is None:
                assert not re.match(r"^\s*(-\s*)?uses:", line), f"{path.name}: cannot parse {line!r}"
                continue
            pins.append(match)
            assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{path.name}: {line.strip()} not SHA-pinned"
            assert match["comment"] and re.search(r"v\d+(\.\d+)*", match["comment"]), (
                f"{path.name}: {line.strip()} needs a '# vX.Y.Z' comment"
            )
    assert len(pins) >= 5


def test_checkout_never_persists_credentials(workflows: dict[str, dict]):
    checkouts = 0
    for name, doc in workflows.items():
        for job_id, job in doc["jobs"].items():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    checkouts += 1
                    assert step.get("with", {}).get("persist-credentials") is False, f"{name}:{job_id}"
    assert checkouts >= 2


def test_no_workflow_uses_pull_request_target(workflows: dict[str, dict]):
    for name, doc in workflows.items():
        assert "pull_request_target" not in _triggers(doc), name


def test_every_workflow_has_a_concurrency_group(workflows: dict[str, dict]):
    for name, doc in workflows.items():
        assert doc.get("concurrency", {}).get("group"), f"{name} has no workflow-level concurrency group"


# --- the CPU job: the README's test command ------------------------------------------------------------


def test_ci_runs_on_push_and_pull_request(ci: dict):
    assert {"push", "pull_request"} <= _triggers(ci)
    push = ci["on"]["push"]
    assert not push or "branches" not in push, "tests must run on pushes to every branch"


def test_cpu_job_runs_exactly_the_readme_test_command(ci: dict):
    job = ci["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    setup = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert len(setup) == 1 and str(setup[0]["with"]["python-version"]) == "3.11"
    runs = [s["run"].strip() for s in job["steps"] if "run" in s]
    assert TEST_COMMAND in runs, runs
    assert "env" not in job, "the CI test must run exactly what a reader runs, with no extra environment"


def test_the_readme_gives_the_same_test_command():
    readme = ROOT / "README.md"
    assert readme.is_file(), "README.md is missing"
    # the command on a line of its own, optionally followed by a shell comment
    pattern = rf"^\s*{re.escape(TEST_COMMAND)}(\s+#.*)?$"
    assert re.search(pattern, readme.read_text(encoding="utf-8"), re.MULTILINE), (
        f"README.md does not give {TEST_COMMAND!r} on a line of its own"
    )
    assert (ROOT / "scripts" / "test.sh").is_file(), "the README's test command names scripts/test.sh"


# --- Pages deployment ---------------------------------------------------------------------------------


def _only_on_main_push(condition: str) -> bool:
    normalised = " ".join(condition.replace('"', "'").split())
    return all(part in normalised for part in MAIN_PUSH) and "||" not in normalised


RELEASE_TAG = "startsWith(github.ref, 'refs/tags/v')"


def _only_on_main_or_release_tag_push(condition: str) -> bool:
    normalised = " ".join(condition.replace('"', "'").split())
    return normalised == f"{MAIN_PUSH[0]} && (github.ref == 'refs/heads/main' || {RELEASE_TAG})"


def test_the_editions_are_built_without_write_access_and_published_without_building(ci: dict):
    """Issue 15: mike builds the edition (contents: read); a job that runs no project code pushes gh-pages."""
    test_steps = ci["jobs"]["test"]["steps"]
    assert not [s for s in test_steps if "upload-pages-artifact" in str(s.get("uses", ""))]
    edition, publish = ci["jobs"]["edition"], ci["jobs"]["publish"]
    assert edition["needs"] in ("test", ["test"]) and publish["needs"] in ("edition", ["edition"])
    assert edition["permissions"] == {"contents": "read"}
    for job in (edition, publish):
        assert _only_on_main_or_release_tag_push(job["if"]), job["if"]
    build = "\n".join(str(s.get("run", "")) for s in edition["steps"])
    assert 'scripts/deploy_edition.sh "$GITHUB_REF_NAME"' in build
    publish_run = "\n".join(str(s.get("run", "")) for s in publish["steps"])
    assert "pip" not in publish_run and "scripts/" not in publish_run, "publish must run no project code"
    assert "--force" not in publish_run and "+gh-pages" not in publish_run, "gh-pages is never force-pushed"
    assert not [s for s in publish["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    uploads = [s for s in publish["steps"] if "actions/upload-pages-artifact@" in str(s.get("uses", ""))]
    assert len(uploads) == 1 and uploads[0]["with"]["path"] == "pages"
    assert publish["concurrency"] == {"group": "gh-pages", "cancel-in-progress": False}
    # the tests check the generated notebooks before anything is published
    assert [s for s in test_steps if "site/tutorials/*.ipynb" in s.get("run", "")]


def test_deploy_job_runs_after_the_edition_is_published(ci: dict):
    deploy = ci["jobs"]["deploy"]
    assert deploy["needs"] in ("publish", ["publish"])
    assert _only_on_main_or_release_tag_push(deploy["if"]), deploy["if"]
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["concurrency"]["cancel-in-progress"] is False
    uses = [str(s.get("uses", "")) for s in deploy["steps"]]
    assert len(uses) == 1 and uses[0].startswith("actions/deploy-pages@")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("github.event_name == 'push' && github.ref == 'refs/heads/main'", True),
        ("github.ref == 'refs/heads/main'", False),
        ("github.event_name == 'push' || github.ref == 'refs/heads/main'", False),
    ],
)
def test_main_push_condition_checker_can_fail(condition: str, expected: bool):
    assert _only_on_main_push(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("github.event_name == 'push' && (github.ref == 'refs/heads/main' || " + RELEASE_TAG + ")", True),
        ("github.ref == 'refs/heads/main' || " + RELEASE_TAG, False),
        ("github.event_name == 'push' && (github.ref == 'refs/heads/main' || github.ref != '')", False),
    ],
)
def test_edition_condition_checker_can_fail(condition: str, expected: bool):
    assert _only_on_main_or_release_tag_push(condition) is expected


# --- the optional GPU job -----------------------------------------------------------------------------


def test_gpu_job_is_gated_and_reruns_the_examples_on_cuda(workflows: dict[str, dict]):
    doc = workflows["gpu.yml"]
    assert _triggers(doc).isdisjoint({"pull_request", "pull_request_target"}), "no fork code on our GPU box"
    (job,) = doc["jobs"].values()
    assert " ".join(job["if"].split()) == "vars.DNNF_GPU_RUNNER == 'true'"
    assert {"self-hosted", "gpu"} <= set(job["runs-on"])
    assert job["env"]["DNNF_DEVICE"] == "cuda"
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert "mkdocs build --strict" in script
    assert "scripts/bench_*.py" in script
    assert "torch.cuda.is_available()" in script, "fail loudly instead of silently running on the CPU"


def test_notebooks_branch_job_runs_only_on_main_and_matches_the_site_config(ci: dict):
    """The "Open in Colab" links (scripts/site/hooks.py) point at the branch this job pushes."""
    job = ci["jobs"]["notebooks"]
    assert job["needs"] in ("test", ["test"])
    assert _only_on_main_push(job["if"]), job["if"]
    script = "\n".join(str(step.get("run", "")) for step in job["steps"])
    mkdocs = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    branch = mkdocs["extra"]["notebooks_branch"]
    assert f"--initial-branch={branch}" in script and script.rstrip().endswith(branch)


# --- supply chain: who sees the write token, where packages come from -----------------------------------


def test_only_the_push_step_sees_the_write_token(ci: dict):
    """A compromised jupytext (or any of its dependencies) must not be able to push to the repository."""
    job = ci["jobs"]["notebooks"]
    with_token = [s for s in job["steps"] if "github.token" in json.dumps(s.get("env", {}))]
    assert len(with_token) == 1, with_token
    (push,) = with_token
    assert push["run"].strip().startswith("git push") and "\n" not in push["run"].strip(), push["run"]
    assert "github.token" not in json.dumps(job.get("env", {}))
    for step in job["steps"]:
        if step is not push:
            assert "token" not in json.dumps(step).lower() or "persist-credentials" in json.dumps(step), step


def test_the_notebooks_job_installs_jupytext_from_the_hash_lock(ci: dict):
    script = "\n".join(str(s.get("run", "")) for s in ci["jobs"]["notebooks"]["steps"])
    assert "--require-hashes" in script and "requirements/notebooks.txt" in script, script
    assert re.search(r"pip install [^\n]*jupytext", script) is None, "jupytext only from the lock file"


def test_install_script_never_mixes_indexes_for_torch():
    """--extra-index-url lets a same-named package on PyPI win over PyTorch's (dependency confusion)."""
    install = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    code = "\n".join(line for line in install.splitlines() if not line.lstrip().startswith("#"))
    assert "--extra-index-url" not in code
    assert "--index-url https://download.pytorch.org/whl/cpu" in code


def _lock_entries(path: Path) -> dict[str, str]:
    """``{name: the requirement's whole text}`` of a pip-compile/uv lock file."""
    entries: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", path.read_text(encoding="utf-8")):
        if block.startswith("#") or not block.strip():
            continue
        name = re.match(r"[A-Za-z0-9._-]+", block)[0].lower().replace("_", "-")
        entries[name] = block
    return entries


def test_the_deploy_installs_from_the_hash_lock_on_ci():
    """On CI (CI=true) install.sh installs requirements/deploy.txt with --require-hashes, then checks it."""
    install = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    assert '"${CI:-}" = true' in install
    assert re.search(r"--require-hashes --no-deps -r requirements/deploy\.txt", install)
    assert "pip check" in install


@pytest.mark.parametrize("lock", ["deploy.txt", "notebooks.txt"])
def test_every_locked_package_is_pinned_with_hashes(lock: str):
    entries = _lock_entries(ROOT / "requirements" / lock)
    assert len(entries) >= 10
    for name, block in entries.items():
        assert re.match(r"[A-Za-z0-9._-]+==\S+ ", block), f"{name} is not pinned with =="
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), f"{name} has no sha256 hash"


def test_the_deploy_lock_covers_the_project_but_not_torch_or_the_cuda_stack():
    """Every dependency of pyproject.toml (core, docs and test extras) is in the lock; torch is installed
    by exact version from its CPU index instead, and the CUDA wheels of PyPI's torch never come in."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["docs"]
    wanted += project["optional-dependencies"]["test"]
    names = {re.match(r"[A-Za-z0-9._-]+", spec)[0].lower().replace("_", "-") for spec in wanted}
    entries = _lock_entries(ROOT / "requirements" / "deploy.txt")
    assert names - {"torch"} <= set(entries), sorted(names - {"torch"} - set(entries))
    assert "torch" not in entries and "setuptools" in entries
    assert not [n for n in entries if n.startswith(("nvidia-", "cuda-")) or n == "triton"]
    assert (ROOT / "scripts" / "lock.sh").is_file()
    assert "scripts/lock.sh" in (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
