"""From a stored row to a training example: labels, cu_seqlens, max_seqlen. Pure numpy.

Segments. ``doc_lens`` holds the row's *attention segments* (src/write/index.ts, layoutRow):

* document attention (every short row; long rows unless the recipe says ``full``): one segment
  per piece, ``doc_lens == piece_lens``, positions restart at 0 per piece;
* ``full`` attention (long rows under ``packing.longRowAttention: full``, LongRoPE2 Fig. 5(b)):
  one segment covering all pieces, ``doc_lens == [sum(piece_lens)]``, positions ``0..used-1``
  run on across pieces.

Labels follow the segments: ``labels[t] = input_ids[t+1]``, except ``-100`` at the last token of
every segment (so no label crosses an attention boundary), at every padding position, and at the
last position of the row (:func:`next_token_labels`; :func:`hf_labels` gives the same targets in
Hugging Face's unshifted convention).

Padding in ``cu_seqlens``: an item's ``cu_seqlens`` ends at the padding (the kernel never sees
it); where every token must be in a segment (several rows flattened into one batch), each
padding token is a segment of its own (:func:`cu_seqlens_with_padding`), never one segment of all
the padding. Under ``full`` attention the row is one continuous sequence: the model
attends across pieces, so labels continue across pieces too (the token after a piece's EOS, the
next piece's BOS, is a target). Under document attention segments are pieces, so no label crosses
a piece or document boundary.
"""

from __future__ import annotations

import numpy as np

#: Label of positions excluded from the loss (PyTorch ``CrossEntropyLoss`` default).
IGNORE_INDEX = -100


def cu_seqlens_from_lens(doc_lens) -> np.ndarray:
    """int32 ``[0, cumsum(doc_lens)]`` (padding not included: the last entry is ``rowTokens - num_pad``)."""
    cu = np.zeros(len(doc_lens) + 1, dtype=np.int32)
    if len(doc_lens):
        np.cumsum(np.asarray(doc_lens, dtype=np.int64), out=cu[1:], dtype=np.int32)
    return cu


def cu_seqlens_with_padding(cu_seqlens, row_tokens: int) -> np.ndarray:
    """``cu_seqlens`` that also covers the padding, **one token per segment**: appends
    ``used + 1, used + 2, ..., row_tokens`` (``used = cu_seqlens[-1]``), for a varlen kernel that
    needs every token of the row inside some segment. Each padding token then attends to itself
    only: ``num_pad`` (query, key) pairs of attention work for the padding, where one segment of
    all the padding would cost ``num_pad * (num_pad + 1) / 2`` (in a row with 97k padding tokens,
    many times the cost of its documents). Padding stays out of the loss (its labels are -100).
    ``max_seqlen`` is unchanged (padding segments have length 1)."""
    cu = np.asarray(cu_seqlens, dtype=np.int32)
    used = int(cu[-1])
    if used > row_tokens:
        raise ValueError(f"cu_seqlens ends at {used}, beyond the row's {row_tokens} tokens")
    return np.concatenate([cu, np.arange(used + 1, row_tokens + 1, dtype=np.int32)])


def segment_lens_from_positions(position_ids, num_pad: int) -> list:
    """The attention segments (``doc_lens``) of a row rebuilt from its ``position_ids`` and
    ``num_pad``: a segment starts at every position id 0 before the padding. Exact for every
    longmix row (positions run ``0..len-1`` in each segment; docs/format.md section 2), so the
    columns ``input_ids``, ``position_ids``, ``num_pad`` (the hf export's defaults) are enough to
    mask a row without its ``doc_lens`` or any pad id."""
    pos = np.asarray(position_ids)
    used = len(pos) - int(num_pad)
    if used <= 0 or int(pos[0]) != 0:
        raise ValueError(f"position_ids with num_pad {num_pad} hold no segment starting at position 0")
    starts = np.flatnonzero(pos[:used] == 0)
    return np.diff(np.append(starts, used)).astype(np.int64).tolist()


def attention_pairs(cu_seqlens) -> int:
    """Causal attention work of a varlen call, in (query, key) pairs: a segment of ``n`` tokens
    costs ``n * (n + 1) / 2``. Used to compare how the padding is charged (tests, checks/)."""
    n = np.diff(np.asarray(cu_seqlens, dtype=np.int64))
    return int((n * (n + 1) // 2).sum())


def hf_labels(input_ids: np.ndarray, cu_seqlens: np.ndarray, ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """int64 labels in Hugging Face's **unshifted** convention (the model shifts them:
    ``logits[t]`` is scored against ``labels[t + 1]``): ``labels = input_ids``, except
    ``ignore_index`` at the first token of every segment (so the last token of the segment before
    gets no target across the boundary) and at every padding position."""
    labels = np.asarray(input_ids, dtype=np.int64).copy()
    starts = np.asarray(cu_seqlens[:-1], dtype=np.int64)
    labels[starts] = ignore_index
    labels[int(cu_seqlens[-1]):] = ignore_index
    return labels


def next_token_labels(input_ids: np.ndarray, cu_seqlens: np.ndarray, ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """int64 labels, already shifted: ``labels[t]`` is the target of position ``t`` (see module doc)."""
    row_tokens = len(input_ids)
    labels = np.full(row_tokens, ignore_index, dtype=np.int64)
    labels[:-1] = input_ids[1:]
    ends = np.asarray(cu_seqlens[1:], dtype=np.int64) - 1
    labels[ends[ends >= 0]] = ignore_index  # last token of every segment
    labels[int(cu_seqlens[-1]):] = ignore_index  # padding
    return labels


def make_example(row: dict, row_tokens: int, ignore_index: int = IGNORE_INDEX) -> dict:
    """A training example (numpy) from a stored row (a dict as ``iter_shard_rows`` yields).

    Returns ``input_ids``, ``position_ids``, ``labels`` (int64 ``[row_tokens]``), ``cu_seqlens``
    (int32 ``[segments + 1]``, padding not included), ``max_seqlen`` (int, longest segment),
    ``window``, ``num_pad``, ``row_id``. Raises ValueError when the row breaks the format's
    length invariants.
    """
    row_id = int(row["row_id"])
    input_ids = np.asarray(row["input_ids"])
    position_ids = np.asarray(row["position_ids"])
    doc_lens = [int(n) for n in row["doc_lens"]]
    piece_lens = [int(n) for n in row.get("piece_lens", doc_lens)]
    num_pad = int(row["num_pad"])
    if input_ids.shape != (row_tokens,) or position_ids.shape != (row_tokens,):
        raise ValueError(f"row {row_id}: input_ids/position_ids have shapes {input_ids.shape}/{position_ids.shape}, expected ({row_tokens},)")
    if not doc_lens or min(doc_lens) <= 0 or sum(doc_lens) + num_pad != row_tokens:
        raise ValueError(f"row {row_id}: doc_lens {doc_lens} with num_pad {num_pad} do not fill {row_tokens} tokens")
    if sum(piece_lens) != sum(doc_lens):
        raise ValueError(f"row {row_id}: piece_lens sum {sum(piece_lens)} differs from doc_lens sum {sum(doc_lens)}")
    cu_seqlens = cu_seqlens_from_lens(doc_lens)
    input_ids = input_ids.astype(np.int64)
    return {
        "input_ids": input_ids,
        "position_ids": position_ids.astype(np.int64),
        "labels": next_token_labels(input_ids, cu_seqlens, ignore_index),
        "cu_seqlens": cu_seqlens,
        "max_seqlen": max(doc_lens),
        "window": str(row["window"]),
        "num_pad": num_pad,
        "row_id": row_id,
    }
