"""``longaqa explain RUN_DIR (--features FILE.npy ... | [--data-root DIR] --split test) --out DIR``."""

from __future__ import annotations

from longaqa.commands._explain_args import add_split_arguments


def register(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="per-clip explanations (clips.csv, queries.csv, attention.npz, plots) of videos",
        description="Explain a run's predictions clip by clip: one folder per video in --out with "
        "clips.csv, queries.csv, attention.npz, explanation.json, curves.png and attention.png "
        "(docs/interpretability.md).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--features", nargs="+", metavar="FILE.npy", help="clip features (T, D) of new videos")
    add_split_arguments(p, "split to explain when no --features are given (train|test)")
    p.add_argument("--no-plots", action="store_true", help="write the data files only (no PNGs)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def run(args) -> int:
    from longaqa.interpret.run import (
        count_constant_scores,
        explain_run,
        fragile_note,
        fragile_videos,
        learned_foreground,
        predicted_scores,
        read_summaries,
    )
    from longaqa.interpret.variation import constant_scores_note

    folders = explain_run(
        args.run_dir,
        args.out,
        args.features,
        args.data_root,
        args.split,
        args.view,
        args.mapping,
        plots=not args.no_plots,
    )
    summaries = read_summaries(folders)
    if args.features:  # new videos: their scores are what the user came for
        for name, pred in predicted_scores(summaries):
            print(f"{name}: predicted score {pred:.3f}")
    print(f"explained {len(folders)} video(s) into {args.out}")
    for note in (constant_scores_note(*count_constant_scores(summaries)),
                 fragile_note(fragile_videos(summaries), len(summaries), learned_foreground(args.run_dir))):
        if note:
            print(note)
    return 0
