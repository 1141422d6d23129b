"""transformers on a build: ``longmix_loader.hf.collate_hf`` feeding a tiny randomly initialised
``LlamaForCausalLM`` on CPU (transformers from the package mirror). The packed batch's loss equals
the token-weighted mean of the per-document losses, and the LongRoPE switch of transformers picks
each row's regime as its ``window`` says.
"""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.modeling_flash_attention_utils import prepare_fa_kwargs_from_position_ids

import longmix_loader as L
from longmix_loader.hf import LongmixHfCollator, collate_hf
from support import IGNORE, manifest_of, rows_by_id

#: Tokens of each row the forward pass runs on (dense CPU attention costs tokens² per head).
WINDOW_TOKENS = 1024


def tiny_llama(vocab_size: int, max_positions: int, rope: dict) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        rope_parameters=rope,
        attn_implementation="sdpa",
    )
    return LlamaForCausalLM(config).eval()


def compact(ids: torch.Tensor, vocabulary: torch.Tensor) -> torch.Tensor:
    """Token ids relabelled one to one onto ``0..len(vocabulary)-1`` (``vocabulary``: the sorted ids in
    use), so that the tiny model's output layer has a few thousand rows, not 128,256; -100 stays."""
    out = torch.searchsorted(vocabulary, ids.clamp(min=0))
    return torch.where(ids == IGNORE, ids, out)


def expected_hf_labels(row: dict) -> list:
    """Unshifted labels by the rule, with plain loops: the token itself, -100 at segment starts and padding."""
    T = len(row["input_ids"])
    used = T - row["num_pad"]
    starts, at = set(), 0
    for n in row["doc_lens"]:
        starts.add(at)
        at += n
    return [IGNORE if (t >= used or t in starts) else row["input_ids"][t] for t in range(T)]


