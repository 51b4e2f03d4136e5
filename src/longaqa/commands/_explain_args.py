"""Arguments shared by the commands that explain a run's videos (explain, interpretability, report)."""

from __future__ import annotations

MAPPINGS = ("auto", "index", "attention")


def add_split_arguments(p, split_help: str = "train or test (default test)") -> None:
    """``--data-root``, ``--split``, ``--view`` and ``--mapping``, the same for every explaining command."""
    p.add_argument("--data-root", help="dataset folder (default: the one the run was trained on)")
    p.add_argument("--split", default="test", help=split_help)
    p.add_argument("--view", choices=["full", "center_crop"], help="default: the run's data.eval_view")
    p.add_argument(
        "--mapping",
        choices=list(MAPPINGS),
        default="attention",
        help="query-to-clip mapping (default attention; auto: index when one-to-one)",
    )
