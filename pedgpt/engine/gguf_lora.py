"""A PEFT LoRA adapter (safetensors) → llama.cpp's GGUF LoRA format, so the fast CPU path can
apply an adapter trained by `train/` on top of the quantized base GGUF at load time.

    from pedgpt.engine.gguf_lora import gguf_lora_for
    path = gguf_lora_for("pedgpt/models/pedgpt-0.5b")     # converted once, cached by checksum
    Llama(model_path=base_gguf, lora_path=str(path))

llama.cpp computes `W·x + scale · B·(A·x)` per adapted matrix with `scale = alpha / rank`.
PEFT's tensors map one to one: `lora_A` (rank, in) is GGUF `lora_a` with ne = [in, rank] and
`lora_B` (out, rank) is `lora_b` with ne = [rank, out]; the PEFT scale (alpha / r, or alpha /
sqrt(r) for rsLoRA) is folded into `lora_b` and the GGUF alpha set to the rank (scale 1), so the
file means exactly what the adapter means whatever scale rule trained it.

The conversion is deterministic (same adapter bytes → same GGUF bytes); the cached file is named
by the adapter's sha256 and written atomically, so a half-written file is never used.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from pathlib import Path

from pedgpt.errors import ModelError

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
#: Hugging Face module names (Qwen2 / Llama layout) → llama.cpp tensor names inside `blk.N.`.
HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?model\.layers\.(\d+)\.(\w+\.\w+)\.lora_([AB])\.weight$")


def gguf_tensor_name(peft_key: str) -> tuple[str, str]:
    """("blk.3.attn_q.weight", "a"|"b") for a PEFT key such as
    `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`."""
    match = _PEFT_KEY.match(peft_key)
    if not match or match.group(2) not in HF_TO_GGUF:
        raise ModelError(f"LoRA tensor {peft_key!r} targets a module llama.cpp's adapter loader "
                         f"does not map (supported: {', '.join(HF_TO_GGUF)})")
    layer, module, side = match.groups()
    return f"blk.{layer}.{HF_TO_GGUF[module]}.weight", side.lower()


def adapter_scale(config: dict) -> float:
    """PEFT's multiplier of B·A: alpha / r, or alpha / sqrt(r) with `use_rslora`."""
    rank, alpha = config.get("r"), config.get("lora_alpha")
    if not isinstance(rank, int) or rank < 1 or not isinstance(alpha, (int, float)):
        raise ModelError("adapter_config.json needs a positive integer 'r' and a numeric 'lora_alpha'")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise ModelError("per-module rank_pattern/alpha_pattern adapters are not supported on llama.cpp")
    return alpha / (math.sqrt(rank) if config.get("use_rslora") else rank)


def read_adapter(folder: str | Path) -> tuple[dict, dict]:
    """(adapter_config, {peft key: float32 numpy array}) of a PEFT adapter folder."""
    folder = Path(folder)
    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {folder / ADAPTER_CONFIG}: {exc}") from None
    weights = folder / ADAPTER_WEIGHTS
    if not weights.is_file():
        raise ModelError(f"{folder} has no {ADAPTER_WEIGHTS}")
    from safetensors.numpy import load_file

    try:
        tensors = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise ModelError(f"{weights} is not a readable safetensors file ({exc})") from None
    return config, tensors


def lora_pairs(folder: str | Path) -> tuple[dict, dict]:
    """(adapter_config, {GGUF tensor name: (A, scale · B)}) of a plain PEFT LoRA folder, in layer
    order; float32 A (rank, in) and B (out, rank), so `scale · B @ A` is the (out, in) weight delta."""
    import numpy as np

    config, tensors = read_adapter(folder)
    if config.get("peft_type", "LORA") != "LORA" or config.get("use_dora"):
        raise ModelError(f"{folder}: only plain LoRA adapters run on llama.cpp (not DoRA/other PEFT types)")
    scale = adapter_scale(config)
    sides: dict[str, dict[str, np.ndarray]] = {}
    for key in sorted(tensors):
        name, side = gguf_tensor_name(key)
        value = tensors[key].astype(np.float32)
        sides.setdefault(name, {})[side] = value * scale if side == "b" else value
    pairs = {}
    for name in sorted(sides, key=_layer_order):
        pair = sides[name]
        if set(pair) != {"a", "b"} or pair["a"].shape[0] != pair["b"].shape[1]:
            raise ModelError(f"{folder}: LoRA pair for {name} is incomplete or of mismatched rank")
        pairs[name] = (pair["a"], pair["b"])
    return config, pairs


def write_gguf_lora(folder: str | Path, out: str | Path, architecture: str = "qwen2") -> Path:
    """Convert the PEFT adapter in `folder` to a GGUF LoRA file at `out` (f16 tensors)."""
    import numpy as np
    from gguf import GGUFType, GGUFWriter, Keys

    config, pairs = lora_pairs(folder)
    writer = GGUFWriter(str(out), architecture)
    writer.add_type(GGUFType.ADAPTER)
    writer.add_string(Keys.Adapter.TYPE, "lora")
    writer.add_float32(Keys.Adapter.LORA_ALPHA, float(config["r"]))  # scale already in lora_b
    for name, (lora_a, lora_b) in pairs.items():
        # numpy (rank, in) → GGUF ne [in, rank]; (out, rank) → ne [rank, out]: as llama.cpp expects.
        writer.add_tensor(f"{name}.lora_a", lora_a.astype(np.float16))
        writer.add_tensor(f"{name}.lora_b", lora_b.astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(out)


def _layer_order(name: str) -> tuple[int, str]:
    return int(name.split(".")[1]), name


def adapter_digest(folder: str | Path) -> str:
    """sha256 over the adapter's config and its weights' sha256 (what the converted file depends on)."""
    from pedgpt.engine.model_store import file_sha256

    folder = Path(folder)
    weights = file_sha256(folder / ADAPTER_WEIGHTS, progress=False, remember=False)
    return hashlib.sha256((folder / ADAPTER_CONFIG).read_bytes() + weights.encode()).hexdigest()


def gguf_lora_for(folder: str | Path, cache: str | Path | None = None,
                  architecture: str = "qwen2") -> Path:
    """The GGUF LoRA for a PEFT adapter folder: converted once into `cache` (default: the model
    cache), named by the adapter's digest, renamed into place only when complete."""
    from pedgpt.engine.model_store import cache_subdir

    folder = Path(folder)
    try:
        digest = adapter_digest(folder)
    except OSError as exc:
        raise ModelError(f"cannot read the adapter in {folder}: {exc.strerror or exc}") from None
    target_dir = cache_subdir("adapters", cache)
    target = target_dir / f"lora-{digest[:16]}.gguf"
    if target.is_file():
        return target
    handle, partial = tempfile.mkstemp(prefix=target.name, suffix=".partial", dir=target_dir)
    os.close(handle)
    try:
        write_gguf_lora(folder, partial, architecture)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target
