"""From a stored row to a training example: labels, cu_seqlens, max_seqlen. Pure numpy.

Segments. ``doc_lens`` holds the row's *attention segments* (src/write/index.ts, layoutRow):

* document attention (every short row; long rows unless the recipe says ``full``): one segment
  per piece, ``doc_lens == piece_lens``, positions restart at 0 per piece;
* ``full`` attention (long rows under ``packing.longRowAttention: full``, LongRoPE2 Fig. 5(b)):
  one segment covering all pieces, ``doc_lens == [sum(piece_lens)]``, positions ``0..used-1``
  run on across pieces.

Labels follow the segments: ``labels[t] = input_ids[t+1]``, except ``-100`` at the last token of
every segment (so no label crosses an attention boundary), at every padding position, and at the
last position of the row. Under ``full`` attention the row is one continuous sequence: the model
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
    """``cu_seqlens`` that also covers the padding: appends ``row_tokens`` (the padding as one
    segment of its own) when the row has padding, for a varlen kernel that needs every token of
    the row inside some segment. The padding must still be kept out of the loss (its labels are
    already -100)."""
    cu = np.asarray(cu_seqlens, dtype=np.int32)
    return cu if int(cu[-1]) == row_tokens else np.append(cu, np.int32(row_tokens))


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
