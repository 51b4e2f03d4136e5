"""The CPU fast paths (``model.fastpath``, ``longaqa.models.fastpath``) against the plain model and loss, and
the plain path under ``torch.func.vmap`` over stacked parameters (grouped training).

Same weights, inputs and seed -> same outputs, maps, losses and gradients within fp tolerance: the
batch-shared path (``model.share_batch_work``) against the fast path without it, dropout included
(the same draws); the fast path against the plain one with dropout off (they draw differently).
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch.func import functional_call, stack_module_state, vmap

from longaqa.config import load_config
from longaqa.losses import Criterion, correlation_log_probs
from longaqa.models import build_model
from longaqa.models.attention import MultiHeadAttention
from longaqa.models.fastpath import gram
from longaqa.models.fastpath.model import FastAttention, FastQueryAQA

BASE = [
    "model.input_dim=12",
    "model.d_model=16",
    "model.num_heads=2",
    "model.dim_feedforward=24",
    "model.num_queries=6",
    "model.head_hidden=[8]",
]

CASES = {
    "post_norm": [],
    "pre_norm": ["model.norm=pre"],
    "authors_quirks": ["model.self_attn_residual=false", "model.query_pos_adds_content=true",
                       "model.memory_pe=true"],
    "attention_dropout": ["model.attention_dropout=0.3"],
    "no_dropout": ["model.dropout=0.0"],
    "resample_queries": ["model.query_init=resample"],
    "single_score": ["model.head=single_score", "model.num_layers=3"],
    "additive": ["model.head=additive", "model.local_window=1", "model.local_hidden=8"],
    "window": ["model.cross_attention_window=1"],
}
NO_DROPOUT = ["model.dropout=0.0", "model.attention_dropout=0.0"]
PATHS = {  # name -> overrides
    "plain": ["model.fastpath=false"],
    "fast": ["model.fastpath=true", "model.share_batch_work=false"],
    "shared": ["model.fastpath=true", "model.share_batch_work=true"],
}


def run(overrides: list[str], path: str, training: bool, lengths: torch.Tensor, need_weights: bool):
    cfg = load_config(None, BASE + overrides + PATHS[path])
    torch.manual_seed(0)
    model = build_model(cfg.model).train(training)
    assert isinstance(model, FastQueryAQA) == (path != "plain")
    criterion = Criterion(cfg.loss, cfg.model.d_model)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 9, 12, generator=gen)  # (B, T, Din)
    x = x * (torch.arange(9)[None, :, None] < lengths[:, None, None])
    target = torch.rand(5, generator=gen)
    torch.manual_seed(2)  # the same dropout draws in both paths
    out = model(x, lengths, need_weights=need_weights)
    loss = criterion(out, target)["loss"]
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return out, loss, grads


def assert_same(a, b, grads_a, grads_b, need_weights: bool) -> None:
    tol = dict(rtol=1e-4, atol=1e-5)
    for name in ("pred", "weights", "scores", "clip_parts"):
        if getattr(b, name) is not None:
            torch.testing.assert_close(getattr(a, name), getattr(b, name), **tol, msg=name)
    for name in ("self_attn_outputs", "cross_attn_outputs", "self_attn_maps", "cross_attn_maps"):
        layers_a, layers_b = getattr(a, name), getattr(b, name)
        assert (layers_a is None) == (layers_b is None) == (name.endswith("maps") and not need_weights)
        for layer_a, layer_b in zip(layers_a or [], layers_b or []):
            assert layer_a.shape == layer_b.shape  # (B, Q, D) / (B, Q, Q) / (B, Q, T): the contract
            torch.testing.assert_close(layer_a, layer_b, **tol, msg=name)
    assert grads_a.keys() == grads_b.keys() and grads_b
    for name, grad in grads_b.items():
        torch.testing.assert_close(grads_a[name], grad, **tol, msg=name)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("need_weights", [False, True], ids=["fused", "maps"])
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("case", list(CASES))
def test_shared_path_matches_unshared(case, training, need_weights, padded):
    lengths = torch.tensor([9, 4, 9, 6, 9]) if padded else torch.full((5,), 9)
    fast, fast_loss, fast_grads = run(CASES[case], "fast", training, lengths, need_weights)
    shared, shared_loss, shared_grads = run(CASES[case], "shared", training, lengths, need_weights)
    torch.testing.assert_close(shared_loss, fast_loss, rtol=1e-4, atol=1e-5)
    assert_same(shared, fast, shared_grads, fast_grads, need_weights)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("need_weights", [False, True], ids=["fused", "maps"])
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("case", list(CASES))
def test_fast_path_matches_plain_without_dropout(case, training, need_weights, padded):
    lengths = torch.tensor([9, 4, 9, 6, 9]) if padded else torch.full((5,), 9)
    plain, plain_loss, plain_grads = run(CASES[case] + NO_DROPOUT, "plain", training, lengths, need_weights)
    fast, fast_loss, fast_grads = run(CASES[case] + NO_DROPOUT, "shared", training, lengths, need_weights)
    assert fast.fastpath and not plain.fastpath
    torch.testing.assert_close(fast_loss, plain_loss, rtol=1e-4, atol=1e-5)
    assert_same(fast, plain, fast_grads, plain_grads, need_weights)


def test_fast_and_plain_models_have_the_same_state_dict_keys():
    """Checkpoints load into either path."""
    cfg = load_config(None, BASE)
    plain, fast = build_model(cfg.model, fastpath=False), build_model(cfg.model, fastpath=True)
    assert list(plain.state_dict()) == list(fast.state_dict())
    fast.load_state_dict(plain.state_dict())


VMAP_CASES = {
    "weight_score": [],
    "additive": ["model.head=additive", "model.local_window=1", "model.local_hidden=8"],
    "window": ["model.cross_attention_window=1", "model.norm=pre"],
}


def stacked_runs(case: str, R: int = 3):
    """R plain models (different seeds), stacked, and per-run padded batches: lengths differ by run."""
    cfg = load_config(None, BASE + VMAP_CASES[case] + ["model.fastpath=false"])
    models = []
    for r in range(R):
        torch.manual_seed(r)
        models.append(build_model(cfg.model))
    gen = torch.Generator().manual_seed(7)
    lengths = torch.tensor([[9, 4, 7, 9], [3, 9, 9, 5], [9, 9, 9, 9]])[:R]  # (R, B)
    x = torch.randn(R, 4, 9, 12, generator=gen)  # (R, B, T, Din)
    x = x * (torch.arange(9)[None, None, :, None] < lengths[..., None, None])
    target = torch.rand(R, 4, generator=gen)
    return cfg, models, x, lengths, target


NO_BATCHING_RULE = "ignore:There is a performance drop:UserWarning"  # torch's CPU flash attention


@pytest.mark.filterwarnings(NO_BATCHING_RULE)
@pytest.mark.parametrize("need_weights", [False, True], ids=["fused", "maps"])
@pytest.mark.parametrize("case", list(VMAP_CASES))
def test_plain_path_runs_under_vmap_over_stacked_parameters(case, need_weights):
    """vmap(functional_call) over R stacked models equals R separate calls: predictions, losses and the
    gradients of the stacked parameters (dropout off, so that both draw nothing)."""
    cfg, models, x, lengths, target = stacked_runs(case)
    criterion = Criterion(cfg.loss, cfg.model.d_model)
    for model in models:
        model.eval()
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def loss_of(params, buffers, x, lengths, target):
        out = functional_call(base, (params, buffers), (x, lengths), {"need_weights": need_weights})
        return criterion(out, target)["loss"], out.pred

    losses, preds = vmap(loss_of, randomness="different")(params, buffers, x, lengths, target)
    losses.sum().backward()
    for r, model in enumerate(models):
        out = model(x[r], lengths[r], need_weights=need_weights)
        loss = criterion(out, target[r])["loss"]
        loss.backward()
        torch.testing.assert_close(preds[r], out.pred, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(losses[r], loss, rtol=1e-5, atol=1e-6)
        for name, p in model.named_parameters():
            if p.grad is not None:
                torch.testing.assert_close(params[name].grad[r], p.grad, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.filterwarnings(NO_BATCHING_RULE)
@pytest.mark.parametrize("case", list(VMAP_CASES))
def test_plain_path_trains_under_vmap_with_dropout(case):
    """Training mode, dropout on, ``randomness="different"``: each run draws its own masks."""
    cfg, models, x, lengths, target = stacked_runs(case)
    criterion = Criterion(cfg.loss, cfg.model.d_model)
    params, buffers = stack_module_state([models[0]] * 3)  # the same model three times
    base = copy.deepcopy(models[0]).to("meta").train()
    same_x, same_lengths = x[:1].expand_as(x), lengths[:1].expand_as(lengths)

    def loss_of(params, buffers, x, lengths, target):
        out = functional_call(base, (params, buffers), (x, lengths))
        return criterion(out, target)["loss"], out.pred

    losses, preds = vmap(loss_of, randomness="different")(params, buffers, same_x, same_lengths, target)
    losses.sum().backward()
    assert torch.isfinite(losses).all()
    assert not torch.allclose(preds[0], preds[1])  # different dropout draws per run
    assert all(torch.isfinite(p.grad).all() for p in params.values() if p.grad is not None)
    assert params["decoder.layers.0.linear1.weight"].grad.abs().sum() > 0


def test_batch_shared_query_broadcasts():
    """A query of batch size 1 against keys of batch size B gives what the query expanded gives."""
    torch.manual_seed(1)
    attn = FastAttention(16, 4)
    query, key = torch.randn(1, 5, 16), torch.randn(3, 6, 16)
    shared, _ = attn(query, key, key)
    expanded, _ = attn(query.expand(3, -1, -1), key, key)
    assert shared.shape == (3, 5, 16)
    assert torch.allclose(shared, expanded, atol=1e-6)
    plain = MultiHeadAttention(16, 4)
    plain.load_state_dict(attn.state_dict())
    assert torch.allclose(plain(query.expand(3, -1, -1), key, key)[0], shared, atol=1e-6)


@pytest.mark.parametrize("masked", [False, True])
def test_correlation_of_a_batch_shared_output_is_computed_once_with_the_same_values_and_gradients(masked):
    """The first self-attention's output is one (1, Q, D) tensor broadcast over the batch: the fast
    correlation computes it once and broadcasts, equal in value and gradient to the plain one."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(1, 5, 8, generator=gen, requires_grad=True)
    valid = torch.tensor([[True] * 5, [True, True, True, False, False], [True] * 5]) if masked else None
    g = torch.randn(3, 5, 5, generator=gen)
    shared = gram.correlation_log_probs(a.expand(3, -1, -1), 2.0, valid)
    full = correlation_log_probs(a.expand(3, -1, -1).contiguous(), 2.0, valid)
    assert shared.shape == (3, 5, 5)
    torch.testing.assert_close(shared, full)
    finite = torch.isfinite(full)
    (grad_shared,) = torch.autograd.grad(shared.masked_fill(~finite, 0), a, g)
    (grad_full,) = torch.autograd.grad(full.masked_fill(~finite, 0), a, g)
    torch.testing.assert_close(grad_shared, grad_full)


