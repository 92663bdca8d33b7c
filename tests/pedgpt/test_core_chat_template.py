"""The shared chat template: rendering, assistant-target segments, tokenisation into labels."""

import pytest

from pedgpt.chat_template import DEFAULT_TEMPLATE, ChatTemplate, tokenize_segments
from pedgpt.errors import InputError

CONVERSATION = [
    {"role": "system", "content": "你是儿科助手"},
    {"role": "user", "content": "宝宝发烧38.5度"},
    {"role": "assistant", "content": "请问宝宝多大了？"},
    {"role": "user", "content": "1岁半"},
    {"role": "assistant", "content": "精神好的话可以先观察。"},
]


def test_render_is_chatml_with_generation_prompt():
    text = DEFAULT_TEMPLATE.render(CONVERSATION[:2])
    assert text == ("<|im_start|>system\n你是儿科助手<|im_end|>\n"
                    "<|im_start|>user\n宝宝发烧38.5度<|im_end|>\n<|im_start|>assistant\n")


def test_default_system_message_when_none_given():
    text = DEFAULT_TEMPLATE.render([{"role": "user", "content": "hi"}])
    assert text.startswith("<|im_start|>system\n")
    assert text.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_segments_concatenate_to_full_render_and_mark_only_assistant_replies():
    segments = DEFAULT_TEMPLATE.render_segments(CONVERSATION)
    assert "".join(text for text, _ in segments) == DEFAULT_TEMPLATE.render(CONVERSATION, False)
    targets = [text for text, is_target in segments if is_target]
    assert targets == ["请问宝宝多大了？<|im_end|>\n", "精神好的话可以先观察。<|im_end|>\n"]


def test_serving_prompt_is_a_prefix_of_training_text():
    # What the engine feeds the model for turn 2 equals the training text up to that reply.
    served = DEFAULT_TEMPLATE.render(CONVERSATION[:4], add_generation_prompt=True)
    trained = "".join(t for t, _ in DEFAULT_TEMPLATE.render_segments(CONVERSATION))
    assert trained.startswith(served)
    assert trained[len(served):] == "精神好的话可以先观察。<|im_end|>\n"


def test_tokenize_segments_masks_non_targets():
    encode = lambda text: [ord(ch) for ch in text]  # noqa: E731 - a character-level tokenizer
    ids, labels = tokenize_segments(DEFAULT_TEMPLATE.render_segments(CONVERSATION), encode)
    assert len(ids) == len(labels)
    kept = "".join(chr(i) for i, label in zip(ids, labels) if label != -100)
    assert kept == "请问宝宝多大了？<|im_end|>\n精神好的话可以先观察。<|im_end|>\n"


@pytest.mark.parametrize("bad", [[], [{"role": "robot", "content": "x"}], [{"role": "user", "content": 3}]])
def test_bad_messages_raise_input_error(bad):
    with pytest.raises(InputError):
        DEFAULT_TEMPLATE.render(bad)


def test_custom_template_with_bos_token():
    template = ChatTemplate(source="{{ bos_token }}{% for m in messages %}[{{ m['role'] }}]{{ m['content'] }}{% endfor %}",
                            bos_token="<s>")
    assert template.render([{"role": "user", "content": "x"}]) == "<s>[user]x"
