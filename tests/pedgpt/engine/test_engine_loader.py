"""Resolving model references and backends (no model is run here)."""

import json

import pytest

from pedgpt.engine import load_engine
from pedgpt.engine.loader import choose_backend, describe_model, resolve_model
from pedgpt.errors import BackendError, InputError, ModelError


def test_unknown_backend():
    with pytest.raises(BackendError, match="unknown backend 'tpu'"):
        load_engine(None, backend="tpu")


def test_unknown_device(tiny_model_dir):
    with pytest.raises(BackendError, match="unknown device"):
        load_engine(str(tiny_model_dir), device="npu")


def test_missing_file_and_empty_folder(tmp_path):
    with pytest.raises(ModelError, match="no such model file or folder"):
        resolve_model(tmp_path / "nope.gguf")
    with pytest.raises(ModelError, match="holds no model"):
        resolve_model(tmp_path)


def test_file_that_is_not_gguf(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ModelError, match="not a GGUF model file"):
        load_engine(str(bogus))


def test_corrupt_gguf_is_a_model_error(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(ModelError, match="corrupt"):
        load_engine(str(broken))


def test_folder_with_one_gguf_and_hub_ids(tmp_path):
    (tmp_path / "m.gguf").write_bytes(b"GGUF....")
    ref = resolve_model(tmp_path)
    assert ref.kind == "gguf" and ref.location.endswith("m.gguf")
    hub = resolve_model("Qwen/Qwen2.5-7B-Instruct")
    assert hub.kind == "hub" and hub.location == "Qwen/Qwen2.5-7B-Instruct"
    assert choose_backend(hub, "auto") == "transformers"


def test_llamacpp_backend_needs_gguf(tiny_model_dir):
    with pytest.raises(BackendError, match="llamacpp backend runs GGUF files"):
        load_engine(str(tiny_model_dir), backend="llamacpp")


def test_manifest_resolution(tiny_model_dir, tmp_path):
    (tmp_path / "adapter").mkdir()
    (tmp_path / "pedgpt_model.json").write_text(json.dumps(
        {"base": str(tiny_model_dir), "adapter": "adapter", "adapter_type": "moe-lora"}))
    ref = resolve_model(tmp_path)
    assert ref.kind == "transformers" and ref.location == str(tiny_model_dir)
    assert ref.adapter == str((tmp_path / "adapter").resolve()) and ref.adapter_type == "moe-lora"
    assert choose_backend(ref, "auto") == "transformers"
    (tmp_path / "m.gguf").write_bytes(b"GGUF....")
    (tmp_path / "pedgpt_model.json").write_text(json.dumps({"base": "m.gguf", "adapter": "adapter"}))
    on_gguf = resolve_model(tmp_path)
    assert on_gguf.kind == "gguf" and on_gguf.adapter_type == "lora"
    assert choose_backend(on_gguf, "auto") == "llamacpp"  # a plain LoRA runs on the fast path
    assert choose_backend(on_gguf, "transformers") == "transformers"
    (tmp_path / "pedgpt_model.json").write_text(json.dumps({"base": "m.gguf", "adapter": "adapter",
                                                             "adapter_type": "moe-lora"}))
    moe_on_gguf = resolve_model(tmp_path)
    assert choose_backend(moe_on_gguf, "auto") == "transformers"
    with pytest.raises(BackendError, match="plain LoRA adapters only"):
        choose_backend(moe_on_gguf, "llamacpp")
    (tmp_path / "pedgpt_model.json").write_text(json.dumps({"base": str(tiny_model_dir),
                                                             "adapter": "adapter", "adapter_type": "qlora"}))
    with pytest.raises(ModelError, match="unknown adapter_type"):
        resolve_model(tmp_path)
    (tmp_path / "pedgpt_model.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot read"):
        resolve_model(tmp_path)


def test_describe_transformers_folder(tiny_model_dir):
    info = describe_model(str(tiny_model_dir), device="cpu")
    assert info["backend"] == "transformers" and info["dtype"] == "bf16" and info["device"] == "cpu"
    assert info["size"] > 0 and info["sha256"] is None and info["path"] == str(tiny_model_dir)


def test_unknown_engine_option_is_rejected(tiny_model_dir):
    with pytest.raises(BackendError, match="unknown option"):
        load_engine(str(tiny_model_dir), backend="transformers", device="cpu", flash=True)


def test_empty_question_rejected_before_generation(tiny_engine):
    with pytest.raises(InputError, match="empty"):
        tiny_engine.stream([{"role": "user", "content": "   "}])


@pytest.mark.model
def test_the_cached_default_by_path_is_still_verified(embedded_gguf):
    ref = resolve_model(str(embedded_gguf))
    assert ref.embedded and ref.sha256 and ref.location == str(embedded_gguf)


@pytest.fixture()
def shipped(tmp_path, monkeypatch):
    """A package models folder like the real one: pedgpt-0.5b (LoRA over the embedded base) and
    pedgpt-0.5b-moe (MoE-LoRA over pedgpt-0.5b); the embedded base itself is stubbed."""
    from pedgpt.engine import loader

    root = tmp_path / "models"
    lora, moe = root / "pedgpt-0.5b", root / "pedgpt-0.5b-moe"
    lora.mkdir(parents=True)
    moe.mkdir()
    (lora / "adapter_config.json").write_text(json.dumps({"r": 4, "lora_alpha": 4, "base_model_name_or_path": "embedded"}))
    (lora / "adapter_model.safetensors").write_bytes(b"weights")
    (lora / "pedgpt_model.json").write_text(json.dumps({"name": "PedGPT-0.5B", "base": "embedded",
                                                         "adapter": ".", "adapter_type": "lora"}))
    (moe / "pedgpt_model.json").write_text(json.dumps({"name": "PedGPT-0.5B-MoE", "base": "../pedgpt-0.5b",
                                                        "adapter": ".", "adapter_type": "moe-lora"}))
    (tmp_path / "base.gguf").write_bytes(b"GGUF....")
    base = loader.ModelRef("gguf", str(tmp_path / "base.gguf"), "Base-0.5B", embedded=True, sha256="ab")
    monkeypatch.setattr(loader, "SHIPPED_DIR", root)
    monkeypatch.setattr(loader, "embedded_ref", lambda *a, **k: base)
    return lora, moe


def test_the_default_is_the_shipped_lora_model_on_the_fast_path(shipped):
    lora, _ = shipped
    for reference in (None, "", "default", "pedgpt-0.5b", "PedGPT-0.5B"):
        ref = resolve_model(reference)
        assert ref.name == "PedGPT-0.5B" and ref.kind == "gguf" and ref.embedded
        assert ref.adapter == str(lora.resolve()) and ref.adapter_type == "lora" and not ref.base_adapter
        assert choose_backend(ref, "auto") == "llamacpp"
    for reference in ("base", "embedded", "BASE"):
        ref = resolve_model(reference)
        assert ref.name == "Base-0.5B" and ref.adapter is None


def test_the_moe_variant_stacks_on_the_lora_model(shipped):
    lora, moe = shipped
    ref = resolve_model("pedgpt-0.5b-moe")
    assert ref.name == "PedGPT-0.5B-MoE" and ref.adapter == str(moe.resolve()) and ref.adapter_type == "moe-lora"
    assert ref.base_adapter == str(lora.resolve())
    assert choose_backend(ref, "auto") == "transformers"
    with pytest.raises(BackendError, match="plain LoRA adapters only"):
        choose_backend(ref, "llamacpp")
    info = describe_model("pedgpt-0.5b-moe", device="cpu")
    assert info["backend"] == "transformers" and info["base_adapter"] == str(lora.resolve())


def test_without_the_shipped_weights_the_default_is_the_base(shipped):
    lora, _ = shipped
    (lora / "adapter_model.safetensors").unlink()
    assert resolve_model(None).name == "Base-0.5B" and resolve_model(None).adapter is None


def test_an_adapter_cannot_stack_on_a_stacked_model(shipped, tmp_path):
    deeper = tmp_path / "deeper"
    deeper.mkdir()
    (deeper / "pedgpt_model.json").write_text(json.dumps({"base": str(shipped[1]), "adapter": ".",
                                                           "adapter_type": "moe-lora"}))
    with pytest.raises(ModelError, match="one LoRA-tuned base only"):
        resolve_model(deeper)
