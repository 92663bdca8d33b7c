"""Shared fixtures for the training tests: a throwaway tokenizer, tiny models and JSONL corpora.

Everything is built in the test (no hub, no embedded model), so the unit tests stay fast and
hermetic. The end-to-end pipeline test (marked `slow`) uses the real embedded tokenizer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pedgpt.chat_template import CHATML_TEMPLATE

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

QA = [
    ("孩子发烧38.5度怎么办？", "体温38.5℃时先物理降温并多喝水；精神差、持续高热或抽搐请立即就医。"),
    ("小儿腹泻要注意什么？", "注意补液，可用口服补液盐，观察尿量；出现脱水表现或便血请及时就医。"),
    ("What causes croup in toddlers?", "Croup is usually viral (parainfluenza); see a doctor for stridor at rest."),
    ("手足口病有哪些症状？", "常见发热、口腔疱疹和手足皮疹；嗜睡、呕吐、肢体抖动需立即就医。"),
    ("孩子咳嗽一周了正常吗？", "普通感冒咳嗽可持续一到两周；伴呼吸急促、发绀或高热不退请就医。"),
    ("How much water should an infant drink?", "Under six months breast milk or formula is enough; ask your doctor."),
]


def _tokenizer_corpus() -> list[str]:
    lines = [q + a for q, a in QA] * 4
    lines += ["system user assistant You are a helpful assistant.", "\n"]
    return lines


@pytest.fixture(scope="session")
def train_tokenizer_dir(tmp_path_factory) -> Path:
    """A small byte-level BPE tokenizer with ChatML special tokens and template, saved to a folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(_tokenizer_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>")
    tokenizer.chat_template = CHATML_TEMPLATE
    folder = tmp_path_factory.mktemp("tokenizer")
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def train_model_dir(train_tokenizer_dir, tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Qwen2 model + tokenizer in a folder."""
    from train.common import build_tiny_model, load_tokenizer
    from train.config import TinyModelConfig

    folder = tmp_path_factory.mktemp("tiny-model")
    shape = TinyModelConfig(num_hidden_layers=2, hidden_size=32, intermediate_size=64,
                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    return build_tiny_model(shape, load_tokenizer(train_tokenizer_dir), folder, seed=0)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture()
def corpus_dir(tmp_path) -> Path:
    """cpt/sft/dfpo/moe JSONL files in the formats `train.data.build` writes."""
    tasks = ["kqa", "diag", "treat"]
    folder = tmp_path / "data"
    folder.mkdir()
    write_jsonl(folder / "cpt.jsonl", [{"text": f"问：{q}\n答：{a}"} for q, a in QA] * 3)
    conversations = [[{"role": "user", "content": q}, {"role": "assistant", "content": a}] for q, a in QA]
    conversations.append(conversations[0] + [{"role": "user", "content": "需要吃药吗？"},
                                             {"role": "assistant", "content": "按体重用对乙酰氨基酚，遵医嘱。"}])
    write_jsonl(folder / "sft.jsonl", [{"messages": m} for m in conversations])
    write_jsonl(folder / "moe.jsonl", [{"messages": m, "task": tasks[i % 3]} for i, m in enumerate(conversations)])
    pairs = [{"prompt": [{"role": "user", "content": q}], "chosen": [{"role": "assistant", "content": a}],
              "rejected": [{"role": "assistant", "content": "不知道。"}]} for q, a in QA]
    write_jsonl(folder / "dfpo.jsonl", pairs)
    return folder
