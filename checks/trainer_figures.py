#!/usr/bin/env python3
"""What each trainer makes of a longmix build, before and after longmix_loader's adapters, with
the trainers' own code where it runs on CPU: for every trainer, padding targets and real targets
(next-token targets inside one attention segment), the loss normaliser, and the attention work
spent on padding, in causal (query, key) pairs (a segment of n tokens costs n(n+1)/2).

* nnScaler (../shared/consumers/nnscaler, LongRoPE2 example): before = its own ``get_dataset`` and
  ``collate_fn`` on the hf export; after = ``longmix_loader.nnscaler``. Attention: the
  ``cu_seqlens`` transformers' FlashAttention-2 path derives from ``net_input.position_ids``
  (``prepare_fa_kwargs_from_position_ids``), as nnScaler's model wrapper runs it.
* Megatron-LM (../shared/consumers/megatron): before = its own ``GPTDataset`` on the export
  (``reset_position_ids``, ``reset_attention_mask``, ``eod_mask_loss`` on, no pad id, as LLaMA-3's
  tokenizer has none; once without and once with ``inter_document_masking``; ``helpers.cpp``
  compiled into a scratch copy); after = ``longmix_loader.megatron.LongmixGPTDataset``. Attention:
  the samples' ``cu_seqlens``, or the blocks between EODs that ``reset_attention_mask`` makes.
* transformers: before = the loader's items passed as they are (labels already shifted, so the
  model shifts them twice; rows stacked ``[B, T]``: FA2 finds packed sequences for B = 1 only);
  after = ``longmix_loader.hf.collate_hf``. Attention: the ``cu_seqlens`` FA2 derives.
* longmix_loader's own ``collate_rows``: before = the padding as one segment (the previous
  ``cu_seqlens_with_padding``), after = one segment per padding token.

Usage: trainer_figures.py BUILD [--hf DIR] [--megatron PREFIX] [--tokenizer DIR] [--json FILE]
(exports default to those ``build-mix --format hf,megatron`` writes beside the build). Prints a
table; exits 1 when an "after" figure breaks its rule (a padding target, ntokens other than the
real targets, more than one pair of attention per padding token).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "loaders" / "python"), str(HERE.parent / "loaders" / "python" / "tests")]

import support  # noqa: E402  (the loader tests' helpers: consumers' code, tokenizer directory)
from longmix_loader import LongmixRankDataset, attention_pairs, collate_rows, cu_seqlens_from_lens  # noqa: E402

IGNORE = -100


def pad_pairs(cu_seqlens, first_pad: int, end: int) -> int:
    """Attention pairs whose query is a padding token (positions [first_pad, end)) under cu_seqlens."""
    cu = np.asarray(cu_seqlens, dtype=np.int64)
    total = 0
    for a, b in zip(cu[:-1], cu[1:]):
        lo, hi = max(a, first_pad), min(b, end)
        if lo < hi:
            total += int(((np.arange(lo, hi) - a) + 1).sum())
    return total


def fa2_cu_seqlens(position_ids: torch.Tensor) -> list:
    """The cu_seqlens transformers' FA2 uses for ``position_ids`` [B, T] (an all-ones attention mask
    is dropped first, ``masking_utils.flash_attention_mask``): derived from the position ids when
    they pack sequences into one row, else one dense causal segment per row."""
    from transformers.modeling_flash_attention_utils import _is_packed_sequence, prepare_fa_kwargs_from_position_ids

    batch, T = position_ids.shape
    if not _is_packed_sequence(position_ids, batch_size=batch):
        return [b * T for b in range(batch + 1)]
    return prepare_fa_kwargs_from_position_ids(position_ids)[0][0].tolist()


class Tally:
    def __init__(self):
        self.pad_targets = self.real_targets = self.other_targets = self.ntokens = self.pad_attention = self.doc_attention = 0
        self.notes = []

    def as_dict(self):
        return {k: v for k, v in vars(self).items()}


def nnscaler_figures(build, hf_dir, tokenizer_dir, rows, T):
    dataset_module, _ = support.import_nnscaler_example()
    from longmix_loader import nnscaler

    before, after = Tally(), Tally()
    stock, stock_collate = dataset_module.get_dataset(str(hf_dir), str(tokenizer_dir))
    ours, collate = nnscaler.get_dataset(build, str(tokenizer_dir))
    for i, row in enumerate(rows):
        used, ends = T - row["num_pad"], support.segment_ends(row)
        for tally, batch in ((before, stock_collate([stock[i]])), (after, collate([ours[i]]))):
            target = batch["target"][0].numpy()
            has = target != IGNORE
            pad = np.zeros(T, bool)
            pad[used - 1 :] = True  # the target token is padding (or the input is)
            boundary = np.zeros(T, bool)
            boundary[[e for e in ends if e < used - 1]] = True
            tally.pad_targets += int((has & pad).sum())
            tally.other_targets += int((has & boundary).sum())
            tally.real_targets += int((has & ~pad & ~boundary).sum())
            tally.ntokens += int(batch["ntokens"])
            cu = fa2_cu_seqlens(batch["net_input"]["position_ids"])
            tally.pad_attention += pad_pairs(cu, used, T)
            tally.doc_attention += attention_pairs(cu) - pad_pairs(cu, used, T)
    return before, after


def megatron_with_helpers(work: Path) -> None:
    """Megatron's dataset code in a scratch copy with ``helpers_cpp`` compiled (GPTDataset needs it)."""
    copy = work / "megatron"
    shutil.copytree(support.MEGATRON_DIR, copy, copy_function=shutil.copyfile)
    datasets_dir = copy / "megatron" / "core" / "datasets"
    for d in [copy, *[p for p in copy.rglob("*") if p.is_dir()]]:
        os.chmod(d, 0o755)
    includes = subprocess.run([sys.executable, "-m", "pybind11", "--includes"], capture_output=True, text=True, check=True).stdout.split()
    target = datasets_dir / f"helpers_cpp{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(["c++", "-O3", "-shared", "-std=c++17", "-fPIC", *includes, "helpers.cpp", "-o", str(target)], cwd=datasets_dir, check=True)
    sys.path.insert(0, str(copy))
    import megatron.core.datasets.helpers  # noqa: F401  (loads the package from the copy, compiled helpers included)

    assert Path(megatron.core.datasets.helpers.__file__).is_relative_to(copy), megatron.core.datasets.helpers.__file__


