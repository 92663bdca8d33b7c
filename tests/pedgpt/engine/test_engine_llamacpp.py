"""The llama.cpp backend on the real embedded model (marked `model`: needs the assembled GGUF)."""

import pytest
from transformers import AutoTokenizer

from pedgpt.chat_template import tokenize_segments
from pedgpt.engine.transformers_backend import TransformersEngine
from pedgpt.language import detect_language

pytestmark = pytest.mark.model

ZH = [{"role": "user", "content": "我家宝宝1岁半，发烧38.8度，精神还可以，需要马上去医院吗？"}]
EN = [{"role": "user", "content": "My 18-month-old has a fever of 38.8 C but is playful. "
                                  "Do we need to go to the hospital right away?"}]


def test_info_of_the_embedded_model(embedded_engine):
    info = embedded_engine.info()
    assert info["backend"] == "llamacpp" and info["device"] == "cpu" and info["embedded"]
    assert info["model"] == "Qwen2.5-Coder-0.5B-Instruct" and info["dtype"] == "Q4_K_M"
    assert info["size"] == 491_400_064 and info["threads"] >= 1
    assert "<|im_start|>" in embedded_engine.template.source  # the GGUF's own ChatML template


def test_chinese_question_gets_chinese_answer(embedded_engine):
    answer = embedded_engine.generate(ZH, max_new_tokens=40)
    assert detect_language(answer) == "zh", answer
    assert embedded_engine.last_stats.completion_tokens <= 40


def test_english_question_gets_english_answer(embedded_engine):
    answer = embedded_engine.generate(EN, max_new_tokens=40)
    assert detect_language(answer) == "en", answer


def test_ends_at_end_of_turn(embedded_engine):
    answer = embedded_engine.generate([{"role": "user", "content": "Reply with just the word: yes"}],
                                      max_new_tokens=32)
    assert embedded_engine.last_stats.finish_reason == "stop"
    assert "<|im_end|>" not in answer and len(answer) < 60


def test_follow_up_turn_reuses_the_kv_cache(embedded_engine):
    first = embedded_engine.generate(ZH, max_new_tokens=16)
    follow = ZH + [{"role": "assistant", "content": first}, {"role": "user", "content": "要吃退烧药吗？"}]
    embedded_engine.generate(follow, max_new_tokens=4)
    cached = embedded_engine.llm.n_tokens
    prompt = embedded_engine.last_stats.prompt_tokens
    # llama.cpp evaluated only the suffix: its token history starts with the whole first prompt.
    assert cached >= prompt and embedded_engine.llm._input_ids[:prompt].tolist() == \
        embedded_engine.encode_prompt(follow)


def test_cancel_then_usable(embedded_engine):
    stream = embedded_engine.stream(ZH, max_new_tokens=200)
    next(stream)
    embedded_engine.cancel()
    list(stream)
    assert embedded_engine.last_stats.finish_reason == "cancelled"
    assert embedded_engine.last_stats.completion_tokens < 20
    assert embedded_engine.generate(ZH, max_new_tokens=4)


def test_stop_string(embedded_engine):
    full = embedded_engine.generate(EN, max_new_tokens=24)
    word = full.split()[3]
    assert embedded_engine.generate(EN, max_new_tokens=24, stop=[word]) == full[: full.find(word)]
    assert embedded_engine.last_stats.finish_reason == "stop"


@pytest.fixture(scope="module")
def qwen_tokenizer(embedded_gguf):
    """The real Qwen tokenizer, converted by transformers from the embedded GGUF."""
    return AutoTokenizer.from_pretrained(embedded_gguf.parent, gguf_file=embedded_gguf.name)


def test_real_tokenizer_ids_equal_training_ids(embedded_engine, qwen_tokenizer):
    """Serving ids (llama.cpp and the transformers encoder) == the training collator's ids."""
    conversation = [
        {"role": "system", "content": "你是一名儿科医生。Answer in the user's language."},
        {"role": "user", "content": "宝宝8个月，出皮疹两天，体温37.9℃。"},
        {"role": "assistant", "content": "皮疹是什么样子的？压之褪色吗？"},
        {"role": "user", "content": "Red spots, they fade when pressed. Ibuprofen 5 mg/kg OK?"},
    ]
    reply = {"role": "assistant", "content": "可以，按体重计算剂量：5–10 mg/kg，每6–8小时一次。"}
    template = embedded_engine.template
    encode = lambda text: qwen_tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    train_ids, labels = tokenize_segments(template.render_segments(conversation + [reply]), encode)
    served = embedded_engine.encode_prompt(conversation)
    assert train_ids[: len(served)] == served
    assert labels[len(served)] != -100 and train_ids[-1] == encode("\n")[0]
    # The transformers backend's encoder gives the same ids on the real tokenizer.
    hf_served = TransformersEngine.encode(type("E", (), {"tokenizer": qwen_tokenizer})(),
                                          template.render(conversation, add_generation_prompt=True))
    assert hf_served == served
    whole = encode(template.render(conversation + [reply], add_generation_prompt=False))
    assert whole == train_ids  # piecewise encoding == encoding the whole text
