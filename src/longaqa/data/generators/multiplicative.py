"""``multiplicative``: the routines of :mod:`longaqa.data.synthetic` (docs/synthetic.md), unchanged.

Total = scale x sum over clips of difficulty x quality, plus judge noise; RG layout. Per-clip truth
(``truth/<name>.npz``): ``weight`` (the difficulty of the element being performed), ``quality``
(its execution, 0-1) and ``contribution`` (scale x weight x quality; sums to the total up to the
label noise). The D and E columns are a split of the total, not separate judgements.
"""

from __future__ import annotations

from pathlib import Path

from longaqa.data.generators.release import check_class_name, clip_range
from longaqa.data.synthetic import RoutineSpec, write_routines

KIND = "multiplicative"
DEFAULT_CLIPS = (RoutineSpec.min_clips, RoutineSpec.max_clips)
FEWEST_CLIPS = 1


def write_multiplicative(
    root: str | Path,
    *,
    seed: int = 0,
    num_train: int = 200,
    num_test: int = 50,
    feature_dim: int = 1024,
    min_clips: int | None = None,
    max_clips: int | None = None,
    class_name: str = "Ball",
) -> Path:
    """Write ``num_train + num_test`` routines with :func:`longaqa.data.synthetic.write_routines`."""
    min_clips, max_clips = clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS, num_train=num_train, num_test=num_test,
                                      feature_dim=feature_dim, min_clips=min_clips, max_clips=max_clips)
    check_class_name(class_name)
    spec = RoutineSpec(num_train=num_train, num_test=num_test, class_name=class_name, min_clips=min_clips,
                       max_clips=max_clips, feature_dim=feature_dim, seed=seed)
    return write_routines(root, spec)
