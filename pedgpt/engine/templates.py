"""Build a model's `ChatTemplate` from what the model carries (GGUF metadata or tokenizer config).

Backends call `template_from_source(...)`; a model without a usable template falls back to
ChatML (what Qwen models, including the embedded default, use).
"""

from __future__ import annotations

from pedgpt.chat_template import CHATML_STOP, CHATML_TEMPLATE, ChatTemplate
from pedgpt.errors import ModelError


def template_from_source(
    source: str | None, bos_token: str = "", eos_token: str = "", extra_stop: tuple[str, ...] = ()
) -> ChatTemplate:
    """The model's Jinja chat template, or ChatML when it has none.

    `bos_token`/`eos_token` are the texts of the model's special tokens, as the template expects
    them; `extra_stop` adds end-of-turn markers beyond the EOS token.
    """
    text = source if isinstance(source, str) and source.strip() else CHATML_TEMPLATE
    stops = tuple(dict.fromkeys(s for s in (eos_token, *extra_stop) if s))
    if text is CHATML_TEMPLATE or "<|im_end|>" in text:
        stops = tuple(dict.fromkeys((*stops, *CHATML_STOP)))
    try:
        return ChatTemplate(source=text, bos_token=bos_token or "",
                            eos_token=eos_token or "<|im_end|>", stop=stops)
    except Exception as exc:  # jinja2.TemplateSyntaxError and friends
        raise ModelError(f"the model's chat template does not compile: {exc}") from None
