"""A plain PEFT LoRA adapter merged into its quantized base GGUF, built once on first use, so
llama.cpp serves the tuned model at the base's own decode speed (a runtime GGUF LoRA adds two
small matmuls per adapted matrix and token: 8-20 % slower decode as measured by `pedgpt bench`).

    from pedgpt.engine.gguf_merge import merged_gguf_for
    path = merged_gguf_for(base_gguf, "pedgpt/models/pedgpt-0.5b")   # built once, then re-used
    Llama(model_path=str(path))

    python -m pedgpt.engine.gguf_merge [ADAPTER_FOLDER]   # build for the embedded base, print path

Each adapted tensor is de-quantized (gguf-py), gets `scale · B @ A` added and is quantized again,
to Q8_0 unless it already was Q8_0 or finer (`merged_type`: the embedded model's Q5_0 attention
weights become Q8_0, since a Q5_0 step is larger than the adapter's delta and would round it
away). Every other tensor and all metadata are copied byte for byte, plus `pedgpt.*` keys naming
the base and adapter merged.

The file is named by a digest over (MERGE_FORMAT, base sha256, adapter digest) and built under a
lock into a `.partial` beside it; a build record `<name>.build.json` holds its sha256 before it is
renamed into place. A later call re-uses it while its sha256 (cached by size/mtime/inode, so
cheap) equals the record's, and rebuilds it otherwise (truncated, edited, half-written).

A tensor gguf-py cannot de-quantize raises `UnsupportedMergeType` (the llama.cpp backend then
falls back to the runtime GGUF LoRA); `PEDGPT_LORA_MODE=runtime` forces that path (`lora_mode`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from pedgpt.errors import BackendError, ModelError

#: Bump when the merged bytes for the same (base, adapter) change: old files are then rebuilt.
MERGE_FORMAT = 1
LORA_MODES = ("merge", "runtime")
#: Metadata added to the merged file (a digest, not a display name: `general.name` stays the base's,
#: so nothing that shows or matches it changes, and the provenance is exact and machine-readable).
KEY_ADAPTER, KEY_BASE, KEY_FORMAT = "pedgpt.adapter_sha256", "pedgpt.base_sha256", "pedgpt.merge_format"


class UnsupportedMergeType(ModelError):
    """An adapted tensor is stored in a type gguf-py cannot de-quantize (or re-quantize)."""


def lora_mode() -> str:
    """How llama.cpp applies a plain LoRA: `PEDGPT_LORA_MODE` = merge (default) | runtime."""
    value = os.environ.get("PEDGPT_LORA_MODE", "").strip().lower() or "merge"
    if value not in LORA_MODES:
        raise BackendError(f"PEDGPT_LORA_MODE must be one of {', '.join(LORA_MODES)}, got {value!r}")
    return value


# ---- the cached file ---------------------------------------------------------------------------
def merged_gguf_for(base_gguf: str | Path, adapter_folder: str | Path, cache: str | Path | None = None,
                    progress: bool = True, base_sha256: str | None = None) -> Path:
    """The merged GGUF of `base_gguf` + the PEFT LoRA in `adapter_folder`, built once into `cache`
    (default: `<model cache>/merged/`). `base_sha256`: the base's digest when already verified
    (the embedded model), else it is hashed here. Raises ModelError / UnsupportedMergeType."""
    from pedgpt.engine.gguf_lora import adapter_digest
    from pedgpt.engine.model_store import _assembly_lock, cache_subdir, file_sha256

    base, folder, merged = Path(base_gguf), Path(adapter_folder), cache_subdir("merged", cache)
    try:
        # a user's GGUF: its digest is recorded in our cache (not beside it) and re-used while the
        # file's size/mtime/inode stay the same
        base_sha256 = base_sha256 or file_sha256(base, progress, record_dir=cache_subdir("digests", merged / "digests"))
        adapter_sha256 = adapter_digest(folder)
    except OSError as exc:
        raise ModelError(f"cannot read {exc.filename or base}: {exc.strerror or exc}") from None
    target = merged / f"merged-{merge_digest(base_sha256, adapter_sha256)[:16]}.gguf"
    if _is_current(target, progress):
        return target
    with _assembly_lock(target):
        if _is_current(target, progress):  # another process built it while we waited
            return target
        _refuse_known_unsupported(target)
        provenance = {"format": MERGE_FORMAT, "base": str(base), "base_sha256": base_sha256,
                      "adapter": str(folder.resolve()), "adapter_digest": adapter_sha256}
        _build(base, folder, target, provenance, progress)
    return target


def merge_digest(base_sha256: str, adapter_sha256: str) -> str:
    """What the merged bytes depend on: the format version, the base and the adapter."""
    return hashlib.sha256(f"{MERGE_FORMAT}\n{base_sha256}\n{adapter_sha256}".encode()).hexdigest()


def build_record_path(target: Path) -> Path:
    return target.with_name(target.name + ".build.json")


def _unsupported_path(target: Path) -> Path:
    return target.with_name(target.name + ".unsupported.json")


def _is_current(target: Path, progress: bool) -> bool:
    """True when `target` exists and its sha256 is the one its build record promises."""
    from pedgpt.engine.model_store import file_sha256

    record = _read_json(build_record_path(target))
    if record is None or not target.is_file():
        return False
    return file_sha256(target, progress) == record.get("sha256")


def _refuse_known_unsupported(target: Path) -> None:
    """Re-raise a previous UnsupportedMergeType for this (base, adapter) without re-reading the
    base (gguf-py's reader takes ~7 s on the embedded model); keyed by the gguf version, which
    decides what can be quantized."""
    record = _read_json(_unsupported_path(target))
    if record and record.get("gguf") == _gguf_version():
        raise UnsupportedMergeType(str(record.get("error")))


def _build(base: Path, folder: Path, target: Path, provenance: dict, progress: bool) -> None:
    """Write to a `.partial`, fsync, record its sha256, rename into place (we hold the lock)."""
    from pedgpt.engine.model_store import (PARTIAL_SUFFIX, _fsync_dir, _remove_stale, _write_record,
                                           file_sha256)

    _remove_stale(target)  # a half-written or corrupt earlier attempt, and its sha256 record
    build_record_path(target).unlink(missing_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX)
    os.close(handle)
    partial = Path(name)
    try:
        merged = write_merged_gguf(base, folder, partial, provenance, progress)
        _fsync_file(partial)
        partial.chmod(0o644)  # mkstemp makes 0600; the model is not a secret
        digest = file_sha256(partial, progress=False, remember=False)
        _write_json(build_record_path(target), {**provenance, "merged_tensors": merged,
                                                "size": partial.stat().st_size, "sha256": digest})
        os.replace(partial, target)  # keeps size/mtime/inode: the sha256 record below matches
        _fsync_dir(target.parent)
    except UnsupportedMergeType as exc:
        _write_json(_unsupported_path(target), {"error": str(exc), "gguf": _gguf_version()})
        raise
    finally:
        partial.unlink(missing_ok=True)
    _write_record(target, digest)


# ---- the merge itself --------------------------------------------------------------------------
def write_merged_gguf(base: str | Path, folder: str | Path, out: str | Path, provenance: dict,
                      progress: bool = False) -> list[str]:
    """Write base + adapter to `out`; returns the names of the tensors that changed.
    `provenance`: {"base_sha256": ..., "adapter_digest": ...}, written as `pedgpt.*` keys.

    Tensors keep the base's order, names and shapes; only the adapted ones get new data (and
    type, see `merged_type`), so everything else is the base's bytes."""
    from gguf import GGUFReader

    from pedgpt.engine.gguf_lora import lora_pairs
    from pedgpt.engine.model_store import _bar

    _, pairs = lora_pairs(folder)
    with _bar(1, f"merging {Path(folder).name} into {Path(base).name}", progress) as bar:
        reader = GGUFReader(str(base))  # ~7 s on the embedded model: it parses the vocabulary
        tensors = {t.name: t for t in reader.tensors}
        check_mergeable(tensors, pairs, base)
        # Progress in bytes: the adapted tensors' merge, then every tensor's write.
        bar.reset(total=sum(int(t.n_bytes) for t in reader.tensors)
                  + sum(int(tensors[n].n_bytes) for n in pairs))
        merged = {}
        for name, (lora_a, lora_b) in pairs.items():
            merged[name] = merged_tensor(tensors[name], lora_a, lora_b)
            bar.update(int(tensors[name].n_bytes))
        _write(reader, merged, provenance, out, bar)
    return list(pairs)


