"""The paper's metrics: hand-checked values, edge cases, and agreement with an independent
re-implementation of the same definitions (own n-gram counting, no nltk / rouge) on random text."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pedgpt.eval.metrics import METRICS, corpus_scores, sample_scores, tokenize
from pedgpt.errors import InputError


# ---- independent implementation -----------------------------------------------------------
def _ngrams(tokens, n):
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def ref_bleu(hyp, ref, weights):
    """BLEU with clipped counts, closest-length brevity penalty and mteval 'method3' smoothing."""
    nums, dens = [], []
    for n in range(1, 5):
        counts, ref_counts = Counter(_ngrams(hyp, n)), Counter(_ngrams(ref, n))
        nums.append(sum(min(c, ref_counts[g]) for g, c in counts.items()))
        dens.append(max(1, sum(counts.values())))
    if nums[0] == 0:
        return 0.0
    precisions, k = [], 1
    for num, den in zip(nums, dens):
        if num == 0:
            precisions.append(1 / (2 ** k * den))
            k += 1
        else:
            precisions.append(num / den)
    bp = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return bp * math.exp(sum(w * math.log(p) for w, p in zip(weights, precisions)))


def ref_gleu(hyp, ref):
    hyp_counts = Counter(g for n in range(1, 5) for g in _ngrams(hyp, n))
    ref_counts = Counter(g for n in range(1, 5) for g in _ngrams(ref, n))
    total = max(sum(hyp_counts.values()), sum(ref_counts.values()))
    if total == 0:
        return 0.0
    return sum((hyp_counts & ref_counts).values()) / total


def _rouge_sentences(tokens):
    """The `rouge` package's view of a text: split at '.', whitespace-normalised sentences."""
    text = " ".join(tokens)
    return [" ".join(piece.split()) for piece in text.split(".") if piece]


def _f(overlap, n_hyp, n_ref):
    p = overlap / n_hyp if n_hyp else 0.0
    r = overlap / n_ref if n_ref else 0.0
    return 2 * p * r / (p + r + 1e-8)


def _lcs_words(x, y):
    """Words of the LCS of x and y, back-tracked with the package's tie rule (prefer 'left')."""
    table = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
    for i in range(1, len(x) + 1):
        for j in range(1, len(y) + 1):
            table[i][j] = (table[i - 1][j - 1] + 1 if x[i - 1] == y[j - 1]
                           else max(table[i - 1][j], table[i][j - 1]))
    words, i, j = [], len(x), len(y)
    while i and j:
        if x[i - 1] == y[j - 1]:
            words.append(x[i - 1])
            i, j = i - 1, j - 1
        elif table[i - 1][j] > table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return words


def ref_rouge(hyp, ref):
    keys = ("rouge-1", "rouge-2", "rouge-l")
    hs, rs = _rouge_sentences(hyp), _rouge_sentences(ref)
    if not hyp or not ref or not hs or not rs:
        return dict.fromkeys(keys, 0.0)
    hw = [w for s in hs for w in s.split(" ")]
    rw = [w for s in rs for w in s.split(" ")]
    out = {}
    for n in (1, 2):
        hset, rset = set(_ngrams(hw, n)), set(_ngrams(rw, n))
        out[f"rouge-{n}"] = _f(len(hset & rset), len(hset), len(rset))
    union, total = set(), 0
    for r_sentence in rs:
        before = len(union)
        for h_sentence in hs:
            union |= set(_lcs_words(r_sentence.split(" "), h_sentence.split(" ")))
        total += len(union) - before
    out["rouge-l"] = _f(total, len(set(hw)), len(set(rw)))
    return out


def ref_distinct(tokens, n):
    grams = _ngrams(tokens, n)
    return len(set(grams)) / len(grams) if grams else 0.0


def ref_scores(prediction, reference):
    hyp, ref = tokenize(prediction), tokenize(reference)
    weights = {"bleu-1": (1, 0, 0, 0), "bleu-2": (0.5, 0.5, 0, 0),
               "bleu-3": (0.33, 0.33, 0.33, 0), "bleu-4": (0.25, 0.25, 0.25, 0.25)}
    raw = {**ref_rouge(hyp, ref), **{k: ref_bleu(hyp, ref, w) for k, w in weights.items()},
           "gleu": ref_gleu(hyp, ref), "distinct-1": ref_distinct(hyp, 1),
           "distinct-2": ref_distinct(hyp, 2)}
    return {k: v * 100 for k, v in raw.items()}


# ---- hand-checked values ------------------------------------------------------------------
def test_identical_two_word_chinese_answer():
    assert tokenize("孩子发烧") == ["孩子", "发烧"]
    s = sample_scores("孩子发烧", "孩子发烧")
    # p1 = p2 = 1; p3, p4 have no n-grams: method3 gives 1/2 then 1/4.
    assert s["bleu-1"] == s["bleu-2"] == 100.0
    assert s["bleu-3"] == pytest.approx(100 * 0.5 ** 0.33, abs=1e-4)
    assert s["bleu-4"] == pytest.approx(100 * 0.5 ** 0.75, abs=1e-4)
    assert s["rouge-1"] == s["rouge-2"] == s["rouge-l"] == pytest.approx(100.0, abs=1e-4)
    assert s["gleu"] == s["distinct-1"] == s["distinct-2"] == 100.0


