"""Turn a model reference and a backend name into a ready `Engine`.

    from pedgpt.engine.loader import load_engine, describe_model
    engine = load_engine()                                  # embedded default GGUF → llama.cpp
    engine = load_engine("runs/sft/final")                  # transformers folder / manifest
    engine = load_engine("Qwen/Qwen2.5-7B-Instruct", backend="transformers", device="cuda")
    engine = load_engine("qwen2.5-7b", backend="openai")    # a vLLM / TGI / llama.cpp server
    describe_model(None)                                    # what would be loaded, without loading

Model references (`resolve_model`): None / "default" → the shipped default PedGPT-0.5B (the
embedded GGUF + the LoRA adapter trained by `train/`, in `pedgpt/models/pedgpt-0.5b`; the bare
base when that adapter is absent); "base" / "embedded" → the embedded base model without adapter;
"pedgpt-0.5b" / "pedgpt-0.5b-moe" → the shipped models by name (`SHIPPED_DIR`); a `.gguf`
file (or a folder holding exactly one); a transformers checkpoint folder (`config.json`); a folder
with a `pedgpt_model.json` manifest `{"base": ..., "adapter": ..., "adapter_type": "lora" |
"moe-lora"}` as written by `train`; a PEFT adapter folder (`adapter_config.json`) or MoE-LoRA adapter folder
(`moe_lora_config.json`), whose base is read from its config; or a hub id
(`org/name`, used from the local Hugging Face cache when offline).

`backend="auto"`: GGUF without adapter, or with a plain LoRA adapter (merged once into the GGUF,
`pedgpt.engine.gguf_merge`, or applied as a runtime GGUF LoRA) → llamacpp; anything else →
transformers (CUDA → 4-bit NF4, CPU → bf16). The device comes from `device=` or `$PEDGPT_DEVICE`
(auto | cpu | cuda).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from pedgpt.config import BACKENDS
from pedgpt.engine.base import Engine
from pedgpt.errors import BackendError, ModelError

DEFAULT_NAMES = ("", "default")
BASE_NAMES = ("base", "embedded")
#: Models that ship inside the package (adapters over the embedded GGUF), by name.
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_SHIPPED = "pedgpt-0.5b"
MANIFEST = "pedgpt_model.json"
MOE_CONFIG = "moe_lora_config.json"  # written by train.moe_lora.save_moe_adapter
ADAPTER_TYPES = ("lora", "moe-lora")
DEVICES = ("auto", "cpu", "cuda")
NF4 = "nf4 4-bit (bf16 compute, double quant)"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelRef:
    """A resolved model reference (nothing loaded yet)."""

    kind: str
    """"gguf" (a GGUF file), "transformers" (a checkpoint folder) or "hub" (a hub id)."""
    location: str
    """File or folder path, or the hub id."""
    name: str
    """Display name."""
    embedded: bool = False
    """True for the embedded default (its sha256 is known and verified)."""
    sha256: str | None = None
    """Verified digest, when known without extra work."""
    adapter: str | None = None
    """Adapter folder applied on top of the base, if any."""
    adapter_type: str | None = None
    """"lora" (PEFT) or "moe-lora" (train.moe_lora)."""
    base_adapter: str | None = None
    """A LoRA folder merged into the base before `adapter` is applied (an MoE-LoRA adapter trained
    on top of a LoRA-tuned model)."""

    def __post_init__(self) -> None:
        if self.kind not in ("gguf", "transformers", "hub"):
            raise ValueError(f"unknown model kind {self.kind!r}")
        if self.adapter_type not in (None, *ADAPTER_TYPES):
            raise ModelError(f"unknown adapter_type {self.adapter_type!r}; use one of {ADAPTER_TYPES}")


# ---- public API ---------------------------------------------------------------------------------
def load_engine(model: str | None = None, backend: str = "auto", **options) -> Engine:
    """A ready engine; BackendError / ModelError / InputError with one clear line otherwise."""
    backend = check_backend(backend)
    if backend == "openai":
        from pedgpt.engine.openai_backend import OpenAIEngine

        return OpenAIEngine(model, **_without(options, "device"))
    refuse_absent_cuda(options.get("device"))
    ref = resolve_model(model)
    backend = choose_backend(ref, backend)
    device = resolve_device(options.pop("device", None), backend)
    if backend == "llamacpp":
        from pedgpt.engine.llamacpp_backend import LlamaCppEngine

        return LlamaCppEngine(ref, device=device, **options)
    from pedgpt.engine.transformers_backend import TransformersEngine

    return TransformersEngine(ref, device=device, **options)


def describe_model(model: str | None = None, backend: str = "auto", device: str | None = None) -> dict:
    """What `load_engine` would load, without loading it (for `pedgpt model info`)."""
    backend = check_backend(backend)
    if backend == "openai":
        from pedgpt.engine.openai_backend import describe_remote

        return describe_remote(model)
    refuse_absent_cuda(device)
    ref = resolve_model(model)
    backend = choose_backend(ref, backend)
    device = resolve_device(device, backend)
    info = {"model": ref.name, "path": ref.location, "kind": ref.kind, "backend": backend,
            "device": device, "embedded": ref.embedded}
    info.update(_files_summary(ref))
    if backend == "llamacpp":
        info["dtype"] = gguf_quantization(Path(ref.location))
    else:
        info["dtype"] = describe_dtype(device)
    if ref.adapter:
        info.update(adapter=ref.adapter, adapter_type=ref.adapter_type)
    if ref.adapter and backend == "llamacpp":
        from pedgpt.engine.gguf_merge import lora_mode

        info["adapter_mode"] = lora_mode()  # what is asked for: "merge" (default) or "runtime"
    if ref.base_adapter:
        info["base_adapter"] = ref.base_adapter
    return info


def check_backend(backend: str | None) -> str:
    name = (backend or "auto").strip().lower()
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    return name


def resolve_device(device: str | None = None, backend: str = "transformers") -> str:
    """"cpu" or "cuda" for `backend`; BackendError when CUDA is asked for but absent.

    llama.cpp offloads to a GPU only when its build supports it; transformers uses torch's CUDA.
    """
    wanted = _wanted_device(device)
    if wanted not in DEVICES:
        raise BackendError(f"unknown device {wanted!r}; choose one of: {', '.join(DEVICES)}")
    if wanted == "cpu":
        return "cpu"
    available = _llamacpp_gpu() if backend == "llamacpp" else _cuda_available()
    if wanted == "cuda" and not available:
        where = "this llama-cpp-python build has no GPU support" if backend == "llamacpp" \
            else "no CUDA GPU is available here"
        raise BackendError(f"CUDA was asked for but {where}; use --device cpu (or PEDGPT_DEVICE=cpu)")
    return "cuda" if available else "cpu"


def _wanted_device(device: str | None) -> str:
    """The device asked for: the argument, else PEDGPT_DEVICE, else "auto" (not yet validated)."""
    return (device or os.environ.get("PEDGPT_DEVICE") or "auto").strip().lower()


def refuse_absent_cuda(device: str | None) -> None:
    """BackendError when CUDA is asked for and no backend has a GPU — before a model is resolved,
    because resolving the embedded default may first assemble its 469 MB GGUF."""
    if _wanted_device(device) == "cuda" and not (_cuda_available() or _llamacpp_gpu()):
        raise BackendError("CUDA was asked for but no CUDA GPU is available here (neither torch nor "
                           "this llama-cpp-python build has one); use --device cpu (or PEDGPT_DEVICE=cpu)")


def llamacpp_serves(ref: ModelRef) -> bool:
    """A GGUF alone or with one plain LoRA adapter (merged into the GGUF, or a runtime GGUF LoRA)."""
    return ref.kind == "gguf" and not ref.base_adapter and ref.adapter_type in (None, "lora")


def choose_backend(ref: ModelRef, backend: str) -> str:
    runs_on_llamacpp = llamacpp_serves(ref)
    if backend == "auto":
        return "llamacpp" if runs_on_llamacpp else "transformers"
    if backend == "llamacpp" and ref.kind != "gguf":
        raise BackendError(f"the llamacpp backend runs GGUF files; {ref.location} is a transformers "
                           "checkpoint: use --backend transformers (or auto)")
    if backend == "llamacpp" and not runs_on_llamacpp:
        raise BackendError("the llamacpp backend applies plain LoRA adapters only, not MoE-LoRA; "
                           "use --backend transformers (or auto)")
    return backend


# ---- resolving model references -----------------------------------------------------------------
def resolve_model(model: str | os.PathLike | None, _depth: int = 0) -> ModelRef:
    """Map a reference to a `ModelRef`; ModelError names what is wrong."""
    text = "" if model is None else str(model).strip()
    if text.lower() in BASE_NAMES:
        return embedded_ref()
    if text.lower() in DEFAULT_NAMES:
        return default_ref(_depth)
    if _is_shipped(text):
        return _folder_ref(SHIPPED_DIR / text.lower(), _depth)
    path = Path(text).expanduser()
    if path.is_file() and _is_embedded_copy(path):
        return embedded_ref(folder=path.parent)  # the cached default by path: verify it too
    if path.is_file():
        return _gguf_ref(path)
    if path.is_dir():
        return _folder_ref(path, _depth)
    if _HUB_ID.match(text) and not text.startswith((".", "/", "~")) and not text.endswith(".gguf"):
        return ModelRef("hub", text, text)
    raise ModelError(f"no such model file or folder: {text}")


def default_ref(depth: int = 0) -> ModelRef:
    """The shipped PedGPT-0.5B when its adapter is installed, else the embedded base."""
    from pedgpt.engine.gguf_lora import ADAPTER_WEIGHTS

    folder = SHIPPED_DIR / DEFAULT_SHIPPED
    if (folder / ADAPTER_WEIGHTS).is_file():
        return _folder_ref(folder, depth)
    return embedded_ref()


def shipped_models() -> list[str]:
    """Names of the models that ship with the package (`pedgpt --model NAME`)."""
    if not SHIPPED_DIR.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / MANIFEST).is_file())


def _is_shipped(text: str) -> bool:
    return bool(text) and "/" not in text and text.lower() in shipped_models()


def embedded_ref(folder: Path | None = None, progress: bool = True) -> ModelRef:
    """The embedded default, assembled and verified (cheaply, if already verified) first."""
    from pedgpt.engine.model_store import EMBEDDED, ensure_embedded_model

    path = ensure_embedded_model(folder=folder, progress=progress)
    return ModelRef("gguf", str(path), EMBEDDED.name, embedded=True, sha256=EMBEDDED.sha256)


def _is_embedded_copy(path: Path) -> bool:
    from pedgpt.engine.model_store import EMBEDDED, model_cache_dir

    return path.name == EMBEDDED.filename and path.resolve().parent == model_cache_dir().resolve()


def _gguf_ref(path: Path) -> ModelRef:
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from None
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF model file (bad header); pass a .gguf file or "
                         "a transformers checkpoint folder")
    return ModelRef("gguf", str(path.resolve()), path.stem)


def _folder_ref(folder: Path, depth: int) -> ModelRef:
    if (folder / MANIFEST).is_file():
        return _manifest_ref(folder, depth)
    if (folder / "config.json").is_file():
        return ModelRef("transformers", str(folder.resolve()), folder.resolve().name)
    if (folder / "adapter_config.json").is_file():
        base = _read_json(folder / "adapter_config.json").get("base_model_name_or_path")
        return _with_adapter(folder, base, str(folder.resolve()), "lora", depth)
    if (folder / MOE_CONFIG).is_file():
        base = _read_json(folder / MOE_CONFIG).get("base_model")
        return _with_adapter(folder, base, str(folder.resolve()), "moe-lora", depth)
    ggufs = sorted(folder.glob("*.gguf"))
    if len(ggufs) == 1:
        return _gguf_ref(ggufs[0])
    found = f"{len(ggufs)} .gguf files" if ggufs else "no config.json, no .gguf file"
    raise ModelError(f"{folder} holds no model I can load ({found}); expected a transformers "
                     f"checkpoint, a {MANIFEST} manifest, an adapter folder or one .gguf file")


def _manifest_ref(folder: Path, depth: int) -> ModelRef:
    manifest = _read_json(folder / MANIFEST)
    adapter = manifest.get("adapter")
    adapter_type = manifest.get("adapter_type") or ("lora" if adapter else None)
    if adapter:
        adapter = str((folder / adapter).resolve())
        if not Path(adapter).is_dir():
            raise ModelError(f"{folder / MANIFEST}: adapter folder {adapter} does not exist")
    return _with_adapter(folder, manifest.get("base"), adapter, adapter_type, depth,
                         name=manifest.get("name"))


def _with_adapter(folder: Path, base, adapter: str | None, adapter_type, depth: int,
                  name: str | None = None) -> ModelRef:
    if depth > 3:
        raise ModelError(f"{folder}: model manifests refer to each other too deeply")
    if base is None or str(base).strip().lower() in DEFAULT_NAMES + BASE_NAMES:
        base_ref = embedded_ref()  # an adapter's "base" is the bare embedded model
    else:
        local = (folder / str(base)).expanduser()
        base_ref = resolve_model(local if local.exists() else base, depth + 1)
    name = str(name or (f"{base_ref.name}+{folder.resolve().name}" if adapter else base_ref.name))
    if not (adapter and base_ref.adapter):
        return replace(base_ref, name=name, adapter=adapter or base_ref.adapter,
                       adapter_type=adapter_type if adapter else base_ref.adapter_type)
    if base_ref.adapter_type != "lora" or base_ref.base_adapter:
        raise ModelError(f"{folder}: an adapter can stack on one LoRA-tuned base only")
    return replace(base_ref, name=name, adapter=adapter, adapter_type=adapter_type,
                   base_adapter=base_ref.adapter)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path} must hold a JSON object")
    return data


# ---- small helpers ------------------------------------------------------------------------------
def gguf_quantization(path: Path, metadata: dict | None = None) -> str:
    """The GGUF file type (e.g. "Q4_K_M") from its metadata; "gguf" if not recorded.

    Without `metadata`, llama.cpp reads the header and vocabulary only (well under a second;
    gguf's own reader parses every tensor and takes ~10 s on the embedded model)."""
    if metadata is None:
        metadata = _gguf_metadata(path)
    try:
        from gguf import LlamaFileType

        return LlamaFileType(int(metadata["general.file_type"])).name.removeprefix("MOSTLY_")
    except (KeyError, ValueError):  # not recorded, or a type newer than our gguf package
        return "gguf"


def _gguf_metadata(path: Path) -> dict:
    from llama_cpp import Llama
    from llama_cpp._utils import suppress_stdout_stderr

    try:
        with suppress_stdout_stderr(disable=False):  # llama.cpp logs to fd 2 even when quiet
            return dict(Llama(str(path), vocab_only=True, verbose=False).metadata)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"llama.cpp cannot read {path}: the file is corrupt or truncated ({exc})") from None


def describe_dtype(device: str) -> str:
    """How the transformers backend holds the weights on `device`."""
    return NF4 if device == "cuda" else "bf16"


def _files_summary(ref: ModelRef) -> dict:
    if ref.kind == "hub":
        return {"size": None, "sha256": None}
    path = Path(ref.location)
    if path.is_file():
        return {"size": path.stat().st_size, "sha256": ref.sha256}
    weights = [p for p in path.iterdir() if p.suffix in (".safetensors", ".bin")]
    return {"size": sum(p.stat().st_size for p in weights), "sha256": None}


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _llamacpp_gpu() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def _without(options: dict, *keys: str) -> dict:
    return {k: v for k, v in options.items() if k not in keys}
