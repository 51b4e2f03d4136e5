"""``multiplicative``: the routines of :mod:`longaqa.data.synthetic` (docs/synthetic.md), unchanged.

Total = scale x sum over clips of difficulty x quality, plus judge noise; RG layout. Per-clip truth
(``truth/<name>.npz``): ``weight`` (the difficulty of the element being performed), ``quality``
(its execution, 0-1) and ``contribution`` (scale x weight x quality; sums to the total up to the
label noise). The D and E columns are a split of the total, not separate judgements.
"""

from __future__ import annotations

from pathlib import Path

from longaqa.data.generators.release import DEFAULT_SIZES, GenerationSizes, check_class_name
from longaqa.data.synthetic import RoutineSpec, write_routines

KIND = "multiplicative"
DEFAULT_CLIPS = (RoutineSpec.min_clips, RoutineSpec.max_clips)
FEWEST_CLIPS = 1


def write_multiplicative(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines with :func:`longaqa.data.synthetic.write_routines`."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    spec = RoutineSpec(num_train=sizes.num_train, num_test=sizes.num_test, class_name=sizes.class_name,
                       min_clips=min_clips, max_clips=max_clips, feature_dim=sizes.feature_dim, seed=sizes.seed)
    return write_routines(root, spec)
