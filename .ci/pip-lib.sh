# Shared by .ci/python-tests.sh and .ci/cross-check.sh (sourced, not run).
# Few retries: on a machine whose only index is a local mirror an unreachable default index
# otherwise costs minutes of back-off. Override with PIP_RETRIES / PIP_TIMEOUT.
PIP_OPTS=(--disable-pip-version-check --retries "${PIP_RETRIES:-0}" --timeout "${PIP_TIMEOUT:-30}")

# skip_or_fail WHAT: a Python package could not be installed. Prints SKIPPED and exits 0, except
# under CI=true on a machine with the package mirror /opt/pypi, where it must work: exits 1.
skip_or_fail() {
  if [ "${CI:-}" = "true" ] && [ -d /opt/pypi ]; then
    echo "FAILED: $1 (CI=true and the package mirror /opt/pypi exists, so this install must work)" >&2
    exit 1
  fi
  echo "SKIPPED: $1"
  exit 0
}

# pins_satisfied PYTHON FILE...: true when every `name==version` line of the requirement files is installed.
pins_satisfied() {
  local python="$1"
  shift
  "$python" - "$@" <<'EOF'
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

# ensure_python_env VENV: creates or reuses the virtualenv VENV with the loader's pinned packages
# (loaders/python/requirements-test.txt: pyarrow, numpy, pytest; requirements-adapters.txt: torch
# CPU, datasets, transformers and their dependencies), from pip's configured index. Where they
# cannot be installed: SKIPPED and exit 0, or FAILED under CI with the mirror (skip_or_fail).
ensure_python_env() {
  local venv="$1" python="${PYTHON:-python3}"
  local reqs=("$ROOT/loaders/python/requirements-test.txt" "$ROOT/loaders/python/requirements-adapters.txt")
  command -v "$python" >/dev/null 2>&1 || skip_or_fail "pyarrow not installable here (no $python)"
  if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    "$python" -m venv --clear "$venv" || skip_or_fail "pyarrow not installable here (cannot create a virtualenv with $python)"
  fi
  if pins_satisfied "$venv/bin/python" "${reqs[@]}"; then
    echo "python: pinned packages already installed in $venv"
  elif ! "$venv/bin/python" -m pip install "${PIP_OPTS[@]}" -r "${reqs[0]}" -r "${reqs[1]}"; then
    "$venv/bin/python" -c 'import pyarrow' >/dev/null 2>&1 || skip_or_fail "pyarrow not installable here"
    skip_or_fail "the trainer adapters' packages (torch, datasets, transformers) not installable here"
  fi
}
