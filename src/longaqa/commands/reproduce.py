"""``longaqa reproduce TABLE --data-root DIR --seeds N --out DIR [--set KEY=VALUE ...] [--group SIZE]
[--executor inline|submitit]``."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "reproduce",
        help="train the grid of one of the paper's tables and write it as markdown and CSV",
        description="TABLE is table1 (RG + Fis-V), table2 (LOGO VST/I3D), table3 (ablation), table4 "
        "(positional encodings), table5 (query init spread), authors (the authors' code, departure by "
        "departure) or all. Cells already finished in --out are skipped.",
    )
    p.add_argument("table", metavar="TABLE", help="table1 ... table5, authors or all (1-5 also accepted)")
    p.add_argument("--data-root", required=True,
                   help="folder holding the releases as unpacked under rg/, fisv/ and logo/")
    p.add_argument("--seeds", type=int, default=3,
                   help="seeds per cell: train.seed, train.seed+1, ... (default 3)")
    p.add_argument("--out", required=True, help="output folder (runs/ and <table>.md, <table>.csv)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key in every cell, e.g. --set train.epochs=5 (repeatable)")
    p.add_argument("--configs", help="configs folder (default: the checkout's configs/)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the cells and which are finished; train nothing")
    p.add_argument("--group", default="1", metavar="SIZE",
                   help="train at most SIZE runs as one batched computation on one device (longaqa.group; "
                   "auto: as many as a GPU's memory holds, 1 on a CPU; default 1: one run after another)")
    p.add_argument("--executor", default="inline", choices=("inline", "submitit"),
                   help="where groups run: inline (this process) or submitit (SLURM jobs, or one local "
                   "process per GPU without SLURM); docs/groups.md")
    p.add_argument("--devices", type=int, metavar="N",
                   help="with --executor submitit and no SLURM: local processes (default: one per GPU)")
    p.add_argument("--executor-option", dest="executor_options", action="append", default=[],
                   metavar="KEY=VALUE", help="submitit parameter, e.g. cluster=slurm, partition=gpu, "
                   "timeout_min=600 (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    from longaqa.errors import LongAQAError
    from longaqa.reproduce import reproduce

    group = args.group
    if group != "auto":
        if not group.isdigit() or int(group) < 1:
            raise LongAQAError(f"--group must be auto or a whole number >= 1, got {group!r}")
        group = int(group)
    options = {}
    for item in args.executor_options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LongAQAError(f"--executor-option {item!r}: expected KEY=VALUE")
        options[key] = value
    for path in reproduce(args.table, args.data_root, args.out, args.seeds, args.overrides, args.configs,
                          args.dry_run, group=group, executor=args.executor, devices=args.devices,
                          executor_options=options):
        print(path)
    return 0
