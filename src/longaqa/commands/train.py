"""``longaqa train --config FILE [--data-root DIR] [--set KEY=VALUE ...] --out RUN_DIR``
and ``longaqa train --resume RUN_DIR [--set train.epochs=N]``.

``--out`` must not already hold a run. ``--resume`` continues a run from its last checkpoint with the
run's own ``config.yaml`` and dataset folder (``run.json``); ``--set`` may change only the keys in
``longaqa.training.RESUMABLE_KEYS`` (e.g. ``train.epochs`` to extend it).

``--seeds N [--group SIZE]`` trains N seeds of the config as one group (``longaqa.group``) into
``OUT/seed<k>/`` and writes ``OUT/seeds.json`` (mean ± std); ``--resume OUT --seeds N`` continues it.
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
    p.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="train N seeds (train.seed, train.seed+1, ...) into OUT/seed<k>/, in groups as "
                   "--group says (docs/groups.md), and write OUT/seeds.json with mean ± std; with --resume OUT, "
                   "give the same N")
    p.add_argument("--group", default="auto", metavar="SIZE",
                   help="with --seeds: at most SIZE runs per group (auto, the default: on a GPU as many as "
                   "its memory holds, on a CPU one run after another, which is faster there; 1: one run "
                   "after another)")
    p.add_argument("--quiet", action="store_true",
                   help="no line per epoch on stderr (losses, test metrics, seconds, time left); "
                   "warnings are still printed")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from longaqa.config import load_config
    from longaqa.errors import LongAQAError
    from longaqa.training import CONFIG_FILE, fit, run_data_root

    if args.seeds != 1:
        return run_seeds(args)
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


def run_seeds(args) -> int:
    from pathlib import Path

    from longaqa.config import load_config
    from longaqa.errors import LongAQAError
    from longaqa.group.seeds import fit_seeds, seeds_folder_config
    from longaqa.training import run_data_root

    group_size = None if args.group == "auto" else _group_size(args.group)
    if args.resume:
        if args.config:
            raise LongAQAError("--resume uses the runs' own config.yaml; drop --config")
        out = Path(args.resume)
        cfg = load_config(seeds_folder_config(out), args.overrides)
        root = run_data_root(seeds_folder_config(out).parent, args.data_root)
        summary = fit_seeds(cfg, out, args.seeds, root, group_size, resume=True, quiet=args.quiet)
    else:
        if not args.out:
            raise LongAQAError("train --seeds N needs --out DIR (a new folder) or --resume DIR")
        cfg = load_config(args.config, args.overrides)
        summary = fit_seeds(cfg, args.out, args.seeds, args.data_root, group_size, quiet=args.quiet)
    print(json.dumps(summary))
    return 0


def _group_size(text: str) -> int:
    from longaqa.errors import LongAQAError

    if not text.isdigit() or int(text) < 1:
        raise LongAQAError(f"--group must be auto or a whole number >= 1, got {text!r}")
    return int(text)
