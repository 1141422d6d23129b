"""Megatron-Core on a build's Megatron export, with Megatron's own dataset code
(../shared/consumers/megatron, commit d98e8a6): its ``IndexedDataset`` reads the tokens, its
``GPTDatasetConfig`` configures ``longmix_loader.megatron.LongmixGPTDataset`` (built the way
``BlendedMegatronDatasetBuilder`` builds a ``GPTDataset``), its ``PackedSeqParams`` takes the
packed-sequence boundaries.
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from support import manifest_of, real_targets, rows_by_id, segment_ends, use_megatron

use_megatron()
from megatron.core.datasets.gpt_dataset import GPTDatasetConfig  # noqa: E402
from megatron.core.datasets.indexed_dataset import DType, IndexedDataset  # noqa: E402
from megatron.core.datasets.utils import Split  # noqa: E402
from megatron.core.packed_seq_params import PackedSeqParams  # noqa: E402
from megatron.core.tokenizers import MegatronTokenizerBase  # noqa: E402

from longmix_loader.megatron import LongmixGPTDataset, packed_seq_params  # noqa: E402


class BuildTokenizer(MegatronTokenizerBase):
    """The build's special ids as a Megatron tokenizer (``GPTDatasetConfig`` needs one; nothing is
    tokenized here). ``unique_identifiers`` is what Megatron's dataset cache key serializes."""

    def __init__(self, manifest: dict) -> None:
        t = manifest["tokenizer"]
        super().__init__("", {"eod": t["eosId"], "pad": t["padId"], "bos": t["bosId"], "unique_identifiers": {"class": "BuildTokenizer", "name": t["name"]}})
        self._vocab_size = t["vocabSize"]

    @property
    def vocab_size(self):
        return self._vocab_size

    def tokenize(self, text):
        raise NotImplementedError

    def detokenize(self, ids):
        raise NotImplementedError

    def vocab(self):
        raise NotImplementedError

    def apply_chat_template(self, *args):
        raise NotImplementedError


def config_for(manifest: dict, prefix, **overrides) -> GPTDatasetConfig:
    args = dict(
        random_seed=1234,
        sequence_length=manifest["geometry"]["rowTokens"],
        blend=([str(prefix)], None),
        split="100,0,0",
        tokenizer=BuildTokenizer(manifest),
        reset_position_ids=False,
        reset_attention_mask=False,
        eod_mask_loss=False,
        create_attention_mask=False,
        inter_document_masking=True,
    )
    args.update(overrides)
    return GPTDatasetConfig(**args)


def build_dataset(prefix, config, num_samples=None, split=Split.train, indices=None) -> LongmixGPTDataset:
    """As ``BlendedMegatronDatasetBuilder`` builds a mid-level dataset: the class's own low-level
    dataset, the split's indices, then the constructor."""
    low = LongmixGPTDataset.build_low_level_dataset(str(prefix), config)
    n = LongmixGPTDataset.numel_low_level_dataset(low)
    return LongmixGPTDataset(low, str(prefix), np.arange(n, dtype=np.int32) if indices is None else indices, num_samples, split, config)


def test_megatrons_indexed_dataset_reads_the_tokens_in_row_order_with_its_dtype_rule(build, exports):
    _, prefix = exports
    manifest = manifest_of(build)
    rows = rows_by_id(build)
    tokens = IndexedDataset(str(prefix))
    assert tokens.index.dtype is DType.optimal_dtype(manifest["tokenizer"]["vocabSize"])
    assert len(tokens) == len(rows) and tokens.document_indices.tolist() == list(range(len(rows) + 1))
    for row in rows:
        assert tokens[row["row_id"]].tolist() == row["input_ids"]
    # Only the tokens answer to a `*.bin` (or `*.idx`) glob of the export directory.
    folder = os.path.dirname(str(prefix))
    assert sorted(glob.glob(os.path.join(folder, "*.bin")) + glob.glob(os.path.join(folder, "*.idx"))) == [f"{prefix}.bin", f"{prefix}.idx"]
    lens, offsets = np.load(f"{prefix}.doc_lens.npy"), np.load(f"{prefix}.doc_offsets.npy")
    assert [lens[offsets[i] : offsets[i + 1]].tolist() for i in range(len(rows))] == [row["doc_lens"] for row in rows]
    assert json.loads(open(f"{prefix}.longmix.json").read())["schedule"]["globalBatchRows"] == manifest["schedule"]["globalBatchRows"]


def test_every_sample_is_its_row_with_masks_positions_and_packed_boundaries(build, exports):
    _, prefix = exports
    manifest = manifest_of(build)
    T = manifest["geometry"]["rowTokens"]
    rows = rows_by_id(build)
    dataset = build_dataset(prefix, config_for(manifest, prefix))
    assert len(dataset) == len(rows)
    for i, row in enumerate(rows):  # sample i is row i: the schedule's order
        sample = dataset[i]
        assert set(sample) == {"tokens", "labels", "loss_mask", "position_ids", "cu_seqlens", "max_seqlen"}  # GPTDataset's keys under inter_document_masking
        used = T - row["num_pad"]
        ends = segment_ends(row)
        assert sample["tokens"].tolist() == row["input_ids"] and sample["tokens"].dtype == torch.int64
        assert sample["labels"][: T - 1].tolist() == row["input_ids"][1:] and sample["labels"][T - 1] == 0
        assert sample["loss_mask"].dtype == torch.float32
        assert sample["loss_mask"].tolist() == [0.0 if (t >= used or t in ends or t == T - 1) else 1.0 for t in range(T)]
        assert int(sample["loss_mask"].sum()) == real_targets(row)
        assert sample["position_ids"].tolist() == row["position_ids"]  # restart per segment, 0 on padding
        cu = [0]
        for n in row["doc_lens"]:
            cu.append(cu[-1] + n)
        cu += list(range(used + 1, T + 1))  # each padding token a segment of its own
        assert sample["cu_seqlens"].tolist() == cu + [T] * (T + 1 - len(cu)) and sample["cu_seqlens"].dtype == torch.int32
        assert int(sample["max_seqlen"]) == max(row["doc_lens"])
    none = dataset[None]  # GPTDataset's batch-padding sample: no loss at all
    assert none["loss_mask"].sum() == 0 and none["tokens"].tolist() == rows[0]["input_ids"]


