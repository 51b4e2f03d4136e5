"""Model weights in safetensors (no code is executed when loading), written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from longaqa.errors import LongAQAError


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then fsync and rename over ``path``, so readers never see half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_weights(model: torch.nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(Path(path), lambda tmp: save_file(state, str(tmp), metadata=metadata or {}))


def load_weights(model: torch.nn.Module, path: Path) -> dict[str, str]:
    """Load safetensors weights into ``model``; a mismatch lists the differing keys. Returns metadata."""
    path = Path(path)
    if not path.is_file():
        raise LongAQAError(f"{path}: weights file not found")
    try:
        state = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise LongAQAError(f"{path}: not a readable safetensors file, truncated or corrupt ({exc})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append("missing: " + ", ".join(missing[:8]))
        if unexpected:
            parts.append("unexpected: " + ", ".join(unexpected[:8]))
        if shapes:
            parts.append("shape (file vs model): " + ", ".join(shapes[:8]))
        raise LongAQAError(
            f"{path}: weights do not match the model configuration ({'; '.join(parts)})"
        )
    model.load_state_dict(state)
    return metadata
