#!/usr/bin/env bash
# Installs everything the book and the tests need into ./.venv (idempotent, offline-friendly):
#   1. the CPU build of torch, before anything else, so pip never resolves a multi-GB CUDA build;
#   2. dnnf in editable mode with the extras given as arguments (default: docs,test);
#   3. KaTeX from the npm registry (pinned in package-lock.json) for server-side math rendering.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-docs,test}"
torch_spec="${DNNF_TORCH_SPEC:-torch==2.13.0+cpu}"

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
py=.venv/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK=1

if ! "$py" -c "import torch" >/dev/null 2>&1; then
  # The "+cpu" wheel is on PyPI's side only in a local find-links folder (as on CI) or on PyTorch's CPU
  # index: try the first, which fails at once where absent, then the second.
  "$py" -m pip install --quiet "$torch_spec" 2>/dev/null \
    || "$py" -m pip install --quiet "$torch_spec" --extra-index-url https://download.pytorch.org/whl/cpu
fi
"$py" -m pip install --quiet -e ".[${extras}]"

if [[ ",$extras," == *",docs,"* ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to fetch KaTeX (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  npm ci --no-audit --no-fund --loglevel=error
fi