def _write(reader, merged: dict, provenance: dict, out: str | Path, bar) -> None:
    """The base's metadata + `pedgpt.*` keys and its tensors, `merged` ({name: (data, type)})
    replacing theirs; streamed tensor by tensor (the base is memory-mapped, never copied whole)."""
    from gguf import GGUFWriter

    writer = GGUFWriter(str(out), _field(reader, "general.architecture"), endianess=reader.endianess)
    copy_metadata(reader, writer)
    writer.add_string(KEY_ADAPTER, provenance["adapter_digest"])
    writer.add_string(KEY_BASE, provenance["base_sha256"])
    writer.add_uint32(KEY_FORMAT, MERGE_FORMAT)
    for t in reader.tensors:  # quantized data is uint8 (rows, bytes): the writer maps it to ne
        data, qtype = merged.get(t.name, (t.data, t.tensor_type))
        writer.add_tensor_info(t.name, data.shape, data.dtype, data.nbytes, qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for t in reader.tensors:
        if t.name in merged:
            writer.write_tensor_data(merged[t.name][0])
        else:
            writer.write_tensor_data(t.data, tensor_endianess=reader.endianess)
        bar.update(int(t.n_bytes))
    writer.close()


def merged_type(qtype):
    """The type an adapted tensor is stored in: its own when at least as precise as Q8_0, else Q8_0.

    Why not always its own: the shipped adapter's delta (rms ~5e-4) is below a Q5_0 block's
    rounding step, so re-quantizing to Q5_0 rounded most of it away (mean next-token KL to the
    exact runtime LoRA on 6 prompts: 0.31; the bare base: 1.15), while Q8_0 keeps it (0.003) at
    no decode cost (+16 MB of attention weights; measured 0.99-1.12x the base's decode speed,
    Q8_0 dot products being cheap on CPU). Q8_0 also takes K-quants, which gguf-py cannot write."""
    from gguf import GGMLQuantizationType as Q

    return qtype if qtype in (Q.F32, Q.F16, Q.BF16, Q.Q8_0) else Q.Q8_0


def merged_tensor(tensor, lora_a, lora_b):
    """(data, type) of dequant(W) + B @ A (B already scaled), quantized to `merged_type`.

    Shapes: W (out, in) de-quantized, A (rank, in), B (out, rank); quantized data (out, bytes).
    The sum is taken in float64 and rounded once to float32, so the bytes do not depend on the
    BLAS's summation order."""
    import numpy as np
    from gguf import quants

    weight = quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float64)
    weight += lora_b.astype(np.float64) @ lora_a.astype(np.float64)
    qtype = merged_type(tensor.tensor_type)
    return quants.quantize(weight.astype(np.float32), qtype), qtype