def megatron_stock(manifest, prefix, rows, T, inter_document_masking: bool) -> Tally:
    """Megatron's own GPTDataset over the export, one epoch; attention segments from its
    ``cu_seqlens`` (inter_document_masking) or, without them, the blocks ``reset_attention_mask``
    makes (a new block after every EOD: where its reset position ids restart at 0)."""
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.datasets.indexed_dataset import IndexedDataset
    from megatron.core.datasets.utils import Split
    from test_megatron import BuildTokenizer

    tally = Tally()
    tokenizer = BuildTokenizer(manifest)
    del tokenizer.pad  # LLaMA-3's tokenizer has no pad token: GPTDataset then masks none
    config = GPTDatasetConfig(
        random_seed=1234, sequence_length=T, blend=([str(prefix)], None), split="100,0,0", tokenizer=tokenizer,
        reset_position_ids=True, reset_attention_mask=True, eod_mask_loss=True, create_attention_mask=False,
        inter_document_masking=inter_document_masking,
    )
    stock = GPTDataset(IndexedDataset(str(prefix)), str(prefix), np.arange(len(rows), dtype=np.int32), None, Split.train, config)
    by_start = {tuple(r["input_ids"][:64]): r for r in rows}
    sampled, max_pad_position, short_regime_wrong = set(), 0, 0
    W = manifest["geometry"]["originalWindowTokens"]
    for j in range(len(stock)):
        sample = stock[j]
        row = by_start[tuple(sample["tokens"][:64].tolist())]
        sampled.add(row["row_id"])
        used, ends = T - row["num_pad"], support.segment_ends(row)
        has = sample["loss_mask"].numpy() > 0
        pad = np.zeros(T, bool)
        pad[used - 1 : T - 1] = True
        boundary = np.zeros(T, bool)
        boundary[[e for e in ends if e < used - 1] + [T - 1]] = True
        tally.pad_targets += int((has & pad).sum())
        tally.other_targets += int((has & boundary).sum())
        tally.real_targets += int((has & ~pad & ~boundary).sum())
        tally.ntokens += int(has.sum())
        position_ids = sample["position_ids"].numpy()
        if inter_document_masking:
            cu = sample["cu_seqlens"].numpy()
            cu = cu[: int(np.argmax(cu == T)) + 1]
        else:
            cu = np.append(np.flatnonzero(position_ids == 0), T)
        tally.pad_attention += pad_pairs(cu, used, T)
        tally.doc_attention += attention_pairs(cu) - pad_pairs(cu, used, T)
        max_pad_position = max(max_pad_position, int(position_ids[used:].max()) if row["num_pad"] else 0)
        if row["window"] == "short" and int(position_ids.max()) + 1 > W:
            short_regime_wrong += 1
    tally.notes.append(f"{len(stock)} samples per epoch for {len(rows)} rows; never sampled: row_id {sorted(set(range(len(rows))) - sampled)}")
    tally.notes.append(f"position ids on padding up to {max_pad_position}; short rows whose max(position_ids)+1 > {W}: {short_regime_wrong}")
    return tally


