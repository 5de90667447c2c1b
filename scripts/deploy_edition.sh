#!/usr/bin/env bash
# Build the book for one git ref with mike and commit it to the local `gh-pages` branch (never pushes):
#   scripts/deploy_edition.sh vX.Y   # a release tag: the frozen edition X.Y; `latest` moves to it
#   scripts/deploy_edition.sh main   # the `dev` edition, which follows main
# The site root redirects to `latest` (to `dev` until the first release). Every edition carries its PDF
# (DNNF_PDF=true: scripts/site/edition.py prints it at the end of the build). mike writes only the
# edition's own folder, its aliases and versions.json: older editions stay byte for byte as they were.
# Environment: MIKE_CONFIG (default mkdocs.yml); DNNF_PDF=false skips the PDF (the tests do).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
ref="${1:?usage: scripts/deploy_edition.sh vX.Y|main}"
config="${MIKE_CONFIG:-mkdocs.yml}"
# mike runs `mkdocs build` as a subprocess: the project's environment first on PATH.
if [ -d .venv/bin ]; then export PATH="$PWD/.venv/bin:$PATH"; fi
export DNNF_PDF="${DNNF_PDF:-true}" NO_MKDOCS_2_WARNING=1
# mike commits as the committer git is configured with; CI has none.
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-$(git config user.name || echo 'dnnf editions')}"
export GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-$(git config user.email || echo 'editions@users.noreply.github.com')}"
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-$GIT_COMMITTER_NAME}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-$GIT_COMMITTER_EMAIL}"

if [[ "$ref" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]]; then
  edition="${ref#v}"
  # A tag's edition is built from the tag, never from a moving branch.
  if [ "$(git rev-parse HEAD)" != "$(git rev-parse "refs/tags/$ref^{commit}")" ]; then
    echo "deploy_edition: HEAD is not the commit of tag $ref; check it out first" >&2
    exit 1
  fi
  if mike list --config-file "$config" "$edition" >/dev/null 2>&1; then
    echo "deploy_edition: edition $edition is already published; editions are frozen (release a new X.Y)" >&2
    exit 1
  fi
  mike deploy --config-file "$config" --update-aliases --title "$edition" "$edition" latest
  mike set-default --config-file "$config" latest
elif [ "$ref" = main ]; then
  mike deploy --config-file "$config" --title "dev (main)" dev
  if ! mike list --config-file "$config" latest >/dev/null 2>&1; then
    mike set-default --config-file "$config" dev   # no release yet: the root shows the dev edition
  fi
else
  echo "deploy_edition: expected vX.Y (a release tag) or main, got '$ref'" >&2
  exit 1
fi
mike list --config-file "$config"
