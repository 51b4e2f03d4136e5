"""``longaqa train --config FILE [--data-root DIR] [--set KEY=VALUE ...] --out RUN_DIR``."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model on clip features and evaluate it")
    p.add_argument("--config", help="YAML config (sections model, loss, data, train)")
    p.add_argument("--data-root", help="folder the dataset was unpacked into (data.root is relative to it)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.epochs=5 (repeatable)")
    p.add_argument("--out", required=True, help="run folder to create")
    p.set_defaults(func=run)


def run(args) -> int:
    from longaqa.config import load_config
    from longaqa.training import fit

    cfg = load_config(args.config, args.overrides)
    metrics = fit(cfg, args.out, args.data_root)
    print(json.dumps(metrics))
    return 0
