"""MoE-LoRA: a mixture of one universal and several specific LoRA experts per linear layer.

PediatricsGPT stage 4. For a frozen linear layer W0 with input x (d_in) and output (d_out):

    G(x) = softmax(x·W_g + ε·softplus(x·W_n)),  ε ~ N(0, 1) per token, training only
    h    = W0·x + (α/r)·( B_0·A_0·x + Σ_{j=1..T} G_j(x)·B_j·A_j·x )

Expert 0 is the universal expert (weight fixed at 1); experts 1..T are routed densely (no top-k).
B starts at zero, so a wrapped layer is identical to its base layer until it is trained. Unlike
the public code, the noise is off in eval mode (inference is deterministic), the router *and*
noise weights are saved with the adapter, the universal expert can be merged into W0, an optional
load-balancing loss is available and router statistics are recorded.

This module imports only torch, safetensors and json at module level: the serving engine imports
it lazily to load `base model + adapter folder`:

    model = AutoModelForCausalLM.from_pretrained(base)
    load_moe_adapter(model, "path/to/adapter")        # the folder save_moe_adapter wrote

`python -m train.moe_lora` checks the layer's promised properties on a random layer and prints
one PASS/FAIL line each (exit code 1 on any failure).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

CONFIG_NAME = "moe_lora_config.json"
WEIGHTS_NAME = "moe_lora_adapter.safetensors"
ADAPTER_TYPE = "moe-lora"
FORMAT_VERSION = 1


class MoELoRALinear(nn.Module):
    """A frozen `nn.Linear` plus 1 universal + `num_specific` routed LoRA experts."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0, num_specific: int = 3,
                 dropout: float = 0.0, noise: bool = True) -> None:
        super().__init__()
        if r < 1 or num_specific < 1:
            raise ValueError(f"MoELoRALinear needs r >= 1 and num_specific >= 1, got {r}, {num_specific}")
        self.base = base
        for param in base.parameters():
            param.requires_grad_(False)
        d_in, d_out, experts = base.in_features, base.out_features, num_specific + 1
        device = base.weight.device if base.weight.device.type != "meta" else None
        self.r, self.alpha, self.num_specific, self.use_noise = r, float(alpha), num_specific, noise
        self.scaling = self.alpha / r
        self.lora_A = nn.Parameter(torch.empty(experts, r, d_in, device=device))  # [E, r, d_in]
        self.lora_B = nn.Parameter(torch.zeros(experts, d_out, r, device=device))  # [E, d_out, r]
        self.router = nn.Linear(d_in, num_specific, bias=False, device=device)  # W_g
        self.noise = nn.Linear(d_in, num_specific, bias=False, device=device)  # W_n
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.universal_merged = False
        self.record_router = False  # keep the last gates for statistics
        self.aux_loss_enabled = False  # compute the load-balancing loss in training
        self.last_gates: torch.Tensor | None = None
        self.aux_loss: torch.Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """A: kaiming-uniform(a=√5) per expert, B: zeros, router/noise: kaiming-uniform (nn.Linear's)."""
        for expert in range(self.lora_A.shape[0]):
            nn.init.kaiming_uniform_(self.lora_A.data[expert], a=math.sqrt(5))
        nn.init.zeros_(self.lora_B)
        nn.init.kaiming_uniform_(self.router.weight, a=math.sqrt(5))
        nn.init.kaiming_uniform_(self.noise.weight, a=math.sqrt(5))

    def gates(self, x: torch.Tensor) -> torch.Tensor:
        """Router weights of the specific experts: [..., d_in] → [..., T], rows sum to 1."""
        logits = self.router(x)
        if self.training and self.use_noise:
            logits = logits + torch.randn_like(logits) * F.softplus(self.noise(x))
        return logits.softmax(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.base(x)
        x = x.to(self.lora_A.dtype)
        gates = self.gates(x)  # [..., T]; the router sees the input before adapter dropout
        h = self.dropout(x)
        first = 1 if self.universal_merged else 0
        ones = gates.new_ones(gates.shape[:-1] + (1,))
        weights = gates if first else torch.cat([ones, gates], dim=-1)  # [..., E']
        xa = torch.einsum("...i,eri->...er", h, self.lora_A[first:])  # [..., E', r]
        delta = torch.einsum("...er,eor->...o", xa * weights.unsqueeze(-1), self.lora_B[first:])
        self._bookkeep(gates)
        return result + (self.scaling * delta).to(result.dtype)

    def _bookkeep(self, gates: torch.Tensor) -> None:
        if self.record_router:
            self.last_gates = gates.detach()
        if self.aux_loss_enabled and self.training:
            from train.losses import load_balancing_loss  # torch-only; lazy so serving never needs it

            self.aux_loss = load_balancing_loss(gates)

    def merge_universal(self) -> None:
        """Fold the universal expert into W0: W0 += (α/r)·B_0·A_0 (needs a plain float base weight)."""
        if self.universal_merged:
            return
        weight = self.base.weight
        if not weight.dtype.is_floating_point or weight.__class__ is not nn.Parameter:
            raise ValueError("cannot merge into a quantised base layer; load the base in bf16/fp32 first")
        with torch.no_grad():
            update = self.scaling * (self.lora_B[0] @ self.lora_A[0])  # [d_out, d_in]
            weight.add_(update.to(weight.dtype))
        self.universal_merged = True

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}, num_specific={self.num_specific}, noise={self.use_noise}"


