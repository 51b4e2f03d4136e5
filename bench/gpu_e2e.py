"""The command line end to end on a CUDA device: the demo, resuming a run (CUDA RNG state restored)
and torchrun with the NCCL backend, each compared with the matching uninterrupted / single-process run.

    python bench/gpu_e2e.py --work DIR [--json out.json] [--device cpu]

(``--device cpu`` is a dry run of the script itself: gloo instead of NCCL, the CPU generator.)

A benchmark-style check for a lent GPU machine (run by ``bench/gpu.sh``), not a test: CI has no GPU.
Prints one line per check with the largest differences it measured, and a table last.
  demo     ``longaqa demo`` on the GPU: its four test SRCCs and wall time.
  resume   demo config on the demo routines, 6 epochs straight against 3 epochs, then ``--resume`` to 6
           (constant learning rate, so the stretched schedule is the same): dropout draws come from the
           CUDA generator, so equal results need its state saved and restored. Also the same 6 epochs
           with the features in host memory (``train.features_on_device=false``).
  nccl     ``torchrun --nproc_per_node=1`` (NCCL process group, DDP wrapper) against a plain process,
           dropout off and centre crops. One GPU cannot hold two NCCL ranks, so this checks the NCCL
           path and the wrapper, not the splitting of a batch (the 2-process gloo test in CI does that).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

EXACT = ["model.dropout=0.0", "data.train_crop=center", "train.epochs=3"]


def longaqa(args: list[str], torchrun: bool = False) -> float:
    """Run ``longaqa ARGS`` (or under torchrun), echo its tail, fail loudly; return wall seconds."""
    cmd = [sys.executable, "-m", "longaqa", *args]
    if torchrun:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1", *cmd[1:]]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seconds = time.perf_counter() - start
    tail = (done.stdout + done.stderr).strip().splitlines()[-6:]
    print(f"$ {' '.join(cmd[1:])}  ({seconds:.1f} s, exit {done.returncode})")
    for line in tail:
        print(f"    {line}")
    if done.returncode != 0:
        raise SystemExit(f"gpu_e2e: command failed: {' '.join(cmd)}")
    return seconds


def sets(values: list[str]) -> list[str]:
    return [a for v in values for a in ("--set", v)]


def compare(a: Path, b: Path) -> dict[str, float]:
    """Largest absolute differences between two runs' weights and test predictions."""
    wa, wb = load_file(a / "weights.safetensors"), load_file(b / "weights.safetensors")
    if wa.keys() != wb.keys():
        raise SystemExit(f"gpu_e2e: {a} and {b} hold different tensors")
    weight = max(float((wa[k].double() - wb[k].double()).abs().max()) for k in wa)

    def preds(run: Path) -> dict[str, float]:
        with (run / "predictions.csv").open(newline="") as fh:
            return {r["name"]: float(r["pred"]) for r in csv.DictReader(fh)}

    pa, pb = preds(a), preds(b)
    if pa.keys() != pb.keys():
        raise SystemExit(f"gpu_e2e: {a} and {b} predicted different videos")
    return {"max_weight_diff": weight, "max_pred_diff": max(abs(pa[k] - pb[k]) for k in pa)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, help="scratch folder for the runs")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_e2e: no CUDA device visible")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    result: dict[str, object] = {"device": device, "torch": torch.__version__}

    seconds = longaqa(["demo", "--out", str(work / "demo"), "--force", "--set", f"train.device={args.device}"])
    summary = json.loads((work / "demo" / "summary.json").read_text())
    result["demo"] = {"seconds": round(seconds, 1), **{k: v for k, v in summary.items() if k.endswith("_srcc")}}

    routines = str((work / "demo" / "routines").resolve())
    base = ["--config", str(Path(__file__).resolve().parents[1] / "configs" / "demo.yaml")]
    common = [f"data.root={routines}", f"train.device={args.device}", "train.scheduler=none", "train.progress=false"]
    longaqa(["train", *base, *sets([*common, "train.epochs=6"]), "--out", str(work / "straight")])
    longaqa(["train", *base, *sets([*common, "train.epochs=3"]), "--out", str(work / "resumed")])
    longaqa(["train", "--resume", str(work / "resumed"), *sets(["train.epochs=6"])])
    longaqa(["train", *base, *sets([*common, "train.epochs=6"]), "--out", str(work / "straight_again")])
    longaqa(["train", *base, *sets([*common, "train.epochs=6", "train.features_on_device=false"]),
             "--out", str(work / "host_features")])
    result["resume"] = {"resumed_vs_straight": compare(work / "straight", work / "resumed"),
                        "straight_vs_straight_again": compare(work / "straight", work / "straight_again"),
                        "host_features_vs_straight": compare(work / "straight", work / "host_features")}

    exact = [*common, *EXACT]
    single = longaqa(["train", *base, *sets(exact), "--out", str(work / "single")])
    ddp = longaqa(["train", *base, *sets(exact), "--out", str(work / "nccl")], torchrun=True)
    result["nccl"] = {**compare(work / "single", work / "nccl"), "seconds_single": round(single, 1),
                      "seconds_torchrun": round(ddp, 1)}

    print()
    demo = result["demo"]
    print(f"demo on {result['device']}: {demo['seconds']} s; test SRCC "
          + ", ".join(f"{k[:-5]} {v:.3f}" for k, v in demo.items() if k.endswith("_srcc")))
    for name in ("resumed_vs_straight", "straight_vs_straight_again", "host_features_vs_straight"):
        d = result["resume"][name]
        print(f"resume   {name:28s} max |weight diff| {d['max_weight_diff']:.3g}, "
              f"max |pred diff| {d['max_pred_diff']:.3g}")
    d = result["nccl"]
    print(f"nccl     torchrun(1) vs plain process  max |weight diff| {d['max_weight_diff']:.3g}, "
          f"max |pred diff| {d['max_pred_diff']:.3g}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