def test_packed_seq_params_of_a_collated_batch(build, exports):
    _, prefix = exports
    manifest = manifest_of(build)
    T = manifest["geometry"]["rowTokens"]
    rows = rows_by_id(build)
    dataset = build_dataset(prefix, config_for(manifest, prefix))
    size = min(2, len(rows))
    batch = next(iter(DataLoader(dataset, batch_size=size, shuffle=False)))  # Megatron's sampler reads indices in order
    params = packed_seq_params(batch)
    assert isinstance(params, PackedSeqParams) and params.qkv_format == "thd"
    expected = [0]
    for b in range(size):
        for n in rows[b]["doc_lens"] + [1] * rows[b]["num_pad"]:
            expected.append(expected[-1] + n)
    assert params.cu_seqlens_q.tolist() == expected and params.cu_seqlens_kv.tolist() == expected
    assert params.max_seqlen_q == max(max(rows[b]["doc_lens"]) for b in range(size))
    # Megatron's own per-token segment index (PackedSeqParams.__post_init__): every padding token alone.
    seq_idx = params.seq_idx[0]
    assert len(seq_idx) == size * T
    for b in range(size):
        pad = seq_idx[b * T + T - rows[b]["num_pad"] : (b + 1) * T]
        assert len(set(pad.tolist())) == rows[b]["num_pad"]


def test_epochs_repeat_every_row_once_in_order_and_the_train_split_is_whole(build, exports):
    _, prefix = exports
    manifest = manifest_of(build)
    n = manifest["rows"]["total"]
    dataset = build_dataset(prefix, config_for(manifest, prefix), num_samples=2 * n + 1)
    assert len(dataset) == 3 * n
    first = [dataset[i]["tokens"][:8].tolist() for i in range(n)]
    for epoch in (1, 2):
        assert [dataset[epoch * n + i]["tokens"][:8].tolist() for i in range(n)] == first
    with pytest.raises(ValueError, match="use split '100,0,0'"):
        build_dataset(prefix, config_for(manifest, prefix), indices=np.arange(max(0, n - 1), dtype=np.int32))
    with pytest.raises(ValueError, match="set --seq-length"):
        build_dataset(prefix, config_for(manifest, prefix, sequence_length=manifest["geometry"]["rowTokens"] + 1))


def test_attention_mask_when_asked_for_one(build, exports):
    _, prefix = exports
    manifest = manifest_of(build)
    T = manifest["geometry"]["rowTokens"]
    if T > 8192:
        pytest.skip(f"a [1, {T}, {T}] mask per row is too large to build in a test; the sample build's rows are 4,096 tokens")
    rows = rows_by_id(build)
    dataset = build_dataset(prefix, config_for(manifest, prefix, inter_document_masking=False, create_attention_mask=True))
    row = max(rows, key=lambda r: (len(r["doc_lens"]) > 1 and r["num_pad"] > 0, len(r["doc_lens"])))
    sample = dataset[row["row_id"]]
    assert set(sample) == {"tokens", "labels", "attention_mask", "loss_mask", "position_ids"}
    mask = sample["attention_mask"][0]  # True = masked, as GPTDataset
    segment = np.repeat(np.arange(len(row["doc_lens"]) + row["num_pad"]), row["doc_lens"] + [1] * row["num_pad"])
    for q in sorted({0, 1, row["doc_lens"][0] - 1, row["doc_lens"][0], T - row["num_pad"], T - 1}):
        allowed = [(segment[k] == segment[q] and k <= q) for k in range(T)]
        assert (~mask[q]).tolist() == allowed


def test_a_phi3_export_is_uint16_and_megatrons_reader_agrees(phi3_build):
    manifest = manifest_of(phi3_build)
    prefix = phi3_build / "megatron" / manifest["recipe"]["name"]
    rows = rows_by_id(phi3_build)
    tokens = IndexedDataset(str(prefix))
    assert manifest["tokenizer"]["vocabSize"] == 32064 and tokens.index.dtype is np.uint16 is DType.optimal_dtype(32064)
    assert [tokens[i].tolist() for i in range(len(rows))] == [row["input_ids"] for row in rows]
    # Megatron itself cannot tell Phi-3's padding from its EOS (same id) and says so ...
    with pytest.warns(UserWarning, match="pad token id in the tokenizer collides"):
        dataset = build_dataset(prefix, config_for(manifest, prefix))
    for i, row in enumerate(rows):
        sample = dataset[i]
        assert sample["tokens"].tolist() == row["input_ids"]
        # ... the dataset masks the padding by count, and EOS keeps its place as a document end.
        assert int(sample["loss_mask"].sum()) == real_targets(row)
