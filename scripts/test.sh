#!/usr/bin/env bash
# The test command of the README and of CI: install, strict site build (every tutorial executed),
# then the whole pytest suite, including the headless-browser check of every built page.
set -euo pipefail
cd "$(dirname "$0")/.."
# No MPLBACKEND here: the notebook kernels need their inline backend to show figures.
export NO_MKDOCS_2_WARNING=1 PYTHONHASHSEED=0
# A cache inside the checkout: on a clean clone the flow tutorials train the project's models from
# scratch (a few CPU minutes), so every number on the built site is fresh.
export DNNF_CACHE_DIR="${DNNF_CACHE_DIR:-$PWD/.cache/dnnf}"
t0=$SECONDS

bash scripts/install.sh docs,test
echo "== install: $((SECONDS - t0)) s"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "chromium is missing and cannot be installed here (not root); the browser test falls back to" \
      "Google Chrome if present (DNNF_CHROMIUM names another binary)" >&2
  fi
fi

t1=$SECONDS
# One torch thread per kernel: the tutorials' tensors are small, and on a 2-core runner extra threads
# only spin (measured about 3x slower training when the machine is shared).
# DNNF_PDF=true: the build also renders the print page and prints the whole book to site/dnnf.pdf
# (headless Chromium; tests/test_pdf.py checks it); its log line gives the PDF's time.
DNNF_PDF=true OMP_NUM_THREADS=1 .venv/bin/mkdocs build --strict --site-dir site
echo "== strict site build (tutorials executed, print page and PDF): $((SECONDS - t1)) s"

t2=$SECONDS
# Two xdist workers on two cores: one thread each, or torch oversubscribes the CPU (10-50x slower
# for small tensors).
OMP_NUM_THREADS=1 DNNF_SITE_DIR=site .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
echo "== tests: $((SECONDS - t2)) s; total: $((SECONDS - t0)) s"
