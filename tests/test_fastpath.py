"""The batch-shared decoder path (model.share_batch_work) against the plain path: same weights, same
inputs, same random seed -> same outputs, maps and gradients within fp tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from longaqa.config import load_config
from longaqa.losses import Criterion
from longaqa.models import build_model

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
}


def run(overrides: list[str], share: bool, training: bool, lengths: torch.Tensor, need_weights: bool):
    cfg = load_config(None, BASE + overrides + [f"model.share_batch_work={share}"])
    torch.manual_seed(0)
    model = build_model(cfg.model).train(training)
    criterion = Criterion(cfg.loss, cfg.model.d_model)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 9, 12, generator=gen)  # (B, T, Din)
    x = x * (torch.arange(9)[None, :, None] < lengths[:, None, None])
    target = torch.rand(5, generator=gen)
    torch.manual_seed(2)  # the same dropout draws in both paths
    out = model(x, lengths, need_weights=need_weights)
    criterion(out, target)["loss"].backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return out, grads


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("need_weights", [False, True], ids=["fused", "maps"])
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("case", list(CASES))
def test_shared_path_matches_plain(case, training, need_weights, padded):
    lengths = torch.tensor([9, 4, 9, 6, 9]) if padded else torch.full((5,), 9)
    plain, plain_grads = run(CASES[case], False, training, lengths, need_weights)
    shared, shared_grads = run(CASES[case], True, training, lengths, need_weights)
    tol = dict(rtol=1e-4, atol=1e-5)
    for name in ("pred", "weights", "scores"):
        torch.testing.assert_close(getattr(shared, name), getattr(plain, name), **tol, msg=name)
    for name in ("self_attn_outputs", "cross_attn_outputs", "self_attn_maps", "cross_attn_maps"):
        a, b = getattr(shared, name), getattr(plain, name)
        assert (a is None) == (b is None) == (name.endswith("maps") and not need_weights)
        for layer_a, layer_b in zip(a or [], b or []):
            assert layer_a.shape == layer_b.shape  # (B, Q, D) / (B, Q, Q) / (B, Q, T): the contract
            torch.testing.assert_close(layer_a, layer_b, **tol, msg=name)
    assert shared_grads.keys() == plain_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        torch.testing.assert_close(shared_grads[name], grad, rtol=1e-4, atol=1e-5, msg=name)


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
    for share in (False, True):
        cfg = load_config(None, BASE + [f"model.share_batch_work={share}"])
        torch.manual_seed(0)
        model = build_model(cfg.model).eval()
        x = torch.randn(5, 9, 12, generator=torch.Generator().manual_seed(1))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outs.append(model(x, torch.full((5,), 9)).pred.float())
    torch.testing.assert_close(outs[1], outs[0], rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_dropout_keeps_the_expected_fraction_and_scale(dtype):
    from longaqa.models.decoder import Dropout

    torch.manual_seed(0)
    x = torch.ones(200_000, dtype=dtype, requires_grad=True)
    y = Dropout(0.7).train()(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.3) < 0.005  # keep rate 1 - p
    torch.testing.assert_close(y[kept].float(), torch.full((int(kept.sum()),), 1 / 0.3), rtol=4e-3, atol=0)
    y.sum().backward()
    torch.testing.assert_close(x.grad.float(), y.detach().float())  # gradient is the same mask and scale
    assert torch.equal(Dropout(0.7).eval()(x), x)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.7])
def test_dropout_mask_keeps_every_bit_field_at_the_same_rate_and_is_unbiased(p):
    """The CPU mask packs four 16-bit codes in each 64-bit draw: all four must be kept at 1 - p (a
    draw whose sign bit is always 0 keeps every fourth element at another rate), and the mean of
    the mask is 1 (kept elements are scaled by 1 / the rate they are kept at)."""
    from longaqa.models.decoder import Dropout

    torch.manual_seed(0)
    drop = Dropout(p)
    assert abs(drop.keep_rate - (1 - p)) <= 2**-17
    mask = drop.cpu_mask(torch.Size((1_200_000,)), torch.float32)  # two chunks of draws (random_words)
    values = mask.unique().tolist()
    assert values[0] == 0.0 and values[1:] == [pytest.approx(1 / drop.keep_rate)]
    kept = (mask != 0).view(-1, 4).float().mean(0)  # one rate per 16-bit field of a draw
    sd = ((1 - p) * p / 300_000) ** 0.5
    assert (kept - (1 - p)).abs().max().item() < 5 * sd
    assert abs(mask.mean().item() - 1.0) < 5 * sd / (1 - p)


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


@pytest.mark.parametrize("p,kept", [(1e-6, 1.0), (0.999999, 0.0)])
def test_dropout_rates_beyond_the_code_resolution(p, kept):
    """Rates within 2^-17 of 0 or 1 round to keeping every or no element, without overflowing int16."""
    from longaqa.models.decoder import Dropout

    y = Dropout(p).train()(torch.ones(1000))
    assert ((y != 0).float().mean().item(), y.max().item()) == (kept, kept)


def test_keep_freed_memory_stops_page_faults_for_repeated_large_blocks():
    """After ``keep_freed_memory`` a freed 13 MiB block (one activation of the paper's model) is reused:
    allocating and touching it again faults in no new pages. Without it glibc maps fresh memory."""
    import resource
    import sys

    from longaqa.allocator import keep_freed_memory

    if not sys.platform.startswith("linux") or not keep_freed_memory():
        pytest.skip("glibc malloc only")

    def faults_of_a_step() -> int:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(5):
            x = torch.ones(48, 68, 1024)  # 13 MiB, written by every page
            del x
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults_of_a_step()  # warm: the heap grows once
    assert faults_of_a_step() < 100  # a fresh 13 MiB block alone is about 3,300 pages


@pytest.mark.parametrize("expand", [False, True])
def test_dropout_add_to_is_the_residual_with_the_same_draws(expand):
    """``add_to(base, x)`` is ``base + dropout(x)`` with the same random draws, value and gradients,
    also for an ``x`` broadcast from batch size 1 (the batch-shared self-attention output)."""
    from longaqa.models.decoder import Dropout

    drop = Dropout(0.7).train()
    gen = torch.Generator().manual_seed(3)
    base = torch.randn(4, 5, 16, generator=gen, requires_grad=True)
    x0 = torch.randn(1 if expand else 4, 5, 16, generator=gen, requires_grad=True)
    x = x0.expand(4, 5, 16)
    torch.manual_seed(0)
    fused = drop.add_to(base, x)
    torch.manual_seed(0)
    plain = base + drop(x)
    torch.testing.assert_close(fused, plain)
    assert (fused == base).float().mean().item() > 0.5  # mostly dropped at p = 0.7
    g = torch.randn(4, 5, 16, generator=gen)
    grads_fused = torch.autograd.grad(fused, (base, x0), g)
    grads_plain = torch.autograd.grad(plain, (base, x0), g)
    for a, b in zip(grads_fused, grads_plain):
        torch.testing.assert_close(a, b)


def chunks_of(count: int) -> list[np.ndarray]:
    """The chunks ``random_words`` draws for ``count`` words, in order."""
    from longaqa.models.decoder import random_words

    chunks: dict[int, np.ndarray] = {}
    random_words(count, lambda words, offset: chunks.__setitem__(offset, words.copy()))
    return [chunks[k] for k in sorted(chunks)]


def test_random_words_come_in_chunks_reproduced_by_the_seed():
    """Large draws come in two chunks from two streams (drawn on two threads); both are reproduced by
    ``torch.manual_seed``, and the two streams are not the same words."""
    from longaqa.models.decoder import RANDOM_CHUNK_WORDS

    count = RANDOM_CHUNK_WORDS + 11
    torch.manual_seed(5)
    first = chunks_of(count)
    torch.manual_seed(5)
    again = chunks_of(count)
    assert [len(c) for c in first] == [count // 2, count - count // 2]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0][:1000], first[1][:1000])
    small = chunks_of(100)
    assert len(small) == 1 and len(small[0]) == 100


@pytest.mark.parametrize("p", [1e-9, 0.3, 1.0])
def test_dropout_masks_of_odd_sizes_and_extreme_rates(p):
    """Masks of sizes that are not a multiple of four codes, and rates that keep every or no element:
    the float32 mask is the bool mask times 1 / keep_rate, element for element, from the same draws."""
    from longaqa.models.decoder import Dropout

    drop = Dropout(p)
    for shape in (torch.Size((3, 5)), torch.Size((7, 300, 251))):  # the second is drawn in two chunks
        torch.manual_seed(2)
        keep = drop.cpu_keep(shape)
        torch.manual_seed(2)
        mask = drop.cpu_mask(shape, torch.float32)
        assert keep.shape == mask.shape == shape and keep.dtype == torch.bool
        assert torch.equal(mask, keep.float() * drop.scale)
        if p == 1e-9:
            assert bool(keep.all())
        if p == 1.0:
            assert not bool(keep.any())


def test_random_words_are_the_same_on_one_thread():
    """With one torch thread no helper thread draws, and the words are the same as with two."""
    from longaqa.models.decoder import RANDOM_CHUNK_WORDS

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        torch.manual_seed(9)
        two = chunks_of(RANDOM_CHUNK_WORDS + 5)
        torch.set_num_threads(1)
        torch.manual_seed(9)
        one = chunks_of(RANDOM_CHUNK_WORDS + 5)
    finally:
        torch.set_num_threads(threads)
    assert len(one) == len(two) == 2
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
