"""``longaqa interpretability RUN_DIR``: quantitative interpretability measures as one JSON object."""

from __future__ import annotations

import json

from longaqa.commands._explain_args import add_split_arguments


def register(sub) -> None:
    p = sub.add_parser(
        "interpretability",
        help="measure explanations: agreement with per-clip truth, deletion/insertion, skipping index",
        description="Print (and write to RUN_DIR/interpretability.json) per-clip agreement with truth when "
        "truth/<name>.npz files exist, deletion and insertion curves against random orders and the "
        "temporal-skipping index (docs/interpretability.md).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    add_split_arguments(p)
    p.add_argument("--truth", help="folder of <name>.npz per-clip truth (default: <dataset>/truth if present)")
    p.add_argument("--num-random", type=int, default=5, help="random orders per video (default 5)")
    p.add_argument("--max-videos", type=int, help="only the first N videos of the split")
    p.add_argument("--seed", type=int, default=0, help="seed of the random orders")
    p.set_defaults(func=run)


def run(args) -> int:
    from longaqa.errors import LongAQAError
    from longaqa.interpret.run import interpretability_run

    if args.num_random < 1:
        raise LongAQAError(f"--num-random must be >= 1, got {args.num_random}")
    if args.seed < 0:
        raise LongAQAError(f"--seed must be >= 0, got {args.seed}")
    if args.max_videos is not None and args.max_videos < 1:
        raise LongAQAError(f"--max-videos must be >= 1, got {args.max_videos}")
    result = interpretability_run(
        args.run_dir,
        args.data_root,
        args.split,
        args.view,
        args.truth,
        args.num_random,
        args.max_videos,
        args.seed,
        args.mapping,
    )
    print(json.dumps(result))
    return 0
