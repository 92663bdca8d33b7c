"""The paper's text-overlap metrics, computed exactly as PediatricsGPT's public evaluation code does.

Per sample: both texts are segmented with jieba (`list(jieba.cut(text))`, whitespace tokens kept,
as in the paper's code); BLEU-1..4 with nltk `sentence_bleu` (smoothing method3, weights below),
GLEU with nltk `sentence_gleu`, ROUGE-1/2/L F-scores of the `rouge` package on the space-joined
tokens, Distinct-1/2 of the prediction; each × 100 and rounded to 4 decimals. A corpus score is
the mean over samples.

    from pedgpt.eval.metrics import corpus_scores
    corpus_scores(["孩子发烧了"], ["孩子发烧"])   # {"rouge-1": ..., ..., "distinct-2": ...}

Edge cases, without changing the definition: a sample with an empty side scores 0 on ROUGE (the
`rouge` package raises there, and also on texts it sees as empty, e.g. "..." which it splits
into no sentences); its recursive LCS gets enough recursion depth for long answers.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import warnings
from typing import Iterable, Sequence

from pedgpt.errors import InputError

#: Metric names in report order (the keys of `eval score --json`, all on a 0–100 scale).
METRICS = ("rouge-1", "rouge-2", "rouge-l", "bleu-1", "bleu-2", "bleu-3", "bleu-4", "gleu",
           "distinct-1", "distinct-2")

#: The paper's BLEU weights (including its (0.33, 0.33, 0.33, 0) for BLEU-3).
BLEU_WEIGHTS = {
    "bleu-1": (1.0, 0.0, 0.0, 0.0),
    "bleu-2": (0.5, 0.5, 0.0, 0.0),
    "bleu-3": (0.33, 0.33, 0.33, 0.0),
    "bleu-4": (0.25, 0.25, 0.25, 0.25),
}

#: Decimals kept per sample (the paper's code rounds each sample's × 100 score to 4 places).
SAMPLE_DECIMALS = 4

_ROUGE_KEYS = ("rouge-1", "rouge-2", "rouge-l")
_tokenizer = None


def tokenize(text: str) -> list[str]:
    """jieba segmentation as in the paper's code: `list(jieba.cut(text))`.

    A private `jieba.Tokenizer` with the default dictionary segments exactly like a pristine
    `jieba.cut`, and stays so even if other code adds words to jieba's global dictionary."""
    global _tokenizer
    if _tokenizer is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)  # silence "Building prefix dict ..." on stderr
        _tokenizer = jieba.Tokenizer()
    return list(_tokenizer.cut(text))


def bleu_scores(hyp: Sequence[str], ref: Sequence[str]) -> dict[str, float]:
    """BLEU-1..4 in [0, 1] (nltk sentence_bleu, smoothing method3)."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    smoothing = SmoothingFunction().method3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: float(sentence_bleu([list(ref)], list(hyp), weights=weights,
                                          smoothing_function=smoothing))
                for name, weights in BLEU_WEIGHTS.items()}


def gleu_score(hyp: Sequence[str], ref: Sequence[str]) -> float:
    """GLEU in [0, 1] (nltk sentence_gleu, 1- to 4-grams)."""
    from nltk.translate.gleu_score import sentence_gleu

    return float(sentence_gleu([list(ref)], list(hyp)))


def rouge_scores(hyp: Sequence[str], ref: Sequence[str]) -> dict[str, float]:
    """ROUGE-1/2/L F-scores in [0, 1] of the `rouge` package on space-joined tokens."""
    if not hyp or not ref:
        return dict.fromkeys(_ROUGE_KEYS, 0.0)
    from rouge import Rouge

    # The package's LCS back-tracking recurses once per word of a sentence pair.
    depth = 2 * (len(hyp) + len(ref)) + 1000
    try:
        with _recursion_limit(depth):
            result = Rouge().get_scores(" ".join(hyp), " ".join(ref))[0]
    except ValueError:
        # "Hypothesis/Reference is empty": the text holds no sentence once split at ".".
        return dict.fromkeys(_ROUGE_KEYS, 0.0)
    return {key: float(result[key]["f"]) for key in _ROUGE_KEYS}


def distinct(tokens: Sequence[str], n: int) -> float:
    """Distinct-n in [0, 1]: unique n-grams / n-grams of the prediction (0 when it has none)."""
    total = len(tokens) - n + 1
    if total <= 0:
        return 0.0
    return len(set(zip(*(tokens[i:] for i in range(n))))) / total


def sample_scores(prediction: str, reference: str) -> dict[str, float]:
    """All metrics for one (prediction, reference) pair, × 100, rounded as in the paper."""
    hyp, ref = tokenize(prediction), tokenize(reference)
    raw = {**rouge_scores(hyp, ref), **bleu_scores(hyp, ref), "gleu": gleu_score(hyp, ref),
           "distinct-1": distinct(hyp, 1), "distinct-2": distinct(hyp, 2)}
    return {name: round(raw[name] * 100, SAMPLE_DECIMALS) for name in METRICS}


def mean_scores(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    """Mean of per-sample scores (0 for every metric when there are no samples)."""
    rows = list(rows)
    if not rows:
        return dict.fromkeys(METRICS, 0.0)
    return {name: math.fsum(row[name] for row in rows) / len(rows) for name in METRICS}


def corpus_scores(predictions: Sequence[str], references: Sequence[str],
                  progress: bool = False) -> dict[str, float]:
    """Mean per-sample scores over aligned predictions and references."""
    if len(predictions) != len(references):
        raise InputError(f"{len(predictions)} predictions but {len(references)} references; "
                         "the two files must hold the same number of answers")
    pairs = zip(predictions, references)
    if progress:
        from tqdm import tqdm

        pairs = tqdm(pairs, total=len(predictions), desc="scoring", unit="answer", disable=None)
    return mean_scores(sample_scores(p, r) for p, r in pairs)


@contextlib.contextmanager
def _recursion_limit(depth: int):
    old = sys.getrecursionlimit()
    if depth > old:
        sys.setrecursionlimit(depth)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
