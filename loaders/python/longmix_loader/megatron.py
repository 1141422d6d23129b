"""Megatron-Core dataset over longmix's Megatron export (``<prefix>.bin/.idx`` +
``<prefix>.doc_lens.npy``, ``<prefix>.doc_offsets.npy``, ``<prefix>.longmix.json``;
docs/format.md section 11), a drop-in for ``GPTDataset`` in ``pretrain_gpt.py``
(NVIDIA/Megatron-LM, dataset code at commit d98e8a6): it has ``GPTDataset``'s constructor and
static methods, so ``BlendedMegatronDatasetBuilder(LongmixGPTDataset, ...)`` builds it, and yields
the keys ``GPTDataset`` yields for the same ``GPTDatasetConfig``.

Why not ``GPTDataset`` itself: it draws ``sequence_length + 1`` tokens per sample across the rows
(the last row of an epoch is never drawn), finds documents only at EOD ids (pieces of split
documents end without EOS; padding becomes a fake document with positions up to ``num_pad - 1``)
and trains on the padding unless a pad id is configured. Here sample ``i`` is row ``i`` of the
build (its ``row_id``; ``MegatronPretrainingSampler`` reads indices in order, so a global batch of
``schedule.globalBatchRows`` rows is one step of the schedule), and per sample:

* ``tokens``: int64 ``[T]``, the row as stored (padding ids included); ``labels``: int64 ``[T]``,
  ``tokens[t + 1]`` (``labels[T - 1] = 0``; always a valid id, masked where meaningless);
* ``loss_mask``: float32 ``[T]``, 0 at padding, at the last token of every attention segment and
  at the row's last position, else 1;
* ``position_ids``: int64 ``[T]``, as stored: restarting at 0 per segment, 0 on padding;
* with ``config.inter_document_masking``: ``cu_seqlens`` int32 ``[T + 1]`` (the segments, then
  every padding token a 1-token segment, then filled with ``T`` as ``GPTDataset`` pads it) and
  ``max_seqlen`` (0-d int32 tensor); :func:`packed_seq_params` turns a batch of them into
  Megatron's ``PackedSeqParams`` (``thd``);
* else with ``config.create_attention_mask``: ``attention_mask`` bool ``[1, T, T]``, True where
  attention is masked (``GPTDataset``'s convention), block-diagonal causal over the same segments.

``reset_position_ids``, ``reset_attention_mask`` and ``eod_mask_loss`` are not needed (the
segments are exact) and are ignored. Importing this module needs Megatron-Core.
"""

from __future__ import annotations

import json
import math
from typing import Optional

import numpy
import torch
from megatron.core.datasets.indexed_dataset import IndexedDataset
from megatron.core.datasets.megatron_dataset import MegatronDataset
from megatron.core.datasets.utils import Split

from .rows import cu_seqlens_from_lens, cu_seqlens_with_padding

__all__ = ["LongmixGPTDataset", "packed_seq_params", "read_sidecar"]


def read_sidecar(path_prefix: str) -> dict:
    """``<prefix>.longmix.json``; raises ValueError when it is missing or not a longmix export."""
    path = f"{path_prefix}.longmix.json"
    try:
        with open(path, encoding="utf-8") as f:
            sidecar = json.load(f)
    except FileNotFoundError as error:
        raise ValueError(f"{path}: missing; {path_prefix} is not a longmix Megatron export (pnpm pipeline export DIR --megatron PREFIX)") from error
    # Version 2 names its build by `buildSha256` where version 1 had `manifestSha256`; this loader reads neither.
    if sidecar.get("format") != "longmix-megatron" or sidecar.get("formatVersion") not in (1, 2):
        raise ValueError(f"{path}: format {sidecar.get('format')!r} version {sidecar.get('formatVersion')!r}, expected 'longmix-megatron' version 1 or 2")
    return sidecar


