"""The additive head's centred clips (``model.local_centre``), its hiding term (``loss.lambda_hide``) and
the warning for sub-scores its sheet cannot reach."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from longaqa.config import DataConfig, load_config
from longaqa.data.dataset import VideoSample
from longaqa.data.subscores import load_subscores
from longaqa.errors import LongAQAError
from longaqa.losses import Criterion
from longaqa.models import build_model, model_from_config
from longaqa.models.additive import weighted_median
from longaqa.sheets import RG_SHEET
from longaqa.training import sheet_range_warnings
from tests.conftest import SHARED, TINY

RG_LABELS = SHARED / "data" / "rg_labels"
STRICT = ["model.local_background=false"]


def additive(*overrides: str):
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_window=2", "model.local_hidden=8",
                             *overrides])
    torch.manual_seed(0)
    return build_model(cfg.model, RG_SHEET, 25.0).eval()


@pytest.mark.parametrize("prior", [STRICT, []], ids=["strict", "background prior"])
def test_a_shift_of_every_clip_drops_out_with_a_centre(prior):
    """What shifts every clip of a routine alike (a performer's build, the venue) moves no part once the
    clips are centred on their video; without a centre it does."""
    x, lengths = torch.randn(2, 14, 32), torch.tensor([14, 11])
    shifted = x + 2.0 * torch.randn(32)
    with torch.no_grad():
        for centre in ("mean", "background"):
            if centre == "background" and prior:
                continue  # without the prior every clip is foreground: no background to centre on
            model = additive(f"model.local_centre={centre}", *prior)
            torch.testing.assert_close(model(shifted, lengths).clip_parts, model(x, lengths).clip_parts,
                                       rtol=1e-4, atol=1e-6)
        plain = additive(*prior)
        assert not torch.allclose(plain(shifted, lengths).clip_parts, plain(x, lengths).clip_parts, atol=1e-4)
        if not prior:  # "both" reads the clip as given beside it centred: a shift that all clips share shows
            both = additive("model.local_centre=both")
            assert both.head.local.embed_raw is not None and plain.head.local.embed_raw is None
            assert not torch.allclose(both(shifted, lengths).clip_parts, both(x, lengths).clip_parts, atol=1e-4)


def test_the_background_centre_ignores_the_clips_that_earn():
    """``background``: the centre is the mean of the background clips (weights 1 - foreground), so a
    clip with foreground 1 can change without moving any other clip's centred features; with ``mean``
    it moves them all."""
    local = additive("model.local_centre=background").head.local
    clips, valid = torch.randn(1, 10, 16), torch.ones(1, 10, dtype=torch.bool)
    foreground = torch.tensor([[0.0, 0.2, 1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0, 0.0]])
    changed = clips.clone()
    changed[0, 4] += 5.0
    a, b = local.centred(clips, valid, foreground), local.centred(changed, valid, foreground)
    others = torch.arange(10) != 4
    assert torch.equal(a[0, others], b[0, others])
    weight = 1 - foreground[0]
    torch.testing.assert_close(a[0, 0], clips[0, 0] - (clips[0] * weight[:, None]).sum(0) / weight.sum())
    local.centre = "mean"
    moved = local.centred(changed, valid, foreground) - local.centred(clips, valid, foreground)
    torch.testing.assert_close(moved[0, others], torch.full((9, 16), -0.5))


def test_weighted_median_is_the_median_of_the_weighted_clips():
    """Per dimension, the lower weighted median; zero weights leave a clip out, all-zero weights give
    the plain median."""
    x = torch.randn(3, 7, 5)
    torch.testing.assert_close(weighted_median(x, torch.ones(3, 7)), x.sort(1).values[:, 3])
    some = torch.ones(3, 7)
    some[:, 5:] = 0
    torch.testing.assert_close(weighted_median(x, some), x[:, :5].sort(1).values[:, 2])
    torch.testing.assert_close(weighted_median(x, torch.zeros(3, 7)), x.sort(1).values[:, 3])
    heavy = torch.tensor([[1.0, 1.0, 5.0, 1.0]])  # one clip outweighs the rest
    values = torch.tensor([[[0.0], [1.0], [9.0], [2.0]]])
    assert weighted_median(values, heavy).item() == 9.0


def test_a_median_centre_barely_moves_when_one_clip_is_hidden():
    """``local_centre_statistic: median``: hiding one background clip moves the centre at most to a
    neighbouring value, where the mean moves by 1/n of the clip's offset; a shift of every clip still
    drops out."""
    x, lengths = torch.randn(1, 21, 32), torch.tensor([21])
    x[0, 3] += 50.0  # an outlier: its offset moves a mean centre far
    valid = torch.ones(1, 21, dtype=torch.bool)
    hidden = valid.clone()
    hidden[0, 3] = False
    moved = {}
    for statistic in ("mean", "median"):
        local = additive("model.local_centre=mean", f"model.local_centre_statistic={statistic}", *STRICT).head.local
        a, b = local.centred(x, valid, None), local.centred(x, hidden, None)
        moved[statistic] = (a[0, 0] - b[0, 0]).abs().max().item()
    assert moved["mean"] > 2.0 and moved["median"] < 0.6 * moved["mean"] / 2
    model = additive("model.local_centre=both", "model.local_centre_statistic=median")
    shifted = x + 2.0 * torch.randn(32)
    with torch.no_grad():
        plain = additive("model.local_centre=background", "model.local_centre_statistic=median", *STRICT)
        torch.testing.assert_close(plain(shifted, lengths).clip_parts, plain(x, lengths).clip_parts,
                                   rtol=1e-4, atol=1e-6)
        assert model.head.local.centre_statistic == "median" and torch.isfinite(model(x, lengths).pred).all()


def test_hiding_term_is_zero_when_parts_come_from_the_clip_alone_and_enters_the_loss():
    """``hide_leak``: how far hiding one clip moves the other clips' summed contribution. Window 0, no
    prior, no centre: parts come from each clip alone, so it is 0; with a window it is not."""
    x, lengths = torch.randn(4, 12, 32), torch.tensor([12, 12, 9, 7])
    alone = additive("model.local_window=0", *STRICT).train()
    alone.head.hide_check = True
    torch.manual_seed(1)
    assert alone(x, lengths).hide_leak.abs().max() < 1e-6
    windowed = additive(*STRICT).train()
    torch.nn.init.normal_(windowed.head.local.gate.weight)  # gates start flat: give the window a say
    windowed.head.hide_check = True
    out = windowed(x, lengths)
    assert out.hide_leak.shape == (4,) and out.hide_leak.abs().max() > 1e-5
    cfg = load_config(None, [*TINY, "model.head=additive", "loss.lambda_hide=3"])
    terms = Criterion(cfg.loss, 16)(out, torch.rand(4), {k: v.detach() for k, v in out.subscores.items()})
    torch.testing.assert_close(terms["hide"], out.hide_leak.square().mean())
    expected = terms["mse_weighted"] + terms["attention_weighted"] + terms["subscores_weighted"] + 3 * terms["hide"]
    torch.testing.assert_close(terms["loss"], expected)
    assert model_from_config(cfg).head.hide_check  # the config turns the measurement on
    assert not model_from_config(load_config(None, [*TINY, "model.head=additive"])).head.hide_check
    with torch.no_grad():
        assert windowed.eval()(x, lengths).hide_leak is None  # never outside training


def test_centre_and_hiding_options_are_checked():
    with pytest.raises(LongAQAError, match="local_centre"):
        load_config(None, [*TINY, "model.head=additive", "model.local_centre=median"])
    with pytest.raises(LongAQAError, match="local_centre_statistic"):
        load_config(None, [*TINY, "model.head=additive", "model.local_centre=mean",
                           "model.local_centre_statistic=mode"])
    with pytest.raises(LongAQAError, match="loss.lambda_hide must be >= 0"):
        load_config(None, [*TINY, "model.head=additive", "loss.lambda_hide=-1"])
    with pytest.raises(LongAQAError, match="loss.lambda_hide needs model.head=additive"):
        load_config(None, [*TINY, "model.head=weight_score", "loss.lambda_hide=1"])


def test_sheet_reach():
    assert RG_SHEET.reachable("execution") == (-math.inf, 10.0)  # 10 - non-negative deductions
    assert RG_SHEET.reachable("difficulty") == (0.0, math.inf)
    assert RG_SHEET.reachable("total") == (-math.inf, math.inf)


def test_subscores_the_sheet_cannot_reach_are_warned_about():
    """An RG-layout release whose E column is not out of 10 (e.g. acrobatics' 2 x E + A): the rg sheet's
    execution is 10 minus non-negative deductions, so the head cannot fit it; one warning says so."""
    cfg = load_config(None, [*TINY, "model.head=additive", "data.layout=rg", "data.score_divisor=25"])
    divided = [{"difficulty": 2.0 / 25, "execution": e / 25, "penalty": 0.0} for e in (24.5, 9.5, 26.0)]
    train = [VideoSample(f"v{i}", torch.zeros(3, 32), 0.0, s) for i, s in enumerate(divided)]
    (warning,) = sheet_range_warnings(cfg, train)
    assert warning.startswith("2 of 3 training videos have execution above 10 (e.g. 24.50)")
    assert "data.subscores=holistic" in warning


@pytest.mark.skipif(not RG_LABELS.is_dir(), reason="shared RG label files absent")
def test_the_real_rg_labels_are_all_within_the_sheet():
    cfg = load_config(None, [*TINY, "model.head=additive", "data.layout=rg", "data.score_divisor=25"])
    for name in ("Ball", "Clubs", "Hoop", "Ribbon"):
        data = DataConfig(layout="rg", class_name=name)
        subs = load_subscores(data, RG_LABELS, "train", RG_SHEET)
        train = [VideoSample(v, torch.zeros(1, 32), 0.0, {k: x / 25 for k, x in s.items()}) for v, s in subs.items()]
        assert len(train) == 200 and sheet_range_warnings(cfg, train) == []


HEADS = {  # as bench/explanation_truth.py writes them into the report's table
    "paper": ["model.head=weight_score"],
    "additive": ["model.head=additive", "model.local_hidden=64"],
    "additive_centred_both": ["model.head=additive", "model.local_hidden=64", "model.local_centre=both"],
    "additive_window": ["model.head=additive", "model.local_hidden=64", "model.local_background=false"],
}


def test_the_report_picks_the_measured_head_that_matches_the_run():
    from longaqa.interpret.report import measured_head

    def run(*overrides):
        return load_config(None, [*TINY, *overrides])

    assert measured_head(HEADS, run("model.head=additive")) == ("additive", [])
    assert measured_head(HEADS, run("model.head=additive", "model.local_centre=both")) == ("additive_centred_both", [])
    assert measured_head(HEADS, run("model.head=additive", "model.local_background=false")) == ("additive_window", [])
    assert measured_head(HEADS, run("model.head=weight_score")) == ("paper", [])
    # an option no measured head sets: the nearest head, and what the run sets otherwise
    assert measured_head(HEADS, run("model.head=additive", "model.local_centre=mean")) == (
        "additive", ["model.local_centre=mean"])
    assert measured_head(HEADS, run("model.head=single_score")) == (None, [])


def test_every_shipped_additive_config_has_a_measured_head_on_every_generator():
    """``report`` shows a shipped additive config the figures of a bench head with exactly its options, and
    that head was measured on every generator of ``measured_agreement.json``."""
    from longaqa.interpret.report import MEASURED_FILE, measured_head

    measured = json.loads(MEASURED_FILE.read_text())
    configs = Path(__file__).resolve().parents[1] / "configs"
    shipped = [*sorted((configs / "rg").glob("*_additive.yaml")), configs / "fisv" / "additive.yaml"]
    assert len(shipped) == 5
    for path in shipped:
        head, unmeasured = measured_head(measured["heads"], load_config(path))
        assert head is not None and unmeasured == [], (path, head, unmeasured)
        missing = [kind for kind, row in measured["generators"].items() if f"{head}_rho_contribution" not in row]
        assert missing == [], (path, head, missing)


def test_a_report_of_a_run_says_when_its_configuration_was_not_measured(tmp_path):
    from longaqa.config import save_config
    from longaqa.interpret.explanation import explain_video
    from longaqa.interpret.report import MEASURED_FILE, write_report

    measured = json.loads(MEASURED_FILE.read_text())
    assert set(HEADS) <= set(measured["heads"]) and measured["heads"]["additive"] == HEADS["additive"]
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8", "model.local_centre=mean"])
    model = model_from_config(cfg).eval()
    expl = explain_video(model, cfg, "v", np.random.default_rng(0).normal(size=(16, 32)).astype(np.float32), 12.0)
    save_config(cfg, tmp_path / "config.yaml")
    page = write_report(tmp_path, [expl], tmp_path / "r.html").read_text()
    assert "This run sets model.local_centre=mean, which no measured head does" in page
    save_config(load_config(None, [*TINY, "model.head=additive", "model.local_centre=both"]), tmp_path / "config.yaml")
    page = write_report(tmp_path, [expl], tmp_path / "r.html").read_text()
    assert "which no measured head does" not in page
    assert "how far to trust these explanations (additive_centred_both head)" in page


def test_the_learned_foreground_is_fitted_to_the_rule_alone_and_only_where_the_rule_wins():
    """``background_rule: learned``: a per-clip network of the mean-centred clip gives the foreground;
    the parts get no gradient through it, its only training signal is its fit to the densest rule
    (``background_fit``), weighted 0 on a video whose rule barely wins (two tied kinds)."""
    model = additive("model.background_rule=learned").train()
    local = model.head.local
    g = torch.Generator().manual_seed(0)
    clear = torch.randn(32, generator=g) + 0.1 * torch.randn(16, 32, generator=g)
    clear[[4, 11]] += 3.0 * torch.randn(2, 32, generator=g)  # one background kind, two standouts
    a, b = torch.randn(32, generator=g), torch.randn(32, generator=g)
    tied = torch.stack([a if t % 2 else b for t in range(16)]) + 0.05 * torch.randn(16, 32, generator=g)
    x, lengths = torch.stack([clear, tied]), torch.tensor([16, 16])
    out = model(x, lengths)
    assert out.background_fit.shape == (2,) and out.background_fit[0] > 0 and out.background_fit[1] == 0
    fg = out.clip_foreground
    assert ((fg >= 0) & (fg <= 1)).all()
    out.pred.sum().backward(retain_graph=True)
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in local.fg_net.parameters())
    out.background_fit.sum().backward()
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in local.fg_net.parameters())
    terms = Criterion(load_config(None, [*TINY, "model.head=additive"]).loss, 16)(out, torch.rand(2))
    torch.testing.assert_close(terms["background_fit"], out.background_fit.mean())
    with torch.no_grad():  # what shifts every clip alike does not move it
        model.eval()
        torch.testing.assert_close(model(x + 2.0 * torch.randn(32), lengths).clip_foreground,
                                   model(x, lengths).clip_foreground, rtol=1e-4, atol=1e-5)
        assert model(x, lengths).background_fit is None  # fitted in training only
    assert additive("model.background_rule=learned", *STRICT).head.local.fg_net is None  # no prior: no rule


def expected_fit(model, x: torch.Tensor, lengths: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The learned foreground's fit per video (B,): its network's binary cross-entropy with ``target`` on
    the clips minus their video's mean, averaged over the valid clips."""
    import torch.nn.functional as F

    clips, valid = model.input_proj(x), torch.arange(x.shape[1])[None] < lengths[:, None]
    logit = model.head.local.fg_net(clips - (clips * valid[..., None]).sum(1, keepdim=True) / lengths[:, None, None]
                                    ).squeeze(-1)
    return (F.binary_cross_entropy_with_logits(logit, target, reduction="none") * valid).sum(1) / lengths


def adaptive_teacher(model, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The adaptive rule's foreground (B, T) and how sure the densest rule is (B, 1), on the margin ramp."""
    from longaqa.models.background import CONFIDENCE, adaptive_rule, background_rule

    clips, share = model.input_proj(x), model.head.local.background_share
    sure = ((background_rule(clips, valid, share)[1] - CONFIDENCE[0]) / (CONFIDENCE[1] - CONFIDENCE[0])).clamp(0, 1)
    return adaptive_rule(clips, valid, share) * valid, sure[:, None]


def test_the_adaptive_teacher_teaches_on_every_video_with_the_adaptive_rule():
    """``model.learned_teacher: adaptive``: the network is fitted on every video (a tied video too, which
    the densest teacher leaves out) to :func:`longaqa.models.background.adaptive_rule`."""
    from longaqa.models.background import adaptive_rule

    model = additive("model.background_rule=learned", "model.learned_teacher=adaptive").train()
    local = model.head.local
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(32, generator=g), torch.randn(32, generator=g)
    tied = torch.stack([a if t % 2 else b for t in range(16)]) + 0.05 * torch.randn(16, 32, generator=g)
    x, lengths = torch.stack([tied, torch.randn(16, 32, generator=g)]), torch.tensor([16, 12])
    out = model(x, lengths)
    assert (out.background_fit > 0).all()
    valid = torch.arange(16)[None] < lengths[:, None]
    target = adaptive_rule(model.input_proj(x), valid, local.background_share)
    torch.testing.assert_close(out.background_fit, expected_fit(model, x, lengths, target), rtol=1e-4, atol=1e-5)


def test_the_recurrent_teacher_teaches_on_every_video_with_the_recurrent_rule():
    """``model.learned_teacher: recurrent``: the network is fitted on every video to
    :func:`longaqa.models.background.recurrent_rule`."""
    from longaqa.models.background import recurrent_rule

    model = additive("model.background_rule=learned", "model.learned_teacher=recurrent").train()
    x, lengths, valid = forcing_case()
    out = model(x, lengths)
    assert (out.background_fit > 0).all()
    target = recurrent_rule(model.input_proj(x), valid)
    torch.testing.assert_close(out.background_fit, expected_fit(model, x, lengths, target), rtol=1e-4, atol=1e-5)


def test_teacher_forcing_trains_the_parts_beside_the_teachers_foreground_and_infers_with_the_networks():
    """``model.learned_teacher_forcing``: in training the parts are multiplied by the teacher's foreground
    (here the adaptive rule) where the densest rule wins clearly, by the network's where it does not
    (blended on the margin ramp), at inference by the network's; without it, by the network's in both."""

    forced = additive("model.background_rule=learned", "model.learned_teacher=adaptive",
                      "model.learned_teacher_forcing=true")
    x, lengths, valid = forcing_case()
    local = forced.head.local
    with torch.no_grad():
        network = local.foreground(forced.input_proj(x), valid)
    out = forced.train()(x, lengths)
    teacher, sure = adaptive_teacher(forced, x, valid)
    assert sure[0] == 1 and sure[1] < 1  # a clear video and a noisy one
    torch.testing.assert_close(out.clip_foreground, sure * teacher + (1 - sure) * network)
    assert out.background_fit is not None  # the network is still fitted to it
    with torch.no_grad():
        forced.eval()
        torch.testing.assert_close(forced(x, lengths).clip_foreground, network)
    assert not torch.allclose(network, teacher, atol=1e-3)  # an untrained network: not the teacher
    plain = additive("model.background_rule=learned", "model.learned_teacher=adaptive").train()
    plain.load_state_dict(forced.state_dict())
    fg = plain(x, lengths).clip_foreground
    assert not torch.allclose(fg, teacher, atol=1e-3)


def forcing_case():
    """A clear video (one background kind, two clips apart) and a noisy one, with their valid mask."""
    g = torch.Generator().manual_seed(0)
    clear = torch.randn(32, generator=g) + 0.1 * torch.randn(16, 32, generator=g)
    clear[[4, 11]] += 3.0 * torch.randn(2, 32, generator=g)
    x, lengths = torch.stack([clear, torch.randn(16, 32, generator=g)]), torch.tensor([16, 12])
    return x, lengths, torch.arange(16)[None] < lengths[:, None]


def test_teacher_forcing_fades_linearly_over_its_share_of_the_epochs():
    """``model.learned_teacher_forcing_until`` u: the forcing's strength is 1 - done / u (0 from u on),
    ``done`` the share of epochs behind, so the parts learn beside the teacher first and beside the
    network's foreground at the end; 0 keeps full strength throughout; out of [0, 1] is refused."""
    from longaqa.models import set_training_progress

    x, lengths, valid = forcing_case()
    base = ("model.background_rule=learned", "model.learned_teacher=adaptive", "model.learned_teacher_forcing=true")
    full = additive(*base).train()
    faded = additive(*base, "model.learned_teacher_forcing_until=0.5").train()
    with torch.no_grad():
        network = faded.eval().head.local.foreground(faded.input_proj(x), valid)
    faded.train()
    full_fg = full(x, lengths).clip_foreground
    for done, strength in ((0.0, 1.0), (0.25, 0.5), (0.5, 0.0), (0.9, 0.0)):
        set_training_progress(faded, done)
        set_training_progress(full, done)
        assert faded.head.local.forcing_strength == pytest.approx(strength)
        assert full.head.local.forcing_strength == 1.0
        torch.testing.assert_close(full(x, lengths).clip_foreground, full_fg)  # no fade: the same forcing
        expected = strength * full_fg + (1 - strength) * network
        torch.testing.assert_close(faded(x, lengths).clip_foreground, expected)  # the teacher's share, scaled
    assert faded(x, lengths).background_fit is not None  # the network is fitted even when nothing is forced
    for bad in ("-0.1", "1.5"):
        with pytest.raises(LongAQAError, match="learned_teacher_forcing_until"):
            load_config(None, [*TINY, f"model.learned_teacher_forcing_until={bad}"])


@pytest.mark.parametrize("clips", ["agree", "foreground"])
def test_teacher_forcing_can_force_only_some_clips(clips):
    """``model.learned_teacher_forcing_clips``: ``agree`` forces a clip only where the teacher and the
    network fall on the same side of 0.5, ``foreground`` only where both call it foreground; elsewhere
    the network's foreground holds."""

    x, lengths, valid = forcing_case()
    model = additive("model.background_rule=learned", "model.learned_teacher=adaptive",
                     "model.learned_teacher_forcing=true", f"model.learned_teacher_forcing_clips={clips}")
    local = model.head.local
    with torch.no_grad():  # a network that calls most clips foreground: it disagrees with the teacher somewhere
        local.fg_net[-1].bias.fill_(1.0)
        network = local.foreground(model.input_proj(x), valid)
    out = model.train()(x, lengths)
    teacher, sure = adaptive_teacher(model, x, valid)
    if clips == "agree":
        forced = ((teacher > 0.5) == (network > 0.5)) & valid
    else:
        forced = (teacher > 0.5) & (network > 0.5)
    assert forced[0].any() and (~forced[0] & valid[0]).any()  # the clear video has both kinds of clip
    share = sure * forced
    torch.testing.assert_close(out.clip_foreground, share * teacher + (1 - share) * network)
    torch.testing.assert_close(out.clip_foreground[0][~forced[0]], network[0][~forced[0]])
    assert not torch.allclose(out.clip_foreground[0][forced[0]], network[0][forced[0]])  # forced where chosen
    if clips == "foreground":  # a clip the network calls background is never pushed to 0 by the teacher
        background = (network[0] <= 0.5) & valid[0]
        torch.testing.assert_close(out.clip_foreground[0][background], network[0][background])


def test_training_sets_the_models_progress_before_every_epoch(routines, tmp_path, monkeypatch):
    """Lone and grouped training tell the model the share of epochs behind before each epoch (0, 1/E,
    ...), which the forcing's fade follows, so a resumed run follows the same schedule."""
    import longaqa.group.train as group_train
    import longaqa.training as training
    from longaqa.group.train import fit_group

    seen = []
    monkeypatch.setattr(training, "set_training_progress", lambda model, done: seen.append(done))
    monkeypatch.setattr(group_train, "set_training_progress", lambda model, done: seen.append(done))
    cfg = load_config(None, [*TINY, "train.epochs=4"])
    training.fit(cfg, tmp_path / "run", routines, quiet=True)
    assert seen == [0.0, 0.25, 0.5, 0.75]
    seen.clear()
    fit_group([cfg], [tmp_path / "group_run"], tmp_path / "group.json", [routines], quiet=True)
    assert seen == [0.0, 0.25, 0.5, 0.75]


def test_the_learned_foregrounds_dead_zone_maps_sure_clips_to_exactly_0_and_1():
    """``model.learned_foreground_dead_zone`` z: the network's output p becomes clamp((p - z) / (1 - 2z), 0, 1),
    so clips it is fairly sure of are exactly background (earn nothing) or foreground; 0 keeps p."""
    torch.manual_seed(0)
    plain = additive("model.background_rule=learned").eval()
    zoned = additive("model.background_rule=learned", "model.learned_foreground_dead_zone=0.2").eval()
    zoned.load_state_dict(plain.state_dict())
    with torch.no_grad():  # a last layer that spreads p over (0, 1)
        plain.head.local.fg_net[-1].weight.mul_(40.0)
        zoned.head.local.fg_net[-1].weight.copy_(plain.head.local.fg_net[-1].weight)
    x, lengths = torch.randn(2, 12, 32), torch.tensor([12, 9])
    with torch.no_grad():
        p = plain(x, lengths).clip_foreground
        fg = zoned(x, lengths).clip_foreground
    valid = torch.arange(12)[None] < lengths[:, None]
    torch.testing.assert_close(fg[valid], ((p[valid] - 0.2) / 0.6).clamp(0, 1))
    assert (fg[valid] == 0).any() and (fg[valid] == 1).any() and ((fg[valid] > 0) & (fg[valid] < 1)).any()
    assert (fg[~valid] == 0).all()
    with pytest.raises(LongAQAError, match="learned_foreground_dead_zone"):
        load_config(None, [*TINY, "model.learned_foreground_dead_zone=0.5"])


def test_a_low_margin_is_read_as_its_teachers_for_a_learned_foreground(tmp_path):
    """With a learned foreground the margin is the densest rule's, which no longer flips the foreground:
    explain's note and the report say so instead of warning that hiding a clip moves many parts."""
    from longaqa.config import save_config
    from longaqa.interpret.explanation import explain_video
    from longaqa.interpret.report import write_report
    from longaqa.interpret.run import fragile_note, learned_foreground

    assert "hiding one clip can move many clips' parts" in fragile_note(["a"], 3)
    note = fragile_note(["a"], 3, learned=True)
    assert note.startswith("note: in 1 of 3 video(s) the densest rule's background won by a margin below 0.15 (a)")
    assert "no longer hands the background to another kind of clip" in note
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8", "model.background_rule=learned"])
    model = model_from_config(cfg).eval()
    g = np.random.default_rng(1)
    a, b = g.normal(size=32), g.normal(size=32)
    tied = np.stack([a if t % 2 else b for t in range(16)]) + 0.05 * g.normal(size=(16, 32))  # two kinds
    expl = explain_video(model, cfg, "w", tied.astype(np.float32), 12.0)
    assert expl.background_margin < 0.15
    assert not learned_foreground(tmp_path)  # not a run folder
    save_config(cfg, tmp_path / "config.yaml")
    assert learned_foreground(tmp_path)
    page = write_report(tmp_path, [expl], tmp_path / "r.html").read_text()
    assert "The densest rule barely won here" in page and "The background barely won" not in page
