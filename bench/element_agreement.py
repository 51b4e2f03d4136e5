"""Per clip or per element: where does a head's per-clip account lose its agreement with the truth? (issue 14)

A head trained on sums over clips cannot tell how the truth shares one element's value among the
element's clips (all on its first clip, spread evenly, mostly on the landing): every split gives the
same sums. The bench's per-clip rho counts such a split against the head. This diagnostic trains one
head on one or more generators at the settings of ``bench/explanation_truth.py`` (same data, same
model) and measures on the test videos, per seed:

- ``rho_<field>``: the within-video Spearman of each per-clip field with the truth (as the bench does);
- ``rho_<field>_per_element``: the same after averaging both sides over each element (a run of
  consecutive clips of one truth ``element_type`` >= 0), every clip off elements kept as its own unit
  (``longaqa.interpret.agreement``, "Per element"). What is left of the gap to 1 is the head crediting
  the wrong elements or the wrong clips between elements, not the split inside an element.

Fields: ``contribution`` and, where the head and the truth both have them, ``difficulty``,
``deduction`` and ``tes``. Needs generators whose truth has ``element_type``.

    python bench/element_agreement.py --generators floor_heldout pbars_heldout --head additive_learned_centre
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import explanation_truth as bench  # noqa: E402

from longaqa.data.generators import GENERATORS  # noqa: E402
from longaqa.interpret.agreement import ELEMENT_FIELDS, read_truth, truth_agreement  # noqa: E402
from longaqa.interpret.run import explain_samples, load_run_for_inference, load_split_samples  # noqa: E402
from longaqa.training import fit  # noqa: E402


def agreement(explanations, truths) -> dict[str, float]:
    """Clip- and element-level rho of every field both sides have (``longaqa.interpret.agreement``)."""
    result = truth_agreement(list(zip(explanations, truths)))
    return {f"rho_{key}": result[f"{key}_spearman"] for key in result["fields"]}


def one_seed(kind: str, head: str, seed: int, epochs: int, threads: int, work: Path) -> dict[str, float]:
    data, max_clips = bench.default_data(kind, work / "data")
    cfg = bench.bench_config(kind, head, seed, epochs, max_clips, [f"train.num_threads={threads}"], 256)
    run = work / f"seed{seed}"
    fit(cfg, run, data_root=data, quiet=True)
    cfg, model, _ = load_run_for_inference(run)
    samples, root = load_split_samples(cfg, run, None, "test")
    explanations = explain_samples(model, cfg, samples)
    truths = [read_truth(root / "truth" / f"{e.name}.npz", extra=ELEMENT_FIELDS) for e in explanations]
    if not any(key in truths[0] for key in ELEMENT_FIELDS):
        sys.exit(f"{kind}: its truth has no element_type; choose a generator that writes one")
    return agreement(explanations, truths)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generators", nargs="+", required=True, choices=list(GENERATORS))
    p.add_argument("--head", default="additive_learned_centre", choices=list(bench.HEADS))
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="also write the figures here (JSON)")
    args = p.parse_args()
    start, results = time.time(), {}
    for kind in args.generators:
        seeds = []
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as tmp:
                seeds.append(one_seed(kind, args.head, seed, args.epochs, args.threads, Path(tmp)))
        mean = {k: float(np.mean([s[k] for s in seeds])) for k in seeds[0]}
        results[kind] = {"seeds": seeds, "mean": mean}
        print(f"{kind:18s} {args.head}: " + ", ".join(f"{k} {v:.3f}" for k, v in mean.items()), flush=True)
    if args.out:
        meta = {"command": "python bench/element_agreement.py " + " ".join(sys.argv[1:]),
                "seconds": round(time.time() - start, 1)}
        Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