def check_mergeable(tensors: dict, pairs: dict, base: str | Path) -> None:
    """ModelError for an adapted tensor missing from the base or of another shape;
    UnsupportedMergeType for one gguf-py cannot de-quantize. Checked before anything is written."""
    for name, (lora_a, lora_b) in pairs.items():
        tensor = tensors.get(name)
        if tensor is None:
            raise ModelError(f"the adapter changes {name}, which {Path(base).name} does not have "
                             f"(an adapter for another base model?)")
        shape = tuple(int(n) for n in reversed(tensor.shape))  # GGUF ne [in, out] → (out, in)
        if shape != (lora_b.shape[0], lora_a.shape[1]):
            raise ModelError(f"{name}: the base tensor is {shape} (out, in) but the adapter's "
                             f"B @ A is {(lora_b.shape[0], lora_a.shape[1])}")
        if not can_merge(tensor.tensor_type):
            raise UnsupportedMergeType(
                f"cannot merge the adapter into {name}: it is stored as {tensor.tensor_type.name}, "
                f"which gguf-py cannot de-quantize")


@functools.lru_cache(maxsize=None)
def can_merge(qtype) -> bool:
    """Whether gguf-py de-quantizes `qtype` and quantizes its `merged_type` (tried on one zero block)."""
    import numpy as np
    from gguf import GGML_QUANT_SIZES, quants

    if qtype not in GGML_QUANT_SIZES:
        return False
    block_bytes = GGML_QUANT_SIZES[qtype][1]
    out_block = GGML_QUANT_SIZES[merged_type(qtype)][0]
    try:
        quants.dequantize(np.zeros((1, block_bytes), dtype=np.uint8), qtype)
        quants.quantize(np.zeros((1, out_block), dtype=np.float32), merged_type(qtype))
    except NotImplementedError:
        # gguf-py's only signal for a type it has no (de)quantizer for; gguf-py has no registry
        # to ask, so one zero block is tried. Such a base falls back to the runtime GGUF LoRA.
        return False
    return True


def copy_metadata(reader, writer) -> None:
    """Every key/value of the base, in order, with its types (arrays keep their element type);
    the reader's virtual `GGUF.*` header fields and the architecture (the writer's) are skipped."""
    from gguf import GGUFValueType

    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub_type)
    alignment = _field(reader, "general.alignment")
    if alignment is not None:
        writer.data_alignment = int(alignment)  # the writer pads tensor data by this, not the key


# ---- small helpers -----------------------------------------------------------------------------
def _field(reader, key: str):
    field = reader.get_field(key)
    return field.contents() if field else None


def _gguf_version() -> str:
    from importlib.metadata import version

    return version("gguf")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    """Build (if needed) the embedded base merged with ADAPTER_FOLDER (default: the shipped
    PedGPT-0.5B adapter) and print its path."""
    import sys

    from pedgpt.engine.loader import DEFAULT_SHIPPED, SHIPPED_DIR
    from pedgpt.engine.model_store import EMBEDDED, ensure_embedded_model

    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else SHIPPED_DIR / DEFAULT_SHIPPED
    print(merged_gguf_for(ensure_embedded_model(), folder, base_sha256=EMBEDDED.sha256))


if __name__ == "__main__":
    main()
