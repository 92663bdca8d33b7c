"""The recipe's loss functions on hand-computed tensors, and DFPO against TRL's DPOTrainer."""

from __future__ import annotations

import math

import pytest
import torch

from train.losses import (
    causal_lm_loss, chosen_token_nll, dfpo_loss, dpo_loss, load_balancing_loss, sequence_logps, token_logps,
)

PC = torch.tensor([-10.0, -4.0])
PR = torch.tensor([-12.0, -3.0])
RC = torch.tensor([-11.0, -4.5])
RR = torch.tensor([-11.0, -3.5])


def test_dpo_loss_by_hand():
    # margins: (-10+11) - (-12+11) = 2 ; (-4+4.5) - (-3+3.5) = 0
    beta = 0.5
    expected = (math.log1p(math.exp(-beta * 2)) + math.log(2)) / 2
    assert dpo_loss(PC, PR, RC, RR, beta).item() == pytest.approx(expected, rel=1e-6)


def test_dfpo_equals_dpo_at_mu_zero():
    nll = torch.tensor([2.0, 3.0])
    assert torch.equal(dfpo_loss(PC, PR, RC, RR, nll, beta=0.1, mu=0.0), dpo_loss(PC, PR, RC, RR, 0.1))


@pytest.mark.parametrize("mu", [0.05, 1.0, 2.5])
def test_dfpo_adds_exactly_mu_times_mean_nll(mu):
    nll = torch.tensor([2.0, 3.0])
    difference = dfpo_loss(PC, PR, RC, RR, nll, beta=0.1, mu=mu) - dpo_loss(PC, PR, RC, RR, 0.1)
    assert difference.item() == pytest.approx(mu * 2.5, rel=1e-6)


def test_dfpo_gradient_pushes_chosen_up_and_rejected_down():
    pc, pr = PC.clone().requires_grad_(), PR.clone().requires_grad_()
    dfpo_loss(pc, pr, RC, RR, torch.tensor([1.0, 1.0]), beta=0.1, mu=1.0).backward()
    assert (pc.grad < 0).all() and (pr.grad > 0).all()


def _uniform_logits(batch: int, length: int, vocab: int) -> torch.Tensor:
    return torch.zeros(batch, length, vocab)


def test_token_and_sequence_logps_by_hand():
    logits = _uniform_logits(1, 4, 4)  # every token has probability 1/4
    labels = torch.tensor([[-100, 2, 3, -100]])  # two targets (positions 1 and 2)
    logps, mask = token_logps(logits, labels)
    assert mask.tolist() == [[True, True, False]]
    assert sequence_logps(logits, labels).item() == pytest.approx(2 * math.log(0.25))
    assert causal_lm_loss(logits, labels).item() == pytest.approx(math.log(4))


def test_causal_lm_loss_matches_cross_entropy():
    torch.manual_seed(0)
    logits, labels = torch.randn(2, 6, 11), torch.randint(0, 11, (2, 6))
    labels[0, :3] = -100
    expected = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 11), labels[:, 1:].reshape(-1))
    assert causal_lm_loss(logits, labels).item() == pytest.approx(expected.item(), rel=1e-5)


def test_chosen_token_nll_is_a_token_mean():
    logps = torch.tensor([[-1.0, -2.0, 0.0], [-3.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    assert chosen_token_nll(logps, mask).item() == pytest.approx(2.0)


def test_load_balancing_loss_uniform_is_one_and_collapse_is_larger():
    uniform = torch.full((10, 3), 1 / 3)
    collapsed = torch.tensor([[0.9, 0.05, 0.05]] * 10)
    assert load_balancing_loss(uniform).item() == pytest.approx(1.0)
    assert load_balancing_loss(collapsed).item() == pytest.approx(3 * 0.9)
    mask = torch.tensor([True] * 5 + [False] * 5)
    assert load_balancing_loss(collapsed, mask).item() == pytest.approx(2.7)


def test_dfpo_agrees_with_trl_on_the_same_batch(train_model_dir, corpus_dir, tmp_path):
    """TRL's ["sigmoid", "sft"] loss with weights [1, μ] is our dfpo_loss, number for number."""
    from train.common import load_causal_lm
    from train.config import DFPOConfig, TrainingConfig
    from train.dfpo import build_trainer

    beta, mu = 0.3, 0.7
    ref_dir = tmp_path / "ref"
    ref = load_causal_lm(train_model_dir)
    with torch.no_grad():
        for param in ref.parameters():
            param.add_(0.05 * torch.randn_like(param))
    ref.save_pretrained(str(ref_dir))
    cfg = DFPOConfig(model=str(train_model_dir), ref_model=str(ref_dir), data=str(corpus_dir / "dfpo.jsonl"),
                     output_dir=str(tmp_path / "out"), beta=beta, mu=mu, max_length=128,
                     training=TrainingConfig(per_device_train_batch_size=3, max_steps=1))
    trainer = build_trainer(cfg)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(3)])
    with torch.no_grad():
        trl_loss = trainer.compute_loss(trainer.model, dict(batch)).item()
        labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
        forward = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        policy_tok, mask = token_logps(trainer.model(**forward).logits, labels)
        ref_tok, _ = token_logps(trainer.ref_model(**forward).logits, labels)
    pc, pr = policy_tok.sum(-1).chunk(2)
    rc, rr = ref_tok.sum(-1).chunk(2)
    nll = chosen_token_nll(policy_tok.chunk(2)[0], mask.chunk(2)[0])
    ours = dfpo_loss(pc, pr, rc, rr, nll, beta=beta, mu=mu).item()
    assert abs(pc - rc).sum() > 0  # the reference really differs, so the DPO term is exercised
    assert ours == pytest.approx(trl_loss, rel=1e-4, abs=1e-5)
