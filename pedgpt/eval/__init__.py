"""Evaluation: the paper's metrics, the three pediatric tasks, safety metrics, a pairwise judge,
reports and clinician feedback.

    pedgpt eval score --pred pred.jsonl --ref ref.jsonl --json
    pedgpt eval run --model M --tasks kqa,diag,treat,safety --out runs/base --limit 20

Modules: `metrics` (ROUGE/BLEU/GLEU/Distinct as the paper computes them), `textfiles` (answer
files), `safety_eval` (escalation, dosing, refusal, language, repetition), `tasks` (held-out
splits), `runner` (resumable generation), `judge` (pairwise win/tie/loss), `report` and
`compare` (Markdown + PNG charts), `feedback` (clinician thumbs → DFPO pairs).
"""

from pedgpt.eval.metrics import METRICS, corpus_scores, sample_scores

__all__ = ["METRICS", "corpus_scores", "sample_scores"]
