#!/usr/bin/env python3
"""Independent check of longmix's exports (src/export/) against the native build.

Reads the same rows three ways, with code that shares nothing with the TypeScript writers:

* native shards: ``pyarrow.ipc.open_stream`` on each shard of ``manifest.json`` (size and SHA-256
  checked against the manifest first);
* the Hugging Face export: ``datasets.load_from_disk`` (features, dtypes and length checked with
  datasets' own ``Features``; the files spell them ``Sequence``, datasets 3.x's encoding, which
  this datasets reads as ``List``), rows in ``row_id`` order, plus a round trip: the loaded dataset
  is saved again with ``save_to_disk`` and its ``dataset_info.json``, ``state.json`` (but
  ``_fingerprint``, which ``load_from_disk`` always renews), every data file's row count and Arrow
  schema with metadata must equal the export's, up to ``Sequence`` written as ``List``;
* the Megatron export: the ``.idx`` header parsed with ``struct`` and its arrays with
  ``numpy.frombuffer``, the ``.bin`` with ``numpy.memmap`` in the dtype Megatron's
  ``DType.optimal_dtype`` picks for the vocabulary (uint16 below 65,500 ids, else int32), per the
  layout of Megatron-LM ``megatron/core/datasets/indexed_dataset.py`` (``_IndexWriter``); the
  segments with ``numpy.load`` (``.doc_lens.npy``, ``.doc_offsets.npy``), the sidecar with ``json``.

and compares every row token for token: ``input_ids`` (native = HF row row_id = Megatron sequence
row_id), ``position_ids`` (native = HF = rebuilt from the Megatron ``doc_lens``), ``doc_lens``
(native = HF = Megatron), and every other HF column with the native one.

Usage: cross_check.py BUILD_DIR --hf HF_DIR --megatron PREFIX   (either export may be left out)
Exit status: 0 when everything matches, 1 on the first mismatch (printed with file and row),
2 on bad arguments.
"""
import argparse
import hashlib
import json
import os
import re
import struct
import sys
import tempfile

import numpy as np
import pyarrow as pa

MEGATRON_HEADER = b"MMIDIDX\x00\x00"
# Megatron's DType codes and its optimal_dtype rule (indexed_dataset.py): uint16 below 65,500 ids.
MEGATRON_DTYPES = {4: "<i4", 8: "<u2"}


def megatron_dtype_code(vocab_size):
    return 8 if vocab_size < 65500 else 4
# Columns besides input_ids/position_ids, compared as Python values.
OTHER_COLUMNS = ["doc_lens", "window", "num_pad", "row_id", "piece_lens", "piece_source", "piece_doc_id",
                 "piece_start", "piece_repeat", "piece_part", "piece_parts"]


class Mismatch(Exception):
    """A difference between the exports and the native build; the message names file and row."""


