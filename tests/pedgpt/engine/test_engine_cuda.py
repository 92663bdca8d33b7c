"""The CUDA branch with CUDA mocked: 4-bit NF4 config, and never silently on the CPU."""

import sys
import types

import pytest
import torch

from pedgpt.engine import load_engine
from pedgpt.engine.loader import describe_model, resolve_device
from pedgpt.errors import BackendError


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch reports a CUDA GPU; bitsandbytes (a CUDA-only package here) is importable."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "bitsandbytes", types.ModuleType("bitsandbytes"))


@pytest.fixture
def captured_load(monkeypatch, tiny_model_dir):
    """Record from_pretrained kwargs; hand back the real tiny model (which lives on the CPU)."""
    from transformers import AutoModelForCausalLM

    calls = []
    real = AutoModelForCausalLM.from_pretrained

    def fake_from_pretrained(location, **kwargs):
        calls.append(kwargs)
        return real(location)  # what a broken dispatch would give: weights on the CPU

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", fake_from_pretrained)
    return calls


def test_auto_on_cuda_builds_nf4_config_and_refuses_cpu_weights(fake_cuda, captured_load, tiny_model_dir):
    with pytest.raises(BackendError, match="loaded on cpu although cuda was chosen"):
        load_engine(str(tiny_model_dir), backend="auto")
    (kwargs,) = captured_load
    quant = kwargs["quantization_config"]
    assert quant.load_in_4bit and not quant.load_in_8bit
    assert quant.bnb_4bit_quant_type == "nf4" and quant.bnb_4bit_use_double_quant
    assert quant.bnb_4bit_compute_dtype == torch.bfloat16 and kwargs["dtype"] == torch.bfloat16
    assert kwargs["device_map"] == {"": 0}  # the whole model on GPU 0, no CPU offload


def test_cpu_device_forced_with_cuda_present_loads_bf16(fake_cuda, captured_load, tiny_model_dir):
    engine = load_engine(str(tiny_model_dir), backend="transformers", device="cpu")
    (kwargs,) = captured_load
    assert "quantization_config" not in kwargs and kwargs["dtype"] == torch.bfloat16
    assert engine.info()["device"] == "cpu"


def test_cuda_without_bitsandbytes_is_a_clear_error(monkeypatch, tiny_model_dir):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # import fails
    with pytest.raises(BackendError, match=r"bitsandbytes.*\[gpu\]"):
        load_engine(str(tiny_model_dir), device="cuda")


def test_describe_reports_4bit_on_cuda(fake_cuda, tiny_model_dir):
    info = describe_model(str(tiny_model_dir))
    assert info["backend"] == "transformers" and info["device"] == "cuda"
    assert info["dtype"].startswith("nf4 4-bit")
    assert resolve_device("auto") == "cuda"


def test_cuda_asked_for_but_absent(monkeypatch, tiny_model_dir):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BackendError, match="CUDA was asked for"):
        load_engine(str(tiny_model_dir), device="cuda")
    monkeypatch.setenv("PEDGPT_DEVICE", "cuda")
    with pytest.raises(BackendError, match="CUDA was asked for"):
        load_engine(str(tiny_model_dir))
    assert resolve_device("auto") == "cpu"


def test_absent_cuda_is_refused_before_the_model_is_resolved(monkeypatch):
    """`pedgpt model info --device cuda` on a CPU machine must not assemble the embedded GGUF first."""
    import pedgpt.engine.loader as loader

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(loader, "_llamacpp_gpu", lambda: False)

    def must_not_resolve(model):
        raise AssertionError(f"resolved {model!r} although CUDA is absent")

    monkeypatch.setattr(loader, "resolve_model", must_not_resolve)
    with pytest.raises(BackendError, match="CUDA was asked for"):
        describe_model(None, device="cuda")
    with pytest.raises(BackendError, match="CUDA was asked for"):
        load_engine(None, device="cuda")
    monkeypatch.setattr(loader, "_llamacpp_gpu", lambda: True)  # a GPU llama.cpp build passes
    with pytest.raises(AssertionError, match="resolved None"):
        describe_model(None, device="cuda")
