"""``LongmixRankDataset``: a map-style dataset over one data-parallel rank's rows of a build.

With PyTorch installed it subclasses ``torch.utils.data.Dataset`` and returns tensors; without
it, it is a plain Python sequence returning numpy arrays. Items: see :func:`LongmixRankDataset.__getitem__`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from . import ranks
from .manifest import LongmixFormatError, read_manifest, verify_build_files
from .rows import IGNORE_INDEX, cu_seqlens_with_padding, make_example
from .shards import read_shard_batches, read_shard_row_ids, row_from_columns

try:  # torch is optional
    import torch
    from torch.utils.data import Dataset as _DatasetBase
except ImportError:  # pragma: no cover - exercised by the no-torch test in a subprocess
    torch = None
    _DatasetBase = object

#: Keys whose values are token arrays (converted to tensors with torch).
_ARRAY_KEYS = ("input_ids", "position_ids", "labels", "cu_seqlens")


class LongmixRankDataset(_DatasetBase):
    """The rows of one rank, in the order the rank trains on them: the manifest's schedule
    (:func:`longmix_loader.ranks.assign_rows`; with ``world_size`` 1, every row in ``row_id`` order).

    Args:
        build_dir: a finished build (a directory with ``manifest.json``).
        rank, world_size: this process's data-parallel rank and the number of ranks.
        verify: check every listed shard's size and SHA-256 against the manifest first (default).
        tensors: ``"auto"`` (torch if installed, else numpy), ``"torch"`` or ``"numpy"``.
        max_open_shards: shards kept memory-mapped at once (least recently used are dropped).
        assign: override of :func:`longmix_loader.ranks.assign_rows` (same signature).

    Only the shards the manifest lists are opened. Construction reads the ``row_id`` column of
    every shard to find each row; items are then read on demand.
    """

    def __init__(
        self,
        build_dir: "str | os.PathLike[str]",
        rank: int = 0,
        world_size: int = 1,
        *,
        verify: bool = True,
        tensors: str = "auto",
        max_open_shards: int = 4,
        assign: Optional[Callable[[dict, list, int, int], list]] = None,
        ignore_index: int = IGNORE_INDEX,
    ) -> None:
        ranks.check_rank(rank, world_size)
        if tensors == "auto":
            tensors = "torch" if torch is not None else "numpy"
        if tensors not in ("torch", "numpy"):
            raise ValueError(f"tensors must be 'auto', 'torch' or 'numpy', got {tensors!r}")
        if tensors == "torch" and torch is None:
            raise ImportError("tensors='torch' needs PyTorch, which is not installed")
        if max_open_shards < 1:
            raise ValueError("max_open_shards must be >= 1")
        self.build_dir = Path(build_dir)
        self.rank = rank
        self.world_size = world_size
        self.tensors = tensors
        self.ignore_index = ignore_index
        self.max_open_shards = max_open_shards
        self.manifest = read_manifest(self.build_dir)
        self.row_tokens = int(self.manifest["geometry"]["rowTokens"])
        self.shard_files = [shard["file"] for shard in self.manifest["shards"]]
        if verify:
            verify_build_files(self.build_dir, self.manifest)

        recipe_hash = self.manifest.get("recipe", {}).get("hash")
        location = {}  # row_id -> (shard index, row index in the shard)
        for s, name in enumerate(self.shard_files):
            path = self.build_dir / name
            meta, row_ids = read_shard_row_ids(path, self.row_tokens)
            if recipe_hash is not None and meta.get("recipeHash") not in (None, recipe_hash):
                raise LongmixFormatError(f"{path}: recipeHash {meta.get('recipeHash')} differs from the manifest's {recipe_hash}: shard from another build")
            expected = self.manifest["shards"][s].get("rows")
            if expected is not None and expected != len(row_ids):
                raise LongmixFormatError(f"{path}: {len(row_ids)} rows, manifest says {expected}")
            for k, row_id in enumerate(row_ids):
                if row_id in location:
                    raise LongmixFormatError(f"{path}: row_id {row_id} also in {self.shard_files[location[row_id][0]]}")
                location[row_id] = (s, k)
        total = self.manifest.get("rows", {}).get("total")
        if total is not None and total != len(location):
            raise LongmixFormatError(f"{self.build_dir}: shards hold {len(location)} rows, manifest rows.total is {total}")

        self.row_ids = list((assign or ranks.assign_rows)(self.manifest, sorted(location), rank, world_size))
        self._locations = [location[r] for r in self.row_ids]
        self._shards: "OrderedDict[int, tuple]" = OrderedDict()

    # -- sequence protocol -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.row_ids)

    def __getitem__(self, index: int) -> dict:
        """Item ``index`` of this rank (row ``self.row_ids[index]``), a dict:

        ``input_ids``, ``position_ids``, ``labels``: int64 ``[rowTokens]``; ``labels[t]`` is the
        target of position ``t`` (already shifted), -100 at segment ends, padding and the last
        position. ``cu_seqlens``: int32 ``[0, cumsum(doc_lens)]`` (padding not included).
        ``max_seqlen``, ``num_pad``, ``row_id``: int. ``window``: ``"short"`` or ``"long"``.
        Arrays are torch tensors or numpy arrays (``tensors``).
        """
        example = make_example(self.raw_row(index), self.row_tokens, self.ignore_index)
        if self.tensors == "torch":
            for key in _ARRAY_KEYS:
                example[key] = torch.from_numpy(example[key])
        return example

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def raw_row(self, index: int) -> dict:
        """The stored row behind item ``index``: every shard column, as ``iter_shard_rows`` yields it."""
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"index must be an integer, got {type(index).__name__}")
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for rank {self.rank} with {len(self)} rows")
        shard, k = self._locations[index]
        batches, starts = self._open(shard)
        b = int(np.searchsorted(starts, k, side="right")) - 1
        row = row_from_columns(batches[b], k - starts[b])
        if row["row_id"] != self.row_ids[index]:
            raise LongmixFormatError(f"{self.build_dir / self.shard_files[shard]}: row {k} has row_id {row['row_id']}, expected {self.row_ids[index]}")
        return row

    # -- shards ------------------------------------------------------------------------------

    def _open(self, shard: int) -> tuple:
        """``(batch columns, first row of each batch)`` of a shard, memory-mapped, LRU-cached."""
        cached = self._shards.get(shard)
        if cached is not None:
            self._shards.move_to_end(shard)
            return cached
        batches = read_shard_batches(self.build_dir / self.shard_files[shard], self.row_tokens)
        sizes = [len(b["row_id"]) for b in batches]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes else np.zeros(0, np.int64)
        self._shards[shard] = (batches, starts)
        while len(self._shards) > self.max_open_shards:
            self._shards.popitem(last=False)
        return self._shards[shard]

    def __getstate__(self) -> dict:
        # Mapped shards are not pickled (DataLoader workers under spawn); they reopen on demand.
        state = self.__dict__.copy()
        state["_shards"] = OrderedDict()
        return state

    def __repr__(self) -> str:
        return f"LongmixRankDataset({str(self.build_dir)!r}, rank={self.rank}, world_size={self.world_size}, rows={len(self)})"


def collate_rows(items: list) -> dict:
    """Batches items for a varlen (FlashAttention-style) kernel over the flattened batch.

    ``input_ids``, ``position_ids``, ``labels``: stacked ``[B, rowTokens]``. ``cu_seqlens``:
    int32 over the ``B * rowTokens`` flattened tokens, every padding token a segment of its own
    (:func:`longmix_loader.rows.cu_seqlens_with_padding`: every token is in some segment, and the
    padding costs one (query, key) pair per token; its labels are -100). ``max_seqlen``: the
    longest segment. ``window``: list; ``num_pad``, ``row_id``: int64 ``[B]``.
    Works on torch and numpy items alike.
    """
    if not items:
        raise ValueError("collate_rows needs at least one item")
    use_torch = torch is not None and isinstance(items[0]["input_ids"], torch.Tensor)
    to_np = (lambda x: x.numpy()) if use_torch else np.asarray
    row_tokens = int(items[0]["input_ids"].shape[0])
    cu_parts = [np.zeros(1, dtype=np.int32)]
    max_seqlen = 0
    for b, item in enumerate(items):
        cu = cu_seqlens_with_padding(to_np(item["cu_seqlens"]), row_tokens)
        max_seqlen = max(max_seqlen, int(np.diff(cu).max()))
        cu_parts.append(cu[1:] + np.int32(b * row_tokens))
    out = {key: np.stack([to_np(item[key]) for item in items]) for key in ("input_ids", "position_ids", "labels")}
    out["cu_seqlens"] = np.concatenate(cu_parts).astype(np.int32)
    out["num_pad"] = np.array([item["num_pad"] for item in items], dtype=np.int64)
    out["row_id"] = np.array([item["row_id"] for item in items], dtype=np.int64)
    if use_torch:
        out = {key: torch.from_numpy(value) for key, value in out.items()}
    out["max_seqlen"] = max_seqlen
    out["window"] = [item["window"] for item in items]
    return out
