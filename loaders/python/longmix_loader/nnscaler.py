"""nnScaler drop-in for the LongRoPE2 example (microsoft/nnscaler ``examples/longrope2``, commit
1585c15, MIT licence): :func:`get_dataset` has the signature and return value of the example's own
``examples/longrope2/data/dataset.py::get_dataset`` — ``(dataset, collate_fn)`` — so ``train.py``
changes one import; :class:`ScheduleSampler` is the sampler that follows the build's schedule.

What changes against the example's own collate (transformers' ``DataCollatorForLanguageModeling``
then ``labels = input_ids[..., 1:]`` padded with -100):

* ``target``: the loader's labels (:func:`longmix_loader.rows.next_token_labels`): -100 at every
  padding position, at the last token of every attention segment (no target across a document
  boundary) and at the row's last position. The example targets every next token, padding too.
* ``ntokens``: the number of real targets (``target != -100``), which nnScaler's
  ``aggregate_outputs_fn`` divides the summed loss by. The example counts ``rows × row length``.
* ``net_input``: ``input_ids`` and ``position_ids`` (int64, ``[1, B·T]``: several rows are laid
  end to end, as FlashAttention-2 in transformers derives ``cu_seqlens`` from ``position_ids``
  for batch size 1 only); no ``attention_mask``, so transformers finds the documents (and each
  padding token as a 1-token segment) from ``position_ids``. The RoPE switch of the example
  (``rope_modifier.py``: ``max(position_ids) + 1 > original_max_position_embeddings``) sees the
  row's own positions, which longmix makes agree with the row's ``window``; a micro-batch that
  mixes windows is refused (one switch would serve both).
* Order: ``dataset[i]`` is the row with ``row_id`` i. nnScaler's default sampler,
  ``DistributedSampler(shuffle=True)``, draws indices at random, which no dataset can undo; use
  :class:`ScheduleSampler` (each data-parallel rank reads its rows of the manifest's schedule, step
  by step), or ``shuffle: False`` (global batches follow the schedule, rows are dealt to ranks
  round-robin within them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import torch

from .dataset import LongmixRankDataset
from .manifest import LongmixFormatError, read_manifest
from .ranks import assign_rows, check_rank
from .rows import IGNORE_INDEX

__all__ = ["ScheduleSampler", "collate_fn", "get_dataset", "resolve_build_dir"]


def resolve_build_dir(dataset_path: "str | os.PathLike[str]") -> Path:
    """The build directory behind ``dataset_path``: the build itself (it has ``manifest.json``)
    or its hf export (``<build>/hf``, as ``build-mix --format hf`` writes and the manifest lists
    under ``exports.hf``), which is what the example's ``--dataset_path`` named before."""
    path = Path(dataset_path)
    if (path / "manifest.json").is_file():
        return path
    parent = path.resolve().parent
    if (path / "state.json").is_file() and (parent / "manifest.json").is_file():
        exports = read_manifest(parent).get("exports") or {}
        if exports.get("hf") == path.resolve().name:
            return parent
    raise FileNotFoundError(
        f"{path}: expected a longmix build directory (with manifest.json) or its hf export <build>/hf; "
        "a standalone hf export carries no schedule: give the build it was exported from"
    )


def _check_tokenizer(tokenizer_name_or_path: str, manifest: dict) -> None:
    """Refuses a tokenizer whose BOS id is not the build's (a build for another vocabulary)."""
    from transformers import AutoTokenizer  # as the example's get_tokenizer (transformers_utils/tokenizer.py)

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_name_or_path, trust_remote_code=True)
    expected = manifest["tokenizer"]
    if tokenizer.bos_token_id != expected["bosId"]:
        raise ValueError(
            f"tokenizer {tokenizer_name_or_path!r} has BOS id {tokenizer.bos_token_id}, but the build was tokenized with "
            f"{expected['name']} (BOS {expected['bosId']}, EOS {expected['eosId']}); train with a model of that vocabulary"
        )


