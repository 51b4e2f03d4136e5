"""The HTML report in a real headless browser (Debian's chromium driven by playwright).

Skipped, with the reason, where playwright (the ``browser`` extra) or /usr/bin/chromium is missing;
``.ci/run`` installs both.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

try:  # tests/ is a package in some checkouts and a plain folder in others
    from .conftest import TINY
except ImportError:
    from conftest import TINY

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed (pip install -e '.[browser]')"
    )
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, list[str]]:
    from longaqa.config import load_config
    from longaqa.interpret import explain_video, write_report
    from longaqa.interpret.plots import _figure, _save
    from longaqa.models import build_model

    torch.manual_seed(0)
    cfg = load_config(None, TINY)
    model = build_model(cfg.model).eval()
    videos = [
        explain_video(model, cfg, f"Ball_{i:03d}", torch.randn(n, 32), true=float(10 + i))
        for i, n in enumerate((9, 12, 15), start=1)
    ]
    thumbs = []
    for t in range(videos[0].num_clips):  # one small picture per clip, as the video pipeline passes
        fig = _figure(figsize=(1, 0.6))
        fig.add_subplot().imshow(np.full((6, 10), t), vmin=0, vmax=9)
        thumbs.append(_save(fig, None))
    interp = {
        "truth": {f"{k}_spearman": 0.5 for k in ("contribution", "weight", "score")},
        "deletion": {
            "fractions": [0.0, 0.5],
            "curve": [12.0, 9.0],
            "curve_random": [12.0, 11.0],
            "auc": 10.5,
            "auc_random": 11.5,
        },
        "insertion": {
            "fractions": [0.5, 1.0],
            "curve": [11.0, 12.0],
            "curve_random": [9.0, 12.0],
            "auc": 11.5,
            "auc_random": 10.5,
        },
        "skipping_index": {"mean": 0.8},
    }
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(
        None, videos, out, {videos[0].name: thumbs}, metrics={"srcc": 0.5, "n": 3}, interpretability=interp
    )
    return out, [v.name for v in videos]


def test_report_renders_in_headless_chromium(browser, report, tmp_path):
    from PIL import Image

    path, names = report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(path.as_uri(), wait_until="load")
    assert problems == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests  # nothing from the network

    sections = page.locator("section.video")
    assert sections.count() == len(names)
    for i, name in enumerate(names):
        section = sections.nth(i)
        assert section.get_attribute("data-video") == name
        section.scroll_into_view_if_needed()
        assert section.is_visible()
        box = section.bounding_box()
        assert box is not None and box["height"] > 200
        # every picture in the view decoded to a real image
        sizes = section.locator("img").evaluate_all("imgs => imgs.map(i => [i.complete, i.naturalWidth])")
        assert sizes and all(done and width > 0 for done, width in sizes), (name, sizes)
    thumbs = sections.nth(0).locator("img.thumb")
    assert thumbs.count() >= 5  # top and bottom tables carry clip pictures

    shot = page.screenshot(full_page=False)
    image = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.float64)
    assert image.std() > 10, "screenshot is blank"
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50
    shutil.copy(path, tmp_path / "report.html")
    page.close()
