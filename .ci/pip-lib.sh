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
