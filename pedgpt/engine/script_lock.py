"""Keep an English answer in English: the vocabulary ids a model must not sample then.

The served prompt's knowledge facts come from a Chinese knowledge graph (CMeKG). Asked in English,
the 0.5B default copies them verbatim ("Ibuprofen: 1. 布洛芬缓释片 — 注意事项: …"): 5 of the 40
English safety questions of the 2026-12-06 served evaluation were answered that way. When the
question is English the engines therefore never sample a token that writes a Chinese character.

A token is excluded when its bytes hold a UTF-8 lead byte 0xE3–0xE9, i.e. the first byte of a
code point U+3000–U+9FFF: CJK punctuation (。、「」), kana and the CJK ideographs (with extension
A). In UTF-8 those byte values occur only as lead bytes, so the rule is exact for byte-level BPE
vocabularies (Qwen, Llama 3): a token that holds one is such a character or its beginning.
Latin letters, digits, °C, ±, em dashes and the like (lead bytes up to 0xE2) stay allowed. No such
lock exists for Chinese answers: they legitimately carry Latin drug names and units.

    from pedgpt.engine.script_lock import forbidden_ids
    forbidden_ids("en", pieces)     # sorted ids whose bytes write CJK; () for "zh" / None
"""

from __future__ import annotations

from typing import Iterable

#: UTF-8 lead bytes of U+3000–U+9FFF (three-byte sequences E3 80 80 … E9 BF BF).
CJK_LEAD_BYTES = frozenset(range(0xE3, 0xEA))
#: Answer languages whose answers are locked to their own script (see the module docstring).
LOCKED_LANGUAGES = ("en",)


def writes_cjk(piece: bytes) -> bool:
    """True when these token bytes write (or begin) a character in U+3000–U+9FFF."""
    return any(byte in CJK_LEAD_BYTES for byte in piece)


def forbidden_ids(language: str | None, pieces: Iterable[bytes]) -> tuple[int, ...]:
    """Ids (positions in `pieces`, one entry per vocabulary id) an answer in `language` must not
    sample; empty when that language has no lock."""
    if language not in LOCKED_LANGUAGES:
        return ()
    return tuple(token for token, piece in enumerate(pieces) if writes_cjk(piece))


def byte_level_pieces(tokens: Iterable[str]) -> Iterable[bytes]:
    """Bytes of Hugging Face tokenizer tokens. Byte-level BPE spells each byte as one printable
    character (GPT-2's table: "Ġ" is a space, "æĪ" two bytes of 我); tokens with characters
    outside that table (added special tokens, SentencePiece "▁" pieces) are plain UTF-8 text."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    decoder = {char: byte for byte, char in bytes_to_unicode().items()}
    for token in tokens:
        try:
            yield bytes(decoder[char] for char in token or "")
        except KeyError:
            yield (token or "").encode("utf-8")