def test_fast_correlation_is_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    a = torch.randn(2, 10, 128, requires_grad=True)
    ref = correlation_log_probs(a, 1.0, None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = gram.correlation_log_probs(a, 1.0, None)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref)


def test_gram_function_matches_autograd():
    """The Gram function's single-matmul backward equals autograd's through ``a @ a^T``."""
    torch.manual_seed(0)
    a = torch.randn(3, 5, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gram.Gram.apply, (a,))
    grad = torch.randn(3, 5, 5, dtype=torch.float64)
    (ours,) = torch.autograd.grad(gram.Gram.apply(a), a, grad)
    (ref,) = torch.autograd.grad(a @ a.transpose(1, 2), a, grad)
    assert torch.allclose(ours, ref)
    assert torch.equal(gram.Gram.apply(a), a @ a.transpose(1, 2))


def test_shared_path_computes_the_first_self_attention_once():
    """With learned queries the first self-attention projections see one query set, not B."""
    cfg = load_config(None, BASE)
    model = build_model(cfg.model).eval()
    seen: list[int] = []
    hook = model.decoder.layers[0].self_attn.q_proj.register_forward_hook(
        lambda module, args, output: seen.append(args[0].shape[0])
    )
    model(torch.randn(5, 9, 12), torch.full((5,), 9))
    hook.remove()
    assert seen == [1]


