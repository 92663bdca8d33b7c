"""Shared pytest fixtures.

- every test gets its own `PEDGPT_HOME` (a tmp folder) — hermetic storage, caches, config;
- the embedded model is assembled ONCE into `PEDGPT_MODEL_CACHE` (default
  `~/.cache/pedgpt-test/models`, override with `PEDGPT_TEST_MODEL_CACHE`) and shared by all tests;
- `tiny_model_dir`: a tiny randomly initialised Qwen2 model (2 layers, hidden 64) with a small
  real byte-level BPE tokenizer carrying the ChatML special tokens and a ChatML chat template,
  built offline in a tmp folder; `tiny_engine`: the transformers backend on it;
- `embedded_gguf` / `embedded_engine`: the real default model (for `@pytest.mark.model` tests).

The Hugging Face hub is switched off for the whole session: tests never touch the network, and
torch runs single-threaded (`OMP_NUM_THREADS=1` unless set).
"""

from __future__ import annotations

import os
from pathlib import Path

# Before anything imports huggingface_hub (it reads these once).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Tiny test models gain nothing from a second thread, and torch's spinning OpenMP workers slow
# them down ~40x when the 2 cores are busy with other work (3 ms vs 145 ms per token measured).
# llama.cpp takes its thread count explicitly and is not affected.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

SHARED_MODEL_CACHE = Path(
    os.environ.get("PEDGPT_TEST_MODEL_CACHE") or Path.home() / ".cache" / "pedgpt-test" / "models")

CHATML_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


@pytest.fixture(autouse=True)
def _pedgpt_home(tmp_path, monkeypatch):
    """A fresh PEDGPT_HOME per test; the assembled embedded model stays shared."""
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path / "pedgpt-home"))
    monkeypatch.setenv("PEDGPT_MODEL_CACHE", str(SHARED_MODEL_CACHE))
    for name in ("PEDGPT_MODEL", "PEDGPT_BACKEND", "PEDGPT_DEVICE", "PEDGPT_DB_URL", "PEDGPT_LORA_MODE",
                 "PEDGPT_OPENAI_BASE_URL", "PEDGPT_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


# ---- the tiny transformers model ---------------------------------------------------------------
_ZH_SUBJECTS = ["宝宝", "孩子", "婴儿", "我家女儿", "我儿子", "新生儿", "幼儿", "小朋友"]
_ZH_PROBLEMS = ["发烧三十八度五", "咳嗽两天了", "腹泻拉肚子", "呕吐不止", "出皮疹", "不爱吃奶",
                "夜里哭闹", "流鼻涕打喷嚏", "精神不好", "耳朵疼"]
_ZH_TAILS = ["需要去医院吗？", "该怎么护理？", "可以吃退烧药吗？", "要注意什么？", "是什么原因？"]
_EN_SUBJECTS = ["My baby", "The child", "My toddler", "Our newborn", "My son", "My daughter"]
_EN_PROBLEMS = ["has a fever of 38.5 degrees", "has been coughing for two days", "has diarrhea",
                "keeps vomiting", "has a rash", "refuses to feed", "cries at night", "has an earache"]
_EN_TAILS = ["Should we see a doctor?", "What should I do?", "Is paracetamol safe?",
             "What should I watch for?", "What could cause it?"]


def tiny_corpus() -> list[str]:
    """A few hundred Chinese and English pediatric sentences (enough for a small BPE)."""
    zh = [s + p + "，" + t for s in _ZH_SUBJECTS for p in _ZH_PROBLEMS for t in _ZH_TAILS[:3]]
    en = [f"{s} {p}. {t}" for s in _EN_SUBJECTS for p in _EN_PROBLEMS for t in _EN_TAILS[:3]]
    return zh + en + ["请多喝水，注意休息，体温超过三十九度请及时就医。",
                      "Give fluids, let the child rest, and see a doctor if the fever lasts."]


def build_tiny_tokenizer():
    """Byte-level BPE trained on `tiny_corpus()`, ChatML specials, ChatML chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from pedgpt.chat_template import CHATML_TEMPLATE

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=list(CHATML_SPECIALS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    core.train_from_iterator(tiny_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>",
                                        additional_special_tokens=["<|im_start|>"])
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def build_tiny_model(tokenizer):
    """2-layer, hidden-64 Qwen2 with random weights; special tokens can never be the argmax.

    Their output rows are zeroed (untied head) so greedy decoding runs to `max_new_tokens`:
    tests of streaming, stop strings and cancellation then do not depend on the random draw."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    ids = [tokenizer.convert_tokens_to_ids(t) for t in CHATML_SPECIALS]
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, tie_word_embeddings=False,
                         eos_token_id=ids[2], pad_token_id=ids[0], bos_token_id=None)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():
        model.lm_head.weight[ids] = 0.0
    model.generation_config.eos_token_id = ids[2]
    model.generation_config.pad_token_id = ids[0]
    return model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """Folder with a tiny random Qwen2 checkpoint + tokenizer (save_pretrained layout)."""
    folder = tmp_path_factory.mktemp("tiny-qwen2")
    tokenizer = build_tiny_tokenizer()
    build_tiny_model(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir):
    """The transformers backend (CPU, bf16) on the tiny model."""
    from pedgpt.engine import load_engine

    return load_engine(str(tiny_model_dir), backend="transformers", device="cpu")


# ---- the real embedded model -------------------------------------------------------------------
@pytest.fixture(scope="session")
def embedded_gguf() -> Path:
    """The verified embedded GGUF, assembled once into the shared test cache."""
    from pedgpt.engine.model_store import ensure_embedded_model

    SHARED_MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    return ensure_embedded_model(folder=SHARED_MODEL_CACHE, progress=False)


@pytest.fixture(scope="session")
def embedded_engine(embedded_gguf):
    """The llama.cpp backend on the embedded model (one instance for the whole session)."""
    from pedgpt.engine.llamacpp_backend import LlamaCppEngine
    from pedgpt.engine.loader import embedded_ref

    return LlamaCppEngine(embedded_ref(folder=embedded_gguf.parent, progress=False))
