#!/usr/bin/env bash
# Installs what the book needs and serves it on http://127.0.0.1:8000/dnnf/ with every tutorial executed.
# DNNF_EXECUTE=0 bash scripts/serve.sh gives a quick prose preview without running the notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh docs
export NO_MKDOCS_2_WARNING=1
exec .venv/bin/mkdocs serve --dev-addr 127.0.0.1:8000 "$@"
