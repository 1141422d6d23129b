#!/usr/bin/env bash
# Independent check of the trainer-format exports (src/export/): builds the default recipe (LLaMA-3,
# int32 Megatron tokens) and its Phi-3 variant (uint16) into a temporary directory with
# `pnpm -s pipeline build-mix`, exports them to the Hugging Face save_to_disk layout (twice for the
# default: default columns and all columns) and to a Megatron-LM indexed dataset, runs
# verifyExports, then checks/cross_check.py, which reads the native shards with pyarrow, the HF
# export with datasets.load_from_disk and the Megatron files with numpy, and compares every row
# token for token. It corrupts one token of a copy of the Megatron .bin and requires the Python
# check to fail, so a check that compares nothing cannot pass. Last, checks/trainer_figures.py runs
# each trainer's own code (nnScaler's example, Megatron's GPTDataset, transformers) on the default
# build before and after longmix_loader's adapters, and fails if an adapter still trains on padding.
#
# Python packages: the loader's pinned requirements in the virtualenv .venv-py (LONGMIX_PY_VENV
# overrides), shared with .ci/python-tests.sh. Where pyarrow cannot be installed it prints
# "SKIPPED: ..." and exits 0 — except under CI=true on a machine with the package mirror
# (/opt/pypi), where a failed install is an error. Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${LONGMIX_PY_VENV:-$ROOT/.venv-py}"
# shellcheck source=.ci/pip-lib.sh
source "$ROOT/.ci/pip-lib.sh"

ensure_python_env "$VENV"
if [ ! -d "$ROOT/node_modules" ]; then
  pnpm install --frozen-lockfile
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/longmix-cross.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
BUILD="$WORK/build"
pnpm -s pipeline build-mix --out "$BUILD"
# The same recipe with the Phi-3 vocabulary (32,064 ids), source paths made absolute.
sed -e 's/^tokenizer: llama3$/tokenizer: phi3\nscale: 0.5/' -e "s#\.\./data/#$ROOT/data/#g" pipelines/sample.yaml >"$WORK/phi3.yaml"
grep -q '^tokenizer: phi3$' "$WORK/phi3.yaml" || { echo "FAILED: could not make the Phi-3 variant of pipelines/sample.yaml" >&2; exit 1; }
pnpm -s pipeline build-mix --recipe "$WORK/phi3.yaml" --out "$WORK/phi3"

cat >"$WORK/export.mts" <<'EOF'
// Runs the exports and the TypeScript verifier; argv: ROOT BUILD PHI3_BUILD WORK.
const [root, build, phi3, work] = process.argv.slice(2);
const formats = await import(`${root}/src/export/index.ts`);
const hf = await formats.exportHf(build, `${work}/hf`);
const hfAll = await formats.exportHf(build, `${work}/hf-all`, { formatColumns: null });
const megatron = await formats.exportMegatron(build, `${work}/megatron/sample`);
const report = await formats.verifyExports(build, { hfDir: hf.dir, megatronPrefix: megatron.prefix });
await formats.verifyExports(build, { hfDir: hfAll.dir });
const phi = await formats.exportMegatron(phi3, `${work}/megatron-phi3/sample`);
await formats.verifyExports(phi3, { megatronPrefix: phi.prefix });
console.log(
  `exports: HF ${hf.files.length} files, ${hf.rows} rows; Megatron ${megatron.sequences} sequences of ${megatron.tokenDtype}, ${megatron.docLensValues} doc_lens; ` +
    `Phi-3 Megatron ${phi.tokenDtype}; verifyExports OK (${report.rows} rows)`,
);
EOF
pnpm -s exec tsx "$WORK/export.mts" "$ROOT" "$BUILD" "$WORK/phi3" "$WORK"

export PYTHONDONTWRITEBYTECODE=1 HF_DATASETS_DISABLE_PROGRESS_BARS=1 HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"$VENV/bin/python" checks/cross_check.py "$BUILD" --hf "$WORK/hf" --megatron "$WORK/megatron/sample"
"$VENV/bin/python" checks/cross_check.py "$BUILD" --hf "$WORK/hf-all"
"$VENV/bin/python" checks/cross_check.py "$WORK/phi3" --megatron "$WORK/megatron-phi3/sample"

# The check must see a corrupted token: flip token 100 of row 5 in a copy of the .bin (int32 for LLaMA-3).
mkdir -p "$WORK/bad"
for f in sample.bin sample.idx sample.doc_lens.npy sample.doc_offsets.npy sample.longmix.json; do cp "$WORK/megatron/$f" "$WORK/bad/$f"; done
"$VENV/bin/python" -c 'import numpy as np, sys; m = np.memmap(sys.argv[1], dtype="<i4", mode="r+"); m[5 * int(sys.argv[2]) + 100] ^= 1; m.flush()' \
  "$WORK/bad/sample.bin" "$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["geometry"]["rowTokens"])' "$BUILD/manifest.json")"
if "$VENV/bin/python" checks/cross_check.py "$BUILD" --megatron "$WORK/bad/sample" 2>"$WORK/bad.err"; then
  echo "FAILED: cross_check.py accepted a corrupted Megatron .bin" >&2
  exit 1
fi
grep -q 'sample.bin row 5: token 100 ' "$WORK/bad.err" || { echo "FAILED: cross_check.py did not name row 5, token 100:" >&2; cat "$WORK/bad.err" >&2; exit 1; }
echo "cross-check: corrupted copy rejected: $(cat "$WORK/bad.err")"

"$VENV/bin/python" checks/trainer_figures.py "$BUILD" --hf "$WORK/hf" --megatron "$WORK/megatron/sample"
echo "cross-check: all OK"
