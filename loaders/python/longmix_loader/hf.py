"""Collate for Hugging Face transformers causal LMs (``LlamaForCausalLM`` and the like).

:func:`collate_hf` lays the rows of a batch end to end in one sequence, ``[1, B·T]``, with
``position_ids`` and ``labels`` in transformers' **unshifted** convention (the model shifts
them; ``-100`` where no target exists: at the first token of every attention segment and at the
padding). transformers then keeps the documents apart by itself, with no ``attention_mask``: FA2
derives ``cu_seqlens`` from ``position_ids`` (batch size 1 only, hence the flattening) and
sdpa/eager/flex build a block-diagonal mask from them (transformers >= 4.54
``masking_utils.find_packed_sequence_indices``; needs ``use_cache=False``, as in training).
Padding has position 0 at every token, so each padding token is a 1-token segment: it attends to
itself only. ``flash_attn_kwargs=True`` also returns ``cu_seq_lens_q/k`` and ``max_length_q/k``
(transformers' ``DataCollatorWithFlattening`` names) with the same segments.

Items may be :class:`longmix_loader.LongmixRankDataset` items or rows of the hf export as
``datasets.load_from_disk`` returns them (default columns ``input_ids``, ``position_ids``,
``num_pad``): segments come from ``position_ids`` and ``num_pad`` alone
(:func:`longmix_loader.rows.segment_lens_from_positions`), never from a pad id.

RoPE: a LongRoPE model (``rope_type: longrope``) picks its long factors when ``max(position_ids)
+ 1 > original_max_position_embeddings``, over the whole batch; longmix makes that test agree
with each row's ``window``, so a batch must not mix windows (refused).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from .rows import IGNORE_INDEX, cu_seqlens_from_lens, cu_seqlens_with_padding, hf_labels, segment_lens_from_positions

__all__ = ["LongmixHfCollator", "collate_hf"]


def _numpy(value) -> np.ndarray:
    return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def _windows(items: list, position_ids: list, original_window_tokens: Optional[int]) -> list:
    """Each row's RoPE regime, from its ``window`` or from its positions and the original window."""
    if all("window" in item for item in items):
        return [str(item["window"]) for item in items]
    if original_window_tokens is not None:
        return ["long" if int(pos.max()) + 1 > original_window_tokens else "short" for pos in position_ids]
    return [None] * len(items)


def collate_hf(items: list, *, original_window_tokens: Optional[int] = None, flash_attn_kwargs: bool = False, ignore_index: int = IGNORE_INDEX) -> dict:
    """One packed batch for a transformers causal LM: ``input_ids``, ``position_ids``, ``labels``
    (int64 ``[1, B·T]``), plus ``cu_seq_lens_q``/``cu_seq_lens_k`` (int32, every padding token a
    segment of its own) and ``max_length_q``/``max_length_k`` when ``flash_attn_kwargs``.

    ``original_window_tokens``: the model's original context window, used to check that the rows
    share one RoPE regime when the items carry no ``window`` (hf export rows); with several such
    rows it is required. Raises ValueError when rows of both windows meet in one batch.
    """
    if not items:
        raise ValueError("collate_hf needs at least one item")
    input_ids = [_numpy(item["input_ids"]).astype(np.int64) for item in items]
    position_ids = [_numpy(item["position_ids"]).astype(np.int64) for item in items]
    windows = _windows(items, position_ids, original_window_tokens)
    if len(items) > 1 and None in windows:
        raise ValueError("collate_hf: pass original_window_tokens (or items with 'window') so that a batch of several rows can be checked for one RoPE regime")
    if len(set(windows)) > 1:
        raise ValueError(f"collate_hf: a batch holds rows of windows {sorted(set(windows))}; a LongRoPE model picks one RoPE regime per forward: batch rows of one window")
    labels, cu_parts, offset, max_length = [], [np.zeros(1, np.int32)], 0, 0
    for ids, pos, item in zip(input_ids, position_ids, items):
        row_tokens = len(ids)
        lens = segment_lens_from_positions(pos, int(_numpy(item["num_pad"])))
        cu = cu_seqlens_from_lens(lens)
        labels.append(hf_labels(ids, cu, ignore_index))
        cu_parts.append(cu_seqlens_with_padding(cu, row_tokens)[1:] + np.int32(offset))
        offset += row_tokens
        max_length = max(max_length, max(lens))
    out = {
        "input_ids": torch.from_numpy(np.concatenate(input_ids)).unsqueeze(0),
        "position_ids": torch.from_numpy(np.concatenate(position_ids)).unsqueeze(0),
        "labels": torch.from_numpy(np.concatenate(labels)).unsqueeze(0),
    }
    if flash_attn_kwargs:
        cu_seq_lens = torch.from_numpy(np.concatenate(cu_parts).astype(np.int32))
        out.update(cu_seq_lens_q=cu_seq_lens, cu_seq_lens_k=cu_seq_lens, max_length_q=max_length, max_length_k=max_length)
    return out


class LongmixHfCollator:
    """:func:`collate_hf` with fixed options, for ``transformers.Trainer(data_collator=...)``
    (with ``TrainingArguments(remove_unused_columns=False)``, so that ``num_pad`` reaches it)."""

    def __init__(self, original_window_tokens: Optional[int] = None, flash_attn_kwargs: bool = False, ignore_index: int = IGNORE_INDEX) -> None:
        self.original_window_tokens = original_window_tokens
        self.flash_attn_kwargs = flash_attn_kwargs
        self.ignore_index = ignore_index

    def __call__(self, items: list) -> dict:
        return collate_hf(items, original_window_tokens=self.original_window_tokens, flash_attn_kwargs=self.flash_attn_kwargs, ignore_index=self.ignore_index)
