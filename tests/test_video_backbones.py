"""Backbones: the real swin3d_b on a few frames, Video-Swin checkpoint key conversion, weight files."""

from __future__ import annotations

import itertools

import pytest
import torch

pytest.importorskip("torchvision", reason="torchvision is not importable here (`make test-video` runs this)")

from longaqa.errors import LongAQAError  # noqa: E402
from longaqa.video.backbones import build_backbone, read_weight_file  # noqa: E402
from longaqa.video.swin import SWIN_B, SWIN_TINY_TEST, convert_video_swin_state_dict  # noqa: E402

WINDOW = (8, 7, 7)


def video_swin_relative_index(window=WINDOW) -> torch.Tensor:
    """Video-Swin's relative position index, from its definition (offsets shifted to >= 0, mixed radix)."""
    coords = list(itertools.product(*(range(w) for w in window)))
    n = len(coords)
    index = torch.empty(n, n, dtype=torch.long)
    radix = (2 * window[1] - 1) * (2 * window[2] - 1), 2 * window[2] - 1, 1
    for i, a in enumerate(coords):
        for j, b in enumerate(coords):
            index[i, j] = sum((a[d] - b[d] + window[d] - 1) * radix[d] for d in range(3))
    return index


def original_swin_state(config=SWIN_B, num_classes: int = 600, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random state dict with the key names and shapes of the original Video-Swin checkpoints
    (``config=SWIN_B``: swin_base_patch244_window877_kinetics600_22k)."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g)

    dim, heads = config["embed_dim"], config["num_heads"]
    table = (2 * WINDOW[0] - 1) * (2 * WINDOW[1] - 1) * (2 * WINDOW[2] - 1)  # 2535
    relative_index = video_swin_relative_index()
    s = {
        "backbone.patch_embed.proj.weight": r(dim, 3, 2, 4, 4),
        "backbone.patch_embed.proj.bias": r(dim),
        "backbone.patch_embed.norm.weight": r(dim),
        "backbone.patch_embed.norm.bias": r(dim),
    }
    for i, depth in enumerate(config["depths"]):
        c = dim * 2**i
        for j in range(depth):
            p = f"backbone.layers.{i}.blocks.{j}."
            s |= {
                p + "norm1.weight": r(c), p + "norm1.bias": r(c),
                p + "attn.relative_position_bias_table": r(table, heads[i]),
                p + "attn.relative_position_index": relative_index,
                p + "attn.qkv.weight": r(3 * c, c), p + "attn.qkv.bias": r(3 * c),
                p + "attn.proj.weight": r(c, c), p + "attn.proj.bias": r(c),
                p + "norm2.weight": r(c), p + "norm2.bias": r(c),
                p + "mlp.fc1.weight": r(4 * c, c), p + "mlp.fc1.bias": r(4 * c),
                p + "mlp.fc2.weight": r(c, 4 * c), p + "mlp.fc2.bias": r(c),
            }
        if i < 3:
            p = f"backbone.layers.{i}.downsample."
            s |= {p + "reduction.weight": r(2 * c, 4 * c),
                  p + "norm.weight": r(4 * c), p + "norm.bias": r(4 * c)}
    s |= {"backbone.norm.weight": r(8 * dim), "backbone.norm.bias": r(8 * dim),
          "cls_head.fc_cls.weight": r(num_classes, 8 * dim), "cls_head.fc_cls.bias": r(num_classes)}
    return s


@pytest.fixture(scope="module")
def swin_b():
    return build_backbone("swin3d_b", None)


def test_real_swin3d_b_on_a_few_frames(swin_b):
    assert swin_b.feature_dim == 1024
    n_params = sum(p.numel() for p in swin_b.module.parameters())
    assert 87e6 < n_params < 89e6  # Swin-B: 88M with its classifier
    clips = torch.randn(2, 3, 4, 64, 64)  # (B, C, T, H, W): a few small frames keep it cheap
    with torch.no_grad():
        y = swin_b.module(clips)
    assert y.shape == (2, 1024) and torch.isfinite(y).all()
    # the pooled features equal torchvision's own forward up to its classifier
    net = swin_b.module.net
    head, net.head = net.head, torch.nn.Identity()
    try:
        with torch.no_grad():
            torch.testing.assert_close(net(clips), y)
    finally:
        net.head = head


def test_torchvision_relative_index_is_video_swins():
    from torchvision.models.video.swin_transformer import ShiftedWindowAttention3d

    attn = ShiftedWindowAttention3d(16, list(WINDOW), [4, 3, 3], num_heads=2)
    assert torch.equal(attn.relative_position_index.view(392, 392), video_swin_relative_index())


def test_video_swin_checkpoint_loads_into_swin3d_b(tmp_path, swin_b):
    original = original_swin_state()
    path = tmp_path / "swin_base_patch244_window877_kinetics600_22k.pth"
    torch.save({"meta": {"epoch": 30}, "state_dict": original}, path)
    backbone = build_backbone("swin3d_b", path)
    got = backbone.module.net.state_dict()
    pairs = {
        "patch_embed.proj.weight": "backbone.patch_embed.proj.weight",
        "features.0.1.attn.qkv.weight": "backbone.layers.0.blocks.1.attn.qkv.weight",
        "features.1.reduction.weight": "backbone.layers.0.downsample.reduction.weight",
        "features.4.17.mlp.3.weight": "backbone.layers.2.blocks.17.mlp.fc2.weight",
        "features.4.5.mlp.0.bias": "backbone.layers.2.blocks.5.mlp.fc1.bias",
        "features.5.norm.weight": "backbone.layers.2.downsample.norm.weight",
        "features.6.1.attn.relative_position_bias_table":
            "backbone.layers.3.blocks.1.attn.relative_position_bias_table",
        "norm.bias": "backbone.norm.bias",
    }
    for new, old in pairs.items():
        assert torch.equal(got[new], original[old]), new
    converted = convert_video_swin_state_dict(original)
    assert len(converted) == len(original) - 2  # everything but the Kinetics-600 classifier
    for key, value in converted.items():
        assert torch.equal(got[key], value), key


def test_torchvision_weights_file_loads(tmp_path):
    tiny = build_backbone("swin3d_b", None, tiny=True)
    path = tmp_path / "swin3d_tiny.pth"
    torch.save(tiny.module.net.state_dict(), path)  # torchvision names, with its 400-class head
    again = build_backbone("swin3d_b", path, tiny=True)
    loaded = again.module.net.state_dict()
    for key, value in tiny.module.net.state_dict().items():
        if not key.startswith("head."):  # the classifier is not used and not loaded
            assert torch.equal(loaded[key], value), key


def test_weights_torchvision_from_a_prefilled_cache(tmp_path, monkeypatch, swin_b):
    """--weights torchvision: Swin3D_B_Weights.KINETICS400_V1's file in torch's cache, loaded without a
    network (the file here: swin_b's random weights under torchvision's name)."""
    import urllib.error

    from torch import hub
    from torchvision.models.video import Swin3D_B_Weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setattr(hub, "urlopen", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / Swin3D_B_Weights.KINETICS400_V1.url.rsplit("/", 1)[1]
    with pytest.raises(LongAQAError, match=f"could not download .*offline.*place it at {cached}"):
        build_backbone("swin3d_b", "torchvision")
    cached.parent.mkdir(parents=True, exist_ok=True)  # the offline try made the folder, left it empty
    assert not list(cached.parent.iterdir())
    state = swin_b.module.net.state_dict()
    torch.save(state, cached)
    backbone = build_backbone("swin3d_b", "torchvision")
    assert backbone.weights == str(cached)
    loaded = backbone.module.net.state_dict()
    for key, value in state.items():
        if not key.startswith("head."):  # the classifier is not used and not loaded
            assert torch.equal(loaded[key], value), key


def test_bad_weight_files_are_named(tmp_path):
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(LongAQAError, match="broken.pth: not a readable weights file"):
        read_weight_file(bad)
    with pytest.raises(LongAQAError, match="missing.pth: backbone weights file not found"):
        build_backbone("swin3d_b", tmp_path / "missing.pth", tiny=True)
    original = original_swin_state(SWIN_TINY_TEST)
    torch.save({"state_dict": original}, tmp_path / "tiny_original.pth")
    build_backbone("swin3d_b", tmp_path / "tiny_original.pth", tiny=True)  # loads
    partial = {k: v for k, v in original.items() if ".blocks.0.mlp." not in k}
    torch.save({"state_dict": partial}, tmp_path / "partial.pth")
    with pytest.raises(LongAQAError, match=r"partial.pth: does not fit swin3d_b: 16 keys missing"):
        build_backbone("swin3d_b", tmp_path / "partial.pth", tiny=True)
    with pytest.raises(LongAQAError, match=r"tiny_original.pth: does not fit swin3d_b: .*another shape"):
        build_backbone("swin3d_b", tmp_path / "tiny_original.pth")  # tiny weights, real network
    torch.save({"layers.0.blocks.0.attn.qkv.weight": torch.zeros(1), "foo.bar": torch.zeros(1)},
               tmp_path / "other.pth")
    with pytest.raises(LongAQAError, match="unrecognised keys.*foo.bar"):
        build_backbone("swin3d_b", tmp_path / "other.pth", tiny=True)
    with pytest.raises(LongAQAError, match="unknown backbone"):
        build_backbone("resnet", None)


def test_i3d_weights_with_dataparallel_prefix_and_other_classifier(tmp_path):
    tiny = build_backbone("i3d", None, tiny=True)
    state = {"module." + k: v for k, v in tiny.module.state_dict().items() if not k.startswith("logits.")}
    state["module.logits.conv3d.weight"] = torch.zeros(157, 128, 1, 1, 1)  # e.g. a Charades head
    state["module.logits.conv3d.bias"] = torch.zeros(157)
    torch.save(state, tmp_path / "rgb_charades.pt")
    again = build_backbone("i3d", tmp_path / "rgb_charades.pt", tiny=True)
    x = torch.randn(1, 3, 8, 56, 56)
    with torch.no_grad():
        torch.testing.assert_close(again.module(x), tiny.module(x))
