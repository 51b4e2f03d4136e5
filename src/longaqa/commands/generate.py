"""``longaqa generate``: write a generated dataset of judged routines with per-clip truth (docs/generators.md)."""

from __future__ import annotations

from pathlib import Path

KINDS = ("multiplicative (rg), rg_additive (rg), rg_linking (rg), rg_linking_unique (rg), skating (fisv), "
         "skating_total (generic), "
         "rg_heldout (rg, held out from model design), skating_heldout (fisv, held out from model design), "
         "swimming_heldout (generic, held out from model design), "
         "aerobic_heldout (generic, held out from model design), "
         "floor_heldout (rg, held out from model design), "
         "icedance_heldout (fisv, held out from model design), "
         "acro_heldout (rg, held out from model design), "
         "trampoline_heldout (generic, held out from model design), "
         "moguls_heldout (generic, held out from model design), "
         "pairs_heldout (fisv, held out from model design), "
         "beam_heldout (rg, held out from model design), "
         "rggroup_heldout (rg, held out from model design), "
         "dressage_heldout (fisv, held out from model design), "
         "bars_heldout (rg, held out from model design), "
         "pommel_heldout (rg, held out from model design), "
         "rings_heldout (rg, held out from model design), "
         "pbars_heldout (rg, held out from model design), "
         "hbar_heldout (rg, held out from model design), "
         "diving_heldout (generic, held out from model design), "
         "tumbling_heldout (rg, held out from model design), "
         "surfing_heldout (generic, held out from model design), "
         "teamgym_heldout (rg, held out from model design), "
         "synchro_heldout (fisv, held out from model design)")
"""For the help text, without importing the generators (``longaqa.data`` imports torch); a test keeps it
in step with ``GENERATORS``."""


def register(sub) -> None:
    p = sub.add_parser("generate", help="write generated judged routines in a public layout, with per-clip truth",
                       description=f"Kinds (layout): {KINDS}. See docs/generators.md.")
    p.add_argument("--kind", required=True, metavar="KIND", help=f"generator: {KINDS}")
    p.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same files (default: 0)")
    p.add_argument("--num-train", type=int, default=200, help="training videos (default: 200)")
    p.add_argument("--num-test", type=int, default=50, help="test videos (default: 50)")
    p.add_argument("--feature-dim", type=int, default=1024, help="feature dimension (default: 1024)")
    p.add_argument("--min-clips", type=int, default=None, help="fewest clips per video (default: the kind's)")
    p.add_argument("--max-clips", type=int, default=None, help="most clips per video (default: the kind's)")
    p.add_argument("--class-name", default="Ball", help="RG class, the name prefix (default: Ball)")
    p.set_defaults(func=run)


def run(args) -> int:
    from longaqa.data.generators import GENERATORS, write_generated
    from longaqa.errors import LongAQAError

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise LongAQAError(f"{out}: already exists and is not an empty folder; choose another --out")
    root = write_generated(args.kind, out, seed=args.seed, num_train=args.num_train, num_test=args.num_test,
                           feature_dim=args.feature_dim, min_clips=args.min_clips, max_clips=args.max_clips,
                           class_name=args.class_name)
    layout = GENERATORS[args.kind].layout
    print(f"wrote {args.num_train} + {args.num_test} {args.kind} videos to {root} "
          f"(layout {layout}; per-clip truth in {root / 'truth'})")
    return 0
