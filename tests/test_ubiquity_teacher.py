"""The learned foreground's ``ubiquity`` teacher (``model.learned_teacher: ubiquity``): a clip is
foreground as far as few training routines hold a clip like it."""

from __future__ import annotations

import pytest
import torch

from longaqa.cli import main
from longaqa.config import load_config
from longaqa.data.generators import write_generated
from longaqa.models import build_model
from longaqa.models.background import ubiquity_bank, ubiquity_rule
from longaqa.sheets import RG_SHEET
from tests.conftest import TINY


def routines(n: int, dim: int = 24, seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``n`` routines (drawn with ``seed``) of one sport, 12 clips each: connecting movement of two
    kinds every routine holds (clips 0-2, 6-8 and 11), and elements each of a kind of its own (clips
    3-5 and 9-10), a routine's style added to all; and which clips are elements."""
    walk, run = torch.randn(2, dim, generator=torch.Generator().manual_seed(1234)) * 3  # the sport's
    gen = torch.Generator().manual_seed(seed)
    videos, elements = [], []
    for _ in range(n):
        x = torch.randn(12, dim, generator=gen) * 0.3 + torch.randn(dim, generator=gen)  # noise and style
        x[[0, 1, 2, 11]] += walk
        x[[6, 7, 8]] += run
        x[3:6] += torch.randn(dim, generator=gen) * 3  # two elements, kinds of their own
        x[9:11] += torch.randn(dim, generator=gen) * 3
        on = torch.zeros(12, dtype=torch.bool)
        on[[3, 4, 5, 9, 10]] = True
        videos.append(x)
        elements.append(on)
    return videos, elements


def test_connecting_movement_every_routine_holds_is_background_and_elements_foreground():
    videos, elements = routines(30)
    bank = ubiquity_bank(videos)
    assert bank.clips.shape == (360, 64) and bank.videos == 30 and bank.threshold > 0
    new, on = routines(4, seed=1)  # routines the bank has not seen, of the same sport
    fg = ubiquity_rule(torch.stack(new), torch.ones(4, 12, dtype=torch.bool), bank)
    on = torch.stack(on)
    assert fg[on].min() > 0.9 and fg[on].min() > fg[~on].max() and fg[~on].mean() < 0.6
    padded = ubiquity_rule(torch.stack(new), torch.arange(12)[None].expand(4, 12) < 10, bank)
    assert (padded[:, 10:] == 0).all()  # nothing on padding


def test_the_ubiquity_teacher_needs_the_training_videos_in_training_only():
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_window=2", "model.local_hidden=8",
                             "model.background_rule=learned", "model.learned_teacher=ubiquity"])
    torch.manual_seed(0)
    model = build_model(cfg.model, RG_SHEET, 25.0)
    videos, _ = routines(8, dim=cfg.model.input_dim)
    x, lengths = torch.stack(videos[:3]), torch.tensor([12, 11, 10])
    with pytest.raises(RuntimeError, match="ubiquity needs the training videos"):
        model.train()(x, lengths)
    with torch.no_grad():  # outside training the network alone gives the foreground
        assert model.eval()(x, lengths).clip_foreground.shape == (3, 12)

    class Sample:
        def __init__(self, features):
            self.features = features

    model.head.set_training_videos([Sample(v) for v in videos])
    out = model.train()(x, lengths)
    assert out.background_fit.shape == (3,) and torch.isfinite(out.background_fit).all()
    out.background_fit.sum().backward()
    assert model.head.local.fg_net[0].weight.grad.abs().sum() > 0
    assert not any("bank" in k for k in model.state_dict())  # the bank is not saved with the weights


def test_training_with_the_ubiquity_teacher_end_to_end(tmp_path):
    data = write_generated("rg_additive", tmp_path / "data", num_train=16, num_test=8, feature_dim=32,
                           min_clips=10, max_clips=12)
    args = ["train", "--data-root", str(data), "--out", str(tmp_path / "run")]
    for item in [*TINY, "model.head=additive", "model.local_hidden=8", "model.background_rule=learned",
                 "model.learned_teacher=ubiquity"]:
        args += ["--set", item]
    assert main(args) == 0
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_the_consensus_teacher_is_the_product_of_the_adaptive_and_ubiquity_rules(monkeypatch):
    """``learned_teacher: consensus``: background where either rule says so (their foregrounds' product)."""
    from longaqa.models import additive as additive_module

    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_window=2", "model.local_hidden=8",
                             "model.background_rule=learned", "model.learned_teacher=consensus"])
    torch.manual_seed(0)
    model = build_model(cfg.model, RG_SHEET, 25.0).train()
    videos, _ = routines(8, dim=cfg.model.input_dim)

    class Sample:
        def __init__(self, features):
            self.features = features

    model.head.set_training_videos([Sample(v) for v in videos])
    seen = {}
    fit = torch.nn.functional.binary_cross_entropy_with_logits

    def spy(logit, teacher, **kwargs):
        seen["teacher"] = teacher
        return fit(logit, teacher, **kwargs)

    monkeypatch.setattr(additive_module.F, "binary_cross_entropy_with_logits", spy)
    x, lengths = torch.stack(videos[:3]), torch.tensor([12, 12, 12])
    model(x, lengths)
    valid = torch.ones(3, 12, dtype=torch.bool)
    memory = model.input_proj(x)
    expected = ubiquity_rule(x, valid, model.head.local.bank) * additive_module.adaptive_rule(memory, valid, 0.25)
    torch.testing.assert_close(seen["teacher"], expected)
