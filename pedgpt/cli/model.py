"""`pedgpt model fetch|info` — assemble the embedded model; show what would be served.

    pedgpt model fetch            # assemble + verify the embedded GGUF into the cache (once)
    pedgpt model info --json      # name, path, size, sha256, backend, device, dtype (+ adapter)
    PEDGPT_MODEL=runs/sft/final pedgpt model info
"""

from __future__ import annotations

import argparse
import sys

from pedgpt.cli.common import add_json_flag, emit_json
from pedgpt.config import BACKENDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="fetch the embedded model or show the configured one")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="assemble and verify the embedded default model")
    add_json_flag(fetch)
    fetch.set_defaults(func=run_fetch)
    info = actions.add_parser("info", help="what model would be served, and how")
    info.add_argument("--model", help="model reference: pedgpt-0.5b (the default), pedgpt-0.5b-moe, "
                                      "base (the embedded model without adapter), a file or folder "
                                      "(default: PEDGPT_MODEL)")
    info.add_argument("--backend", choices=BACKENDS, help="default: PEDGPT_BACKEND or auto")
    info.add_argument("--device", choices=("auto", "cpu", "cuda"), help="default: PEDGPT_DEVICE or auto")
    add_json_flag(info)
    info.set_defaults(func=run_info)


def run_fetch(args: argparse.Namespace) -> int:
    from pedgpt.engine.model_store import EMBEDDED, ensure_embedded_model

    path = ensure_embedded_model(progress=not args.json and sys.stderr.isatty())
    result = {"model": EMBEDDED.name, "path": str(path), "size": path.stat().st_size,
              "sha256": EMBEDDED.sha256, "verified": True}
    if args.json:
        emit_json(result)
    else:
        print(f"{EMBEDDED.name}: {path} ({result['size']:,} bytes, sha256 verified)")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pedgpt.config import Settings
    from pedgpt.engine.gguf_lora import ADAPTER_WEIGHTS
    from pedgpt.engine.loader import describe_model, shipped_models
    from pedgpt.engine.model_store import file_sha256

    settings = Settings.from_env(model=args.model, backend=args.backend)
    info = describe_model(settings.model, settings.backend, args.device)
    if info.get("sha256") is None and info.get("path") and Path(info["path"]).is_file():
        info["sha256"] = file_sha256(Path(info["path"]), progress=False, remember=False)
    weights = Path(info.get("adapter") or "") / ADAPTER_WEIGHTS
    if info.get("adapter") and weights.is_file():
        info["adapter_sha256"] = file_sha256(weights, progress=False, remember=False)
    info["available"] = [*shipped_models(), "base"]
    if args.json:
        emit_json(info)
        return 0
    for key in ("model", "path", "size", "sha256", "backend", "device", "dtype", "adapter",
                "adapter_type", "adapter_mode", "adapter_sha256", "base_adapter"):
        if info.get(key) is not None:
            value = f"{info[key]:,} bytes" if key == "size" else info[key]
            print(f"{key:>14}: {value}")
    print(f"{'available':>14}: {', '.join(info['available'])}")
    return 0
