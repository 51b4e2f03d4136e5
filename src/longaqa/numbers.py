"""How numbers are written for people and files: one formatter for every table, CSV and line."""

from __future__ import annotations

import math


def format_number(value: float | int | None, spec: str = ".3f", missing: str = "") -> str:
    """``value`` in the format ``spec`` (e.g. ``.3f``, ``.4g``); ``missing`` for None, ``nan`` for a
    NaN or infinity (files and tables read them back as NaN)."""
    if value is None:
        return missing
    value = float(value)
    if not math.isfinite(value):
        return "nan"
    return f"{value:{spec}}"


def plus_minus(mean: float | None, std: float | None, spec: str = ".3f", missing: str = "–") -> str:
    """``mean ± std`` in ``spec``; the mean alone when ``std`` is None or 0 (one seed)."""
    if mean is None or not std:
        return format_number(mean, spec, missing)
    precision = spec.lstrip("0123456789")  # the std without the mean's field width
    return f"{format_number(mean, spec, missing)} ± {format_number(std, precision, missing)}"