def megatron_figures(manifest, prefix, rows, T):
    from test_megatron import build_dataset, config_for

    after = Tally()
    ours = build_dataset(prefix, config_for(manifest, prefix))
    for i, row in enumerate(rows):
        sample = ours[i]
        used, ends = T - row["num_pad"], support.segment_ends(row)
        has = sample["loss_mask"].numpy() > 0
        after.pad_targets += int(has[used - 1 :].sum())
        after.other_targets += int(has[[e for e in ends if e < used - 1]].sum())
        after.real_targets += int(has[: used - 1].sum()) - int(has[[e for e in ends if e < used - 1]].sum())
        after.ntokens += int(has.sum())
        cu = sample["cu_seqlens"].numpy()
        cu = cu[: int(np.argmax(cu == T)) + 1]
        after.pad_attention += pad_pairs(cu, used, T)
        after.doc_attention += attention_pairs(cu) - pad_pairs(cu, used, T)
        if row["window"] == "short" and int(sample["position_ids"].max()) + 1 > manifest["geometry"]["originalWindowTokens"]:
            after.notes.append(f"row {i}: short, but max(position_ids)+1 > the original window")
    after.notes.append(f"{len(ours)} samples per epoch for {len(rows)} rows, in row_id order")
    return (
        megatron_stock(manifest, prefix, rows, T, inter_document_masking=False),
        megatron_stock(manifest, prefix, rows, T, inter_document_masking=True),
        after,
    )


def hf_figures(build, rows, T, batch_rows):
    from longmix_loader.hf import collate_hf

    before, after = Tally(), Tally()
    items = LongmixRankDataset(build, 0, 1, tensors="torch", verify=False)
    for start in range(0, len(rows), batch_rows):
        group = list(range(start, min(start + batch_rows, len(rows))))
        stacked = torch.stack([items[i]["labels"] for i in group])  # the loader's labels, already shifted
        pos = torch.stack([items[i]["position_ids"] for i in group])
        ids = torch.stack([items[i]["input_ids"] for i in group])
        for b, i in enumerate(group):
            row, used = rows[i], T - rows[i]["num_pad"]
            target = stacked[b, 1:]  # what transformers scores position t against: labels[t + 1]
            has = target != IGNORE
            right = target == ids[b, 1:]
            before.pad_targets += int(has[used - 1 :].sum())
            before.real_targets += int((has & right).sum())
            before.other_targets += int((has & ~right).sum())  # shifted twice: the token after the next
        before.ntokens += int((stacked[:, 1:] != IGNORE).sum())
        cu = fa2_cu_seqlens(pos)  # for B > 1: dense causal attention over each row
        for b, i in enumerate(group):
            used = T - rows[i]["num_pad"]
            before.pad_attention += pad_pairs(cu, b * T + used, (b + 1) * T)
        before.doc_attention += attention_pairs(cu) - sum(pad_pairs(cu, b * T + T - rows[i]["num_pad"], (b + 1) * T) for b, i in enumerate(group))
        windows = {rows[i]["window"] for i in group}
        if len(windows) > 1:  # collate_hf refuses mixed windows: one row per batch for those
            batches = [[i] for i in group]
        else:
            batches = [group]
        for part in batches:
            batch = collate_hf([items[i] for i in part])
            labels = batch["labels"][0]
            target = labels[1:]
            has = target != IGNORE
            flat_ids = batch["input_ids"][0]
            cu = fa2_cu_seqlens(batch["position_ids"])
            for b, i in enumerate(part):
                used = T - rows[i]["num_pad"]
                lo = b * T
                after.pad_targets += int(has[lo + used - 1 : lo + T - 1].sum())
                after.real_targets += int((has[lo : lo + used - 1] & (target[lo : lo + used - 1] == flat_ids[lo + 1 : lo + used])).sum())
                after.pad_attention += pad_pairs(cu, lo + used, lo + T)
            after.ntokens += int(has.sum())
            after.doc_attention += attention_pairs(cu) - sum(pad_pairs(cu, b * T + T - rows[i]["num_pad"], (b + 1) * T) for b, i in enumerate(part))
    return before, after


