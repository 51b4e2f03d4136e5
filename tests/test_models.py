"""Model components: shapes, masks, gradients, query initialisation."""

from __future__ import annotations

import pytest
import torch

from longaqa.config import ModelConfig
from longaqa.models import build_model
from longaqa.models.position import sine_encoding


def tiny(**kw) -> ModelConfig:
    base = dict(input_dim=12, d_model=16, num_queries=6, num_heads=2, dim_feedforward=24,
                head_hidden=[8, 4], dropout=0.0)
    base.update(kw)
    return ModelConfig(**base)


def test_sine_encoding_values():
    enc = sine_encoding(5, 8)
    assert enc.shape == (5, 8)
    assert torch.allclose(enc[0, 0::2], torch.zeros(4)) and torch.allclose(enc[0, 1::2], torch.ones(4))
    assert torch.isclose(enc[3, 0], torch.sin(torch.tensor(3.0)))
    assert torch.isclose(enc[2, 3], torch.cos(torch.tensor(2.0) / 10000 ** (2 / 8)))


@pytest.mark.parametrize("head", ["weight_score", "single_score"])
@pytest.mark.parametrize("norm", ["post", "pre"])
def test_output_shapes(head, norm):
    torch.manual_seed(0)
    model = build_model(tiny(head=head, norm=norm)).eval()
    x = torch.randn(3, 9, 12)
    out = model(x, torch.tensor([9, 5, 7]), need_weights=True)
    assert out.pred.shape == (3,)
    assert out.weights.shape == out.scores.shape == (3, 6)
    assert len(out.self_attn_outputs) == 2 and out.self_attn_outputs[0].shape == (3, 6, 16)
    assert out.self_attn_maps[0].shape == (3, 6, 6) and out.cross_attn_maps[1].shape == (3, 6, 9)
    assert torch.isfinite(out.pred).all()


def test_padded_clips_never_influence_prediction():
    torch.manual_seed(0)
    model = build_model(tiny()).eval()
    x = torch.randn(1, 4, 12)  # shorter than the 6 queries
    alone = model(x, torch.tensor([4]), need_weights=True)
    padded_x = torch.cat([x, torch.randn(1, 7, 12) * 100], dim=1)  # garbage after the valid clips
    padded = model(padded_x, torch.tensor([4]), need_weights=True)
    assert torch.allclose(alone.pred, padded.pred, atol=1e-5)
    assert torch.allclose(padded.cross_attn_maps[0][0, :, 4:], torch.zeros(6, 7))
    # queries without a clip get no weight; weights sum to 1 over the valid ones
    assert torch.allclose(padded.weights[0, 4:], torch.zeros(2))
    assert torch.isclose(padded.weights.sum(), torch.tensor(1.0))


def test_batch_with_mixed_lengths_matches_single_videos():
    torch.manual_seed(1)
    model = build_model(tiny()).eval()
    videos = [torch.randn(n, 12) for n in (3, 8, 6)]
    batch = torch.nn.utils.rnn.pad_sequence(videos, batch_first=True)
    together = model(batch, torch.tensor([3, 8, 6])).pred
    separate = torch.cat([model(v[None], torch.tensor([len(v)])).pred for v in videos])
    assert torch.allclose(together, separate, atol=1e-5)


def test_weights_sum_to_one_over_valid_clips():
    model = build_model(tiny()).eval()
    out = model(torch.randn(4, 10, 12), torch.tensor([10, 2, 6, 5]))
    sums = out.weights.sum(-1)
    assert torch.allclose(sums, torch.ones(4), atol=1e-6)
    assert (out.weights[1, 2:] == 0).all() and (out.weights[3, 5:] == 0).all()
    assert torch.allclose(out.pred, (out.weights * out.scores).sum(-1), atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"query_init": "resample"}, {"norm": "pre"}, {"head": "single_score"},
                                {"head": "mean_pool"},
                                {"input_dim": 16}, {"memory_pe": True, "query_pos_adds_content": True},
                                {"cross_attention_window": 2}])
