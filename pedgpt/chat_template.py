"""The ONE chat-template module shared by serving (`pedgpt.engine`) and training (`train/`).

Serving renders a conversation to a prompt string with `ChatTemplate.render(...,
add_generation_prompt=True)`; training renders the same conversation with
`ChatTemplate.render_segments(...)`, which yields the same text split into (text, is_target)
pieces so that the collator can put the loss on assistant turns only. Both go through the same
Jinja template (the model's own, as stored in its tokenizer config or GGUF metadata; ChatML for
the embedded Qwen default), so the prompt a model is trained on is byte-identical to the one it
is served with. `tokenize_segments` turns segments into ids + labels with any tokenizer callable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from jinja2.sandbox import ImmutableSandboxedEnvironment

from pedgpt.errors import InputError

Message = dict  # {"role": "system"|"user"|"assistant", "content": str}

#: ChatML as used by Qwen2/2.5 (what the embedded default carries in its GGUF metadata).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CHATML_STOP = ("<|im_end|>", "<|endoftext|>")

ROLES = ("system", "user", "assistant")


def validate_messages(messages: Sequence[Message]) -> list[Message]:
    """Check roles/contents and return plain dict copies; raises InputError on bad input."""
    if not messages:
        raise InputError("the conversation is empty")
    clean = []
    for index, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise InputError(f"message {index}: unknown role {role!r}")
        if not isinstance(content, str):
            raise InputError(f"message {index}: content must be text")
        clean.append({"role": role, "content": content})
    return clean


@dataclass
class ChatTemplate:
    """A model's chat template plus the special tokens it references."""

    source: str = CHATML_TEMPLATE
    bos_token: str = ""
    eos_token: str = "<|im_end|>"
    stop: tuple[str, ...] = CHATML_STOP

    def __post_init__(self) -> None:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise_template_error
        self._compiled = env.from_string(self.source)

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """Conversation → prompt text exactly as the model sees it."""
        return self._compiled.render(
            messages=validate_messages(messages),
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
        )

    def render_segments(self, messages: Sequence[Message]) -> list[tuple[str, bool]]:
        """The full conversation as (text, is_target) pieces; assistant replies are targets.

        Each assistant reply's target text is what the full rendering adds after the
        generation prompt for that turn (the reply plus its end-of-turn marker), so the
        concatenation of all pieces equals `render(messages, add_generation_prompt=False)`.
        """
        messages = validate_messages(messages)
        segments: list[tuple[str, bool]] = []
        emitted = ""
        for index, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            prompt = self.render(messages[:index], add_generation_prompt=True) if index else ""
            full = self.render(messages[: index + 1], add_generation_prompt=False)
            if not prompt.startswith(emitted) or not full.startswith(prompt):
                raise InputError("chat template is not prefix-stable; cannot mask assistant turns")
            segments.append((prompt[len(emitted):], False))
            segments.append((full[len(prompt):], True))
            emitted = full
        whole = self.render(messages, add_generation_prompt=False)
        if len(whole) > len(emitted):
            segments.append((whole[len(emitted):], False))
        return [(text, target) for text, target in segments if text]


def tokenize_segments(
    segments: Iterable[tuple[str, bool]], encode: Callable[[str], list[int]], ignore_index: int = -100
) -> tuple[list[int], list[int]]:
    """(text, is_target) pieces → (input_ids, labels); non-target labels are `ignore_index`.

    Pieces are encoded one at a time. With ChatML every piece boundary sits next to a special
    token (`<|im_start|>` / `<|im_end|>`), which the BPE never merges across, so the ids equal
    those of encoding the whole text at once (a test checks this on the real tokenizer).
    """
    input_ids: list[int] = []
    labels: list[int] = []
    for text, is_target in segments:
        ids = encode(text)
        input_ids.extend(ids)
        labels.extend(ids if is_target else [ignore_index] * len(ids))
    return input_ids, labels


def _raise_template_error(message: str) -> None:
    raise InputError(f"chat template error: {message}")


DEFAULT_TEMPLATE = ChatTemplate()
