#!/usr/bin/env bash
# Installs everything the book and the tests need into ./.venv (idempotent, offline-friendly):
#   1. the CPU build of torch, before anything else, so pip never resolves a multi-GB CUDA build;
#   2. dnnf in editable mode with the extras given as arguments (default: docs,test);
#   3. KaTeX from the npm registry (pinned in package-lock.json) for server-side math rendering.
# On CI (CI=true, which GitHub sets on every runner) with the extras docs,test, or with DNNF_LOCKED=1,
# step 2 installs the exact versions and sha256 hashes of requirements/deploy.txt instead (regenerate
# it with scripts/lock.sh): the published site is built from packages that cannot change under it.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-docs,test}"
torch_spec="${DNNF_TORCH_SPEC:-torch==2.13.0+cpu}"

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
py=.venv/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK=1

# The lock covers exactly the docs,test extras (what the published build needs); other extras, e.g. the
# GPU job's bench, keep the ranged install.
locked=0
if [ "${DNNF_LOCKED:-}" = 1 ] || { [ "${CI:-}" = true ] && [ "$extras" = docs,test ]; }; then
  if [ "$extras" != docs,test ]; then
    echo "DNNF_LOCKED=1: requirements/deploy.txt holds the docs,test extras only, not $extras" >&2
    exit 1
  fi
  locked=1
fi
torch_deps=()
if [ "$locked" = 1 ]; then
  torch_deps=(--no-deps) # torch's own dependencies come hash-checked from the lock file below
fi

if ! "$py" -c "import torch" >/dev/null 2>&1; then
  # The "+cpu" wheel is on PyPI's side only in a local find-links folder (as on CI) or on PyTorch's CPU
  # index: try the first, which fails at once where absent, then the second *alone* (--index-url, not
  # --extra-index-url: a package of the same name on another index must never be able to win).
  "$py" -m pip install --quiet ${torch_deps[@]+"${torch_deps[@]}"} "$torch_spec" 2>/dev/null \
    || "$py" -m pip install --quiet ${torch_deps[@]+"${torch_deps[@]}"} "$torch_spec" \
      --index-url https://download.pytorch.org/whl/cpu
fi
if [ "$locked" = 1 ]; then
  "$py" -m pip install --quiet --require-hashes --no-deps -r requirements/deploy.txt
  "$py" -m pip install --quiet --no-deps --no-build-isolation -e .
  "$py" -m pip check # the lock is complete: nothing missing, no version conflict
else
  "$py" -m pip install --quiet -e ".[${extras}]"
fi

if [[ ",$extras," == *",docs,"* ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to fetch KaTeX (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  npm ci --no-audit --no-fund --loglevel=error
fi
