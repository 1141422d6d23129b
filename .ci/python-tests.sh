#!/usr/bin/env bash
# Tests of the Python loader (loaders/python). Creates or reuses the virtualenv .venv-py (git-ignored),
# installs the pinned packages (loaders/python/requirements-*.txt) from pip's configured index, and
# runs pytest; the tests build the default recipe with `pnpm -s pipeline build-mix` unless
# LONGMIX_TEST_BUILD / LONGMIX_TEST_BUILD_FULL name existing builds. Exits non-zero when a test fails.
#
# Where pyarrow cannot be installed at all (a machine without the local package mirror) it prints
# "SKIPPED: pyarrow not installable here" and exits 0 — except under CI=true on a machine that has
# the mirror (/opt/pypi), where a failed install is an error.
# torch is optional: if it cannot be installed the torch test is skipped (LONGMIX_PY_REQUIRE_TORCH=1
# makes that an error; LONGMIX_PY_TORCH=0 does not try). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
LOADER="$ROOT/loaders/python"
VENV="${LONGMIX_PY_VENV:-$ROOT/.venv-py}"
PYTHON="${PYTHON:-python3}"
# shellcheck source=.ci/pip-lib.sh
source "$ROOT/.ci/pip-lib.sh"

# True when every `name==version` line of the given requirements files is installed in the venv.
pins_satisfied() {
  "$VENV/bin/python" - "$@" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, want = line.partition("==")
        try:
            have = version(name)
        except PackageNotFoundError:
            sys.exit(1)
        if have != want:
            sys.exit(1)
EOF
}

command -v "$PYTHON" >/dev/null 2>&1 || skip_or_fail "pyarrow not installable here (no $PYTHON)"
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  "$PYTHON" -m venv --clear "$VENV" || skip_or_fail "pyarrow not installable here (cannot create a virtualenv with $PYTHON)"
fi

if pins_satisfied "$LOADER/requirements-test.txt"; then
  echo "python-tests: test requirements already installed in $VENV"
elif ! "$VENV/bin/python" -m pip install "${PIP_OPTS[@]}" -r "$LOADER/requirements-test.txt"; then
  "$VENV/bin/python" -c 'import pyarrow' >/dev/null 2>&1 || skip_or_fail "pyarrow not installable here"
  skip_or_fail "test requirements (numpy, pytest) not installable here"
fi

if [ "${LONGMIX_PY_TORCH:-1}" = "1" ]; then
  if pins_satisfied "$LOADER/requirements-torch.txt"; then
    echo "python-tests: torch already installed in $VENV"
  elif ! "$VENV/bin/python" -m pip install "${PIP_OPTS[@]}" -r "$LOADER/requirements-torch.txt"; then
    if [ "${LONGMIX_PY_REQUIRE_TORCH:-0}" = "1" ]; then
      echo "FAILED: torch not installable here and LONGMIX_PY_REQUIRE_TORCH=1" >&2
      exit 1
    fi
    echo "NOTE: torch not installable here; the torch test will be skipped"
  fi
fi
"$VENV/bin/python" -m pip freeze --all | sed 's/^/python-tests: installed /'

# The tests build the sample with pnpm unless given builds; a fresh checkout needs the Node packages.
if [ -z "${LONGMIX_TEST_BUILD:-}" ] && [ ! -d "$ROOT/node_modules" ]; then
  pnpm install --frozen-lockfile
fi

cd "$LOADER"
PYTHONDONTWRITEBYTECODE=1 exec "$VENV/bin/python" -m pytest "$@"