# ---- whole-model helpers -------------------------------------------------------------------------

def moe_modules(model: nn.Module) -> dict[str, MoELoRALinear]:
    """Every MoE-LoRA layer of a model by its qualified name."""
    return {name: module for name, module in model.named_modules() if isinstance(module, MoELoRALinear)}


def inject_moe_lora(model: nn.Module, target_modules, r: int = 8, alpha: float = 16.0,
                    num_specific: int = 3, dropout: float = 0.0, noise: bool = True,
                    only: list[str] | None = None) -> nn.Module:
    """Wrap every `nn.Linear` whose last name part is in `target_modules`; freeze everything else.

    `only` restricts wrapping to these qualified names (used when loading a saved adapter).
    """
    targets = set(target_modules)
    chosen = [(name, module) for name, module in model.named_modules()
              if isinstance(module, nn.Linear) and not isinstance(module, MoELoRALinear)
              and name.rsplit(".", 1)[-1] in targets and (only is None or name in only)
              and not name.endswith(".base")]
    if not chosen:
        raise ValueError(f"no linear layer named any of {sorted(targets)} in the model")
    for param in model.parameters():
        param.requires_grad_(False)
    for name, module in chosen:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, MoELoRALinear(module, r, alpha, num_specific, dropout, noise))
    model.moe_lora_config = {
        "adapter_type": ADAPTER_TYPE, "format_version": FORMAT_VERSION, "r": r, "alpha": float(alpha),
        "num_specific": num_specific, "dropout": dropout, "noise": noise,
        "target_modules": sorted(targets), "modules": [name for name, _ in chosen],
    }
    return model


def adapter_state_dict(model: nn.Module, full_state: dict | None = None) -> dict[str, torch.Tensor]:
    """The adapter's tensors (experts, router, noise) by qualified name, on CPU.

    `full_state` may be a consolidated model state dict (e.g. from DeepSpeed ZeRO-3); by default
    the model's own parameters are read.
    """
    state = full_state if full_state is not None else model.state_dict()
    keys = [f"{name}.{part}" for name in moe_modules(model)
            for part in ("lora_A", "lora_B", "router.weight", "noise.weight")]
    return {key: state[key].detach().to("cpu").contiguous().clone() for key in keys}


