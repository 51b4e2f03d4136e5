"""``longaqa evaluate RUN_DIR [--data-root DIR]``: test metrics of a run as one JSON object."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a run's selected weights on its test split")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--data-root", help="dataset folder (default: the one the run was trained on)")
    p.set_defaults(func=run)


def run(args) -> int:
    from longaqa.training import evaluate_run

    print(json.dumps(evaluate_run(args.run_dir, args.data_root)))
    return 0
