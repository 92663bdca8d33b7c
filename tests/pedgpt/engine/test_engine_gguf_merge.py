"""A PEFT LoRA merged into a quantized GGUF (`pedgpt.engine.gguf_merge`): on a tiny hand-built GGUF
the delta lands in the adapted tensors, everything else is copied byte for byte, the file is
cached by checksum, rebuilt when damaged and deterministic; the backend falls back to the runtime
GGUF LoRA when a tensor cannot be merged; on the real model the merged PedGPT-0.5B predicts what
the runtime LoRA predicts.

    python -m pytest -q tests/pedgpt/engine/test_engine_gguf_merge.py
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader, GGUFWriter, quants
from safetensors.numpy import save_file

from pedgpt.engine import gguf_merge
from pedgpt.engine.gguf_merge import (UnsupportedMergeType, build_record_path, lora_mode,
                                      merged_gguf_for, merged_type)
from pedgpt.errors import BackendError, ModelError

#: The tiny base: name → (type, (out, in)); `in` a multiple of the 32/256-element quant blocks.
TINY = {"blk.0.attn_q.weight": (Q.Q8_0, (16, 64)), "blk.0.attn_k.weight": (Q.Q5_0, (8, 64)),
        "blk.0.attn_v.weight": (Q.Q5_0, (8, 64)), "blk.0.attn_output.weight": (Q.I8, (16, 64)),
        "blk.0.ffn_down.weight": (Q.Q4_K, (4, 256)), "blk.0.attn_norm.weight": (Q.F32, (64,))}
#: PEFT module → the tiny base's (in, out) for it.
MODULES = {"q_proj": ("self_attn", 64, 16), "k_proj": ("self_attn", 64, 8),
           "o_proj": ("self_attn", 64, 16), "down_proj": ("mlp", 256, 4)}
TOKENS = ["<|im_start|>", "<|im_end|>", "a", "b"]


def tiny_tensor(qtype, shape, rng):
    """Quantized bytes (rows, bytes) or a plain array of `shape` in `qtype`."""
    if qtype == Q.F32:
        return rng.normal(1.0, 0.1, shape).astype(np.float32)
    if qtype == Q.I8:
        return rng.integers(-100, 100, shape, dtype=np.int8)
    if qtype == Q.Q4_K:  # gguf-py cannot write K-quants: random blocks with sane f16 scales
        blocks = rng.integers(0, 256, (shape[0], shape[1] // 256, 144), dtype=np.uint8)
        blocks[..., 0:4] = np.array([0.01, 0.001], dtype=np.float16).view(np.uint8)  # d, dmin
        return blocks.reshape(shape[0], -1)
    return quants.quantize(rng.normal(0, 0.05, shape).astype(np.float32), qtype)


def make_base(path, seed=0):
    """A tiny GGUF of TINY's tensors and a few KVs (string, numbers, a string array)."""
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(str(path), "qwen2")
    writer.add_name("Tiny Base")
    writer.add_uint32("qwen2.block_count", 1)
    writer.add_float32("qwen2.rope.freq_base", 10000.0)
    writer.add_array("tokenizer.ggml.tokens", TOKENS)
    writer.add_string("tokenizer.chat_template", "{{ messages }}")
    for name, (qtype, shape) in TINY.items():
        data = tiny_tensor(qtype, shape, rng)
        quantized = qtype not in (Q.F32, Q.I8)
        writer.add_tensor(name, data, raw_shape=data.shape if quantized else None,
                          raw_dtype=qtype if quantized else None)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def make_adapter(folder, modules=("q_proj", "k_proj"), layer=0, rank=4, alpha=8, seed=1):
    """A PEFT LoRA folder; B is large enough that the delta survives Q8_0 rounding."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for module in modules:
        parent, n_in, n_out = MODULES[module]
        prefix = f"base_model.model.model.layers.{layer}.{parent}.{module}"
        tensors[f"{prefix}.lora_A.weight"] = rng.normal(0, 0.1, (rank, n_in)).astype(np.float16)
        tensors[f"{prefix}.lora_B.weight"] = rng.normal(0, 0.1, (n_out, rank)).astype(np.float16)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": rank, "lora_alpha": alpha}))
    return tensors


def delta(adapter, module, scale=2.0):
    """scale · B @ A (out, in) of one adapted module of `make_adapter` (alpha 8 / r 4 = 2)."""
    a, b = (next(v for k, v in adapter.items() if f".{module}.lora_{s}" in k).astype(np.float64) for s in "AB")
    return scale * b @ a


def tensors_of(path):
    return {t.name: t for t in GGUFReader(str(path)).tensors}


def dense(tensor):
    return quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float64)


@pytest.fixture
def base(tmp_path):
    return make_base(tmp_path / "base.gguf")


def test_delta_lands_in_the_adapted_tensors_and_the_rest_is_copied(base, tmp_path):
    adapter = make_adapter(tmp_path / "ad")
    merged = merged_gguf_for(base, tmp_path / "ad", cache=tmp_path / "cache", progress=False)
    before, after = tensors_of(base), tensors_of(merged)
    assert list(after) == list(before)  # same tensors, same order
    for name, module in (("blk.0.attn_q.weight", "q_proj"), ("blk.0.attn_k.weight", "k_proj")):
        expected = dense(before[name]) + delta(adapter, module)
        step = np.abs(expected).max() / 127  # one Q8_0 step at the largest block scale
        assert after[name].tensor_type == Q.Q8_0  # Q8_0 stays, Q5_0 is raised to Q8_0
        np.testing.assert_allclose(dense(after[name]), expected, atol=step)
        assert np.abs(dense(after[name]) - dense(before[name])).max() > 5 * step  # it changed
    for name in ("blk.0.attn_v.weight", "blk.0.attn_output.weight", "blk.0.ffn_down.weight",
                 "blk.0.attn_norm.weight"):
        assert after[name].tensor_type == before[name].tensor_type
        assert after[name].data.tobytes() == before[name].data.tobytes(), name


def test_metadata_is_kept_and_names_base_and_adapter(base, tmp_path):
    from pedgpt.engine.gguf_lora import adapter_digest
    from pedgpt.engine.model_store import file_sha256

    make_adapter(tmp_path / "ad")
    merged = merged_gguf_for(base, tmp_path / "ad", cache=tmp_path / "cache", progress=False)
    old, new = GGUFReader(str(base)).fields, GGUFReader(str(merged)).fields
    for name, field in old.items():
        if name != "GGUF.kv_count":
            assert new[name].types == field.types and new[name].contents() == field.contents(), name
    assert new["tokenizer.ggml.tokens"].contents() == TOKENS
    assert new["pedgpt.adapter_sha256"].contents() == adapter_digest(tmp_path / "ad")
    assert new["pedgpt.base_sha256"].contents() == file_sha256(base, progress=False, remember=False)
    assert new["pedgpt.merge_format"].contents() == gguf_merge.MERGE_FORMAT
    record = json.loads(build_record_path(merged).read_text())
    assert record["sha256"] == file_sha256(merged, progress=False, remember=False)
    assert record["merged_tensors"] == ["blk.0.attn_k.weight", "blk.0.attn_q.weight"]


def test_reused_while_intact_rebuilt_when_truncated(base, tmp_path):
    make_adapter(tmp_path / "ad")
    cache = tmp_path / "cache"
    first = merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False)
    stamp, size, good = first.stat().st_mtime_ns, first.stat().st_size, first.read_bytes()
    assert merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False) == first
    assert first.stat().st_mtime_ns == stamp  # not rebuilt
    with open(first, "r+b") as handle:
        handle.truncate(size // 2)
    assert merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False) == first
    assert first.read_bytes() == good
    assert not list(cache.glob("*.partial"))
    make_adapter(tmp_path / "other", seed=7)
    assert merged_gguf_for(base, tmp_path / "other", cache=cache, progress=False) != first


def test_deterministic_across_caches(base, tmp_path):
    make_adapter(tmp_path / "ad")
    one = merged_gguf_for(base, tmp_path / "ad", cache=tmp_path / "one", progress=False)
    two = merged_gguf_for(base, tmp_path / "ad", cache=tmp_path / "two", progress=False)
    assert one.name == two.name and one.read_bytes() == two.read_bytes()


def test_a_k_quant_tensor_is_merged_as_q8_0(base, tmp_path):
    adapter = make_adapter(tmp_path / "ad", modules=("down_proj",))
    merged = merged_gguf_for(base, tmp_path / "ad", cache=tmp_path / "cache", progress=False)
    name = "blk.0.ffn_down.weight"
    before, after = tensors_of(base)[name], tensors_of(merged)[name]
    expected = dense(before) + delta(adapter, "down_proj")
    assert before.tensor_type == Q.Q4_K and after.tensor_type == Q.Q8_0 == merged_type(Q.Q4_K)
    np.testing.assert_allclose(dense(after), expected, atol=np.abs(expected).max() / 127)


def test_a_type_gguf_py_cannot_read_is_refused_and_remembered(base, tmp_path, monkeypatch):
    make_adapter(tmp_path / "ad", modules=("q_proj", "o_proj"))
    cache = tmp_path / "cache"
    with pytest.raises(UnsupportedMergeType, match=r"blk\.0\.attn_output\.weight.*I8"):
        merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False)
    assert not list(cache.glob("*.gguf")) and not list(cache.glob("*.partial"))
    monkeypatch.setattr(gguf_merge, "write_merged_gguf", lambda *a, **k: pytest.fail("re-read the base"))
    with pytest.raises(UnsupportedMergeType, match="attn_output"):  # from the record, at once
        merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False)


def test_a_tensor_missing_from_the_base_is_a_model_error(base, tmp_path):
    make_adapter(tmp_path / "ad", layer=1)
    with pytest.raises(ModelError, match=r"blk\.1\.attn_k\.weight, which base.gguf does not have"):
        merged_gguf_for(base, tmp_path / "ad", cache=tmp_path / "cache", progress=False)


def test_lora_mode_is_validated(monkeypatch):
    assert lora_mode() == "merge"
    monkeypatch.setenv("PEDGPT_LORA_MODE", " Runtime ")
    assert lora_mode() == "runtime"
    monkeypatch.setenv("PEDGPT_LORA_MODE", "fused")
    with pytest.raises(BackendError, match="PEDGPT_LORA_MODE must be one of merge, runtime"):
        lora_mode()


def test_backend_serves_the_merge_and_falls_back_to_runtime(base, tmp_path, monkeypatch, caplog):
    """`LlamaCppEngine._lora` decides what llama.cpp loads (no model is loaded here)."""
    from pedgpt.engine.llamacpp_backend import LlamaCppEngine
    from pedgpt.engine.loader import ModelRef

    monkeypatch.setenv("PEDGPT_MODEL_CACHE", str(tmp_path / "models"))  # keep the shared cache clean
    make_adapter(tmp_path / "ad")
    ref = ModelRef("gguf", str(base), "tiny", adapter=str(tmp_path / "ad"), adapter_type="lora")
    served, lora, mode = LlamaCppEngine._lora(ref)
    assert mode == "merge" and lora is None and served.parent.name == "merged"
    monkeypatch.setenv("PEDGPT_LORA_MODE", "runtime")
    served, lora, mode = LlamaCppEngine._lora(ref)
    assert (served, mode) == (base, "runtime") and lora.name.startswith("lora-")
    monkeypatch.delenv("PEDGPT_LORA_MODE")
    make_adapter(tmp_path / "o", modules=("o_proj",))
    with caplog.at_level(logging.WARNING):
        served, lora, mode = LlamaCppEngine._lora(ModelRef("gguf", str(base), "tiny", adapter=str(tmp_path / "o"),
                                                           adapter_type="lora"))
    assert (served, mode) == (base, "runtime") and lora is not None
    assert "attn_output" in caplog.text and "runtime GGUF LoRA" in caplog.text
    assert LlamaCppEngine._lora(ModelRef("gguf", str(base), "tiny")) == (base, None, None)


# ---- the real model ----------------------------------------------------------------------------
PROMPTS = [[{"role": "user", "content": "宝宝发烧38.5度怎么办？"}],
           [{"role": "user", "content": "My toddler has a rash. What should I do?"}],
           [{"role": "user", "content": "小儿急性喉炎的常见症状有哪些？"}]]


def next_token_logprobs(engine, messages):
    """log-softmax of the next-token logits after the prompt (vocab,)."""
    llm = engine.llm
    llm.reset()
    llm.eval(engine.encode_prompt(messages))
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
    logits -= logits.max()
    return logits - np.log(np.exp(logits).sum())


@pytest.mark.model
def test_the_shipped_model_is_served_merged_and_predicts_as_the_runtime_lora(embedded_gguf, monkeypatch):
    from pedgpt.engine import load_engine
    from pedgpt.engine.model_store import file_sha256

    merged = load_engine(None, n_threads=1)
    info = merged.info()
    assert info["adapter_mode"] == "merge" and info["adapter_gguf"] is None
    assert info["served_gguf"] == str(merged.served_path) and merged.served_path.parent.name == "merged"
    assert info["path"] == str(embedded_gguf) and info["served_sha256"] == \
        json.loads(build_record_path(merged.served_path).read_text())["sha256"]
    assert info["served_sha256"] == file_sha256(merged.served_path, progress=False)
    assert merged.generate(PROMPTS[0], max_new_tokens=8, temperature=0.0).strip()
    tuned = [next_token_logprobs(merged, p) for p in PROMPTS]
    del merged
    monkeypatch.setenv("PEDGPT_LORA_MODE", "runtime")
    runtime = load_engine(None, n_threads=1)
    assert runtime.info()["adapter_mode"] == "runtime" and runtime.served_path == embedded_gguf
    exact = [next_token_logprobs(runtime, p) for p in PROMPTS]
    for got, want in zip(tuned, exact):
        assert got.argmax() == want.argmax()
        assert float((np.exp(want) * (want - got)).sum()) < 0.05  # KL: measured ~0.003


def test_no_partial_left_by_a_failed_build(base, tmp_path, monkeypatch):
    make_adapter(tmp_path / "ad")

    def explode(base, folder, out, provenance, progress):
        open(out, "wb").write(b"GGUF half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gguf_merge, "write_merged_gguf", explode)
    with pytest.raises(OSError):
        merged_gguf_for(base, tmp_path / "ad", cache=tmp_path / "cache", progress=False)
    assert not [p for p in os.listdir(tmp_path / "cache") if p.endswith((".partial", ".gguf"))]


def test_a_users_base_is_hashed_once_recorded_in_our_cache_and_again_when_it_changes(base, tmp_path):
    from pedgpt.engine import model_store

    make_adapter(tmp_path / "ad")
    cache = tmp_path / "cache"
    first = merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False)
    assert not list(base.parent.glob("*.sha256.json"))  # nothing written beside the user's file
    records = list((cache / "digests").glob("*.sha256.json"))
    assert len(records) == 1 and json.loads(records[0].read_text())["path"] == str(base.resolve())

    hashed = []
    real_chunks = model_store._chunks

    def recording(src):
        hashed.append(Path(src.name).name)
        return real_chunks(src)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model_store, "_chunks", recording)
        assert merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False) == first
        assert base.name not in hashed  # recorded digest re-used
        os.utime(base, ns=(base.stat().st_atime_ns, base.stat().st_mtime_ns + 10**9))
        assert merged_gguf_for(base, tmp_path / "ad", cache=cache, progress=False) == first
        assert hashed.count(base.name) == 1  # touched: hashed again
