"""Reading shards: Arrow IPC **stream** files (``pyarrow.ipc.open_stream``; ``open_file``
rejects them). Files are memory-mapped, so reading one column (``row_id``) does not read the
token columns.
"""

from __future__ import annotations

import json
import os
from typing import Iterator

import numpy as np
import pyarrow as pa

from .manifest import LongmixFormatError

#: Schema-level metadata key holding the shard's JSON config (src/write/schema.ts).
SHARD_METADATA_KEY = b"longmix"
#: Columns this loader needs; other columns are passed through untouched.
REQUIRED_COLUMNS = ("input_ids", "position_ids", "doc_lens", "window", "num_pad", "row_id")


def shard_metadata(schema: pa.Schema) -> dict:
    """The JSON object stored under the ``longmix`` schema metadata key ({} if absent)."""
    raw = (schema.metadata or {}).get(SHARD_METADATA_KEY)
    return json.loads(raw) if raw else {}


def check_schema(schema: pa.Schema, path: "str | os.PathLike[str]", row_tokens: "int | None" = None) -> None:
    """Raises LongmixFormatError unless the shard has the required columns of the right shape."""
    for name in REQUIRED_COLUMNS:
        if schema.get_field_index(name) < 0:
            raise LongmixFormatError(f"{path}: shard has no column {name!r}")
    for name in ("input_ids", "position_ids"):
        field_type = schema.field(name).type
        if not pa.types.is_fixed_size_list(field_type) or not pa.types.is_int32(field_type.value_type):
            raise LongmixFormatError(f"{path}: column {name!r} is {field_type}, expected fixed_size_list<int32>")
        if row_tokens is not None and field_type.list_size != row_tokens:
            raise LongmixFormatError(f"{path}: column {name!r} holds {field_type.list_size} tokens per row, manifest rowTokens is {row_tokens}")


def batch_columns(batch: pa.RecordBatch) -> dict:
    """One record batch as plain columns.

    Fixed-size list columns become read-only numpy arrays ``[rows, list_size]`` (zero-copy views
    of the memory-mapped file where possible); every other column becomes a Python list
    (``to_pylist``). A shard without ``piece_lens`` (older builds) gets it from ``doc_lens``.
    """
    columns = {}
    for name, column in zip(batch.schema.names, batch.columns):
        if pa.types.is_fixed_size_list(column.type):
            values = column.flatten().to_numpy(zero_copy_only=False)
            columns[name] = values.reshape(batch.num_rows, column.type.list_size)
        else:
            columns[name] = column.to_pylist()
    if "piece_lens" not in columns and "doc_lens" in columns:
        columns["piece_lens"] = columns["doc_lens"]
    return columns


def row_from_columns(columns: dict, i: int) -> dict:
    """Row ``i`` of :func:`batch_columns`' output as a dict; token arrays are copied (int32)."""
    return {name: (np.array(values[i], dtype=values.dtype, copy=True) if isinstance(values, np.ndarray) else values[i]) for name, values in columns.items()}


def iter_shard_rows(path: "str | os.PathLike[str]") -> Iterator[dict]:
    """Yields a shard's rows in file order, one dict per row with the shard's own columns.

    ``input_ids`` and ``position_ids`` are int32 numpy arrays ``[rowTokens]`` (copies); list
    columns (``doc_lens``, ``piece_lens``, ``piece_*``) are Python lists; ``window`` is a str;
    ``num_pad`` and ``row_id`` are ints. No labels or cu_seqlens here: see
    :func:`longmix_loader.rows.make_example`.
    """
    with pa.memory_map(os.fspath(path), "r") as source:
        reader = pa.ipc.open_stream(source)
        check_schema(reader.schema, path)
        for batch in reader:
            columns = batch_columns(batch)
            for i in range(batch.num_rows):
                yield row_from_columns(columns, i)


def read_shard_row_ids(path: "str | os.PathLike[str]", row_tokens: "int | None" = None) -> "tuple[dict, list]":
    """``(schema metadata, row ids in file order)`` of a shard; reads only the ``row_id`` column."""
    with pa.memory_map(os.fspath(path), "r") as source:
        reader = pa.ipc.open_stream(source)
        check_schema(reader.schema, path, row_tokens)
        row_ids = []
        for batch in reader:
            row_ids.extend(batch.column("row_id").to_pylist())
        return shard_metadata(reader.schema), row_ids


def read_shard_batches(path: "str | os.PathLike[str]", row_tokens: "int | None" = None) -> list:
    """Every record batch of a shard as :func:`batch_columns` dicts, in file order."""
    with pa.memory_map(os.fspath(path), "r") as source:
        reader = pa.ipc.open_stream(source)
        check_schema(reader.schema, path, row_tokens)
        # The numpy views keep the mapped region alive after the file object is closed.
        return [batch_columns(batch) for batch in reader]
