#!/usr/bin/env bash
# Regenerates packages/drift/src/testdata/*.json: reference values from scipy, in a throw-away venv.
# CI never runs this; the fixtures are committed. Usage: bash test/drift/make-fixtures.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'numpy>=2,<3' 'scipy>=1.13,<2'
"$venv/bin/python" "$here/make-fixtures.py" "$root/packages/drift/src/testdata"
