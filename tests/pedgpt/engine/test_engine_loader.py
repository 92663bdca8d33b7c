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
    assert choose_backend(on_gguf, "auto") == "transformers"  # adapters need transformers
    with pytest.raises(BackendError, match="cannot apply"):
        choose_backend(on_gguf, "llamacpp")
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
