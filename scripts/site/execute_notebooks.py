r"""MkDocs hook: execute the tutorials before the pages are rendered, in parallel, through jupyter-cache.

``mkdocs build --strict`` stays the one build command. Before any page is rendered (``on_pre_build``):

1. **Models.** The pretrained flows that the tutorials to execute name (``"nice"``, ``"glow_smoothed"``,
   ...) are trained, once each, by ``scripts/train_flow.py --pretrained``, into the pretrained cache,
   whose key hashes the recipe and the training code (``dnnf.training.pretrained_cache_key``).
2. **Notebooks.** A tutorial whose outputs are not in the cache is executed by nbclient in its own
   process with one torch thread. Trainings and executions share one pool of as many processes as the
   machine has cores, longest chain first; a tutorial starts once the models it uses are trained.
3. **Cache.** The executed notebooks are stored with jupyter-cache (the cache Jupyter Book uses), which
   matches a notebook by its code cells. The cache lives in a folder named after a hash of the dnnf
   library's source files and of every installed distribution's version (and the Python version and
   ``DNNF_DEVICE``), so outputs are reused only when the notebook's code, the library and the
   dependencies are byte for byte what produced them. A prose-only edit re-executes nothing.

mkdocs-jupyter then renders the executed copies with ``execute: false``. A cell that raises fails the
build at once with its traceback. The note on each tutorial's page gives the measured run time of the
execution that produced its outputs, and says when they were reused from an earlier build.

``DNNF_EXECUTE=0`` and ``DNNF_EXECUTE_ONLY`` keep their meaning (set in ``hooks.py``, which runs
first): tutorials that are not to be executed are rendered from their source, without outputs.

Also a command-line worker (``python execute_notebooks.py IN.ipynb OUT.ipynb``) that executes one
notebook: the build runs it in a fresh process per notebook.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.dnnf.execute")

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS_DIR = "tutorials"
EXECUTED_DIR = "dnnf-executed"  # folder of the executed copies that mkdocs-jupyter renders
KEEP_ENVIRONMENTS = 3  # cache folders of older library/dependency states kept (switching branches)
# Rough single-thread training times (s) on the 2-core build machine: only used to start the longest
# chains first.
TRAIN_SECONDS = {"glow_smoothed": 200.0, "glow": 90.0, "nice": 55.0, "nice_smoothed": 40.0}

_to_execute: list[Path] = []
# src_uri -> (executed .ipynb, wall-clock seconds, CPU seconds of the kernel, outputs reused)
_results: dict[str, tuple[Path, float, float, bool]] = {}


# ------------------------------------------------------------------------------------------ cache key
def environment_key() -> str:
    """Hash of what a tutorial's outputs depend on besides its code cells."""
    digest = hashlib.sha256()
    spec = importlib.util.find_spec("dnnf")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("dnnf is not importable: install it first (`pip install -e .`)")
    package = Path(next(iter(spec.submodule_search_locations)))
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    versions = sorted(
        f"{dist.metadata['Name']}=={dist.version}".lower() for dist in importlib.metadata.distributions()
    )
    digest.update("\n".join(versions).encode())
    digest.update(f"{sys.version}|{platform.machine()}|{os.environ.get('DNNF_DEVICE', '')}".encode())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    # Same rule as dnnf.data.default_cache_dir, without importing torch into the MkDocs process.
    return Path(os.environ.get("DNNF_CACHE_DIR") or Path.home() / ".cache" / "dnnf") / "notebooks"


