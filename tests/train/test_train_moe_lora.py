"""MoELoRALinear and the adapter folder: the properties the paper's equations promise."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from pedgpt.errors import ModelError
from train.moe_lora import (
    CONFIG_NAME, MoELoRALinear, aux_loss, inject_moe_lora, load_moe_adapter, merge_universal,
    moe_modules, router_means, save_moe_adapter, set_aux_loss, set_router_recording,
)


def _layer(seed: int = 0, **kwargs) -> MoELoRALinear:
    torch.manual_seed(seed)
    return MoELoRALinear(nn.Linear(12, 10), r=4, alpha=8, num_specific=3, **kwargs)


def _randomise_b(layer: MoELoRALinear, experts=None) -> None:
    with torch.no_grad():
        for e in experts if experts is not None else range(layer.lora_B.shape[0]):
            layer.lora_B[e].normal_()


class TinyBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up_proj = nn.Linear(8, 16)
        self.down_proj = nn.Linear(16, 8)
        self.q_proj = nn.Linear(8, 8)

    def forward(self, x):
        return self.down_proj(torch.relu(self.up_proj(self.q_proj(x))))


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([TinyBlock(), TinyBlock()])

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


def test_equals_base_at_init_in_train_and_eval():
    layer = _layer()
    x = torch.randn(2, 5, 12)
    expected = layer.base(x)
    layer.train()
    assert torch.allclose(layer(x), expected)
    layer.eval()
    assert torch.allclose(layer(x), expected)


def test_router_weights_sum_to_one_with_and_without_noise():
    layer = _layer()
    x = torch.randn(3, 7, 12)
    for mode in (layer.train, layer.eval):
        mode()
        gates = layer.gates(x)
        assert gates.shape == (3, 7, 3)
        assert torch.allclose(gates.sum(-1), torch.ones(3, 7), atol=1e-6)
        assert (gates > 0).all()


def test_noise_only_in_training_eval_is_deterministic():
    layer = _layer()
    _randomise_b(layer)
    x = torch.randn(2, 4, 12)
    layer.eval()
    assert torch.equal(layer(x), layer(x))
    layer.train()
    assert not torch.allclose(layer.gates(x), layer.gates(x))


def test_output_follows_the_equation():
    layer = _layer()
    _randomise_b(layer)
    layer.eval()
    x = torch.randn(4, 12)
    g = torch.softmax(x @ layer.router.weight.T, -1)  # [4, T]
    expert = lambda e: x @ layer.lora_A[e].T @ layer.lora_B[e].T  # noqa: E731  [4, d_out]
    mixed = expert(0) + sum(g[:, j - 1: j] * expert(j) for j in range(1, 4))
    assert torch.allclose(layer(x), layer.base(x) + layer.scaling * mixed, atol=1e-5)


def test_gradients_reach_experts_and_router_not_base():
    layer = _layer()
    _randomise_b(layer)  # with B = 0 the router gradient is exactly zero
    layer.train()
    layer(torch.randn(2, 3, 12)).pow(2).sum().backward()
    assert layer.base.weight.grad is None and not layer.base.weight.requires_grad
    for param in (layer.lora_A, layer.lora_B, layer.router.weight, layer.noise.weight):
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_b_gradient_at_init_is_nonzero():
    layer = _layer()
    layer.train()
    layer(torch.randn(2, 3, 12)).sum().backward()
    assert layer.lora_B.grad.abs().sum() > 0


def test_merge_universal_matches_unmerged_when_specific_experts_are_zero():
    layer = _layer()
    _randomise_b(layer, experts=[0])
    layer.eval()
    x = torch.randn(3, 12)
    before = layer(x)
    layer.merge_universal()
    assert layer.universal_merged
    assert torch.allclose(layer(x), before, atol=1e-5)
    assert torch.allclose(layer.base(x), before, atol=1e-5)


def test_aux_loss_and_router_recording():
    net = inject_moe_lora(TinyNet(), ["up_proj", "down_proj"], r=2, alpha=4, num_specific=3)
    set_aux_loss(net, True)
    set_router_recording(net, True)
    net.train()
    net(torch.randn(2, 5, 8))
    loss = aux_loss(net)
    assert loss is not None and loss.item() >= 1.0 - 1e-6  # T·Σ f·P ≥ 1 with equality iff uniform
    means = router_means(net, torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]))
    assert means.shape == (2, 3) and torch.allclose(means.sum(-1), torch.ones(2), atol=1e-5)


def test_inject_wraps_targets_and_freezes_everything_else():
    net = inject_moe_lora(TinyNet(), ["up_proj", "down_proj"], r=2, alpha=4, num_specific=2)
    assert sorted(moe_modules(net)) == [f"layers.{i}.{p}" for i in (0, 1) for p in ("down_proj", "up_proj")]
    assert isinstance(net.layers[0].q_proj, nn.Linear)
    trainable = {name for name, p in net.named_parameters() if p.requires_grad}
    assert trainable and all(".base." not in n and "q_proj" not in n for n in trainable)
    with pytest.raises(ValueError):
        inject_moe_lora(TinyNet(), ["nope"])


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(1)
    base_state = TinyNet().state_dict()
    trained = TinyNet()
    trained.load_state_dict(base_state)
    inject_moe_lora(trained, ["up_proj", "down_proj"], r=2, alpha=4, num_specific=3)
    for module in moe_modules(trained).values():
        _randomise_b(module)
        with torch.no_grad():
            module.router.weight.normal_()
            module.noise.weight.normal_()
    save_moe_adapter(trained, tmp_path / "adapter")
    config = json.loads((tmp_path / "adapter" / CONFIG_NAME).read_text())
    assert config["adapter_type"] == "moe-lora" and config["num_specific"] == 3

    fresh = TinyNet()
    fresh.load_state_dict(base_state)
    loaded = load_moe_adapter(fresh, tmp_path / "adapter")
    trained.eval()
    x = torch.randn(3, 4, 8)
    assert torch.equal(loaded(x), trained(x))
    for name, module in moe_modules(loaded).items():
        assert torch.equal(module.noise.weight, moe_modules(trained)[name].noise.weight)


def test_load_rejects_a_folder_without_adapter(tmp_path):
    with pytest.raises(ModelError):
        load_moe_adapter(TinyNet(), tmp_path)


def test_merge_universal_on_model_then_save_marks_it(tmp_path):
    net = inject_moe_lora(TinyNet(), ["up_proj"], r=2, alpha=4, num_specific=2)
    merge_universal(net)
    save_moe_adapter(net, tmp_path)
    assert json.loads((tmp_path / CONFIG_NAME).read_text())["universal_merged"] is True


def test_command_line_self_check_passes():
    from train.moe_lora import self_check

    results = self_check(seed=3)
    assert len(results) == 6 and all(results.values()), results