def loader_figures(build, rows, T):
    before, after = Tally(), Tally()
    items = LongmixRankDataset(build, 0, 1, tensors="numpy", verify=False)
    for i, row in enumerate(rows):
        used = T - row["num_pad"]
        cu = cu_seqlens_from_lens(row["doc_lens"]).tolist()
        old = cu + ([T] if used < T else [])  # the padding as one segment (the previous cu_seqlens_with_padding)
        new = collate_rows([items[i]])["cu_seqlens"].tolist()
        for tally, c in ((before, old), (after, new)):
            tally.pad_attention += pad_pairs(c, used, T)
            tally.doc_attention += attention_pairs(c) - pad_pairs(c, used, T)
            labels = items[i]["labels"]
            tally.pad_targets += int((labels[used - 1 :] != IGNORE).sum())
            tally.real_targets += int((labels != IGNORE).sum())
            tally.ntokens += int((labels != IGNORE).sum())
    return before, after


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("--hf")
    parser.add_argument("--megatron")
    parser.add_argument("--tokenizer", help="transformers tokenizer directory of the build's vocabulary (default: made from longmix's own)")
    parser.add_argument("--hf-batch-rows", type=int, default=2, help="rows per transformers batch (default 2)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    build = Path(args.build_dir)
    manifest = support.manifest_of(build)
    T = manifest["geometry"]["rowTokens"]
    rows = support.rows_by_id(build)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        hf_dir, prefix = (Path(args.hf), Path(args.megatron)) if args.hf and args.megatron else support.exports_of(build, work)
        tokenizer_dir = Path(args.tokenizer) if args.tokenizer else support.make_tokenizer_dir(manifest["tokenizer"]["name"], work / "tokenizer")
        megatron_with_helpers(work)
        eod_resets, inter_document, megatron_after = megatron_figures(manifest, prefix, rows, T)
        figures = {
            "nnScaler": nnscaler_figures(build, hf_dir, tokenizer_dir, rows, T),
            "Megatron-LM (EOD resets)": (eod_resets, megatron_after),
            "Megatron-LM (inter_document)": (inter_document, megatron_after),
            f"transformers (B={args.hf_batch_rows})": hf_figures(build, rows, T, args.hf_batch_rows),
            "longmix_loader collate_rows": loader_figures(build, rows, T),
        }
    pad_tokens = manifest["rows"]["padTokens"]
    real = sum(support.real_targets(r) for r in rows)
    print(f"{build}: {len(rows)} rows of {T} tokens, {pad_tokens} padding tokens, {real} real targets (next token inside a segment)")
    print(f"{'trainer':32} {'':6} {'pad targets':>12} {'real targets':>12} {'other targets':>13} {'loss divisor':>12} {'attn on pad':>14} {'attn on docs':>14}")
    failures = []
    for name, (before, after) in figures.items():
        for label, t in (("before", before), ("after", after)):
            print(f"{name:32} {label:6} {t.pad_targets:12,} {t.real_targets:12,} {t.other_targets:13,} {t.ntokens:12,} {t.pad_attention:14,} {t.doc_attention:14,}")
            for note in t.notes:
                print(f"{'':39} {note}")
        if after.pad_targets or after.pad_attention > pad_tokens or after.ntokens != real:
            failures.append(name)
    if args.json:
        Path(args.json).write_text(json.dumps({k: {"before": b.as_dict(), "after": a.as_dict()} for k, (b, a) in figures.items()}, indent=2))
    if failures:
        print(f"FAILED: after the adapters, {', '.join(failures)} still train on padding, normalise by other than the real targets, or spend more than one pair of attention per padding token", file=sys.stderr)
        return 1
    print("trainer figures OK: no padding targets, loss divided by the real targets, one pair of attention per padding token, after the adapters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