def save_moe_adapter(model: nn.Module, directory: str | Path, full_state: dict | None = None,
                     extra: dict | None = None) -> Path:
    """Write `moe_lora_config.json` + `moe_lora_adapter.safetensors` (router and noise included)."""
    modules = moe_modules(model)
    if not modules:
        raise ValueError("the model has no MoE-LoRA layers to save")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = dict(getattr(model, "moe_lora_config", {}))
    config.update(modules=sorted(modules), universal_merged=any(m.universal_merged for m in modules.values()))
    base = getattr(getattr(model, "config", None), "_name_or_path", "")
    config.setdefault("base_model", base)
    config.update(extra or {})
    save_file(adapter_state_dict(model, full_state), str(directory / WEIGHTS_NAME),
              metadata={"format": "pt", "adapter_type": ADAPTER_TYPE})
    (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    return directory


def read_adapter_config(directory: str | Path) -> dict:
    """The adapter's config JSON; raises a clear error when the folder is not an MoE-LoRA adapter."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        _fail(f"{directory} is not an MoE-LoRA adapter folder (no {CONFIG_NAME})")
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("adapter_type") != ADAPTER_TYPE or int(config.get("format_version", 0)) > FORMAT_VERSION:
        _fail(f"{path}: unsupported adapter type/version {config.get('adapter_type')}/{config.get('format_version')}")
    return config


def load_moe_adapter(model: nn.Module, directory: str | Path) -> nn.Module:
    """Wrap the layers the adapter names and load its weights; returns the same model, in eval mode."""
    directory = Path(directory)
    config = read_adapter_config(directory)
    if not moe_modules(model):
        inject_moe_lora(model, config["target_modules"], r=int(config["r"]), alpha=float(config["alpha"]),
                        num_specific=int(config["num_specific"]), dropout=float(config.get("dropout", 0.0)),
                        noise=bool(config.get("noise", True)), only=list(config["modules"]))
    modules = moe_modules(model)
    if sorted(modules) != sorted(config["modules"]):
        _fail(f"{directory}: adapter layers do not match the model (is this the right base model?)")
    tensors = load_file(str(directory / WEIGHTS_NAME))
    for name, module in modules.items():
        for part, target in (("lora_A", module.lora_A), ("lora_B", module.lora_B),
                             ("router.weight", module.router.weight), ("noise.weight", module.noise.weight)):
            tensor = tensors.get(f"{name}.{part}")
            if tensor is None or tensor.shape != target.shape:
                _fail(f"{directory}: tensor {name}.{part} missing or of the wrong shape")
            with torch.no_grad():
                target.copy_(tensor.to(target.dtype))
        module.universal_merged = bool(config.get("universal_merged", False))
    model.moe_lora_config = {k: v for k, v in config.items() if k != "universal_merged"}
    return model.eval()


def merge_universal(model: nn.Module) -> nn.Module:
    """Fold every layer's universal expert into its base weight (specific experts stay routed)."""
    for module in moe_modules(model).values():
        module.merge_universal()
    return model


def set_router_recording(model: nn.Module, on: bool) -> None:
    """Keep (or stop keeping) each layer's last router weights for `router_means`."""
    for module in moe_modules(model).values():
        module.record_router = on
        module.last_gates = None


def set_aux_loss(model: nn.Module, on: bool) -> None:
    """Compute (or not) the load-balancing loss in every layer's training forward."""
    for module in moe_modules(model).values():
        module.aux_loss_enabled = on


def aux_loss(model: nn.Module) -> torch.Tensor | None:
    """Mean load-balancing loss over layers from the last forward (None when off)."""
    losses = [m.aux_loss for m in moe_modules(model).values() if m.aux_loss is not None]
    return torch.stack(losses).mean() if losses else None


def router_means(model: nn.Module, attention_mask: torch.Tensor | None = None) -> torch.Tensor | None:
    """Per-sequence mean router weights over real tokens and layers: [B, T] (None if not recorded)."""
    per_layer = []
    for module in moe_modules(model).values():
        gates = module.last_gates  # [B, L, T]
        if gates is None or gates.dim() != 3:
            continue
        mask = torch.ones(gates.shape[:2], device=gates.device) if attention_mask is None \
            else attention_mask.to(gates.device, gates.dtype)
        per_layer.append((gates * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1))
    return torch.stack(per_layer).mean(0) if per_layer else None


def trainable_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def _fail(message: str) -> None:
    from pedgpt.errors import ModelError  # lazy: keep this module's import surface torch-only

    raise ModelError(message)


# ---- self-check: `python -m train.moe_lora` ---------------------------------------------------------

def self_check(seed: int = 0) -> dict[str, bool]:
    """The layer's properties on a random 16→12 layer (r=4, 3 specific experts)."""
    import tempfile

    torch.manual_seed(seed)
    layer, x = MoELoRALinear(nn.Linear(16, 12), r=4, alpha=8, num_specific=3), torch.randn(2, 5, 16)
    checks = {"equals base layer at init": torch.allclose(layer(x), layer.base(x))}
    checks["router weights sum to 1"] = torch.allclose(layer.gates(x).sum(-1), torch.ones(2, 5), atol=1e-6)
    with torch.no_grad():
        layer.lora_B[0].normal_()
    layer.eval()
    before = layer(x)
    checks["eval mode is deterministic"] = torch.equal(before, layer(x))
    with tempfile.TemporaryDirectory() as folder:
        holder = inject_moe_lora(nn.Sequential(nn.Linear(16, 12)), ["0"], r=4, alpha=8, num_specific=3)
        holder[0].load_state_dict(layer.state_dict())
        save_moe_adapter(holder, folder)
        torch.manual_seed(seed + 1)
        fresh = nn.Sequential(nn.Linear(16, 12))
        fresh[0].load_state_dict(layer.base.state_dict())
        checks["save → load gives identical outputs"] = torch.equal(load_moe_adapter(fresh, folder)(x), before)
    layer.merge_universal()
    checks["merged universal expert matches (specific B = 0)"] = torch.allclose(layer(x), before, atol=1e-5)
    layer = MoELoRALinear(nn.Linear(16, 12), r=4, alpha=8, num_specific=3).train()
    with torch.no_grad():
        layer.lora_B.normal_()
    layer(x).pow(2).sum().backward()
    reached = all(p.grad is not None and p.grad.abs().sum() > 0
                  for p in (layer.lora_A, layer.lora_B, layer.router.weight, layer.noise.weight))
    checks["gradients reach experts + router, not the base"] = reached and layer.base.weight.grad is None
    return checks


if __name__ == "__main__":
    results = self_check()
    for name, ok in results.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    raise SystemExit(0 if all(results.values()) else 1)