def test_every_parameter_gets_a_gradient(kw):
    torch.manual_seed(0)
    model = build_model(tiny(**kw)).train()
    dim = kw.get("input_dim", 12)
    out = model(torch.randn(2, 8, dim), torch.tensor([8, 6]))
    loss = out.pred.pow(2).sum() + sum(a.pow(2).mean() for a in out.self_attn_outputs)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, missing
    # the weight logits' output bias has a zero gradient by construction (softmax ignores a shift),
    # exactly 0.0 or rounding noise depending on the random draws
    shift_invariant = {"head.weight_mlp.4.bias"}
    zero = [n for n, p in model.named_parameters() if p.grad.abs().sum() == 0 and n not in shift_invariant]
    assert not zero, zero


def test_learned_queries_are_parameters_and_eval_is_deterministic():
    torch.manual_seed(0)
    model = build_model(tiny(query_init="learned", query_init_spread=3.0))
    assert "query_embed" in dict(model.named_parameters())
    assert model.query_embed.std().item() == pytest.approx(3.0, rel=0.3)
    x, n = torch.randn(2, 6, 12), torch.tensor([6, 6])
    model.train()  # dropout is 0: training forwards are identical with learned queries
    assert torch.equal(model(x, n).pred, model(x, n).pred)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_dropout_is_off_in_eval_mode(norm):
    """Dropout 0.5 (on the layers and on the attention maps): two eval forwards are identical and equal
    to the same weights without dropout; two training forwards differ."""
    torch.manual_seed(0)
    model = build_model(tiny(norm=norm, dropout=0.5, attention_dropout=0.5))
    plain = build_model(tiny(norm=norm)).eval()
    plain.load_state_dict(model.state_dict())
    x, n = torch.randn(2, 6, 12), torch.tensor([6, 4])
    model.eval()
    first = model(x, n, need_weights=True)
    second = model(x, n, need_weights=True)
    assert torch.equal(first.pred, second.pred)
    assert torch.equal(first.cross_attn_maps[0], second.cross_attn_maps[0])
    assert torch.allclose(first.pred, plain(x, n).pred, atol=1e-6)
    model.train()
    assert not torch.allclose(model(x, n).pred, model(x, n).pred)
    assert not torch.allclose(model(x, n).pred, first.pred)


def test_resample_queries_change_in_training_not_in_eval():
    torch.manual_seed(0)
    model = build_model(tiny(query_init="resample", query_init_spread=2.0))
    assert "query_embed" not in dict(model.named_parameters())
    x, n = torch.randn(2, 6, 12), torch.tensor([6, 6])
    model.train()
    assert not torch.allclose(model(x, n).pred, model(x, n).pred)
    model.eval()
    assert torch.equal(model(x, n).pred, model(x, n).pred)


def test_spread_read_as_variance():
    cfg = tiny(query_init_spread=4.0, query_init_spread_is="variance")
    assert cfg.query_init_std == 2.0
    assert tiny(query_init_spread=4.0).query_init_std == 4.0


def test_residual_bug_option_changes_output():
    torch.manual_seed(0)
    a = build_model(tiny()).eval()
    b = build_model(tiny(self_attn_residual=False)).eval()
    b.load_state_dict(a.state_dict())
    x, n = torch.randn(1, 6, 12), torch.tensor([6])
    assert not torch.allclose(a(x, n).pred, b(x, n).pred)


def test_without_padding_mask_padding_is_attended():
    torch.manual_seed(0)
    model = build_model(tiny(padding_mask=False)).eval()
    x = torch.randn(1, 4, 12)
    padded = torch.cat([x, torch.zeros(1, 3, 12)], 1)
    assert not torch.allclose(model(x, torch.tensor([4])).pred, model(padded, torch.tensor([4])).pred)


def test_mean_pool_baseline_ignores_padding_and_has_no_attention():
    torch.manual_seed(0)
    model = build_model(tiny(head="mean_pool")).eval()
    x = torch.randn(1, 5, 12)
    padded = torch.cat([x, torch.randn(1, 3, 12)], 1)
    a, b = model(x, torch.tensor([5])), model(padded, torch.tensor([5]), need_weights=True)
    assert torch.allclose(a.pred, b.pred, atol=1e-6)
    assert b.self_attn_outputs == [] and b.self_attn_maps == []
    assert torch.allclose(b.weights.sum(-1), torch.ones(1)) and (b.weights[0, 5:] == 0).all()


