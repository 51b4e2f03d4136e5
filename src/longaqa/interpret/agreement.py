"""Agreement of explanations with per-clip truth (generated routines: ``truth/<name>.npz``).

A truth file holds any subset of the per-clip fields :data:`TRUTH_FIELDS`. For every video with
truth, Spearman's rho between predicted and true per-clip values over the clips the model saw, for
each field both sides have: ``contribution`` (the clip's share of the total), ``weight`` (predicted
clip weight vs true weight, the weight-score head), ``score`` (predicted clip score vs true
``quality``), ``difficulty``, ``deduction`` and ``tes`` (the additive head's parts vs the true ones),
and ``score_elements``: ``score`` over the clips whose true weight is above the video's lowest, i.e.
without the transitions of the multiplicative routines, whose score the mark barely depends on.
Each is averaged over videos as a plain mean and through Fisher's z; videos where a side is constant
(rho undefined) are left out and counted.

**Per element.** Judges mark elements, not clips, and sums over clips cannot say how an element's
value is shared among its clips (on its first clip, evenly, by phase): a per-clip truth fixes one such
split by convention. Where a truth file also says which clips form an element (``element``: an integer
id per clip, -1 off elements, clips of one id forming one element; or else ``element_type``: runs of
consecutive clips of one type >= 0, as the generators write it), each field is also compared per
element (``<key>_per_element``): both sides averaged over each element's clips, every clip off
elements kept as its own unit, then Spearman's rho over the units. The mean, not the sum, so that a
long element is not ranked first on both sides for its length alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from longaqa.errors import LongAQAError
from longaqa.interpret.explanation import VideoExplanation
from longaqa.metrics import fisher_z_mean, spearman

TRUTH_FIELDS = ("weight", "quality", "contribution", "difficulty", "deduction", "tes")
"""Per-clip truth fields a ``truth/<name>.npz`` may hold (any subset, at least one; docs/generators.md)."""
PAIRS = {  # result key -> (how to read the explanation's value, truth field)
    "contribution": (lambda e: e.clip_contribution, "contribution"),
    "weight": (lambda e: e.clip_weight, "weight"),
    "score": (lambda e: e.clip_score, "quality"),
    "difficulty": (lambda e: e.clip_parts.get("difficulty"), "difficulty"),
    "deduction": (lambda e: e.clip_parts.get("deduction"), "deduction"),
    "tes": (lambda e: e.clip_parts.get("tes"), "tes"),
}
ALWAYS = ("contribution", "weight", "score", "score_elements")
"""Keys present in every result (NaN when no video has both sides); the others only when measured."""
ELEMENT_FIELDS = ("element", "element_type")
"""Optional per-clip arrays of a truth file that say which clips form one element (module docstring)."""


def element_units(truth: dict[str, np.ndarray], seen: slice | np.ndarray) -> np.ndarray | None:
    """One unit index per seen clip (0, 1, ...): an element's clips share one, every other clip has its
    own; None when the truth does not say which clips form elements."""
    if "element" in truth:  # clips of one id >= 0 form one unit wherever they are
        ids = np.asarray(truth["element"])[seen].astype(np.int64)
        keys = [("element", int(i)) if i >= 0 else ("clip", t) for t, i in enumerate(ids)]
    elif "element_type" in truth:  # a run of consecutive clips of one type >= 0 is one unit
        types = np.asarray(truth["element_type"])[seen].astype(np.int64)
        run = np.cumsum([t == 0 or types[t] < 0 or types[t] != types[t - 1] for t in range(len(types))])
        keys = [("run", int(r)) for r in run]
    else:
        return None
    order = {key: n for n, key in enumerate(dict.fromkeys(keys))}
    return np.array([order[key] for key in keys], dtype=np.int64)


def unit_means(values: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """The mean of ``values`` over each unit."""
    return np.bincount(unit, weights=values) / np.bincount(unit)


def read_truth(path: str | Path, extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read one ``truth/<name>.npz``: the fields of :data:`TRUTH_FIELDS` it holds, float arrays of one
    length T (other arrays are ignored, except the ``extra`` names asked for, such as ``element_type``)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            found = [k for k in TRUTH_FIELDS if k in npz.files]
            found += [k for k in extra if k in npz.files and found]
            if not found:
                raise LongAQAError(
                    f"{path}: truth file holds none of the per-clip fields {', '.join(TRUTH_FIELDS)} "
                    f"(it has {', '.join(npz.files[:10]) or 'no arrays'})"
                )
            truth = {k: np.asarray(npz[k], dtype=np.float64) for k in found}
    except (OSError, ValueError, TypeError) as exc:
        raise LongAQAError(f"{path}: not a readable truth .npz ({exc})") from None
    shapes = {k: v.shape for k, v in truth.items() if v.ndim != 1}
    if shapes:
        raise LongAQAError(f"{path}: truth fields must be 1-d arrays, one value per clip; got shapes {shapes}")
    lengths = {len(v) for v in truth.values()}
    if len(lengths) != 1:
        raise LongAQAError(f"{path}: truth arrays have different lengths {sorted(lengths)}")
    for key in ELEMENT_FIELDS:
        if key in truth and not (np.isfinite(truth[key]).all() and (truth[key] == np.round(truth[key])).all()):
            raise LongAQAError(f"{path}: {key} must hold whole numbers (an id per clip, -1 off elements)")
    return truth


def truth_agreement(pairs: list[tuple[VideoExplanation, dict[str, np.ndarray]]]) -> dict:
    """Per-clip agreement over ``(explanation, truth)`` pairs; see the module docstring.

    Returns ``{"n_videos": n, "<key>_spearman": mean, "<key>_spearman_fisher_z": z-mean,
    "<key>_n": videos used}`` for key in contribution, weight, score, score_elements (always) and
    difficulty, deduction, tes (where the truth and the explanation both have them), the same per
    element (``<key>_per_element``, where the truth says which clips form elements), and ``fields``: the
    keys measured on at least one video.
    """
    rhos: dict[str, list[float]] = {k: [] for k in (*PAIRS, "score_elements")}
    for expl, truth in pairs:
        length = len(next(iter(truth.values())))
        if length != expl.num_clips:
            raise LongAQAError(f"{expl.name}: truth has {length} clips, the features {expl.num_clips}")
        seen = expl.window
        units = element_units(truth, seen)
        for key, (read, field) in PAIRS.items():
            pred = read(expl)
            if field not in truth or pred is None:
                continue
            pred, true = np.asarray(pred)[seen], truth[field][seen]
            ok = np.isfinite(pred)
            rho = spearman(pred[ok], true[ok]) if ok.sum() > 1 else float("nan")
            if np.isfinite(rho):
                rhos[key].append(rho)
            if units is not None and ok.all():
                rho = spearman(unit_means(pred, units), unit_means(true, units))
                if np.isfinite(rho):
                    rhos.setdefault(f"{key}_per_element", []).append(rho)
        if "weight" in truth and "quality" in truth:
            weight, score = truth["weight"][seen], expl.clip_score[seen]
            elements = np.isfinite(score) & (weight > weight.min())
            rho = spearman(score[elements], truth["quality"][seen][elements]) if elements.sum() > 1 else float("nan")
            if np.isfinite(rho):
                rhos["score_elements"].append(rho)
    result: dict = {"n_videos": len(pairs), "fields": [k for k, v in rhos.items() if v]}
    for key, values in rhos.items():
        if not values and key not in ALWAYS:
            continue
        result[f"{key}_spearman"] = float(np.mean(values)) if values else float("nan")
        result[f"{key}_spearman_fisher_z"] = fisher_z_mean(values) if values else float("nan")
        result[f"{key}_n"] = len(values)
    return result
