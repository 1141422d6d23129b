"""Python loader for longmix builds (Arrow IPC stream shards + manifest.json).

Pure Python on pyarrow and numpy; PyTorch optional. See loaders/python/README.md.

Trainer adapters, imported on their own (they need the trainer's packages):
``longmix_loader.nnscaler`` (nnScaler's LongRoPE2 example; torch), ``longmix_loader.hf``
(transformers causal LMs; torch), ``longmix_loader.megatron`` (Megatron-Core).
"""

from .dataset import LongmixRankDataset, collate_rows
from .manifest import LongmixFormatError, ShardVerificationError, read_manifest, shard_paths, verify_build_files, verify_shard
from .ranks import assign_rows, global_batch_rows
from .rows import (
    IGNORE_INDEX,
    attention_pairs,
    cu_seqlens_from_lens,
    cu_seqlens_with_padding,
    hf_labels,
    make_example,
    next_token_labels,
    segment_lens_from_positions,
)
from .shards import iter_shard_rows, shard_metadata

__all__ = [
    "IGNORE_INDEX",
    "LongmixFormatError",
    "LongmixRankDataset",
    "ShardVerificationError",
    "assign_rows",
    "attention_pairs",
    "collate_rows",
    "cu_seqlens_from_lens",
    "cu_seqlens_with_padding",
    "global_batch_rows",
    "hf_labels",
    "iter_shard_rows",
    "make_example",
    "next_token_labels",
    "read_manifest",
    "segment_lens_from_positions",
    "shard_metadata",
    "shard_paths",
    "verify_build_files",
    "verify_shard",
]