def test_bf16_autocast_shared_path_matches_plain():
    """Under bf16 autocast (memory cast once, queries shared) outputs match the plain path."""
    outs = []
    for path in ("plain", "fast", "shared"):
        cfg = load_config(None, BASE + PATHS[path])
        torch.manual_seed(0)
        model = build_model(cfg.model).eval()
        x = torch.randn(5, 9, 12, generator=torch.Generator().manual_seed(1))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outs.append(model(x, torch.full((5,), 9)).pred.float())
    torch.testing.assert_close(outs[1], outs[0], rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(outs[2], outs[0], rtol=2e-2, atol=2e-2)


def test_evaluation_reuses_the_query_prefix_until_a_parameter_changes():
    """Without autograd, the first self-attention is computed once and reused; any in-place change
    of a parameter it reads (optimizer step, load_state_dict) recomputes it."""
    torch.manual_seed(0)
    cached = build_model(load_config(None, BASE).model).eval()
    plain = build_model(load_config(None, BASE + ["model.share_batch_work=false"]).model).eval()
    plain.load_state_dict(cached.state_dict())
    calls: list[int] = []
    cached.decoder.layers[0].self_attn.q_proj.register_forward_hook(lambda *a: calls.append(1))
    x, lengths = torch.randn(5, 9, 12), torch.full((5,), 9)

    def same() -> None:
        with torch.no_grad():
            torch.testing.assert_close(cached(x, lengths).pred, plain(x, lengths).pred, rtol=1e-5, atol=1e-6)

    same()
    with torch.inference_mode():
        cached(x[:1], lengths[:1])
        cached(x[:1], lengths[:1])
    same()
    same()
    assert len(calls) == 3  # once per autograd mode (no_grad, inference_mode), then reused

    for model in (cached, plain):  # the same in-place update on both
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        model.zero_grad()
        model.train()
        torch.manual_seed(5)  # the same dropout draws
        model(x, lengths).pred.sum().backward()
        optimizer.step()
        model.eval()
    same()
    with torch.no_grad():
        cached.decoder.layers[0].norm1.weight.mul_(2)
        plain.decoder.layers[0].norm1.weight.mul_(2)
    same()
    state = {k: v + 0.01 for k, v in cached.state_dict().items()}
    cached.load_state_dict(state)
    plain.load_state_dict(state)
    same()


def test_evaluation_cache_is_fresh_after_fused_adam_steps():
    """Fused Adam updates parameters without bumping version counters: eval must not reuse a stale prefix."""
    import copy

    from longaqa.config import ModelConfig
    from longaqa.models import build_model

    torch.manual_seed(0)
    cfg = ModelConfig(input_dim=8, d_model=16, num_queries=5, num_heads=2, dim_feedforward=16,
                      head_hidden=[8], dropout=0.0)
    model = build_model(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1, fused=True)
    x, n = torch.randn(2, 5, 8), torch.tensor([5, 5])
    for _ in range(2):
        model.eval()
        with torch.no_grad():
            model(x, n)  # fills the evaluation cache
        model.train()
        model(x, n).pred.sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    fresh = copy.deepcopy(model)
    fresh._query_prefix = None
    with torch.no_grad():
        assert torch.equal(model(x, n).pred, fresh(x, n).pred)


