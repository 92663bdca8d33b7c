"""Weight-space interpolation of the shipped adapter toward the base (WiSE-FT): a copy of
`pedgpt/models/pedgpt-0.5b` whose LoRA B matrices are multiplied by ALPHA, so the served weights
are W + ALPHA·ΔW. Used for the runs in this folder (not shipped):

    python reports/pedgpt-0.5b/attempt-wise-ft/scale.py pedgpt/models/pedgpt-0.5b /tmp/wise-0.75 0.75
    pedgpt eval run --model /tmp/wise-0.75 --tasks kqa,diag,treat,safety --limit 20 \
        --max-new-tokens 160 --prompt served --out reports/pedgpt-0.5b/attempt-wise-ft/scale-0.75
"""

import json
import shutil
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file


def main(source: Path, target: Path, alpha: float) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("adapter_config.json", "adapter_model.safetensors", "pedgpt_model.json"):
        shutil.copy(source / name, target / name)
    weights = load_file(str(target / "adapter_model.safetensors"))
    save_file({k: v * alpha if "lora_B" in k else v for k, v in weights.items()},
              str(target / "adapter_model.safetensors"))
    manifest = json.loads((target / "pedgpt_model.json").read_text(encoding="utf-8"))
    manifest["name"] = f"{manifest['name']}-wise{alpha}"
    (target / "pedgpt_model.json").write_text(json.dumps(manifest), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]))