class LongmixGPTDataset(MegatronDataset):
    """The rows of a longmix Megatron export as GPT samples (see the module doc).

    Constructor as ``GPTDataset``'s: ``(indexed_dataset, dataset_path, indexed_indices,
    num_samples, index_split, config)``, with ``config`` a ``GPTDatasetConfig`` whose
    ``sequence_length`` equals the build's ``rowTokens``. The train split must hold every row
    (``split`` "100,0,0"): a build is one schedule. ``num_samples`` above the row count repeats the
    rows in the same order, epoch after epoch (length: whole epochs).
    """

    def __init__(self, indexed_dataset: IndexedDataset, dataset_path: Optional[str], indexed_indices: numpy.ndarray, num_samples: Optional[int], index_split: Split, config) -> None:
        super().__init__(indexed_dataset, dataset_path, indexed_indices, num_samples, index_split, config)
        self.sidecar = read_sidecar(dataset_path)
        self.row_tokens = int(self.sidecar["rowTokens"])
        rows = int(self.sidecar["rows"])
        if config.sequence_length != self.row_tokens:
            raise ValueError(f"{dataset_path}: rows of {self.row_tokens} tokens, but the config's sequence_length is {config.sequence_length}; set --seq-length {self.row_tokens}")
        expected_dtype = getattr(numpy, self.sidecar["tokenDtype"])
        if len(indexed_dataset) != rows or indexed_dataset.index.dtype is not expected_dtype:
            raise ValueError(f"{dataset_path}: .idx holds {len(indexed_dataset)} {indexed_dataset.index.dtype.__name__} sequences, the sidecar says {rows} {expected_dtype.__name__}")
        self.doc_lens = numpy.load(f"{dataset_path}.doc_lens.npy", mmap_mode="r")
        self.doc_offsets = numpy.load(f"{dataset_path}.doc_offsets.npy", mmap_mode="r")
        if self.doc_offsets.shape != (rows + 1,) or int(self.doc_offsets[-1]) != len(self.doc_lens):
            raise ValueError(f"{dataset_path}.doc_offsets.npy: shape {self.doc_offsets.shape}, expected ({rows + 1},) ending at {len(self.doc_lens)}")
        if index_split == Split.train and not numpy.array_equal(indexed_indices, numpy.arange(rows)):
            raise ValueError(f"{dataset_path}: the train split holds {len(indexed_indices)} of {rows} rows; a longmix build is one schedule: use split '100,0,0'")
        epochs = 1 if not num_samples else math.ceil(num_samples / max(1, len(indexed_indices)))
        self.length = epochs * len(indexed_indices)

    @staticmethod
    def numel_low_level_dataset(low_level_dataset: IndexedDataset) -> int:
        """One element per sequence (= row), as ``GPTDataset``."""
        return low_level_dataset.sequence_lengths.shape[0]

    @staticmethod
    def build_low_level_dataset(dataset_path: str, config) -> IndexedDataset:
        """Megatron's own ``IndexedDataset`` over ``<prefix>.bin/.idx`` (dtype from the .idx)."""
        return IndexedDataset(dataset_path, multimodal=False, mmap=config.mmap_bin_files)

    def __len__(self) -> int:
        return self.length

    def segments(self, row: int) -> list:
        """Row ``row``'s attention segment lengths (``doc_lens``), tokens."""
        return [int(n) for n in self.doc_lens[int(self.doc_offsets[row]) : int(self.doc_offsets[row + 1])]]

    def __getitem__(self, idx: Optional[int]) -> dict:
        """Sample ``idx`` = row ``indices[idx % rows]`` (see the module doc). ``idx`` None: row 0
        with a zero ``loss_mask``, as ``GPTDataset`` pads a batch."""
        row = int(self.indices[0 if idx is None else int(idx) % len(self.indices)])
        tokens = torch.from_numpy(numpy.asarray(self.dataset.get(row), dtype=numpy.int64))
        lens = self.segments(row)
        used, T = sum(lens), self.row_tokens
        ends = numpy.cumsum(lens) - 1
        loss_mask = torch.ones(T, dtype=torch.float32)
        loss_mask[torch.from_numpy(ends)] = 0.0
        loss_mask[used:] = 0.0
        loss_mask[T - 1] = 0.0
        if idx is None:
            loss_mask.zero_()
        labels = torch.zeros(T, dtype=torch.int64)
        labels[:-1] = tokens[1:]
        position_ids = torch.zeros(T, dtype=torch.int64)
        position_ids[:used] = torch.from_numpy(numpy.concatenate([numpy.arange(n) for n in lens]))
        sample = {"tokens": tokens, "labels": labels, "loss_mask": loss_mask, "position_ids": position_ids}
        cu = cu_seqlens_with_padding(cu_seqlens_from_lens(lens), T)
        if self.config.inter_document_masking:
            padded = torch.full((T + 1,), T, dtype=torch.int32)
            padded[: len(cu)] = torch.from_numpy(cu)
            sample["cu_seqlens"] = padded
            sample["max_seqlen"] = torch.tensor(max(lens), dtype=torch.int32)
        elif self.config.create_attention_mask:
            segment = torch.from_numpy(numpy.repeat(numpy.arange(len(cu) - 1), numpy.diff(cu)))
            allowed = (segment[:, None] == segment[None, :]) & torch.ones(T, T, dtype=torch.bool).tril()
            sample = {"tokens": tokens, "labels": labels, "attention_mask": (~allowed).unsqueeze(0), "loss_mask": loss_mask, "position_ids": position_ids}
        return sample


def packed_seq_params(batch: dict):
    """Megatron's ``PackedSeqParams`` (``qkv_format="thd"``) for a collated batch of
    :class:`LongmixGPTDataset` samples (``cu_seqlens`` ``[B, T + 1]``, ``max_seqlen`` ``[B]``):
    each row's ``cu_seqlens`` cut after its first ``T`` (the fill), offset by ``b·T`` and joined,
    so the ``B·T`` tokens form one packed sequence; ``total_tokens`` = ``B·T``."""
    from megatron.core.packed_seq_params import PackedSeqParams

    cu_rows = batch["cu_seqlens"]
    batch_size, width = cu_rows.shape
    row_tokens = width - 1
    parts = [torch.zeros(1, dtype=torch.int32)]
    for b in range(batch_size):
        cu = cu_rows[b]
        end = int(torch.nonzero(cu == row_tokens)[0]) + 1
        parts.append(cu[1:end] + b * row_tokens)
    cu_seqlens = torch.cat(parts).to(torch.int32)
    max_seqlen = int(torch.as_tensor(batch["max_seqlen"]).max())
    return PackedSeqParams(
        qkv_format="thd",
        cu_seqlens_q=cu_seqlens,
        cu_seqlens_kv=cu_seqlens,
        max_seqlen_q=max_seqlen,
        max_seqlen_kv=max_seqlen,
        total_tokens=batch_size * row_tokens,
    )
