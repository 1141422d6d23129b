"""Shared helpers of the loader's tests: builds and exports made with the project's own CLI,
expectations recomputed from the stored rows with pyarrow and plain loops, a transformers
tokenizer directory for a build's vocabulary, and the trainers' own code from
``../shared/consumers`` (put on ``sys.path``, never copied).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pyarrow as pa
import pytest

REPO = Path(__file__).resolve().parents[3]
LOADER_DIR = Path(__file__).resolve().parents[1]
CONSUMERS = REPO.parent / "shared" / "consumers"
NNSCALER_DIR = CONSUMERS / "nnscaler"
MEGATRON_DIR = CONSUMERS / "megatron"
IGNORE = -100


# -- the project's CLI -------------------------------------------------------------------------


def pnpm(*args: str, timeout: int = 900) -> str:
    """Runs ``pnpm -s ARGS`` in the repository root (quiet, as under CI); fails the test on error."""
    exe = shutil.which("pnpm")
    if exe is None:
        pytest.fail("pnpm is not installed: install it (see README.md) or set LONGMIX_TEST_BUILD to an existing build with its exports")
    done = subprocess.run([exe, "-s", *args], cwd=REPO, env={**os.environ, "CI": "true"}, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"pnpm -s {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def manifest_of(build_dir: Path) -> dict:
    return json.loads((Path(build_dir) / "manifest.json").read_text())


def exports_of(build_dir: Path, work: Path) -> tuple:
    """``(hf_dir, megatron_prefix)`` of a build: those ``build-mix --format hf,megatron`` wrote
    beside it when complete, else fresh ones written by ``pnpm pipeline export`` under ``work``."""
    build_dir = Path(build_dir)
    name = manifest_of(build_dir)["recipe"]["name"]
    hf, prefix = build_dir / "hf", build_dir / "megatron" / name
    if (hf / "state.json").is_file() and Path(f"{prefix}.idx").is_file() and Path(f"{prefix}.longmix.json").is_file():
        return hf, prefix
    hf, prefix = work / "hf", work / "megatron" / name
    pnpm("pipeline", "export", str(build_dir), "--hf", str(hf), "--megatron", str(prefix))
    return hf, prefix


# -- independent expectations ------------------------------------------------------------------


def stored_rows(build_dir: Path) -> list:
    """Every stored row of a build as plain Python values, read with pyarrow alone."""
    manifest = manifest_of(build_dir)
    rows = []
    for shard in manifest["shards"]:
        data = (Path(build_dir) / shard["file"]).read_bytes()
        rows.extend(pa.ipc.open_stream(pa.BufferReader(data)).read_all().to_pylist())
    return rows


def rows_by_id(build_dir: Path) -> list:
    """The stored rows ordered by ``row_id`` (ids are exactly 0..rows-1)."""
    rows = sorted(stored_rows(build_dir), key=lambda r: r["row_id"])
    assert [r["row_id"] for r in rows] == list(range(len(rows)))
    return rows


def segment_ends(row: dict) -> set:
    """Positions of the last token of every attention segment of a stored row."""
    ends, at = set(), 0
    for n in row["doc_lens"]:
        at += n
        ends.add(at - 1)
    return ends


def real_targets(row: dict) -> int:
    """Next-token targets that stay inside a segment: ``sum(len - 1)`` over the segments."""
    return sum(n - 1 for n in row["doc_lens"])


def schedule_order(manifest: dict, rank: int, world_size: int) -> list:
    """Rank ``rank``'s row ids in training order, straight from docs/format.md section 5:
    position ``p`` belongs to rank ``(p mod G) // (G / W)``, read in increasing ``p``."""
    g = manifest["schedule"]["globalBatchRows"]
    return [p for p in range(manifest["rows"]["total"]) if (p % g) // (g // world_size) == rank]


def divisors(n: int) -> list:
    return [w for w in range(1, n + 1) if n % w == 0]


def as_list(x):
    return x.tolist() if hasattr(x, "tolist") else x


# -- a transformers tokenizer for the build's vocabulary ---------------------------------------

SPEC_SCRIPT = "import { buildTokenizerSpec } from './src/tokenize/registry.ts'; process.stdout.write(JSON.stringify(await buildTokenizerSpec(process.argv[2])));"


def make_tokenizer_dir(name: str, out: Path) -> Path:
    """A ``PreTrainedTokenizerFast`` directory for longmix's tokenizer ``name`` (llama3, phi3),
    built from the spec longmix itself rebuilds offline (src/tokenize): LLaMA-3's tiktoken ranks
    through transformers' ``TikTokenConverter``, Phi-3's tokenizer.json as is."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    script = out.parent / "spec.mts"
    script.write_text(SPEC_SCRIPT.replace("./src/", f"{REPO.as_posix()}/src/"))
    spec = json.loads(pnpm("exec", "tsx", str(script), name, timeout=300))
    identity = spec["identity"]
    if spec["kind"] == "tiktoken":
        ranks = out.parent / f"{name}.tiktoken"
        ranks.write_text(spec["ranks"])
        specials = sorted(spec["specialTokens"], key=spec["specialTokens"].get)
        tok = TikTokenConverter(vocab_file=str(ranks), pattern=spec["pattern"]).converted()
        tok.add_special_tokens(specials)  # ids from the base vocabulary's size on, in id order: as LLaMA-3's
    else:
        tok = Tokenizer.from_str(spec["tokenizerJson"])
    bos, eos = tok.id_to_token(identity["bosId"]), tok.id_to_token(identity["eosId"])
    assert tok.token_to_id(bos) == identity["bosId"] and tok.token_to_id(eos) == identity["eosId"], (bos, eos)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos)
    fast.save_pretrained(str(out))
    return out


# -- the trainers' own code from ../shared/consumers ------------------------------------------


def require_consumers() -> None:
    """Fails (never skips) when ../shared/consumers is missing: CI lays shared/ beside the clone."""
    if not NNSCALER_DIR.is_dir() or not MEGATRON_DIR.is_dir():
        pytest.fail(f"{CONSUMERS}: the trainers' code (nnScaler, Megatron-LM) is missing; these tests run it from there")


def import_nnscaler_example():
    """nnScaler's LongRoPE2 example modules ``(data.dataset, rope_modifier)`` from
    ../shared/consumers/nnscaler, unmodified. Two STAND-INS, because nnScaler itself is not
    installable here: the package ``examples.transformers_utils`` (its ``__init__`` imports nnScaler's
    model wrappers) is replaced by a module holding the real ``tokenizer.py``'s ``get_tokenizer``,
    and ``nnscaler.graph.parser.register.register_op`` (a decorator registering the op for
    nnScaler's tracer) by an identity decorator."""
    require_consumers()
    if str(NNSCALER_DIR) not in sys.path:
        sys.path.insert(0, str(NNSCALER_DIR))
    if "examples.transformers_utils" not in sys.modules:
        spec = importlib.util.spec_from_file_location("examples.transformers_utils.tokenizer", NNSCALER_DIR / "examples" / "transformers_utils" / "tokenizer.py")
        tokenizer_module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tokenizer_module)
        package = types.ModuleType("examples.transformers_utils")  # STAND-IN (see above)
        package.__path__ = []
        package.get_tokenizer = tokenizer_module.get_tokenizer
        sys.modules["examples.transformers_utils"] = package
    if "nnscaler.graph.parser.register" not in sys.modules:
        for name in ("nnscaler", "nnscaler.graph", "nnscaler.graph.parser", "nnscaler.graph.parser.register"):
            module = types.ModuleType(name)  # STAND-IN (see above)
            module.__path__ = []
            sys.modules[name] = module
        sys.modules["nnscaler.graph.parser.register"].register_op = lambda signature: (lambda fn: fn)
    from examples.longrope2 import rope_modifier
    from examples.longrope2.data import dataset

    return dataset, rope_modifier


def use_megatron() -> None:
    """Puts ../shared/consumers/megatron (Megatron-Core's dataset code) on ``sys.path``."""
    require_consumers()
    if str(MEGATRON_DIR) not in sys.path:
        sys.path.insert(0, str(MEGATRON_DIR))
