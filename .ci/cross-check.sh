#!/usr/bin/env bash
# Independent check of the trainer-format exports (src/export/): builds the default recipe
# into a temporary directory with `pnpm -s pipeline build-mix`, exports it to the Hugging Face
# save_to_disk layout (twice: all columns, and the nnScaler format columns) and to a Megatron-LM
# indexed dataset, runs verifyExports, then checks/cross_check.py, which reads the native shards
# with pyarrow, the HF export with datasets.load_from_disk and the Megatron files with numpy, and
# compares every row token for token. Finally it corrupts one token of a copy of the Megatron .bin
# and requires the Python check to fail, so a check that compares nothing cannot pass.
#
# Python packages (pinned below) go into the virtualenv .venv-cross (LONGMIX_CROSS_VENV overrides),
# installed from pip's configured index. Where pyarrow cannot be installed it prints
# "SKIPPED: ..." and exits 0 — except under CI=true on a machine with the package mirror
# (/opt/pypi), where a failed install is an error. Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${LONGMIX_CROSS_VENV:-$ROOT/.venv-cross}"
PYTHON="${PYTHON:-python3}"
PINS=(pyarrow==25.0.1 datasets==5.0.1 numpy==2.4.6)
# shellcheck source=.ci/pip-lib.sh
source "$ROOT/.ci/pip-lib.sh"

command -v "$PYTHON" >/dev/null 2>&1 || skip_or_fail "pyarrow not installable here (no $PYTHON)"
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  "$PYTHON" -m venv --clear "$VENV" || skip_or_fail "pyarrow not installable here (cannot create a virtualenv with $PYTHON)"
fi
if "$VENV/bin/python" - "${PINS[@]}" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
for pin in sys.argv[1:]:
    name, _, want = pin.partition("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
then
  echo "cross-check: ${PINS[*]} already installed in $VENV"
elif ! "$VENV/bin/python" -m pip install "${PIP_OPTS[@]}" "${PINS[@]}"; then
  "$VENV/bin/python" -c 'import pyarrow' >/dev/null 2>&1 || skip_or_fail "pyarrow not installable here"
  skip_or_fail "datasets/numpy not installable here"
fi

if [ ! -d "$ROOT/node_modules" ]; then
  pnpm install --frozen-lockfile
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/longmix-cross.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
BUILD="$WORK/build"
pnpm -s pipeline build-mix --out "$BUILD"

cat >"$WORK/export.mts" <<'EOF'
// Runs the exports and the TypeScript verifier; argv: ROOT BUILD WORK.
const [root, build, work] = process.argv.slice(2);
const formats = await import(`${root}/src/export/index.ts`);
const hf = await formats.exportHf(build, `${work}/hf`);
const hfNnscaler = await formats.exportHf(build, `${work}/hf-nnscaler`, { formatColumns: formats.NNSCALER_FORMAT_COLUMNS });
const megatron = await formats.exportMegatron(build, `${work}/megatron/sample`);
const report = await formats.verifyExports(build, { hfDir: hf.dir, megatronPrefix: megatron.prefix });
await formats.verifyExports(build, { hfDir: hfNnscaler.dir });
console.log(`exports: HF ${hf.files.length} files, ${hf.rows} rows; Megatron ${megatron.sequences} sequences, ${megatron.tokens} tokens, ${megatron.docLensValues} doc_lens; verifyExports OK (${report.rows} rows)`);
EOF
pnpm -s exec tsx "$WORK/export.mts" "$ROOT" "$BUILD" "$WORK"

export PYTHONDONTWRITEBYTECODE=1 HF_DATASETS_DISABLE_PROGRESS_BARS=1 HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1
"$VENV/bin/python" checks/cross_check.py "$BUILD" --hf "$WORK/hf" --megatron "$WORK/megatron/sample"
"$VENV/bin/python" checks/cross_check.py "$BUILD" --hf "$WORK/hf-nnscaler"

# The check must see a corrupted token: flip token 100 of row 5 in a copy of the .bin.
mkdir -p "$WORK/bad"
for f in sample.bin sample.idx sample_doc_lens.bin sample_doc_lens.idx; do cp "$WORK/megatron/$f" "$WORK/bad/$f"; done
"$VENV/bin/python" -c 'import numpy as np, sys; m = np.memmap(sys.argv[1], dtype="<i4", mode="r+"); m[5 * int(sys.argv[2]) + 100] ^= 1; m.flush()' \
  "$WORK/bad/sample.bin" "$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["geometry"]["rowTokens"])' "$BUILD/manifest.json")"
if "$VENV/bin/python" checks/cross_check.py "$BUILD" --megatron "$WORK/bad/sample" 2>"$WORK/bad.err"; then
  echo "FAILED: cross_check.py accepted a corrupted Megatron .bin" >&2
  exit 1
fi
grep -q 'sample.bin row 5: token 100 ' "$WORK/bad.err" || { echo "FAILED: cross_check.py did not name row 5, token 100:" >&2; cat "$WORK/bad.err" >&2; exit 1; }
echo "cross-check: corrupted copy rejected: $(cat "$WORK/bad.err")"
echo "cross-check: all OK"