def _prune(root: Path, keep: Path) -> None:
    # Folders of other library/dependency states: keep the newest few (switching branches back and
    # forth), and never one used in the last day (another checkout may be building with it now).
    folders = sorted((p for p in root.iterdir() if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime)
    for old in folders[: max(0, len(folders) - (KEEP_ENVIRONMENTS - 1))]:
        if time.time() - old.stat().st_mtime > 86400:
            shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------------------ scheduler
@dataclass
class Job:
    name: str
    command: list[str]
    seconds: float
    deps: set[str] = field(default_factory=set)
    log_path: Path | None = None


def _chain_seconds(jobs: dict[str, Job]) -> dict[str, float]:
    """Each job's own time plus the longest chain of jobs waiting for it (its priority)."""
    memo: dict[str, float] = {}

    def chain(name: str) -> float:
        if name not in memo:
            after = [chain(j.name) for j in jobs.values() if name in j.deps]
            memo[name] = jobs[name].seconds + max(after, default=0.0)
        return memo[name]

    return {name: chain(name) for name in jobs}


def run_jobs(jobs: dict[str, Job], processes: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Run the jobs' commands, at most ``processes`` at once, each after its deps.

    Returns each job's wall-clock and CPU seconds (the CPU time of the process and of the processes it
    waited for, e.g. a kernel: on a busy machine the wall-clock time says little, the CPU time does).
    The first failure stops the others and raises with that job's output.
    """
    priority = _chain_seconds(jobs)
    pending, done, running = set(jobs), set(), {}
    seconds: dict[str, tuple[float, float]] = {}
    try:
        while pending or running:
            ready = sorted((n for n in pending if jobs[n].deps <= done), key=lambda n: -priority[n])
            for name in ready[: processes - len(running)]:
                job = jobs[name]
                handle = open(job.log_path, "w") if job.log_path else subprocess.DEVNULL  # noqa: SIM115
                proc = subprocess.Popen(
                    job.command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
                )
                running[name] = (proc, time.perf_counter(), handle)
                pending.discard(name)
                log.info("started %s", name)
            time.sleep(0.2)
            for name, (proc, start, handle) in list(running.items()):
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # like poll(), with the CPU time
                if pid == 0:
                    continue
                proc.returncode = os.waitstatus_to_exitcode(status)
                del running[name]
                if handle is not subprocess.DEVNULL:
                    handle.close()
                seconds[name] = (time.perf_counter() - start, usage.ru_utime + usage.ru_stime)
                if proc.returncode != 0:
                    output = jobs[name].log_path.read_text()[-6000:] if jobs[name].log_path else ""
                    raise RuntimeError(f"{name} failed (exit {proc.returncode}):\n{output}")
                done.add(name)
                log.info("%s finished in %.0f s (%.0f s of CPU)", name, *seconds[name])
    finally:
        for proc, _, _ in running.values():
            proc.kill()
    return seconds


# ------------------------------------------------------------------------------------------ the hook
def on_config(config, **kwargs):
    _to_execute.clear()
    _results.clear()
    nb = config.plugins.get("mkdocs-jupyter")
    if nb is None or not nb.config["execute"]:
        return config
    tutorials = sorted((Path(config["docs_dir"]) / TUTORIALS_DIR).glob("*.py"))
    ignored = list(nb.config["execute_ignore"])  # DNNF_EXECUTE_ONLY (hooks.py) adds to it
    _to_execute.extend(p for p in tutorials if not any(p.match(pattern) for pattern in ignored))
    nb.config["execute"] = False  # mkdocs-jupyter renders the copies executed here
    nb.config["include"] = [*nb.config["include"], f"{EXECUTED_DIR}/*.ipynb"]
    return config


def on_pre_build(config, **kwargs):
    if not _to_execute:
        return
    import jupytext
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = cache_root()
    folder = root / environment_key()
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)
    _prune(root, folder)
    work = folder / EXECUTED_DIR
    work.mkdir(exist_ok=True)
    # One build at a time per cache folder: a second one waits, then finds the first one's outputs.
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = get_cache(folder / "jupyter-cache")
        notebooks = {src: jupytext.read(src) for src in _to_execute}
        missing = [src for src, nb in notebooks.items() if not _cached(cache, nb)]
        if missing:
            _execute(missing, notebooks, cache, work, CacheBundleIn)
        for src, nb in notebooks.items():
            pk, merged = cache.merge_match_into_notebook(nb)
            data = cache.get_cache_record(pk).data
            out = work / f"{src.stem}.ipynb"
            nbformat.write(merged, out)
            wall = float(data["execution_seconds"])
            cpu = float(data.get("cpu_seconds", wall))
            _results[f"{TUTORIALS_DIR}/{src.name}"] = (out, wall, cpu, src not in missing)
        fcntl.flock(lock, fcntl.LOCK_UN)


def _cached(cache, nb) -> bool:
    try:
        cache.match_cache_notebook(nb)
    except KeyError:
        return False
    return True


def _needed_models(src: Path) -> set[str]:
    from dnnf.training import PRETRAINED_RECIPES

    text = src.read_text(encoding="utf-8")
    return {arch for arch in PRETRAINED_RECIPES if re.search(rf"[\"']{re.escape(arch)}[\"']", text)}


def _execute(missing: list[Path], notebooks, cache, work: Path, bundle_cls) -> None:
    import nbformat

    jobs: dict[str, Job] = {}
    for src in missing:
        models = _needed_models(src)
        for arch in models:
            jobs.setdefault(f"train {arch}", Job(
                f"train {arch}",
                [sys.executable, str(ROOT / "scripts" / "train_flow.py"), "--arch", arch, "--pretrained"],
                TRAIN_SECONDS.get(arch, 60.0), log_path=work / f"train-{arch}.log",
            ))  # fmt: skip
        source = work / f"{src.stem}.source.json"
        nbformat.write(notebooks[src], source)
        jobs[src.name] = Job(
            src.name,
            [sys.executable, __file__, str(source), str(work / f"{src.stem}.executed.json")],
            60.0, deps={f"train {arch}" for arch in models}, log_path=work / f"{src.stem}.log",
        )  # fmt: skip
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernels need their inline backend to show figures
    # One thread per process: the tensors are small, and extra threads only contend for the cores.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    processes = max(1, min(os.cpu_count() or 1, len(jobs)))
    log.info("executing %d tutorial(s) and %d training(s) on %d process(es)",
             len(missing), len(jobs) - len(missing), processes)  # fmt: skip
    start = time.perf_counter()
    try:
        run_jobs(jobs, processes, env)
    except RuntimeError as error:
        from mkdocs.exceptions import PluginError

        raise PluginError(f"executing the tutorials failed: {error}") from None
    log.info("tutorials executed in %.0f s", time.perf_counter() - start)
    for job in jobs.values():
        if job.name.startswith("train ") and job.log_path is not None:
            log.info("%s", " ".join(job.log_path.read_text().split()))  # path and weights' checksum
    for src in missing:
        executed = nbformat.read(work / f"{src.stem}.executed.json", as_version=4)
        data = {
            "execution_seconds": executed.metadata.pop("dnnf_execution_seconds"),
            "cpu_seconds": executed.metadata.pop("dnnf_cpu_seconds"),
            "executed": time.time(),
        }
        cache.cache_notebook_bundle(
            bundle_cls(executed, str(src), data=data),
            overwrite=True,
        )


def on_files(files, config, **kwargs):
    # Point mkdocs-jupyter at the executed copy; the page keeps its URL, source link and title.
    for src_uri, (executed, *_) in _results.items():
        file = files.get_file_from_path(src_uri)
        if file is not None:
            file.abs_src_path = str(executed)
    return files


def on_page_content(html, page, config, files, **kwargs):
    # For an .ipynb, mkdocs-jupyter 0.26 appends the Pygments CSS again, printed as a Python list
    # (`<style>['pre { ...']</style>`); the page already has it, as pages rendered from .py do.
    if page.file.src_uri in _results:
        html = re.sub(r"\s*<style>\s*\[['\"].*?['\"]\]\s*</style>\s*$", "", html, flags=re.S)
    return html


def on_pre_page(page, config, files, **kwargs):
    result = _results.get(page.file.src_uri)
    if result is not None:
        _, wall, cpu, reused = result
        how = "outputs reused from an earlier build of the same code and dependencies" if reused else (
            "executed by this build")  # fmt: skip
        page.dnnf_build_note = (
            f"Run time: {cpu:.0f} s of one CPU thread ({wall:.0f} s wall-clock on the build machine; {how})."
        )
    return page


# ------------------------------------------------------------------------------------------ worker
def _execute_one(source: Path, dest: Path) -> int:
    import resource

    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(source, as_version=4)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The kernel starts in the repository root, as in a reader's checkout, whatever the notebook's folder.
    result = single_nb_execution(nb, cwd=str(ROOT), timeout=None, allow_errors=False, kernel_name="python3")
    if result.err is not None:
        print(result.exc_string, file=sys.stderr)
        return 1
    # The kernel is this process's child, reaped at shutdown: its CPU time is what one thread costs.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result.nb.metadata["dnnf_execution_seconds"] = round(result.time, 1)
    result.nb.metadata["dnnf_cpu_seconds"] = round(cpu, 1)
    nbformat.write(result.nb, dest)
    print(f"{source.name}: {result.time:.1f} s wall-clock, {cpu:.1f} s of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(_execute_one(Path(sys.argv[1]), Path(sys.argv[2])))
