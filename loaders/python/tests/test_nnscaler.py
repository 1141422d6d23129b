"""nnScaler's LongRoPE2 example (../shared/consumers/nnscaler, commit 1585c15) on a build, with its
own code: its ``get_dataset``/``collate_fn`` (the stock path, on the hf export) and the drop-in
``longmix_loader.nnscaler.get_dataset`` in its place, fed through the sampler and DataLoader that
nnScaler's trainer builds, and its RoPE switch (``rope_modifier.get_longrope_inv_freq``).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import datasets
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from longmix_loader import nnscaler as N
from support import IGNORE, NNSCALER_DIR, divisors, import_nnscaler_example, manifest_of, real_targets, rows_by_id, schedule_order, segment_ends


@pytest.fixture(scope="module")
def example():
    return import_nnscaler_example()


def nnscaler_loader(dataset, collate_fn, sampler_type, data_parallel_size: int, rank: int, sampler_args: dict, micro_batch_size: int = 1):
    """The DataLoader nnScaler's trainer makes (nnscaler/cli/trainer_args.py ``create_sampler`` and
    ``create_dataloader`` at v0.8; nnScaler itself is not installable here): the sampler gets
    ``dataset``, ``num_replicas`` = runtime_ngpus // plan_ngpus, ``rank`` = RANK // plan_ngpus and
    the config's ``train_args``; the loader ``batch_size`` = micro_batch_size, that sampler, the
    example's ``collate_fn`` and ``drop_last=True`` (examples/longrope2/train.py)."""
    sampler = sampler_type(dataset=dataset, num_replicas=data_parallel_size, rank=rank, **sampler_args)
    return DataLoader(dataset, batch_size=micro_batch_size, sampler=sampler, collate_fn=collate_fn, drop_last=True)


def rope_regime(rope_modifier, position_ids: torch.Tensor, original_window: int) -> str:
    """Which factors the example's RoPE switch picks for a batch: it returns
    ``1 / (factors * base ** (2i / d))``; compared with both, using the example's model config."""
    config = json.loads((NNSCALER_DIR / "examples" / "longrope2" / "llama3_8b_longrope2_config.json").read_text())
    scaling, base = config["rope_scaling"], config["rope_theta"]
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    got = rope_modifier.get_longrope_inv_freq(position_ids, base, head_dim, original_window, scaling["long_factor"], scaling["short_factor"])
    exponents = torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim
    long = 1.0 / (torch.tensor(scaling["long_factor"], dtype=torch.float32) * base**exponents)
    short = 1.0 / (torch.tensor(scaling["short_factor"], dtype=torch.float32) * base**exponents)
    assert not torch.equal(long, short)
    return "long" if torch.equal(got, long) else "short" if torch.equal(got, short) else "neither"


def test_the_drop_in_has_the_signature_and_return_value_of_the_examples_get_dataset(example, build, tokenizer_dir):
    dataset_module, _ = example
    theirs = list(inspect.signature(dataset_module.get_dataset).parameters)
    assert theirs == ["dataset_path", "tokenizer_name_or_path"]
    assert list(inspect.signature(N.get_dataset).parameters)[:2] == theirs
    dataset, collate_fn = N.get_dataset(build, str(tokenizer_dir))
    assert len(dataset) == manifest_of(build)["rows"]["total"] and callable(collate_fn)
    assert collate_fn([]) == {}  # as the example's collate


def test_the_examples_path_with_the_drop_in_masks_padding_normalises_by_real_targets_and_follows_the_schedule(example, build, tokenizer_dir):
    _, rope_modifier = example
    manifest = manifest_of(build)
    rows = rows_by_id(build)
    T, W = manifest["geometry"]["rowTokens"], manifest["geometry"]["originalWindowTokens"]
    dataset, collate_fn = N.get_dataset(build, str(tokenizer_dir))
    seen = 0
    for world in divisors(manifest["schedule"]["globalBatchRows"]):
        for rank in range(world):
            order = []
            for batch in nnscaler_loader(dataset, collate_fn, N.ScheduleSampler, world, rank, {}):
                assert set(batch) == {"nsentences", "ntokens", "net_input", "target"} and set(batch["net_input"]) == {"input_ids", "position_ids"}
                ids, pos, target = batch["net_input"]["input_ids"][0], batch["net_input"]["position_ids"][0], batch["target"][0]
                row = next(r for r in rows if r["input_ids"] == ids.tolist())
                order.append(row["row_id"])
                used = T - row["num_pad"]
                assert pos.tolist() == row["position_ids"] and ids.dtype == pos.dtype == target.dtype == torch.int64
                assert (target[used - 1 :] == IGNORE).all()  # zero padding targets
                ends = segment_ends(row)
                for t in range(used - 1):
                    assert target[t].item() == (IGNORE if t in ends else row["input_ids"][t + 1])
                assert batch["ntokens"].item() == int((target != IGNORE).sum()) == real_targets(row)
                assert batch["nsentences"].item() == 1
                if world == 1:
                    assert rope_regime(rope_modifier, batch["net_input"]["position_ids"], W) == row["window"]
                seen += 1
            assert order == schedule_order(manifest, rank, world), f"rank {rank} of {world}"
    assert seen == len(rows) * len(divisors(manifest["schedule"]["globalBatchRows"]))


