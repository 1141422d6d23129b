#!/usr/bin/env bash
# Tests of the Python loader and its trainer adapters (loaders/python), with the trainers' real
# code: pyarrow, datasets, transformers and torch (CPU) from the package mirror, nnScaler's and
# Megatron-LM's files from ../shared/consumers (the tests fail, never skip, when those are missing).
# Creates or reuses the virtualenv .venv-py (git-ignored; LONGMIX_PY_VENV overrides), installs the
# pinned loaders/python/requirements-*.txt from pip's configured index and runs pytest; the tests
# build the default recipe with `pnpm -s pipeline build-mix` unless LONGMIX_TEST_BUILD /
# LONGMIX_TEST_BUILD_FULL name existing builds. Exits non-zero when a test fails.
#
# Where the packages cannot be installed at all (a machine without the local package mirror) it
# prints "SKIPPED: ..." and exits 0 — except under CI=true on a machine that has the mirror
# (/opt/pypi), where a failed install is an error. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${LONGMIX_PY_VENV:-$ROOT/.venv-py}"
# shellcheck source=.ci/pip-lib.sh
source "$ROOT/.ci/pip-lib.sh"

ensure_python_env "$VENV"
"$VENV/bin/python" -m pip freeze --all | sed 's/^/python-tests: installed /'

# The tests build the sample and a tokenizer with pnpm; a fresh checkout needs the Node packages.
if [ ! -d "$ROOT/node_modules" ]; then
  pnpm install --frozen-lockfile
fi

cd "$ROOT/loaders/python"
export PYTHONDONTWRITEBYTECODE=1 HF_DATASETS_DISABLE_PROGRESS_BARS=1 HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "$VENV/bin/python" -m pytest "$@"
