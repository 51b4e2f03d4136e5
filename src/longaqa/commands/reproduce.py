"""``longaqa reproduce TABLE --data-root DIR --seeds N --out DIR [--set KEY=VALUE ...]``."""

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
    p.set_defaults(func=run)


def run(args) -> int:
    from longaqa.reproduce import reproduce

    for path in reproduce(args.table, args.data_root, args.out, args.seeds, args.overrides, args.configs,
                          args.dry_run):
        print(path)
    return 0