def test_longer_prediction_hand_checked():
    assert tokenize("孩子发烧了") == ["孩子", "发烧", "了"]
    s = sample_scores("孩子发烧了", "孩子发烧")
    assert s["bleu-1"] == pytest.approx(100 * 2 / 3, abs=1e-4)
    assert s["bleu-2"] == pytest.approx(100 * math.sqrt(2 / 3 * 1 / 2), abs=1e-4)
    assert s["rouge-1"] == pytest.approx(80.0, abs=1e-4)        # p = 2/3, r = 1
    assert s["rouge-2"] == pytest.approx(100 * 2 / 3, abs=1e-4)  # p = 1/2, r = 1
    assert s["gleu"] == pytest.approx(50.0)                      # 3 matches of max(6, 3)
    assert s["distinct-1"] == s["distinct-2"] == 100.0


def test_english_keeps_jieba_whitespace_tokens():
    assert tokenize("the cat sat") == ["the", " ", "cat", " ", "sat"]
    s = sample_scores("the cat sat", "the cat")
    assert s["bleu-1"] == pytest.approx(100 * 3 / 5, abs=1e-4)
    assert s["rouge-1"] == pytest.approx(100 * 2 * (2 / 3) / (2 / 3 + 1), abs=1e-4)
    assert s["distinct-1"] == pytest.approx(80.0)  # the two spaces are one type


def test_distinct_counts_repeated_tokens():
    s = sample_scores("好 好 好", "好")
    # tokens: 好, ' ', 好, ' ', 好 → 2 types of 5; bigrams (好,' '), (' ',好) → 2 of 4
    assert s["distinct-1"] == pytest.approx(40.0)
    assert s["distinct-2"] == pytest.approx(50.0)


# ---- edge cases ---------------------------------------------------------------------------
@pytest.mark.parametrize("pred,ref", [("", ""), ("", "孩子发烧"), ("孩子发烧", "")])
def test_empty_side_scores_zero_on_overlap_metrics(pred, ref):
    s = sample_scores(pred, ref)
    for key in ("rouge-1", "rouge-2", "rouge-l", "bleu-1", "bleu-4", "gleu"):
        assert s[key] == 0.0
    assert s["distinct-1"] == (0.0 if not pred else 100.0)


def test_one_token_and_punctuation_only():
    one = sample_scores("发烧", "发烧")
    assert one["rouge-1"] == pytest.approx(100.0, abs=1e-4) and one["rouge-2"] == 0.0
    assert one["distinct-2"] == 0.0  # no bigram in a one-token answer
    dots = sample_scores("...", "...")   # the rouge package raises here: scored as empty
    assert dots["rouge-l"] == 0.0 and dots["bleu-1"] == 100.0
    assert sample_scores(".", "孩子发烧")["rouge-1"] == 0.0
    assert sample_scores("孩子发烧", ".")["rouge-2"] == 0.0


def test_long_answers_do_not_hit_the_recursion_limit():
    text = "孩子发烧三天，体温三十九度，精神差，建议尽快就医" * 40  # > 1000 LCS frames
    s = sample_scores(text, text[::-1])
    assert 0.0 <= s["rouge-l"] <= 100.0


def test_corpus_scores_is_the_mean_and_checks_counts():
    pairs = [("孩子发烧", "孩子发烧"), ("", "孩子发烧")]
    total = corpus_scores([p for p, _ in pairs], [r for _, r in pairs])
    assert set(total) == set(METRICS)
    assert total["bleu-1"] == pytest.approx(50.0)
    with pytest.raises(InputError):
        corpus_scores(["a", "b"], ["a"])


# ---- agreement with the independent implementation -----------------------------------------
_PIECES = ["孩子", "发烧", "咳嗽", "三天", "体温", "38.5", "度", "。", "，", "？", "建议", "就医",
           "布洛芬", "mg", " ", "the", "child", "fever", ".", "...", "!", "口服", "每次", "10", "ml"]
_texts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pred=_texts, ref=_texts)
def test_agrees_with_independent_implementation(pred, ref):
    ours, theirs = sample_scores(pred, ref), ref_scores(pred, ref)
    for key in METRICS:
        assert ours[key] == pytest.approx(theirs[key], abs=0.01), key


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Z")),
               max_size=60), st.text(max_size=60))
def test_agrees_on_arbitrary_unicode(pred, ref):
    ours, theirs = sample_scores(pred, ref), ref_scores(pred, ref)
    for key in METRICS:
        assert ours[key] == pytest.approx(theirs[key], abs=0.01), key


def test_segmentation_ignores_words_added_to_the_global_jieba_dictionary():
    import jieba

    before = tokenize("手足口病由肠道病毒引起")
    assert before == list(jieba.cut("手足口病由肠道病毒引起"))
    jieba.add_word("由肠道病毒")
    try:
        assert tokenize("手足口病由肠道病毒引起") == before
    finally:
        jieba.del_word("由肠道病毒")
