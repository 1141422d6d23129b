"""Which rows a data-parallel rank reads. **The one place that decides it.**

Rule: the manifest's ``schedule`` (see docs/format.md). Global position ``p`` (= ``row_id``) is
in step ``p // G`` (``G = schedule["globalBatchRows"]``); with world size ``W`` it belongs to rank
``(p % G) // (G // W)``. A rank reads its rows in increasing position, i.e. step by step, so every
rank reads the same number of rows and every global batch carries the mix's ratio of short and
long rows. ``W`` need not be the world size the build was made for: any ``W`` that divides ``G``
re-splits the same global order without rewriting shards. A manifest without a schedule (from
a longmix before the schedule existed) is refused: rebuild it.
"""

from __future__ import annotations

from typing import Iterable


def check_rank(rank: int, world_size: int) -> None:
    """Raises ValueError unless ``0 <= rank < world_size``."""
    if not isinstance(world_size, int) or isinstance(world_size, bool) or world_size < 1:
        raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
    if not isinstance(rank, int) or isinstance(rank, bool) or not 0 <= rank < world_size:
        raise ValueError(f"rank must be an integer in [0, {world_size}), got {rank!r}")


def global_batch_rows(manifest: dict) -> int:
    """``schedule.globalBatchRows`` of a manifest (rows per training step over all ranks).

    Raises ValueError when the manifest has no schedule.
    """
    schedule = manifest.get("schedule")
    if not isinstance(schedule, dict) or not isinstance(schedule.get("globalBatchRows"), int) or schedule["globalBatchRows"] < 1:
        raise ValueError("manifest.json has no schedule.globalBatchRows: the build predates the schedule (docs/format.md section 5); rebuild it with this longmix")
    return schedule["globalBatchRows"]


def assign_rows(manifest: dict, row_ids: Iterable[int], rank: int, world_size: int) -> list:
    """Row ids of ``rank``, in the order the rank reads them.

    ``row_ids``: every row id present in the build's shards.
    Raises ValueError when ``world_size`` does not divide the schedule's global batch, or the
    manifest has no schedule.
    """
    check_rank(rank, world_size)
    g = global_batch_rows(manifest)
    if g % world_size != 0:
        raise ValueError(f"world_size {world_size} does not divide the global batch of {g} rows; use a divisor of {g}")
    per_rank = g // world_size
    return sorted(r for r in row_ids if (r % g) // per_rank == rank)