def build_sha256(manifest):
    """The build digest (docs/format.md §1.3): SHA-256 of the canonical JSON (sorted keys, 2-space
    indent, trailing newline) of the manifest without ``report`` and ``exports``."""
    core = {k: v for k, v in manifest.items() if k not in ("report", "exports")}
    return hashlib.sha256((json.dumps(core, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")).hexdigest()


def expect(condition, message):
    if not condition:
        raise Mismatch(message)


def first_difference(a, b):
    """Index of the first differing element of two equal-length 1-D arrays, or None."""
    diff = np.flatnonzero(a != b)
    return int(diff[0]) if diff.size else None


def native_shards(build_dir, manifest):
    """Yields (shard file name, pyarrow Table) per shard of the manifest, in manifest order."""
    for shard in manifest["shards"]:
        path = os.path.join(build_dir, shard["file"])
        with open(path, "rb") as f:
            data = f.read()
        expect(len(data) == shard["sizeBytes"] and hashlib.sha256(data).hexdigest() == shard["sha256"],
               f"{shard['file']}: size or sha256 differs from manifest.json")
        table = pa.ipc.open_stream(pa.BufferReader(data)).read_all()
        yield shard["file"], table


def token_matrix(table, column, row_tokens, where):
    """A [rows, row_tokens] int32 view of a FixedSizeList<int32> column."""
    col = table.column(column).combine_chunks()
    expect(pa.types.is_fixed_size_list(col.type) and col.type.list_size == row_tokens and col.type.value_type == pa.int32(),
           f"{where}: {column} has type {col.type}, expected fixed_size_list<int32>[{row_tokens}]")
    values = col.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(col), row_tokens)


def positions_from_doc_lens(doc_lens, row_tokens):
    """position_ids as a trainer rebuilds them from doc_lens: 0..len-1 per segment, 0 on padding."""
    parts = [np.arange(n, dtype=np.int32) for n in doc_lens]
    parts.append(np.zeros(row_tokens - int(sum(doc_lens)), dtype=np.int32))
    return np.concatenate(parts)


class MegatronIndex:
    """The .idx of a Megatron-LM indexed dataset, parsed independently."""

    def __init__(self, path, dtype_code):
        with open(path, "rb") as f:
            data = f.read()
        expect(len(data) >= 34, f"{path}: {len(data)} bytes, shorter than the 34-byte preamble")
        expect(data[:9] == MEGATRON_HEADER, f"{path}: header {data[:9]!r}, expected {MEGATRON_HEADER!r}")
        version, = struct.unpack_from("<Q", data, 9)
        code, = struct.unpack_from("<B", data, 17)
        self.sequence_count, self.document_count = struct.unpack_from("<QQ", data, 18)
        expect(version == 1, f"{path}: version {version}, expected 1")
        expect(code == dtype_code, f"{path}: dtype code {code}, expected {dtype_code} ({MEGATRON_DTYPES[dtype_code]}, DType.optimal_dtype of the vocabulary)")
        self.dtype = np.dtype(MEGATRON_DTYPES[code])
        s, d = self.sequence_count, self.document_count
        expect(len(data) == 34 + 12 * s + 8 * d, f"{path}: {len(data)} bytes, counts {s}/{d} give {34 + 12 * s + 8 * d}")
        self.lengths = np.frombuffer(data, dtype="<i4", count=s, offset=34)
        self.pointers = np.frombuffer(data, dtype="<i8", count=s, offset=34 + 4 * s)
        self.document_indices = np.frombuffer(data, dtype="<i8", count=d, offset=34 + 12 * s)
        self.path = path

    def check_shape(self, rows, bin_path, fixed_length):
        expect(self.sequence_count == rows, f"{self.path}: {self.sequence_count} sequences, the build has {rows} rows")
        expect(np.array_equal(self.document_indices, np.arange(rows + 1)), f"{self.path}: document indices are not 0..{rows}")
        bad = first_difference(self.lengths, np.full(rows, fixed_length))
        expect(bad is None, f"{self.path} row {bad}: sequence length {self.lengths[bad] if bad is not None else ''}, expected {fixed_length}")
        item = self.dtype.itemsize
        expected_pointers = np.concatenate([[0], np.cumsum(self.lengths.astype(np.int64) * item)[:-1]]) if rows else np.zeros(0)
        bad = first_difference(self.pointers, expected_pointers)
        expect(bad is None, f"{self.path} row {bad}: sequence pointer differs from the running sum of lengths")
        size = os.path.getsize(bin_path)
        expect(size == int(self.lengths.astype(np.int64).sum()) * item, f"{bin_path}: {size} bytes, its index gives {int(self.lengths.sum()) * item}")

    def sequence(self, bin_map, i):
        start = int(self.pointers[i]) // self.dtype.itemsize
        return bin_map[start:start + int(self.lengths[i])]


def megatron_segments(prefix, rows, manifest):
    """``(doc_lens, offsets)`` from the two .npy files, checked against the sidecar and the manifest."""
    lens = np.load(prefix + ".doc_lens.npy", mmap_mode="r")
    offsets = np.load(prefix + ".doc_offsets.npy")
    expect(lens.dtype == np.dtype("<i4") and lens.ndim == 1, f"{prefix}.doc_lens.npy: dtype {lens.dtype} shape {lens.shape}, expected 1-D <i4")
    expect(offsets.dtype == np.dtype("<i8") and offsets.shape == (rows + 1,), f"{prefix}.doc_offsets.npy: dtype {offsets.dtype} shape {offsets.shape}, expected ({rows + 1},) <i8")
    expect(offsets[0] == 0 and bool(np.all(np.diff(offsets) >= 1)) and offsets[-1] == len(lens), f"{prefix}.doc_offsets.npy: not increasing from 0 to {len(lens)}")
    with open(prefix + ".longmix.json", encoding="utf-8") as f:
        sidecar = json.load(f)
    with open(os.path.join(os.path.dirname(prefix) or ".", os.path.basename(prefix) + ".longmix.json"), encoding="utf-8") as f:
        expect(f.read() == json.dumps(sidecar, indent=2, sort_keys=True, ensure_ascii=False) + "\n", f"{prefix}.longmix.json: not canonical JSON")
    geometry, schedule, tokenizer = manifest["geometry"], manifest["schedule"], manifest["tokenizer"]
    want = {
        "rowTokens": geometry["rowTokens"], "originalWindowTokens": geometry["originalWindowTokens"], "longRowAttention": geometry["longRowAttention"],
        "rows": rows, "segments": int(len(lens)), "tokenDtype": "uint16" if megatron_dtype_code(tokenizer["vocabSize"]) == 8 else "int32",
        "schedule": {k: schedule[k] for k in ("worldSize", "globalBatchRows", "steps")},
        "tokenizer": {k: tokenizer[k] for k in ("name", "vocabSize", "bosId", "eosId", "padId")},
        "recipe": {"name": manifest["recipe"]["name"], "hash": manifest["recipe"]["hash"]},
        "format": "longmix-megatron", "formatVersion": 2,
        "buildSha256": build_sha256(manifest),
    }
    for key, value in want.items():
        expect(sidecar.get(key) == value, f"{prefix}.longmix.json: {key} is {sidecar.get(key)!r}, expected {value!r}")
    return lens, offsets


def check_hf_layout(hf_dir, row_tokens, shard_count):
    """Features and dtypes via datasets, then the save_to_disk round trip. Returns the dataset."""
    import datasets
    from datasets import Features, List, Value

    ds = datasets.load_from_disk(hf_dir)
    fixed = List(Value("int32"), length=row_tokens)
    ints, strings = List(Value("int32")), List(Value("string"))
    want = Features({"input_ids": fixed, "position_ids": fixed, "doc_lens": ints, "window": Value("string"),
                     "num_pad": Value("int32"), "row_id": Value("int32"), "piece_lens": ints, "piece_source": strings,
                     "piece_doc_id": strings, "piece_start": ints, "piece_repeat": ints, "piece_part": ints,
                     "piece_parts": ints})
    expect(ds.features == want, f"{hf_dir}: features {ds.features} differ from {want}")
    expect(list(ds.features) == list(want), f"{hf_dir}: column order {list(ds.features)}")
    with open(os.path.join(hf_dir, "dataset_info.json"), encoding="utf-8") as f:
        info_text = f.read()
    expect('"_type": "List"' not in info_text and '"_type": "Sequence"' in info_text, f"{hf_dir}/dataset_info.json: features not in datasets 3.x's Sequence encoding")
    with open(os.path.join(hf_dir, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    files = [entry["filename"] for entry in state["_data_files"]]
    expect(len(files) == shard_count, f"{hf_dir}/state.json: {len(files)} data files, the build has {shard_count} shards")
    for name in files:
        schema = pa.ipc.open_stream(os.path.join(hf_dir, name)).schema
        expect(schema.equals(want.arrow_schema, check_metadata=False), f"{hf_dir}/{name}: Arrow schema differs from datasets' Features.arrow_schema")
        features = json.loads(schema.metadata[b"huggingface"])["info"]["features"]
        expect(Features.from_dict(features) == want, f"{hf_dir}/{name}: huggingface metadata decodes to other features")
    as_list = lambda text: text.replace('"_type": "Sequence"', '"_type": "List"')  # how datasets >= 4 writes the same features
    with tempfile.TemporaryDirectory() as resaved:
        ds.save_to_disk(resaved, num_shards=len(files))
        for name in ("dataset_info.json", "state.json"):
            with open(os.path.join(hf_dir, name), encoding="utf-8") as f:
                ours = as_list(f.read())
            with open(os.path.join(resaved, name), encoding="utf-8") as f:
                theirs = f.read()
            if name == "state.json":  # load_from_disk renews the fingerprint (with_format); compare the rest
                ours = json.dumps({**json.loads(ours), "_fingerprint": None})
                theirs = json.dumps({**json.loads(theirs), "_fingerprint": None})
            expect(ours == theirs, f"{hf_dir}/{name}: differs from what datasets {datasets.__version__} writes on save_to_disk")
        for name in files:
            ours = pa.ipc.open_stream(os.path.join(hf_dir, name)).read_all()
            theirs = pa.ipc.open_stream(os.path.join(resaved, name)).read_all()
            expect(ours.num_rows == theirs.num_rows, f"{hf_dir}/{name}: {ours.num_rows} rows, datasets' own shard holds {theirs.num_rows}")
            expect(ours.schema.equals(theirs.schema, check_metadata=False), f"{hf_dir}/{name}: schema differs from the re-saved file's")
            expect(as_list(ours.schema.metadata[b"huggingface"].decode()) == theirs.schema.metadata[b"huggingface"].decode(),
                   f"{hf_dir}/{name}: huggingface metadata differs from the re-saved file's")
    table = ds.with_format("arrow")[:]
    expect(table.column("row_id").to_pylist() == list(range(len(ds))), f"{hf_dir}: rows are not in row_id order")
    return table


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir", help="native build directory (manifest.json + shards)")
    parser.add_argument("--hf", help="directory written by exportHf")
    parser.add_argument("--megatron", help="prefix written by exportMegatron")
    args = parser.parse_args(argv)
    if not args.hf and not args.megatron:
        parser.error("give --hf and/or --megatron")

    with open(os.path.join(args.build_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    row_tokens = manifest["geometry"]["rowTokens"]
    rows = manifest["rows"]["total"]
    if manifest.get("report"):
        with open(os.path.join(args.build_dir, manifest["report"]), encoding="utf-8") as f:
            mark = re.search(r'<meta name="longmix-build-sha256" content="([0-9a-f]{64})">', f.read(4096))
        expect(mark is not None and mark.group(1) == build_sha256(manifest), f"{manifest['report']}: its build mark is not this build's digest")

    hf = None
    if args.hf:
        hf = check_hf_layout(args.hf, row_tokens, len(manifest["shards"]))
        expect(hf.num_rows == rows, f"{args.hf}: {hf.num_rows} rows, the build has {rows}")
        hf_ids = token_matrix(hf, "input_ids", row_tokens, args.hf)
        hf_pos = token_matrix(hf, "position_ids", row_tokens, args.hf)
        hf_other = {c: hf.column(c).to_pylist() for c in OTHER_COLUMNS}
    if args.megatron:
        tok_index = MegatronIndex(args.megatron + ".idx", megatron_dtype_code(manifest["tokenizer"]["vocabSize"]))
        tok_index.check_shape(rows, args.megatron + ".bin", row_tokens)
        tok_bin = np.memmap(args.megatron + ".bin", dtype=tok_index.dtype, mode="r")
        doc_lens_all, doc_offsets = megatron_segments(args.megatron, rows, manifest)

    seen = np.zeros(rows, dtype=bool)
    compared = 0
    for shard, table in native_shards(args.build_dir, manifest):
        n = table.num_rows
        native_ids = token_matrix(table, "input_ids", row_tokens, shard)
        native_pos = token_matrix(table, "position_ids", row_tokens, shard)
        native_other = {c: table.column(c).to_pylist() for c in OTHER_COLUMNS}
        for k in range(n):
            row_id = native_other["row_id"][k]
            doc_lens = native_other["doc_lens"][k]
            where = f"native {shard} row {k} (row_id {row_id})"
            expect(0 <= row_id < rows and not seen[row_id], f"{where}: row_id outside [0, {rows}) or repeated")
            seen[row_id] = True
            if hf is not None:
                name = f"{args.hf} row {row_id}"
                for label, a, b in (("input_ids", hf_ids[row_id], native_ids[k]), ("position_ids", hf_pos[row_id], native_pos[k])):
                    j = first_difference(a, b)
                    expect(j is None, f"{name}: {label}[{j}] is {a[j] if j is not None else ''}, {where} has {b[j] if j is not None else ''}")
                for c in OTHER_COLUMNS:
                    expect(hf_other[c][row_id] == native_other[c][k], f"{name}: {c} {hf_other[c][row_id]!r}, {where} has {native_other[c][k]!r}")
            if args.megatron:
                seq = tok_index.sequence(tok_bin, row_id)
                j = first_difference(seq, native_ids[k])
                expect(j is None, f"{args.megatron}.bin row {row_id}: token {j} is {seq[j] if j is not None else ''}, {where} has {native_ids[k][j] if j is not None else ''}")
                lens = doc_lens_all[doc_offsets[row_id]:doc_offsets[row_id + 1]]
                expect(lens.tolist() == doc_lens, f"{args.megatron}.doc_lens.npy row {row_id}: doc_lens {lens.tolist()}, {where} has {doc_lens}")
                rebuilt = positions_from_doc_lens(lens, row_tokens)
                j = first_difference(rebuilt, native_pos[k])
                expect(j is None, f"{args.megatron}.doc_lens.npy row {row_id}: position_ids rebuilt from doc_lens differ at {j}, {where}")
                expect(int(lens.sum()) == row_tokens - native_other["num_pad"][k], f"{args.megatron}.doc_lens.npy row {row_id}: segments cover {int(lens.sum())} tokens, row has {row_tokens - native_other['num_pad'][k]} document tokens")
                if hf is not None:  # and the two exports with each other, directly
                    expect(np.array_equal(seq, hf_ids[row_id]), f"{args.megatron}.bin row {row_id} and {args.hf} row {row_id}: input_ids differ")
            compared += 1
    expect(compared == rows and seen.all(), f"native shards hold {compared} rows, manifest says {rows}")
    checked = " and ".join(x for x, on in (("HF " + str(args.hf), args.hf), ("Megatron " + str(args.megatron), args.megatron)) if on)
    print(f"cross-check OK: {rows} rows x {row_tokens} tokens of {args.build_dir} match {checked} "
          f"(input_ids, position_ids, doc_lens{', all HF columns, save_to_disk round trip' if args.hf else ''}); "
          f"pyarrow {pa.__version__}, numpy {np.__version__}" + (f", datasets {__import__('datasets').__version__}" if args.hf else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Mismatch as error:
        print(f"MISMATCH: {error}", file=sys.stderr)
        sys.exit(1)
