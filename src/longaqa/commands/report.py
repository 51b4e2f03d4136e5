"""``longaqa report RUN_DIR [--features FILE.npy ...] [--out FILE.html]``: one self-contained HTML report
of a split, or of feature files of new videos."""

from __future__ import annotations

from longaqa.commands._explain_args import add_split_arguments


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="self-contained HTML report: metrics, predicted vs true, per-video curves and maps",
        description="Write one HTML file (images inlined, no network needed) with the run's metrics, "
        "interpretability measures (RUN_DIR/interpretability.json, or computed with --measure), a "
        "predicted-vs-true scatter and one view per video (docs/interpretability.md). With --features, "
        "one view per feature file instead of a split.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "--features", nargs="+", metavar="FILE.npy",
        help="clip features (T, D) of new videos: report these instead of a split",
    )
    add_split_arguments(p)
    p.add_argument("--max-videos", type=int, help="show only the first N videos (the scatter too)")
    p.add_argument("--measure", action="store_true", help="run the interpretability measures first")
    p.add_argument(
        "--out", help="HTML file to write (default RUN_DIR/report.html; with --features RUN_DIR/report_features.html)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from longaqa.errors import LongAQAError
    from longaqa.interpret.explanation import explain_video
    from longaqa.interpret.report import check_report_path, write_report
    from longaqa.interpret.run import (
        explain_samples,
        interpretability_run,
        load_run_for_inference,
        load_split_samples,
        read_feature_files,
    )

    if args.max_videos is not None and args.max_videos < 1:
        raise LongAQAError(f"--max-videos must be >= 1, got {args.max_videos}")
    if args.features and args.measure:
        raise LongAQAError("--measure measures a split of the run's dataset; it does not go with --features")
    run_dir = Path(args.run_dir)
    out = Path(args.out) if args.out else run_dir / ("report_features.html" if args.features else "report.html")
    check_report_path(out)  # before any work
    cfg, model, _ = load_run_for_inference(run_dir)
    if args.features:
        files = read_feature_files(args.features[: args.max_videos], cfg.model.input_dim)
        explanations = [explain_video(model, cfg, name, array, None, args.view, args.mapping) for name, array in files]
        write_report(
            run_dir, explanations, out,
            title=f"longaqa report: {run_dir.name} ({len(explanations)} feature file(s))",
        )
        for expl in explanations:
            print(f"{expl.name}: predicted score {expl.pred:.3f}")
        print(f"wrote {out}")
        return 0
    interp = None
    if args.measure:
        interp = interpretability_run(
            run_dir, args.data_root, args.split, args.view, max_videos=args.max_videos, mapping=args.mapping
        )
    samples, _ = load_split_samples(cfg, run_dir, args.data_root, args.split)
    if args.max_videos is not None:
        samples = samples[: args.max_videos]
    explanations = explain_samples(model, cfg, samples, args.view, args.mapping)
    write_report(
        run_dir,
        explanations,
        out,
        interpretability=interp,
        title=f"longaqa report: {run_dir.name} ({args.split}, {len(explanations)} videos)",
    )
    print(f"wrote {out}")
    return 0