def test_cross_attention_window_keys():
    """Query k sees the clips within W of its own clip: clip k in a video of at most Q clips (queries
    past the end take the last clip), clip round(k (T - 1) / (Q - 1)) in a longer one."""
    model = build_model(tiny(num_queries=4, cross_attention_window=1))
    keys = model.local_keys(2, 7, torch.tensor([7, 3]), torch.arange(7)[None] < torch.tensor([[7], [3]]), "cpu")
    assert keys.shape == (2, 4, 7)
    # video 0: 7 clips > 4 queries, own clips 0, 2, 4, 6
    expected0 = [[1, 1, 0, 0, 0, 0, 0], [0, 1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1, 1]]
    assert keys[0].int().tolist() == expected0
    # video 1: 3 clips, own clips 0, 1, 2, 2 (query 3 has no clip of its own); padding never visible
    expected1 = [[1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0]]
    assert keys[1].int().tolist() == expected1


def test_cross_attention_window_limits_the_maps_and_keeps_padding_out():
    torch.manual_seed(0)
    local = build_model(tiny(cross_attention_window=1)).eval()
    x = torch.randn(1, 4, 12)
    out = local(x, torch.tensor([4]), need_weights=True)
    for maps in out.cross_attn_maps:  # (1, 6, 4): query k attends within clips k-1..k+1 only
        far = torch.ones(6, 4, dtype=torch.bool)
        for k in range(6):
            far[k, max(0, min(k, 3) - 1): min(k, 3) + 2] = False
        assert torch.all(maps[0][far] == 0)
    padded = local(torch.cat([x, torch.randn(1, 5, 12) * 100], dim=1), torch.tensor([4]))
    assert torch.allclose(out.pred, padded.pred, atol=1e-5)
    # a window whose clips are all hidden falls back to the visible clips: no NaN
    hidden = torch.tensor([[False, False, False, True]])
    assert torch.isfinite(local(x, torch.tensor([4]), clip_mask=hidden).pred).all()
    # the paper's global attention differs
    torch.manual_seed(0)
    assert not torch.allclose(build_model(tiny()).eval()(x, torch.tensor([4])).pred, out.pred)


def test_cross_attention_window_is_validated():
    from longaqa.errors import LongAQAError

    with pytest.raises(LongAQAError, match="cross_attention_window must be >= 0"):
        tiny(cross_attention_window=-1)


@pytest.mark.parametrize("per_query", [False, True])
def test_attention_matches_torch_multihead_attention(per_query):
    """The head-by-head explicit attention equals torch's nn.MultiheadAttention (outputs, maps, grads)."""
    from longaqa.models.attention import MultiHeadAttention

    torch.manual_seed(0)
    B, Q, K, D, H = 3, 5, 7, 16, 4
    ours = MultiHeadAttention(D, H)
    ref = torch.nn.MultiheadAttention(D, H, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))
        ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        ref.out_proj.weight.copy_(ours.out_proj.weight)
        ref.out_proj.bias.copy_(ours.out_proj.bias)
    query, key = torch.randn(B, Q, D, requires_grad=True), torch.randn(B, K, D)
    valid = torch.rand(B, Q, K) > 0.4 if per_query else torch.arange(K)[None] < torch.tensor([[7], [3], [5]])
    valid[..., 0] = True  # every query sees a key
    out, maps = ours(query, key, key, valid, need_weights=True)
    ref_mask = (~valid).repeat_interleave(H, 0) if per_query else None
    ref_out, ref_maps = ref(query, key, key, key_padding_mask=None if per_query else ~valid, attn_mask=ref_mask)
    assert torch.allclose(out, ref_out, atol=1e-6)
    assert torch.allclose(maps, ref_maps, atol=1e-6)
    grad = torch.randn_like(out)
    (g_ours,) = torch.autograd.grad(out, query, grad)
    (g_ref,) = torch.autograd.grad(ref_out, query, grad)
    assert torch.allclose(g_ours, g_ref, atol=1e-5)
    # the fused kernel (the path off the CPU) on the same projections gives the same output
    q, k, v = ours.q_proj(query), ours.k_proj(key), ours.v_proj(key)
    mask = ours._head_mask(valid)[:, None]
    fused = torch.nn.functional.scaled_dot_product_attention(ours._split(q), ours._split(k), ours._split(v),
                                                             attn_mask=mask)
    explicit, _ = ours.explicit(q, k, v, valid, 0.0, False)
    assert torch.allclose(fused.transpose(1, 2).flatten(2), explicit, atol=1e-6)
