"""English answers stay English: the vocabulary lock of `pedgpt.engine.script_lock`."""

import re

import pytest

from pedgpt.engine.base import GenerationParams
from pedgpt.engine.script_lock import byte_level_pieces, forbidden_ids, writes_cjk
from pedgpt.errors import InputError

CJK = re.compile(r"[\u3000-\u9fff]")


@pytest.mark.parametrize("text", ["发", "热。", "　", "カ", "㐀", " 布洛芬"])
def test_pieces_that_write_cjk_are_recognised(text):
    assert writes_cjk(text.encode("utf-8"))
    assert writes_cjk(text.encode("utf-8")[:1] if text[0] != " " else text.encode("utf-8")[:2])


@pytest.mark.parametrize("text", ["fever", " 38.5 °C", "—", "±5 mg/kg", "é", "한", "“q6h”", ""])
def test_latin_symbols_and_other_scripts_stay_allowed(text):
    assert not writes_cjk(text.encode("utf-8"))


def test_only_english_answers_are_locked():
    pieces = [b"a", "热".encode(), b" b", "。".encode()[:2], "—".encode()]
    assert forbidden_ids("en", pieces) == (1, 3)
    assert forbidden_ids("zh", pieces) == () and forbidden_ids(None, pieces) == ()


def test_byte_level_tokens_are_read_as_bytes():
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    table = bytes_to_unicode()
    spell = lambda raw: "".join(table[b] for b in raw)  # noqa: E731 - how BPE vocabularies store bytes
    tokens = [spell(b" fever"), spell("发烧".encode()), spell("发".encode()[:2]), "<|im_end|>", "▁热"]
    pieces = list(byte_level_pieces(tokens))
    assert pieces[:4] == [b" fever", "发烧".encode(), "发".encode()[:2], b"<|im_end|>"]
    assert pieces[4] == "▁热".encode()  # not byte-level: plain UTF-8
    assert forbidden_ids("en", pieces) == (1, 2, 4)


def test_unknown_answer_language_is_an_input_error():
    with pytest.raises(InputError, match="answer_language"):
        GenerationParams(answer_language="fr")
    assert GenerationParams(answer_language="en").to_dict()["answer_language"] == "en"


@pytest.mark.model
def test_llamacpp_english_answer_has_no_chinese_even_when_facts_are_chinese(embedded_engine):
    system = ("You are a pediatric assistant. Answer in English.\n"
              "Reference knowledge (quote it):\n[F1] 手足口病 — 常见症状: 口腔疱疹\n"
              "[F2] 手足口病 — 治疗: 对症治疗\n[F3] 手足口病 — 就诊科室: 儿科")
    messages = [{"role": "system", "content": system},
                {"role": "user", "content": "Repeat the reference knowledge lines [F1] to [F3] exactly."}]
    free = embedded_engine.generate(messages, max_new_tokens=48)
    locked = embedded_engine.generate(messages, max_new_tokens=48, answer_language="en")
    assert CJK.search(free), free  # without the lock the model copies the Chinese facts
    assert locked.strip() and not CJK.search(locked), locked
    assert embedded_engine.forbidden_ids("en") and not embedded_engine.forbidden_ids("zh")
