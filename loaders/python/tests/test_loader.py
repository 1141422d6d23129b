"""Tests of longmix_loader's reader (dataset, labels, ranks, verification) on real builds
(fixtures in conftest.py: any build given by ``LONGMIX_TEST_BUILD`` passes).

Expectations are computed independently of the loader: shards are read with pyarrow into plain
Python lists and labels / cu_seqlens recomputed with plain loops; the schedule from the manifest.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import longmix_loader as L

from support import IGNORE, LOADER_DIR, as_list, divisors, manifest_of, schedule_order, stored_rows


# -- independent expectations ----------------------------------------------------------------


def expected_item(row: dict) -> dict:
    """What the loader must return for a stored row, by plain loops over the format rules."""
    ids, T = row["input_ids"], len(row["input_ids"])
    used = T - row["num_pad"]
    cu = [0]
    for n in row["doc_lens"]:
        cu.append(cu[-1] + n)
    segment_last = {c - 1 for c in cu[1:]}
    labels = [IGNORE if (t >= used or t in segment_last or t == T - 1) else ids[t + 1] for t in range(T)]
    return {
        "input_ids": ids,
        "position_ids": row["position_ids"],
        "labels": labels,
        "cu_seqlens": cu,
        "max_seqlen": max(row["doc_lens"]),
        "window": row["window"],
        "num_pad": row["num_pad"],
        "row_id": row["row_id"],
    }


def assert_item_equals(item: dict, expected: dict) -> None:
    assert set(item) == set(expected)
    for key, value in expected.items():
        assert as_list(item[key]) == value, f"row {expected['row_id']}: {key} differs"


def numpy_dataset(build_dir, rank=0, world_size=1, **kw) -> L.LongmixRankDataset:
    return L.LongmixRankDataset(build_dir, rank, world_size, tensors="numpy", **kw)


# -- pure functions, hand-made rows ------------------------------------------------------------


def test_labels_and_cu_seqlens_of_a_hand_made_row():
    # Two pieces of 3 tokens, 2 padding tokens (pad id 0 here).
    row = {"row_id": 7, "input_ids": np.array([1, 2, 3, 4, 5, 6, 0, 0], np.int32), "position_ids": np.array([0, 1, 2, 0, 1, 2, 0, 0], np.int32), "doc_lens": [3, 3], "piece_lens": [3, 3], "num_pad": 2, "window": "short"}
    ex = L.make_example(row, 8)
    assert ex["labels"].tolist() == [2, 3, IGNORE, 5, 6, IGNORE, IGNORE, IGNORE]
    assert ex["cu_seqlens"].tolist() == [0, 3, 6] and ex["cu_seqlens"].dtype == np.int32
    assert ex["input_ids"].dtype == np.int64 and ex["position_ids"].dtype == np.int64 and ex["labels"].dtype == np.int64
    assert ex["max_seqlen"] == 3 and ex["num_pad"] == 2 and ex["row_id"] == 7
    # Covering the padding: each padding token is a segment of its own (1 pair of attention each).
    assert L.cu_seqlens_with_padding(ex["cu_seqlens"], 8).tolist() == [0, 3, 6, 7, 8]
    assert L.attention_pairs([0, 3, 6, 7, 8]) == 6 + 6 + 1 + 1 and L.attention_pairs([0, 3, 6, 8]) == 6 + 6 + 3
    assert L.segment_lens_from_positions(row["position_ids"], 2) == [3, 3]
    assert L.hf_labels(ex["input_ids"], ex["cu_seqlens"]).tolist() == [IGNORE, 2, 3, IGNORE, 5, 6, IGNORE, IGNORE]
    # Full attention: one segment over both pieces, so the label at the end of piece 0 continues.
    full = dict(row, doc_lens=[6], position_ids=np.array([0, 1, 2, 3, 4, 5, 0, 0], np.int32), window="long")
    ex = L.make_example(full, 8)
    assert ex["labels"].tolist() == [2, 3, 4, 5, 6, IGNORE, IGNORE, IGNORE]
    assert ex["cu_seqlens"].tolist() == [0, 6] and ex["max_seqlen"] == 6
    assert L.segment_lens_from_positions(full["position_ids"], 2) == [6]
    # No padding: the last token of the row is -100, cu_seqlens already covers the row.
    nopad = dict(row, input_ids=np.arange(1, 9, dtype=np.int32), position_ids=np.arange(8, dtype=np.int32), doc_lens=[8], piece_lens=[8], num_pad=0)
    ex = L.make_example(nopad, 8)
    assert ex["labels"].tolist() == [2, 3, 4, 5, 6, 7, 8, IGNORE]
    assert L.cu_seqlens_with_padding(ex["cu_seqlens"], 8).tolist() == [0, 8]


def test_make_example_rejects_rows_that_break_the_length_invariants():
    row = {"row_id": 1, "input_ids": np.zeros(8, np.int32), "position_ids": np.zeros(8, np.int32), "doc_lens": [3, 3], "piece_lens": [3, 3], "num_pad": 1, "window": "short"}
    with pytest.raises(ValueError, match="do not fill 8 tokens"):
        L.make_example(row, 8)
    with pytest.raises(ValueError, match="piece_lens sum"):
        L.make_example(dict(row, num_pad=2, piece_lens=[3, 2]), 8)
    with pytest.raises(ValueError, match="shapes"):
        L.make_example(dict(row, num_pad=2), 9)


def test_assign_rows_follows_the_schedule():
    # Global batch 4: positions 0..3 are step 0, 4..7 step 1. With 2 ranks, rank 0 reads positions
    # 0, 1 of each step and rank 1 positions 2, 3; with 4 ranks each reads one per step.
    manifest = {"schedule": {"globalBatchRows": 4}}
    assert L.assign_rows(manifest, [5, 0, 3, 1, 2, 4, 7, 6], 0, 2) == [0, 1, 4, 5]
    assert L.assign_rows(manifest, range(8), 1, 2) == [2, 3, 6, 7]
    assert L.assign_rows(manifest, range(8), 3, 4) == [3, 7]
    assert L.assign_rows(manifest, range(8), 0, 1) == list(range(8))
    with pytest.raises(ValueError, match="does not divide the global batch of 4 rows"):
        L.assign_rows(manifest, range(8), 0, 3)
    # A manifest without a schedule (older longmix) is refused, not read by some other rule.
    with pytest.raises(ValueError, match="no schedule.globalBatchRows"):
        L.assign_rows({}, [5, 0, 3, 1, 2, 4], 1, 2)
    for rank, world in [(-1, 2), (2, 2), (0, 0), (True, 2)]:
        with pytest.raises(ValueError):
            L.assign_rows(manifest, [0], rank, world)


# -- the default build -----------------------------------------------------------------------


def test_manifest_and_shard_rows(build):
    manifest = L.read_manifest(build)
    assert manifest["manifestVersion"] == 1
    rows = stored_rows(build)
    assert len(rows) == manifest["rows"]["total"]
    loaded = []
    for path in L.shard_paths(build, manifest):
        loaded.extend(L.iter_shard_rows(path))
        with pytest.raises(pa.ArrowInvalid):  # a stream, not the IPC file format
            pa.ipc.open_file(str(path))
    assert len(loaded) == len(rows)
    for got, want in zip(loaded, rows):
        assert got["input_ids"].dtype == np.int32 and got["input_ids"].shape == (manifest["geometry"]["rowTokens"],)
        assert {k: as_list(v) for k, v in got.items()} == want
    assert sorted(r["row_id"] for r in rows) == list(range(len(rows)))
    assert L.shard_metadata(pa.ipc.open_stream(pa.memory_map(str(L.shard_paths(build, manifest)[0]))).schema)["rowTokens"] == manifest["geometry"]["rowTokens"]


def test_every_item_matches_the_stored_row(build):
    ds = numpy_dataset(build)
    rows = {r["row_id"]: r for r in stored_rows(build)}
    assert ds.row_ids == sorted(rows)
    for i, row_id in enumerate(ds.row_ids):
        item = ds[i]
        assert item["input_ids"].dtype == np.int64 and item["position_ids"].dtype == np.int64 and item["labels"].dtype == np.int64
        assert item["cu_seqlens"].dtype == np.int32
        assert isinstance(item["max_seqlen"], int) and isinstance(item["num_pad"], int) and isinstance(item["row_id"], int)
        assert_item_equals(item, expected_item(rows[row_id]))
    assert [item["row_id"] for item in ds] == ds.row_ids  # iteration protocol
    with pytest.raises(IndexError):
        ds[len(ds)]
    assert ds[-1]["row_id"] == ds.row_ids[-1]


def test_one_row_exactly(build):
    """A row with several pieces and padding: token ids, labels at piece ends and padding, cu_seqlens."""
    manifest = manifest_of(build)
    tok = manifest["tokenizer"]
    bos, eos, pad = tok["bosId"], tok["eosId"], tok["padId"]
    rows = stored_rows(build)
    row = max((r for r in rows if r["num_pad"] > 0), key=lambda r: (len(r["doc_lens"]), -r["row_id"]))
    assert len(row["doc_lens"]) >= 2, "the sample build should have a row with several pieces and padding"
    ds = numpy_dataset(build)
    item = ds[ds.row_ids.index(row["row_id"])]
    ids, labels, pos = item["input_ids"], item["labels"], item["position_ids"]
    T = manifest["geometry"]["rowTokens"]
    used = T - row["num_pad"]
    assert len(ids) == T and item["num_pad"] == row["num_pad"] and item["window"] == row["window"]

    # cu_seqlens: [0, cumsum(doc_lens)], ending at the first padding token.
    cu = [0]
    for n in row["doc_lens"]:
        cu.append(cu[-1] + n)
    assert item["cu_seqlens"].tolist() == cu and cu[-1] == used
    assert item["max_seqlen"] == max(row["doc_lens"])
    if manifest["geometry"].get("longRowAttention", "document") == "document" or row["window"] == "short":
        assert row["doc_lens"] == row["piece_lens"]

    for k, (start, end) in enumerate(zip(cu[:-1], cu[1:])):
        # Token ids at the piece's first and last positions, as stored.
        assert ids[start] == row["input_ids"][start] and ids[end - 1] == row["input_ids"][end - 1]
        if row["piece_start"][k] == 0:
            assert ids[start] == bos
        if row["piece_part"][k] == row["piece_parts"][k] - 1:
            assert ids[end - 1] == eos  # a piece that ends its document ends with EOS
        assert pos[start:end].tolist() == list(range(end - start))
        # Inside a piece the label is the next token; at its last token, -100.
        assert labels[start:end - 1].tolist() == row["input_ids"][start + 1:end]
        assert labels[end - 1] == IGNORE
        if end < used and row["doc_lens"][k + 1] > 1:  # the next piece starts here; its own labels start at once
            assert labels[end] == row["input_ids"][end + 1]
    # Padding: pad ids, position 0, label -100; the row's last label is -100.
    assert ids[used:].tolist() == [pad] * row["num_pad"]
    assert pos[used:].tolist() == [0] * row["num_pad"]
    assert labels[used - 1:].tolist() == [IGNORE] * (row["num_pad"] + 1)
    assert labels[-1] == IGNORE
    assert int((labels != IGNORE).sum()) == used - len(row["doc_lens"])


def test_ranks_partition_all_rows_exactly_once(build):
    manifest = L.read_manifest(build)
    total = manifest["rows"]["total"]
    g = manifest["schedule"]["globalBatchRows"]
    for world_size in divisors(g):
        seen = collections.Counter()
        for rank in range(world_size):
            ds = numpy_dataset(build, rank, world_size, verify=False)
            assert ds.row_ids == schedule_order(manifest, rank, world_size)
            assert len(ds) == total // world_size  # every rank reads the same number of rows
            assert ds.row_ids == sorted(ds.row_ids)
            seen.update(item["row_id"] for item in ds)
        assert sorted(seen) == list(range(total)) and set(seen.values()) == {1}, f"world_size {world_size}"


def _digest(item: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(item):
        value = item[key]
        h.update(key.encode())
        h.update(np.asarray(value).tobytes() if hasattr(value, "dtype") else repr(value).encode())
    return h.hexdigest()


def test_every_world_size_gives_the_same_rows(build):
    manifest = L.read_manifest(build)
    one = collections.Counter(_digest(item) for item in numpy_dataset(build, 0, 1))
    assert sum(one.values()) == manifest["rows"]["total"]
    for world in divisors(manifest["schedule"]["globalBatchRows"]):
        split = collections.Counter(_digest(item) for rank in range(world) for item in numpy_dataset(build, rank, world, verify=False))
        assert split == one, f"world_size {world}"


def test_collate_rows_covers_the_flattened_batch(build):
    ds = numpy_dataset(build)
    items = [ds[0], ds[1], ds[len(ds) - 1]]
    batch = L.collate_rows(items)
    T = ds.row_tokens
    assert batch["input_ids"].shape == (3, T) and batch["labels"].dtype == np.int64
    cu = [0]
    for b, item in enumerate(items):
        for c in item["cu_seqlens"].tolist()[1:]:
            cu.append(b * T + c)
        while cu[-1] != (b + 1) * T:
            cu.append(cu[-1] + 1)  # every padding token a segment of its own
    assert batch["cu_seqlens"].tolist() == cu and batch["cu_seqlens"].dtype == np.int32
    assert batch["max_seqlen"] == max(b - a for a, b in zip(cu, cu[1:]))
    # The padding costs one (query, key) pair per token; the documents what their segments cost.
    docs = sum(n * (n + 1) // 2 for item in items for n in np.diff(item["cu_seqlens"]).tolist())
    assert L.attention_pairs(batch["cu_seqlens"]) == docs + sum(item["num_pad"] for item in items)
    assert batch["row_id"].tolist() == [item["row_id"] for item in items]
    assert batch["window"] == [item["window"] for item in items]


# -- verification ----------------------------------------------------------------------------


def test_missing_manifest_is_not_a_build(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a finished longmix build"):
        L.read_manifest(tmp_path)
    with pytest.raises(FileNotFoundError):
        L.LongmixRankDataset(tmp_path)


def test_a_directory_a_build_is_writing_is_refused_until_its_lock_is_stale(build, tmp_path):
    copy = tmp_path / "build"
    shutil.copytree(build, copy)
    lock = copy / ".longmix.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "hostname": socket.gethostname(), "startedAt": "2026-11-29T00:00:00.000Z", "token": "t"}))
    with pytest.raises(BlockingIOError, match="is being written by a longmix build"):
        L.read_manifest(copy)
    # The lock of a process that has exited is stale: the finished build loads.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    lock.write_text(json.dumps({"pid": int(dead.stdout), "hostname": socket.gethostname(), "startedAt": "2026-11-29T00:00:00.000Z", "token": "t"}))
    assert L.read_manifest(copy)["rows"]["total"] == manifest_of(copy)["rows"]["total"]


def test_verification_catches_a_changed_byte_and_a_changed_size(build, tmp_path):
    copy = tmp_path / "build"
    shutil.copytree(build, copy)
    manifest = manifest_of(copy)
    shard = copy / manifest["shards"][0]["file"]
    first = next(L.iter_shard_rows(shard))
    data = bytearray(shard.read_bytes())
    # Change one token id of the first row in place: same size, different bytes.
    needle = first["input_ids"][100:108].astype("<i4").tobytes()
    at = data.find(needle)
    assert at >= 0
    data[at] ^= 0x01
    shard.write_bytes(bytes(data))
    with pytest.raises(L.ShardVerificationError, match="sha256"):
        numpy_dataset(copy)
    # Without verification the corrupted token is read as is.
    ds = numpy_dataset(copy, verify=False)
    item = ds[ds.row_ids.index(first["row_id"])]
    assert int(item["input_ids"][100]) == int(first["input_ids"][100]) ^ 0x01
    # A size change is caught by the size check.
    shard.write_bytes(bytes(data) + b"\0")
    with pytest.raises(L.ShardVerificationError, match="size"):
        numpy_dataset(copy)
    # A listed shard that is missing.
    shard.unlink()
    with pytest.raises(L.ShardVerificationError, match="missing"):
        numpy_dataset(copy)


# -- full attention ----------------------------------------------------------------------------


def test_full_attention_labels_continue_across_pieces(full_build):
    manifest = L.read_manifest(full_build)
    assert manifest["geometry"]["longRowAttention"] == "full"
    rows = {r["row_id"]: r for r in stored_rows(full_build)}
    ds = numpy_dataset(full_build)
    crossings = 0
    for i, row_id in enumerate(ds.row_ids):
        row, item = rows[row_id], ds[i]
        assert_item_equals(item, expected_item(row))
        used = ds.row_tokens - row["num_pad"]
        if row["window"] == "short":
            assert row["doc_lens"] == row["piece_lens"]
            continue
        assert row["doc_lens"] == [used] and item["cu_seqlens"].tolist() == [0, used] and item["max_seqlen"] == used
        assert item["position_ids"][:used].tolist() == list(range(used))
        end = 0
        for n in row["piece_lens"][:-1]:
            end += n
            # The last token of a non-final piece has the next piece's first token as its label.
            assert item["labels"][end - 1] == row["input_ids"][end]
            crossings += 1
        assert item["labels"][used - 1:].tolist() == [IGNORE] * (row["num_pad"] + 1)
    assert crossings > 0, "the full-attention build should have a long row with several pieces"


# -- torch -------------------------------------------------------------------------------------


def _two_ranks_if_possible(build) -> int:
    return 2 if manifest_of(build)["schedule"]["globalBatchRows"] % 2 == 0 else 1


def test_without_torch_it_is_a_plain_sequence_of_numpy_arrays(build):
    world = _two_ranks_if_possible(build)
    script = (
        "import sys; sys.modules['torch'] = None\n"  # makes `import torch` fail
        "import numpy as np, longmix_loader as L\n"
        f"ds = L.LongmixRankDataset({str(build)!r}, {world - 1}, {world})\n"
        "assert type(ds).__mro__[1] is object, type(ds).__mro__\n"
        "assert ds.tensors == 'numpy' and isinstance(ds[0]['input_ids'], np.ndarray)\n"
        f"assert [x['row_id'] for x in ds] == ds.row_ids == {schedule_order(manifest_of(build), world - 1, world)!r}\n"
        "print('ok', len(ds))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=LOADER_DIR, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(LOADER_DIR)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")


def test_torch_dataloader_yields_the_same_tensors(build):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, Dataset

    world = _two_ranks_if_possible(build)
    ds = L.LongmixRankDataset(build, 0, world)
    assert isinstance(ds, Dataset) and ds.tensors == "torch"
    reference = numpy_dataset(build, 0, world, verify=False)
    direct = [ds[i] for i in range(len(ds))]
    for i, item in enumerate(direct):
        assert item["input_ids"].dtype == torch.int64 and item["labels"].dtype == torch.int64 and item["cu_seqlens"].dtype == torch.int32
        for key, value in reference[i].items():
            assert as_list(item[key]) == as_list(value)
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=None, shuffle=False, num_workers=workers)
        got = list(loader)
        assert len(got) == len(direct)
        for a, b in zip(got, direct):
            assert set(a) == set(b)
            for key in b:
                if isinstance(b[key], torch.Tensor):
                    assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
                else:
                    assert a[key] == b[key], key
    batches = list(DataLoader(ds, batch_size=2, shuffle=False, collate_fn=L.collate_rows))
    flat = [ds[i] for i in range(len(ds))]
    for n, batch in enumerate(batches):
        want = L.collate_rows([reference[i] for i in range(2 * n, min(2 * n + 2, len(ds)))])
        assert batch["input_ids"].dtype == torch.int64 and batch["cu_seqlens"].dtype == torch.int32
        for key, value in want.items():
            assert as_list(batch[key]) == as_list(value), key
    assert sum(len(b["row_id"]) for b in batches) == len(flat)
    clone = pickle.loads(pickle.dumps(ds))
    assert torch.equal(clone[0]["labels"], direct[0]["labels"])