def test_collate_hf_on_loader_items_and_on_hf_export_rows(build, exports):
    manifest = manifest_of(build)
    T = manifest["geometry"]["rowTokens"]
    rows = rows_by_id(build)
    items = L.LongmixRankDataset(build, 0, 1, tensors="torch")
    hf = datasets.load_from_disk(str(exports[0]))  # default columns: input_ids, position_ids, num_pad
    for i, row in enumerate(rows):
        from_loader = collate_hf([items[i]], flash_attn_kwargs=True)
        from_export = collate_hf([hf[i]], flash_attn_kwargs=True)
        assert set(from_loader) == {"input_ids", "position_ids", "labels", "cu_seq_lens_q", "cu_seq_lens_k", "max_length_q", "max_length_k"}
        for key in from_loader:
            assert as_python(from_loader[key]) == as_python(from_export[key]), key
        assert from_loader["input_ids"].shape == (1, T) and from_loader["labels"].dtype == torch.int64
        assert from_loader["labels"][0].tolist() == expected_hf_labels(row)
        cu = [0]
        for n in row["doc_lens"]:
            cu.append(cu[-1] + n)
        cu += list(range(cu[-1] + 1, T + 1))  # every padding token a segment of its own
        assert from_loader["cu_seq_lens_q"].tolist() == cu and from_loader["max_length_q"] == max(row["doc_lens"])
        # The same segments transformers' FlashAttention-2 derives from the position ids alone.
        (derived, _), (longest, _) = prepare_fa_kwargs_from_position_ids(from_loader["position_ids"])
        assert derived.tolist() == cu and int(longest) == max(row["doc_lens"])
        assert L.attention_pairs(cu) - sum(n * (n + 1) // 2 for n in row["doc_lens"]) == row["num_pad"]


def as_python(value):
    return value.tolist() if hasattr(value, "tolist") else value


def test_a_packed_batch_has_the_loss_of_its_documents_run_one_by_one(build):
    """Rows of one window laid end to end ([1, B·T]); the model runs on a window of each row that
    starts at a segment start and holds the end of its documents and the start of its padding.
    Plain RoPE here (the LongRoPE switch is the next test): the reference runs each document alone."""
    manifest = manifest_of(build)
    T = manifest["geometry"]["rowTokens"]
    rows = rows_by_id(build)
    vocabulary = torch.tensor(sorted({t for row in rows for t in row["input_ids"]}))
    model = tiny_llama(len(vocabulary), T, {"rope_type": "default", "rope_theta": 10000.0})
    dataset = L.LongmixRankDataset(build, 0, 1, tensors="torch", verify=False)
    by_window: dict = {}
    for row in rows:
        by_window.setdefault(row["window"], []).append(row["row_id"])
    checked = 0
    for window, ids in by_window.items():
        picked = sorted(ids, key=lambda i: (-rows[i]["num_pad"], i))[:2]
        batch = collate_hf([dataset[i] for i in picked])
        cuts, pieces = [], []
        for b, i in enumerate(picked):
            used = T - rows[i]["num_pad"]
            starts = np.concatenate([[0], np.cumsum(rows[i]["doc_lens"])])[:-1]
            start = int(starts[starts <= max(0, used - WINDOW_TOKENS // 2)].max())
            end = min(T, start + WINDOW_TOKENS)
            cuts.append(torch.arange(b * T + start, b * T + end))
            for s, n in zip(starts.tolist(), rows[i]["doc_lens"]):  # the documents inside the window, cut at its end
                if start <= s < end:
                    pieces.append(compact(torch.tensor(rows[i]["input_ids"][s : min(s + n, end)]), vocabulary))
        keep = torch.cat(cuts)
        with torch.no_grad():
            packed = model(
                input_ids=compact(batch["input_ids"][:, keep], vocabulary),
                position_ids=batch["position_ids"][:, keep],
                labels=compact(batch["labels"][:, keep], vocabulary),
                use_cache=False,
            ).loss
            total, targets = 0.0, 0
            for doc in pieces:
                if len(doc) < 2:
                    continue
                loss = model(input_ids=doc[None], labels=doc[None], use_cache=False).loss
                total += loss.item() * (len(doc) - 1)
                targets += len(doc) - 1
        assert int((batch["labels"][:, keep][:, 1:] != IGNORE).sum()) == targets
        assert abs(packed.item() - total / targets) <= 1e-5, (window, packed.item(), total / targets)
        checked += 1
    assert checked == len(by_window)


def test_the_longrope_switch_of_transformers_follows_each_rows_window(build):
    manifest = manifest_of(build)
    T, W = manifest["geometry"]["rowTokens"], manifest["geometry"]["originalWindowTokens"]
    head_dim = 8
    rope = {"rope_type": "longrope", "rope_theta": 10000.0, "long_factor": [4.0, 3.0, 2.0, 1.5], "short_factor": [1.0] * 4, "original_max_position_embeddings": W}
    rows = rows_by_id(build)
    vocabulary = torch.tensor(sorted({t for row in rows for t in row["input_ids"]}))
    model = tiny_llama(len(vocabulary), T, rope)
    rotary = model.model.rotary_emb
    exponents = torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim
    long = 1.0 / (torch.tensor(rope["long_factor"]) * rope["rope_theta"] ** exponents)
    short = 1.0 / (torch.tensor(rope["short_factor"]) * rope["rope_theta"] ** exponents)
    dataset = L.LongmixRankDataset(build, 0, 1, tensors="torch", verify=False)
    seen = set()
    for i in range(len(dataset)):
        item = dataset[i]
        batch = collate_hf([item])
        rotary(torch.zeros(1, 1, head_dim), batch["position_ids"])  # transformers' dynamic LongRoPE update
        regime = "long" if torch.allclose(rotary.inv_freq, long) else "short" if torch.allclose(rotary.inv_freq, short) else "neither"
        assert regime == item["window"], f"row {i}"
        seen.add(regime)
        if T <= 4096 and i < 2:  # a whole forward pass too, where the row is small enough for CPU
            with torch.no_grad():
                model(input_ids=compact(batch["input_ids"], vocabulary), position_ids=batch["position_ids"], use_cache=False)
            assert torch.allclose(rotary.inv_freq, long if item["window"] == "long" else short)
    assert seen == {row["window"] for row in rows}


def test_collate_hf_refuses_a_batch_of_both_windows(build, exports):
    rows = rows_by_id(build)
    windows = {row["window"]: row["row_id"] for row in rows}
    dataset = L.LongmixRankDataset(build, 0, 1, tensors="torch", verify=False)
    hf = datasets.load_from_disk(str(exports[0]))
    W = manifest_of(build)["geometry"]["originalWindowTokens"]
    if len(windows) == 2:
        with pytest.raises(ValueError, match="rows of windows"):
            collate_hf([dataset[windows["short"]], dataset[windows["long"]]])
        with pytest.raises(ValueError, match="rows of windows"):
            LongmixHfCollator(original_window_tokens=W)([hf[windows["short"]], hf[windows["long"]]])
    same = [r["row_id"] for r in rows if r["window"] == rows[0]["window"]][:2]
    if len(same) == 2:
        with pytest.raises(ValueError, match="pass original_window_tokens"):
            collate_hf([hf[same[0]], hf[same[1]]])
        assert collate_hf([hf[same[0]], hf[same[1]]], original_window_tokens=W)["input_ids"].shape == (1, 2 * len(rows[0]["input_ids"]))