def get_dataset(dataset_path, tokenizer_name_or_path: Optional[str] = None, *, verify: bool = True):
    """``(dataset, collate_fn)`` for nnScaler's trainer, as the example's ``get_dataset``.

    ``dataset_path``: a longmix build directory or its hf export ``<build>/hf``
    (:func:`resolve_build_dir`). ``tokenizer_name_or_path``: the model's tokenizer (the example
    passes ``--model_id``), loaded with transformers' ``AutoTokenizer`` only to check that its BOS
    id is the build's; None skips the check. ``verify``: check every shard's size and SHA-256
    against the manifest first.

    ``dataset``: every row of the build, ``dataset[i]`` = the row with ``row_id`` i, as
    :class:`longmix_loader.LongmixRankDataset` items (torch tensors). ``collate_fn``:
    :func:`collate_fn`.
    """
    build_dir = resolve_build_dir(dataset_path)
    dataset = LongmixRankDataset(build_dir, 0, 1, verify=verify, tensors="torch")
    if dataset.row_ids != list(range(len(dataset))):
        raise LongmixFormatError(f"{build_dir}: row ids are not 0..{len(dataset) - 1}")
    if tokenizer_name_or_path is not None:
        _check_tokenizer(tokenizer_name_or_path, dataset.manifest)
    return dataset, collate_fn


def collate_fn(samples: list) -> dict:
    """nnScaler's batch of ``samples`` (items of :func:`get_dataset`'s dataset): ``nsentences``,
    ``ntokens`` (real targets), ``net_input`` (``input_ids``, ``position_ids``: int64
    ``[1, B·T]``) and ``target`` (int64 ``[1, B·T]``, -100 where no target exists). Empty input
    gives ``{}``, as the example. Raises ValueError when the rows are of different windows."""
    if len(samples) == 0:
        return {}
    windows = sorted({sample["window"] for sample in samples})
    if len(windows) > 1:
        raise ValueError(
            f"a micro-batch holds rows of windows {windows}: the LongRoPE2 RoPE switch (max(position_ids) + 1 > original window) "
            "would apply one regime to all of them; use micro-batch size 1"
        )
    input_ids = torch.cat([torch.as_tensor(s["input_ids"], dtype=torch.long) for s in samples]).unsqueeze(0)
    position_ids = torch.cat([torch.as_tensor(s["position_ids"], dtype=torch.long) for s in samples]).unsqueeze(0)
    target = torch.cat([torch.as_tensor(s["labels"], dtype=torch.long) for s in samples]).unsqueeze(0).contiguous()
    return {
        "nsentences": torch.tensor(len(samples), dtype=torch.long),
        "ntokens": (target != IGNORE_INDEX).sum().to(torch.long),
        "net_input": {"input_ids": input_ids, "position_ids": position_ids},
        "target": target,
    }


class ScheduleSampler(torch.utils.data.Sampler):
    """The rows of one data-parallel rank in the manifest's schedule order, with the constructor of
    ``torch.utils.data.DistributedSampler`` (what nnScaler's ``TrainerArgs.create_sampler`` calls
    with ``dataset``, ``num_replicas`` = data-parallel size, ``rank`` = data-parallel rank).

    Rank ``r`` of ``W`` reads, step after step, the ``G / W`` rows of each global batch of ``G =
    schedule.globalBatchRows`` rows that the schedule gives it (:func:`longmix_loader.ranks.assign_rows`);
    with micro-batch ``b`` and gradient accumulation ``A`` such that ``W·b·A = G``, every optimizer
    step is one step of the schedule. Every epoch repeats the same order (the schedule is one
    epoch; ``set_epoch`` is accepted and changes nothing). ``shuffle=True`` is refused: the schedule
    is already a seeded shuffle with the mix's ratio in every global batch.
    """

    def __init__(self, dataset, num_replicas: Optional[int] = None, rank: Optional[int] = None, shuffle: bool = False, seed: int = 0, drop_last: bool = False) -> None:
        if shuffle:
            raise ValueError("ScheduleSampler follows the build's schedule; remove 'shuffle': True from the sampler's arguments")
        manifest = getattr(dataset, "manifest", None)
        if not isinstance(manifest, dict):
            raise TypeError("ScheduleSampler needs the dataset of longmix_loader.nnscaler.get_dataset (it carries the build's manifest)")
        if num_replicas is None:
            num_replicas = torch.distributed.get_world_size() if torch.distributed.is_available() and torch.distributed.is_initialized() else 1
        if rank is None:
            rank = torch.distributed.get_rank() if torch.distributed.is_available() and torch.distributed.is_initialized() else 0
        check_rank(rank, num_replicas)
        self.num_replicas, self.rank, self.epoch = num_replicas, rank, 0
        self.indices = assign_rows(manifest, range(len(dataset)), rank, num_replicas)

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Kept for ``DistributedSampler`` compatibility; every epoch has the same order."""
        self.epoch = epoch
