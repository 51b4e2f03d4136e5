"""Reading clip-feature files (``<name>.npy``, float32 ``(T, D)``) with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from longaqa.errors import LongAQAError


def read_features(path: str | Path, expected_dim: int | None = None) -> np.ndarray:
    """Load one video's clip features as float32 ``(T, D)``, refusing anything else.

    Raises :class:`LongAQAError` naming the file for: a missing file, a file that is not a ``.npy``
    array (pickled objects are never loaded), a shape other than 2-D, zero clips, a feature dimension
    other than ``expected_dim``, and NaN or infinite values.
    """
    path = Path(path)
    if not path.is_file():
        raise LongAQAError(f"{path}: feature file not found")
    _check_header(path)
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as exc:  # untrusted bytes: numpy's header parser can raise many types
        raise LongAQAError(f"{path}: not a readable .npy array ({type(exc).__name__}: {exc})") from None
    if not isinstance(array, np.ndarray):
        raise LongAQAError(f"{path}: expected a single .npy array, found {type(array).__name__}")
    if array.ndim != 2:
        raise LongAQAError(f"{path}: expected clip features of shape (T, D), got shape {array.shape}")
    if array.shape[0] == 0:
        raise LongAQAError(f"{path}: holds zero clips")
    if expected_dim is not None and array.shape[1] != expected_dim:
        raise LongAQAError(
            f"{path}: feature dimension {array.shape[1]} does not match model.input_dim={expected_dim}"
        )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise LongAQAError(f"{path}: expected a real numeric array, got dtype {array.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):  # values beyond float32 become inf, reported below
        array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise LongAQAError(f"{path}: {bad} NaN or infinite values in the features (as float32)")
    return array


def _check_header(path: Path) -> None:
    """Refuse a ``.npy`` whose header promises more data than the file holds, before allocating it."""
    try:
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                return  # other versions: np.load reports what it cannot read
            offset = fh.tell()
        size = path.stat().st_size
    except Exception as exc:  # untrusted bytes: numpy's header parser can raise many types
        raise LongAQAError(f"{path}: not a readable .npy array ({type(exc).__name__}: {exc})") from None
    if dtype.hasobject:
        return  # np.load(allow_pickle=False) refuses it with its own message
    needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size - offset < needed:
        raise LongAQAError(
            f"{path}: truncated .npy file (header says shape {shape} {dtype}, {needed} bytes; "
            f"{size - offset} bytes follow)"
        )