def test_the_stock_example_on_the_hf_export_targets_padding_and_counts_it(example, build, exports, tokenizer_dir):
    """What the drop-in changes: the example's own get_dataset on the hf export (datasets 5.x reads
    its Sequence features; rows in row_id order) sees the same tokens and positions, but targets the
    padding and normalises by rows x row length."""
    dataset_module, _ = example
    hf_dir, _ = exports
    manifest = manifest_of(build)
    T = manifest["geometry"]["rowTokens"]
    stock, stock_collate = dataset_module.get_dataset(str(hf_dir), str(tokenizer_dir))
    assert stock.format["columns"] == ["input_ids", "position_ids", "num_pad"]
    assert stock.features["input_ids"] == datasets.List(datasets.Value("int32"), length=T)
    assert stock.with_format(None)["row_id"] == list(range(len(stock)))
    inside = Path(hf_dir).resolve().parent == Path(build).resolve()
    ours, collate_fn = N.get_dataset(hf_dir if inside else build, None)  # <build>/hf resolves to the build
    assert N.resolve_build_dir(hf_dir if inside else build).resolve() == Path(build).resolve()
    pad_targets = 0
    for i, row in enumerate(rows_by_id(build)):
        theirs, mine = stock_collate([stock[i]]), collate_fn([ours[i]])
        assert torch.equal(theirs["net_input"]["input_ids"], mine["net_input"]["input_ids"])
        assert torch.equal(theirs["net_input"]["position_ids"], mine["net_input"]["position_ids"])
        assert theirs["ntokens"].item() == T and mine["ntokens"].item() == real_targets(row)
        used = T - row["num_pad"]
        target = theirs["target"][0]
        pad_targets += int((target[used - 1 : T - 1] != IGNORE).sum())
        kept = mine["target"][0] != IGNORE
        assert torch.equal(mine["target"][0][kept], target[kept])  # where both have a target it is the same
    assert pad_targets == manifest["rows"]["padTokens"]


def test_a_sampler_without_shuffling_gives_the_schedules_global_batches(build):
    """nnScaler's stock DistributedSampler with shuffle False: every global batch of G rows is one
    step of the schedule (rows dealt to ranks round-robin inside it)."""
    manifest = manifest_of(build)
    G, steps = manifest["schedule"]["globalBatchRows"], manifest["schedule"]["steps"]
    dataset, _ = N.get_dataset(build, None, verify=False)
    for world in divisors(G):
        per_rank = [list(DistributedSampler(dataset, num_replicas=world, rank=r, shuffle=False)) for r in range(world)]
        for step in range(steps):
            drawn = sorted(i for r in range(world) for i in per_rank[r][step * G // world : (step + 1) * G // world])
            assert drawn == list(range(step * G, (step + 1) * G))


def test_refusals(build, tmp_path):
    dataset, collate_fn = N.get_dataset(build, None, verify=False)
    windows = {dataset[i]["window"]: i for i in range(len(dataset))}
    if len(windows) == 2:
        with pytest.raises(ValueError, match="use micro-batch size 1"):
            collate_fn([dataset[windows["short"]], dataset[windows["long"]]])
    with pytest.raises(ValueError, match="remove 'shuffle': True"):
        N.ScheduleSampler(dataset, num_replicas=1, rank=0, shuffle=True)
    with pytest.raises(TypeError, match="needs the dataset of longmix_loader.nnscaler.get_dataset"):
        N.ScheduleSampler(list(range(4)), num_replicas=1, rank=0)
    with pytest.raises(FileNotFoundError, match="expected a longmix build directory"):
        N.get_dataset(tmp_path, None)
    # A tokenizer of another vocabulary (its BOS id differs) is refused by name.
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    other = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"<bos>": 0, "<eos>": 1, "<unk>": 2}, unk_token="<unk>")), bos_token="<bos>", eos_token="<eos>")
    other.save_pretrained(str(tmp_path / "other"))
    with pytest.raises(ValueError, match="has BOS id 0, but the build was tokenized with"):
        N.get_dataset(build, str(tmp_path / "other"), verify=False)
