"""Python loader for longmix builds (Arrow IPC stream shards + manifest.json).

Pure Python on pyarrow and numpy; PyTorch optional. See loaders/python/README.md.
"""

from .dataset import LongmixRankDataset, collate_rows
from .manifest import LongmixFormatError, ShardVerificationError, read_manifest, shard_paths, verify_build_files, verify_shard
from .ranks import assign_rows
from .rows import IGNORE_INDEX, cu_seqlens_from_lens, cu_seqlens_with_padding, make_example, next_token_labels
from .shards import iter_shard_rows, shard_metadata

__all__ = [
    "IGNORE_INDEX",
    "LongmixFormatError",
    "LongmixRankDataset",
    "ShardVerificationError",
    "assign_rows",
    "collate_rows",
    "cu_seqlens_from_lens",
    "cu_seqlens_with_padding",
    "iter_shard_rows",
    "make_example",
    "next_token_labels",
    "read_manifest",
    "shard_metadata",
    "shard_paths",
    "verify_build_files",
    "verify_shard",
]
