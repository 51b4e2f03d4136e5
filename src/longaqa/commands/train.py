"""``longaqa train --config FILE [--data-root DIR] [--set KEY=VALUE ...] --out RUN_DIR``
and ``longaqa train --resume RUN_DIR [--set train.epochs=N]``.

``--out`` must not already hold a run. ``--resume`` continues a run from its last checkpoint with the
run's own ``config.yaml`` and dataset folder (``run.json``); ``--set`` may change only the keys in
``longaqa.training.RESUMABLE_KEYS`` (e.g. ``train.epochs`` to extend it).
"""

from __future__ import annotations

import json
import os


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model on clip features and evaluate it")
    p.add_argument("--config", help="YAML config (sections model, loss, data, train)")
    p.add_argument("--data-root", help="folder the dataset was unpacked into (data.root is relative to it)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.epochs=5 (repeatable)")
    p.add_argument("--out", help="run folder to create (refused if it already holds a run)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its last checkpoint, with its own config")
    p.add_argument("--quiet", action="store_true",
                   help="no line per epoch on stderr (losses, test metrics, seconds, time left); "
                   "warnings are still printed")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from longaqa.config import load_config
    from longaqa.errors import LongAQAError
    from longaqa.training import CONFIG_FILE, fit, run_data_root

    if args.resume:
        run_dir = Path(args.resume)
        if args.config:
            raise LongAQAError("--resume uses the run's own config.yaml; drop --config (use --set to extend)")
        if args.out and Path(args.out).resolve() != run_dir.resolve():
            raise LongAQAError(f"--resume {run_dir} continues that folder; drop --out {args.out}")
        if not (run_dir / CONFIG_FILE).is_file():
            raise LongAQAError(f"{run_dir}: not a run folder (no {CONFIG_FILE}); nothing to resume")
        cfg = load_config(run_dir / CONFIG_FILE, args.overrides)
        metrics = fit(cfg, run_dir, run_data_root(run_dir, args.data_root), resume=True, quiet=args.quiet)
    else:
        if not args.out:
            raise LongAQAError("train needs --out RUN_DIR (a new run folder) or --resume RUN_DIR")
        cfg = load_config(args.config, args.overrides)
        metrics = fit(cfg, args.out, args.data_root, quiet=args.quiet)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for the group
        print(json.dumps(metrics))
    return 0
