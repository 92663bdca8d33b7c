"""The recipe's losses as short pure functions on tensors (no model, no trainer).

- `token_logps` / `sequence_logps`: per-token and summed log-probabilities of the labels.
- `causal_lm_loss`: mean next-token NLL over target tokens (CPT: every token; SFT: assistant tokens).
- `dpo_loss`: the sigmoid DPO loss on summed log-probabilities.
- `dfpo_loss`: PediatricsGPT's DFPO = DPO + μ·Φ, Φ the per-token NLL of the preferred answer.
- `load_balancing_loss`: optional balance term for the MoE-LoRA router.

The DFPO stage trains with TRL's `DPOTrainer(loss_type=["sigmoid", "sft"], loss_weights=[1, μ])`;
the tests check that TRL's loss equals `dfpo_loss` on the same batch, so this file is the
specification of what is optimised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def token_logps(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX):
    """Log-prob of each next-token label.

    logits: [B, T, V] (position t predicts token t+1); labels: [B, T] with `ignore_index` where no
    loss is wanted. Returns (logps [B, T-1], mask [B, T-1] bool); masked positions hold 0.
    """
    logits, labels = logits[:, :-1].float(), labels[:, 1:]
    mask = labels != ignore_index
    safe = labels.masked_fill(~mask, 0)
    logps = torch.gather(logits.log_softmax(-1), 2, safe.unsqueeze(-1)).squeeze(-1)
    return logps * mask, mask


def sequence_logps(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX):
    """Summed log-prob of each sequence's target tokens: [B]."""
    logps, _ = token_logps(logits, labels, ignore_index)
    return logps.sum(-1)


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX):
    """Mean NLL over all target tokens of the batch: L = −(1/N) Σ log p(t_i | t_<i)."""
    logps, mask = token_logps(logits, labels, ignore_index)
    return -(logps.sum() / mask.sum().clamp(min=1))


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """−mean log σ(β·[(π_c − ref_c) − (π_r − ref_r)]) over the batch; inputs are summed logps [B]."""
    margin = (policy_chosen_logps - ref_chosen_logps) - (policy_rejected_logps - ref_rejected_logps)
    return -F.logsigmoid(beta * margin).mean()


def dfpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    chosen_nll: torch.Tensor,
    beta: float,
    mu: float,
) -> torch.Tensor:
    """DFPO: `dpo_loss(...) + mu * chosen_nll.mean()`.

    chosen_nll is the per-token NLL of the preferred answer: either one value per pair [B] or the
    batch's token-level mean as a scalar (what TRL's "sft" term computes, see `chosen_token_nll`).
    """
    dpo = dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)
    return dpo + mu * chosen_nll.mean()


def chosen_token_nll(chosen_token_logps: torch.Tensor, chosen_mask: torch.Tensor) -> torch.Tensor:
    """Token-level mean NLL over all chosen-answer tokens of the batch (scalar)."""
    return -chosen_token_logps[chosen_mask.bool()].mean()


def preference_rewards(policy_logps: torch.Tensor, ref_logps: torch.Tensor, beta: float) -> torch.Tensor:
    """Implicit DPO reward β·(log π − log π_ref) per sequence (for logging)."""
    return beta * (policy_logps - ref_logps).detach()


def load_balancing_loss(gates: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Switch-style balance term for dense routers: T · Σ_j f_j · P_j.

    gates: [..., T] router probabilities; mask: [...] bool of tokens that count (None = all).
    f_j = share of tokens whose largest gate is j (no gradient), P_j = mean gate j. Equals 1 for a
    perfectly uniform router and grows as routing collapses onto few experts.
    """
    num_experts = gates.shape[-1]
    flat = gates.reshape(-1, num_experts)
    if mask is not None:
        flat = flat[mask.reshape(-1).bool()]
    if flat.numel() == 0:
        return gates.sum() * 0.0
    share = F.one_hot(flat.argmax(-1), num_experts).float().mean(0)
    return num_experts * (share * flat.float().mean(0)).sum()
