"""The CPU dropout of ``longaqa.models.fastpath.dropout``: keep rates, scale, reproducible draws, and the
one-pass residual against ``base + dropout(x)``."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_dropout_keeps_the_expected_fraction_and_scale(dtype):
    from longaqa.models.fastpath.dropout import Dropout

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
    from longaqa.models.fastpath.dropout import Dropout

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


@pytest.mark.parametrize("p,kept", [(1e-6, 1.0), (0.999999, 0.0)])
def test_dropout_rates_beyond_the_code_resolution(p, kept):
    """Rates within 2^-17 of 0 or 1 round to keeping every or no element, without overflowing int16."""
    from longaqa.models.fastpath.dropout import Dropout

    y = Dropout(p).train()(torch.ones(1000))
    assert ((y != 0).float().mean().item(), y.max().item()) == (kept, kept)


@pytest.mark.parametrize("expand", [False, True])
def test_dropout_add_to_is_the_residual_with_the_same_draws(expand):
    """``add_to(base, x)`` is ``base + dropout(x)`` with the same random draws, value and gradients,
    also for an ``x`` broadcast from batch size 1 (the batch-shared self-attention output)."""
    from longaqa.models.fastpath.dropout import Dropout

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
    from longaqa.models.fastpath.dropout import random_words

    chunks: dict[int, np.ndarray] = {}
    random_words(count, lambda words, offset: chunks.__setitem__(offset, words.copy()))
    return [chunks[k] for k in sorted(chunks)]


def test_random_words_come_in_chunks_reproduced_by_the_seed():
    """Large draws come in two chunks from two streams (drawn on two threads); both are reproduced by
    ``torch.manual_seed``, and the two streams are not the same words."""
    from longaqa.models.fastpath.dropout import RANDOM_CHUNK_WORDS

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
    from longaqa.models.fastpath.dropout import Dropout

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
    from longaqa.models.fastpath.dropout import RANDOM_CHUNK_WORDS

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
