"""Reading ``manifest.json`` and checking shard files against it.

The manifest is written last: a directory without one is not a finished build (docs/format.md
section 1), so :func:`read_manifest` refuses it. Only the fields this loader needs are checked;
unknown fields are left alone so that newer manifests still load.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Iterable, Optional

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".longmix.lock"
UNREADABLE_GRACE_S = 10.0
SUPPORTED_MANIFEST_VERSIONS = (1,)


class LongmixFormatError(ValueError):
    """A build directory, manifest or shard does not match the longmix format."""


class ShardVerificationError(LongmixFormatError):
    """A shard's size or SHA-256 differs from the manifest's."""


def _writer_may_be_alive(lock: dict) -> bool:
    """Whether a lock's build may still run: another host, or a live (or unknowable) pid here."""
    if lock.get("hostname") != socket.gethostname():
        return True
    try:
        os.kill(int(lock.get("pid")), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError, OverflowError):
        return True
    return True


def read_manifest(build_dir: "str | os.PathLike[str]") -> dict:
    """Loads ``<build_dir>/manifest.json`` and checks the fields the loader relies on.

    Raises FileNotFoundError when there is no manifest (unfinished, failed or foreign
    directory), LongmixFormatError when a required field is missing or malformed, and
    BlockingIOError when a longmix build is writing the directory (its lock ``.longmix.lock``
    names a live process, docs/format.md section 1).
    """
    lock_path = Path(build_dir) / LOCK_NAME
    if lock_path.exists():
        try:
            lock = json.loads(lock_path.read_text(encoding="utf-8"))
            age_s = time.time() - lock_path.stat().st_mtime
        except (OSError, ValueError):
            lock, age_s = None, 0.0
        well_formed = isinstance(lock, dict) and isinstance(lock.get("pid"), int) and isinstance(lock.get("hostname"), str)
        # As longmix itself: a lock that is not readable as one may be one being written for UNREADABLE_GRACE_S.
        if (well_formed and _writer_may_be_alive(lock)) or (not well_formed and age_s < UNREADABLE_GRACE_S):
            holder = f"pid {lock.get('pid')} on {lock.get('hostname')}, since {lock.get('startedAt')}" if well_formed else f"lock file {lock_path}, not readable as a lock"
            raise BlockingIOError(f"{Path(build_dir)} is being written by a longmix build ({holder}); load it when that build has finished, or remove {lock_path} if none is running")
    path = Path(build_dir) / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest.json, so {Path(build_dir)} is not a finished longmix build (the manifest is written last)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise LongmixFormatError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(manifest, dict):
        raise LongmixFormatError(f"{path}: expected a JSON object")
    version = manifest.get("manifestVersion")
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise LongmixFormatError(f"{path}: manifestVersion {version!r} is not supported (supported: {SUPPORTED_MANIFEST_VERSIONS})")
    row_tokens = manifest.get("geometry", {}).get("rowTokens")
    if not isinstance(row_tokens, int) or row_tokens <= 0:
        raise LongmixFormatError(f"{path}: geometry.rowTokens must be a positive integer, got {row_tokens!r}")
    shards = manifest.get("shards")
    if not isinstance(shards, list):
        raise LongmixFormatError(f"{path}: shards must be a list")
    for i, shard in enumerate(shards):
        name = shard.get("file") if isinstance(shard, dict) else None
        # Shard names are plain file names inside the build directory, never paths.
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
            raise LongmixFormatError(f"{path}: shards.{i}.file must be a file name inside the build directory, got {name!r}")
        for key in ("sizeBytes", "sha256"):
            if key not in shard:
                raise LongmixFormatError(f"{path}: shards.{i}.{key} is missing")
    return manifest


def shard_paths(build_dir: "str | os.PathLike[str]", manifest: dict) -> list:
    """Paths of the shards the manifest lists, in manifest order (only those: see docs/format.md)."""
    return [Path(build_dir) / shard["file"] for shard in manifest["shards"]]


def sha256_file(path: "str | os.PathLike[str]", chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(chunk_bytes)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


def verify_shard(path: "str | os.PathLike[str]", size_bytes: int, sha256: str) -> None:
    """Checks a shard's size (a stat, first) and SHA-256 against the manifest's values.

    Raises ShardVerificationError naming the file and both values on a mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise ShardVerificationError(f"{path}: listed in the manifest but missing")
    actual_size = path.stat().st_size
    if actual_size != size_bytes:
        raise ShardVerificationError(f"{path}: size {actual_size} bytes, manifest says {size_bytes}")
    actual_sha = sha256_file(path)
    if actual_sha != sha256.lower():
        raise ShardVerificationError(f"{path}: sha256 {actual_sha}, manifest says {sha256}")


def verify_build_files(build_dir: "str | os.PathLike[str]", manifest: dict, files: Optional[Iterable[str]] = None) -> None:
    """Verifies every shard the manifest lists (or only those named in ``files``)."""
    wanted = None if files is None else set(files)
    for shard in manifest["shards"]:
        if wanted is None or shard["file"] in wanted:
            verify_shard(Path(build_dir) / shard["file"], int(shard["sizeBytes"]), str(shard["sha256"]))
