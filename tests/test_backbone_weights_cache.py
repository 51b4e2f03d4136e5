"""``--weights torchvision``: the weight file in torch's cache (as torchvision and timm keep theirs),
downloaded there when missing with its checksum checked; offline, one error naming the file to place
and where. Runs without torchvision and without a network (file:// URLs, a refused urlopen);
tests/test_video_backbones.py loads the real swin3d_b from a pre-filled cache."""

from __future__ import annotations

import hashlib
import urllib.error

import pytest
from torch import hub

from longaqa.errors import LongAQAError
from longaqa.video import backbones
from longaqa.video.backbones import fetch_to_torch_cache, torchvision_weights

URL = "https://download.pytorch.org/models/swin3d_b_1k-24f7c7c6.pth"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """torch's cache under tmp_path (TORCH_HOME), and no network: any urlopen of a https URL fails."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    real = hub.urlopen

    def offline(request, *args, **kwargs):
        url = getattr(request, "full_url", request)
        if str(url).startswith("file:"):
            return real(request, *args, **kwargs)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(hub, "urlopen", offline)
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_a_prefilled_cache_is_used_without_a_network(cache):
    cache.mkdir(parents=True)
    (cache / "swin3d_b_1k-24f7c7c6.pth").write_bytes(b"placed by hand")
    assert fetch_to_torch_cache(URL, "--weights torchvision") == cache / "swin3d_b_1k-24f7c7c6.pth"


def test_offline_names_the_file_to_place_and_where(cache):
    with pytest.raises(LongAQAError) as err:
        fetch_to_torch_cache(URL, "--weights torchvision")
    message = str(err.value)
    assert message.startswith(f"--weights torchvision: could not download {URL} (")
    assert "Temporary failure in name resolution" in message
    assert f"place it at {cache / 'swin3d_b_1k-24f7c7c6.pth'}, or pass --weights FILE" in message
    assert not list(cache.iterdir())  # nothing half-written


def test_a_download_is_checked_against_the_hash_in_its_name(cache, tmp_path):
    blob = b"weights" * 1000
    digest = hashlib.sha256(blob).hexdigest()
    good = tmp_path / f"net-{digest[:8]}.pth"
    good.write_bytes(blob)
    path = fetch_to_torch_cache(good.as_uri(), "--weights torchvision", progress=False)
    assert path == cache / good.name and path.read_bytes() == blob
    bad = tmp_path / "net-00000000.pth"
    bad.write_bytes(blob)
    with pytest.raises(LongAQAError, match=r"does not match its checksum .*place it at .*net-00000000.pth"):
        fetch_to_torch_cache(bad.as_uri(), "--weights torchvision", progress=False)
    assert sorted(p.name for p in cache.iterdir()) == [good.name]  # the bad download is not kept


def test_torchvision_weights_only_for_the_full_swin3d_b():
    with pytest.raises(LongAQAError, match="torchvision has weights for swin3d_b only; give --backbone i3d a weight"):
        torchvision_weights("i3d")
    with pytest.raises(LongAQAError, match="fits the full swin3d_b only; drop --tiny"):
        torchvision_weights("swin3d_b", tiny=True)
    with pytest.raises(LongAQAError, match="torchvision has weights for swin3d_b only"):
        backbones.build_backbone("i3d", "torchvision", tiny=True)  # before building anything


def test_without_torchvision_one_line():
    try:
        import torchvision  # noqa: F401
    except ImportError:
        with pytest.raises(LongAQAError, match="--weights torchvision needs torchvision"):
            torchvision_weights("swin3d_b")
    else:
        from torchvision.models.video import Swin3D_B_Weights

        assert Swin3D_B_Weights.KINETICS400_V1.url.endswith("/swin3d_b_1k-24f7c7c6.pth")  # docs/video.md's file
