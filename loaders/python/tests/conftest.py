"""Fixtures: builds, their exports and a tokenizer directory, shared by every test module.

``LONGMIX_TEST_BUILD`` (document attention) and ``LONGMIX_TEST_BUILD_FULL`` (a build with
``packing.longRowAttention: full``) name existing build directories; when unset, the builds are
made with ``pnpm -s pipeline build-mix`` from the repository root (the default recipe, and the
same with that one option changed). Every expectation is read from the build itself (its
manifest's schedule, geometry and tokenizer), so any build passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import REPO, exports_of, make_tokenizer_dir, manifest_of, pnpm


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> Path:
    given = os.environ.get("LONGMIX_TEST_BUILD")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("longmix") / "sample"
    pnpm("pipeline", "build-mix", "--out", str(out), "--format", "hf,megatron")
    return out


def sample_recipe_variant(work: Path, change) -> Path:
    """The default recipe (pipelines/sample.yaml, parsed by the project's own `yaml` package) with
    `change(recipe)` applied, written as JSON (YAML accepts JSON) with absolute source paths."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: install it or set LONGMIX_TEST_BUILD_FULL to a build with longRowAttention: full")
    script = "import { readFileSync } from 'node:fs'; import { parse } from 'yaml'; process.stdout.write(JSON.stringify(parse(readFileSync('pipelines/sample.yaml', 'utf8'))))"
    done = subprocess.run([node, "--input-type=module", "-e", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"could not read pipelines/sample.yaml with node: {done.stderr[-2000:]}")
    recipe = json.loads(done.stdout)
    for source in recipe["sources"]:
        source["paths"] = [os.path.normpath(REPO / "pipelines" / p) for p in source["paths"]]
    change(recipe)
    (work / "recipe.yaml").write_text(json.dumps(recipe, indent=2))
    return work / "recipe.yaml"


@pytest.fixture(scope="session")
def full_build(tmp_path_factory) -> Path:
    given = os.environ.get("LONGMIX_TEST_BUILD_FULL")
    if given:
        return Path(given)
    work = tmp_path_factory.mktemp("longmix-full")
    recipe = sample_recipe_variant(work, lambda r: r.setdefault("packing", {}).__setitem__("longRowAttention", "full"))
    pnpm("pipeline", "build-mix", "--out", str(work / "out"), "--recipe", str(recipe))
    return work / "out"


@pytest.fixture(scope="session")
def phi3_build(tmp_path_factory) -> Path:
    """The default recipe with the Phi-3 vocabulary (32,064 ids: uint16 Megatron tokens), with its exports."""
    work = tmp_path_factory.mktemp("longmix-phi3")
    recipe = sample_recipe_variant(work, lambda r: (r.__setitem__("tokenizer", "phi3"), r.__setitem__("scale", 0.5)))
    pnpm("pipeline", "build-mix", "--out", str(work / "out"), "--recipe", str(recipe), "--format", "hf,megatron")
    return work / "out"


@pytest.fixture(scope="session")
def exports(build, tmp_path_factory) -> tuple:
    """``(hf_dir, megatron_prefix)`` of ``build``."""
    return exports_of(build, tmp_path_factory.mktemp("exports"))


@pytest.fixture(scope="session")
def tokenizer_dir(build, tmp_path_factory) -> Path:
    """A transformers tokenizer directory of the build's vocabulary."""
    work = tmp_path_factory.mktemp("tokenizer")
    return make_tokenizer_dir(manifest_of(build)["tokenizer"]["name"], work / "tokenizer")
