"""PEFT LoRA → llama.cpp GGUF LoRA: names, shapes, scale folding, caching; applied to the real
embedded model (a zero adapter changes nothing, a real one changes the answer)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from pedgpt.engine.gguf_lora import gguf_lora_for, gguf_tensor_name, write_gguf_lora
from pedgpt.errors import ModelError

#: (in, out) of the embedded Qwen2.5-0.5B projections.
QWEN_DIMS = {"self_attn.q_proj": (896, 896), "self_attn.k_proj": (896, 128),
             "self_attn.v_proj": (896, 128), "self_attn.o_proj": (896, 896)}


def make_adapter(folder, rank=4, alpha=8, layers=2, dims=None, b_std=0.01, seed=0, **config):
    rng = np.random.default_rng(seed)
    tensors = {}
    for layer in range(layers):
        for module, (n_in, n_out) in (dims or {"self_attn.q_proj": (16, 16), "mlp.down_proj": (32, 16)}).items():
            prefix = f"base_model.model.model.layers.{layer}.{module}"
            tensors[f"{prefix}.lora_A.weight"] = rng.normal(0, 0.05, (rank, n_in)).astype(np.float32)
            tensors[f"{prefix}.lora_B.weight"] = rng.normal(0, b_std, (n_out, rank)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "r": rank, "lora_alpha": alpha, **config}))
    return tensors


def read_gguf(path):
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    fields = {name: field.contents() for name, field in reader.fields.items()}
    tensors = {t.name: (list(map(int, t.shape)), np.array(t.data, dtype=np.float32)) for t in reader.tensors}
    return fields, tensors


def test_tensor_names_map_to_llama_cpp():
    assert gguf_tensor_name("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight") == \
        ("blk.3.attn_q.weight", "a")
    assert gguf_tensor_name("base_model.model.model.layers.12.mlp.down_proj.lora_B.weight") == \
        ("blk.12.ffn_down.weight", "b")
    assert gguf_tensor_name("model.layers.0.self_attn.o_proj.lora_B.weight")[0] == "blk.0.attn_output.weight"
    with pytest.raises(ModelError, match="does not map"):
        gguf_tensor_name("base_model.model.lm_head.lora_A.weight")
    with pytest.raises(ModelError, match="does not map"):
        gguf_tensor_name("base_model.model.model.layers.0.self_attn.rotary.lora_A.weight")


def test_conversion_layout_and_scale(tmp_path):
    tensors = make_adapter(tmp_path / "ad", rank=4, alpha=12)
    out = write_gguf_lora(tmp_path / "ad", tmp_path / "lora.gguf")
    fields, written = read_gguf(out)
    assert fields["general.type"] == "adapter" and fields["adapter.type"] == "lora"
    assert fields["general.architecture"] == "qwen2"
    assert fields["adapter.lora.alpha"] == pytest.approx(4.0)  # alpha = rank → llama.cpp scale 1
    assert sorted(written) == sorted(f"blk.{l}.{m}.weight.lora_{s}" for l in range(2)
                                     for m in ("attn_q", "ffn_down") for s in "ab")
    shape_a, data_a = written["blk.1.ffn_down.weight.lora_a"]
    shape_b, data_b = written["blk.1.ffn_down.weight.lora_b"]
    assert shape_a == [32, 4] and shape_b == [4, 16]  # GGUF ne: [in, rank], [rank, out]
    peft_a = tensors["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"]
    peft_b = tensors["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"]
    np.testing.assert_allclose(data_a.reshape(peft_a.shape), peft_a, atol=1e-3)
    np.testing.assert_allclose(data_b.reshape(peft_b.shape), peft_b * 3.0, atol=1e-3)  # 12 / 4


def test_rslora_scale_and_unsupported_adapters(tmp_path):
    tensors = make_adapter(tmp_path / "rs", rank=4, alpha=8, use_rslora=True)
    _, written = read_gguf(write_gguf_lora(tmp_path / "rs", tmp_path / "rs.gguf"))
    peft_b = tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]
    np.testing.assert_allclose(written["blk.0.attn_q.weight.lora_b"][1].reshape(peft_b.shape),
                               peft_b * 4.0, atol=1e-3)  # 8 / sqrt(4)
    make_adapter(tmp_path / "dora", use_dora=True)
    with pytest.raises(ModelError, match="plain LoRA"):
        write_gguf_lora(tmp_path / "dora", tmp_path / "d.gguf")
    make_adapter(tmp_path / "pattern", rank_pattern={"q_proj": 8})
    with pytest.raises(ModelError, match="rank_pattern"):
        write_gguf_lora(tmp_path / "pattern", tmp_path / "p.gguf")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="cannot read"):
        write_gguf_lora(tmp_path / "empty", tmp_path / "e.gguf")
    make_adapter(tmp_path / "broken")
    (tmp_path / "broken" / "adapter_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="not a readable safetensors"):
        write_gguf_lora(tmp_path / "broken", tmp_path / "b.gguf")


def test_cache_is_keyed_by_the_adapter_and_deterministic(tmp_path):
    make_adapter(tmp_path / "one", seed=1)
    make_adapter(tmp_path / "two", seed=2)
    first = gguf_lora_for(tmp_path / "one", cache=tmp_path / "cache")
    assert gguf_lora_for(tmp_path / "one", cache=tmp_path / "cache") == first
    other = gguf_lora_for(tmp_path / "two", cache=tmp_path / "cache")
    assert other != first
    again = write_gguf_lora(tmp_path / "one", tmp_path / "again.gguf")
    assert again.read_bytes() == first.read_bytes()
    assert not list((tmp_path / "cache").glob("*.partial"))


@pytest.mark.model
def test_applied_on_the_embedded_model(embedded_gguf, tmp_path, monkeypatch):
    from pedgpt.engine.llamacpp_backend import LlamaCppEngine
    from pedgpt.engine.loader import embedded_ref
    from dataclasses import replace

    question = [{"role": "user", "content": "宝宝发烧38.5度怎么办？"}]
    base_ref = embedded_ref(folder=embedded_gguf.parent, progress=False)
    make_adapter(tmp_path / "zero", rank=4, layers=24, dims=QWEN_DIMS, b_std=0.0)
    make_adapter(tmp_path / "strong", rank=4, layers=24, dims=QWEN_DIMS, b_std=0.5)
    answers = {}
    monkeypatch.setenv("PEDGPT_LORA_MODE", "runtime")  # this GGUF LoRA, not the default merge
    for name in ("zero", "strong"):
        engine = LlamaCppEngine(replace(base_ref, adapter=str(tmp_path / name), adapter_type="lora"),
                                n_threads=1)
        assert engine.info()["adapter_gguf"].endswith(".gguf") and engine.info()["adapter_mode"] == "runtime"
        answers[name] = engine.generate(question, max_new_tokens=12, temperature=0.0)
        del engine
    base = LlamaCppEngine(base_ref, n_threads=1).generate(question, max_new_tokens=12, temperature=0.0)
    assert answers["zero"] == base
    assert answers["strong"] != base
