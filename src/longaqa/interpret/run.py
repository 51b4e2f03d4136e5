"""Interpretability over a run folder: explain videos, measure explanations, write the results.

Wires a trained run (``longaqa.training`` layout) to the functions of this package; the commands
``explain``, ``interpretability`` and ``report`` call these.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from longaqa.config import Config
from longaqa.data.dataset import VideoSample
from longaqa.errors import LongAQAError
from longaqa.interpret.agreement import ELEMENT_FIELDS, read_truth, truth_agreement
from longaqa.interpret.explanation import (
    VideoExplanation,
    explain_video,
    explanation_view,
    make_output_folder,
    write_explanation,
)
from longaqa.interpret.mapping import DEFAULT_MAPPING
from longaqa.interpret.perturbation import faithfulness, ranked_perturbation_curves
from longaqa.interpret.skipping import DEFAULT_BANDWIDTH, skipping_index
from longaqa.interpret.variation import variation_summary

INTERPRETABILITY_FILE = "interpretability.json"
SCATTER_FILE = "predicted_vs_true.png"
"""Written beside the video folders by ``explain`` on a split."""
SPLITS = ("train", "test")


def interpretability_file(split: str = "test", mapping: str = DEFAULT_MAPPING) -> str:
    """``interpretability.json``, with ``_<split>`` and ``_<mapping>`` when not test and the default."""
    parts = (
        ["interpretability"] + ([split] if split != "test" else []) + ([mapping] if mapping != DEFAULT_MAPPING else [])
    )
    return "_".join(parts) + ".json"


def load_run_for_inference(run_dir: Path):
    """``training.load_run``, which also sets torch's CPU threads (``train.num_threads``, or torch's
    default capped at the cores this process may use)."""
    from longaqa.training import load_run

    return load_run(run_dir)


def load_split_samples(
    cfg: Config, run_dir: Path, data_root: str | Path | None, split: str
) -> tuple[list[VideoSample], Path]:
    """One split of the run's dataset (``--data-root`` or the one recorded in ``run.json``) and its root."""
    from longaqa.data import dataset_root, load_split
    from longaqa.training import os_errors_named, run_data_root

    if split not in SPLITS:
        raise LongAQAError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    from longaqa.sheets import training_sheet

    with os_errors_named():  # e.g. a video name too long for a file name: one line, not a traceback
        root = dataset_root(cfg.data, run_data_root(run_dir, data_root))
        return load_split(cfg.data, root, split, cfg.model.input_dim, sheet=training_sheet(cfg)), root


def explain_samples(
    model, cfg: Config, samples: list[VideoSample], view: str | None = None, mapping: str = DEFAULT_MAPPING
) -> list[VideoExplanation]:
    """Explain every sample (true scores back on the raw scale)."""
    return [
        explain_video(model, cfg, s.name, s.features, s.score * cfg.data.score_divisor, view, mapping) for s in samples
    ]


def save_explanation(expl: VideoExplanation, folder: Path, plots: bool = True) -> Path:
    """The explanation's data files plus, with ``plots``, ``curves.png`` and ``attention.png``."""
    write_explanation(expl, folder)
    if plots:
        from longaqa.interpret.plots import attention_png, curves_png

        curves_png(expl, folder / "curves.png")
        attention_png(expl, folder / "attention.png")
    return folder


def read_feature_files(features: list[str], input_dim: int) -> list[tuple[str, np.ndarray]]:
    """``(name, clip features)`` of ``.npy`` files given with ``--features``, the name being the file's
    stem; every file is checked (one clear error) and two files of one name are refused."""
    from longaqa.data.features import read_features

    stems = [Path(p).stem for p in features]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise LongAQAError(f"--features: several files named {', '.join(twice)} would share one folder")
    return [(Path(p).stem, read_features(p, input_dim)) for p in features]


def read_summaries(folders: list[Path]) -> list[dict]:
    """Each explanation folder's explanation.json, read once for the notes the commands print."""
    from longaqa.interpret.explanation import SUMMARY_FILE

    return [json.loads((Path(folder) / SUMMARY_FILE).read_text()) for folder in folders]


def predicted_scores(summaries: list[dict]) -> list[tuple[str, float]]:
    """``(video name, predicted score)`` of explanation summaries (:func:`read_summaries`)."""
    return [(summary["name"], float(summary["pred"])) for summary in summaries]


def explain_run(
    run_dir: str | Path,
    out_dir: str | Path,
    features: list[str] | None = None,
    data_root: str | Path | None = None,
    split: str = "test",
    view: str | None = None,
    mapping: str = DEFAULT_MAPPING,
    plots: bool = True,
) -> list[Path]:
    """Explain ``.npy`` feature files (``features``) or a whole split; one folder per video in ``out_dir``.

    Needs only the run's ``config.yaml`` and ``weights.safetensors`` when ``features`` are given.
    Every feature file is checked before anything is written.
    """
    run = Path(run_dir)
    cfg, model, _ = load_run_for_inference(run)
    if features:
        arrays = [(name, array, None) for name, array in read_feature_files(features, cfg.model.input_dim)]
    else:
        samples, _ = load_split_samples(cfg, run, data_root, split)
        arrays = [(s.name, s.features, s.score * cfg.data.score_divisor) for s in samples]
    out = make_output_folder(out_dir)
    folders, labelled = [], []
    for name, array, true in arrays:
        expl = explain_video(model, cfg, name, array, true, view, mapping)
        folders.append(save_explanation(expl, out / name, plots))
        if true is not None:
            labelled.append((expl.pred, true))
    if plots and len(labelled) >= 2:
        from longaqa.interpret.plots import scatter_png

        pred, true = zip(*labelled)
        scatter_png(list(pred), list(true), out / SCATTER_FILE, title=f"{split}: {len(labelled)} videos")
    return folders


def count_constant_scores(summaries: list[dict]) -> tuple[int, int]:
    """(videos whose clip scores are nearly constant, videos) among explanation summaries."""
    from longaqa.interpret.variation import NEARLY_CONSTANT

    constant = 0
    for summary in summaries:
        score = summary.get("variation", {}).get("score")
        constant += score is not None and score < NEARLY_CONSTANT
    return constant, len(summaries)


def fragile_videos(summaries: list[dict]) -> list[str]:
    """Names of the videos whose background margin (the additive head's background prior) is below
    ``FRAGILE_MARGIN``: their per-clip accounts were far less faithful on generated routines."""
    from longaqa.models.background import FRAGILE_MARGIN

    return [s["name"] for s in summaries
            if s.get("background_margin") is not None and s["background_margin"] < FRAGILE_MARGIN]


def run_config(run):
    """The resolved config of a run folder (its config.yaml), or None (anything else, or unreadable)."""
    from longaqa.config import load_config
    from longaqa.run_folder import CONFIG_FILE

    if isinstance(run, (str, Path)) and (Path(run) / CONFIG_FILE).is_file():
        try:
            return load_config(Path(run) / CONFIG_FILE)
        except LongAQAError:
            return None
    return None


def learns_foreground(cfg) -> bool:
    """Whether a config's additive head finds its background with a learned foreground (False for None)."""
    return cfg is not None and cfg.model.head == "additive" and cfg.model.background_rule == "learned"


def learned_foreground(run) -> bool:
    """Whether the run folder's additive head finds its background with a learned foreground."""
    return learns_foreground(run_config(run))


LEARNED_LOW_MARGIN = (
    "with a learned foreground (model.background_rule: learned) the margin is the densest rule's, which the "
    "network learned from, and hiding one clip no longer hands the background to another kind of clip: on "
    "generated routines, with the shipped configs (model.learned_teacher: adaptive), such videos were about "
    "as faithful as the others on every generator but one (at most 0.04 less: icedance_heldout 0.83 against "
    "0.86 from a margin of 0.3 on, aerobic_heldout 0.86 against 0.90; bench/RESULTS.md); the exception, "
    "moguls_heldout, whose connecting movement is itself judged, was unfaithful at any margin"
)
"""What a low margin means for a run with a learned foreground (``explain``'s note, ``report``)."""


def fragile_note(names: list[str], total: int, learned: bool = False) -> str | None:
    """A sentence for the reader when some videos' background margin is low, else None; ``learned``:
    the run's foreground is learned (``model.background_rule: learned``), and the margin is its teacher's."""
    from longaqa.models.background import FRAGILE_MARGIN

    if not names:
        return None
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    if learned:
        return (f"note: in {len(names)} of {total} video(s) the densest rule's background won by a margin below "
                f"{FRAGILE_MARGIN} ({shown}); {LEARNED_LOW_MARGIN}; check the foreground column there")
    return (f"note: in {len(names)} of {total} video(s) the background won by a margin below {FRAGILE_MARGIN} "
            f"({shown}): their per-clip accounts are fragile, hiding one clip can move many clips' parts "
            "(docs/additive.md, 'A per-video trust signal'); check the foreground column first")


def skipping_summary(explanations: list[VideoExplanation], bandwidth: int = DEFAULT_BANDWIDTH) -> dict:
    """Temporal-skipping index of the explained videos: on the self-attention maps (``mean``,
    ``per_layer``) and, for comparison, on the attention loss's L_S (``ls_mean``, ``ls_per_layer``)."""
    result: dict = {"bandwidth": bandwidth}
    for key, attr in (("", "self_attention"), ("ls_", "ls")):
        layers = len(getattr(explanations[0], attr))
        per_layer = []
        for n in range(layers):
            values = [skipping_index(getattr(e, attr)[n], bandwidth) for e in explanations]
            values = [v for v in values if math.isfinite(v)]
            per_layer.append(float(np.mean(values)) if values else float("nan"))
        result[f"{key}per_layer"] = per_layer
        result[f"{key}mean"] = float(np.mean(per_layer))
    return result


def interpretability_run(
    run_dir: str | Path,
    data_root: str | Path | None = None,
    split: str = "test",
    view: str | None = None,
    truth_dir: str | Path | None = None,
    num_random: int = 5,
    max_videos: int | None = None,
    seed: int = 0,
    mapping: str = DEFAULT_MAPPING,
) -> dict:
    """All interpretability measurements of a run on one split; also written to
    ``RUN_DIR/interpretability.json`` (``interpretability_<split>_<mapping>.json`` when the split is
    not ``test`` or the mapping not the default (``attention``), each part only when it differs).

    ``truth`` is present when per-clip truth is found (``truth_dir``, default ``<dataset>/truth``).
    """
    from longaqa.training import os_errors_named

    run = Path(run_dir)
    cfg, model, _ = load_run_for_inference(run)
    samples, root = load_split_samples(cfg, run, data_root, split)
    if max_videos is not None:
        samples = samples[:max_videos]
    explanations = explain_samples(model, cfg, samples, view, mapping)
    result: dict = {
        "run": str(run),
        "split": split,
        "view": explanation_view(cfg, view),
        "n_videos": len(explanations),
        "mapping_mode": mapping,
        "mapping": {m: sum(e.mapping == m for e in explanations) for m in ("index", "attention", "clip")},
    }

    truth_root = Path(truth_dir) if truth_dir is not None else root / "truth"
    pairs = []
    with os_errors_named():  # a --truth name too long for the file system: one line
        if truth_dir is not None and not truth_root.is_dir():
            raise LongAQAError(f"{truth_root}: truth folder not found")
        if truth_root.is_dir():
            for expl in explanations:
                path = truth_root / f"{expl.name}.npz"
                if path.is_file():
                    pairs.append((expl, read_truth(path, extra=ELEMENT_FIELDS)))
    result["truth"] = truth_agreement(pairs) if pairs else None
    result["truth_by_mapping"] = {  # index-mapped (one-to-one) and attention-mapped videos apart
        m: truth_agreement(subset)
        for m in ("index", "attention", "clip")
        if (subset := [(e, t) for e, t in pairs if e.mapping == m])
    }

    features = [s.features.cpu().numpy()[e.window] for s, e in zip(samples, explanations)]
    rankings = {  # both compared with the same random orders, run once
        "": [e.clip_contribution[e.window] for e in explanations],
        "_centred": [e.clip_centred_contribution[e.window] for e in explanations],
    }
    curves = ranked_perturbation_curves(model, features, rankings, cfg.data.score_divisor, num_random, seed)
    for suffix, part in curves.items():
        result[f"deletion{suffix}"] = part["deletion"]
        result[f"insertion{suffix}"] = part["insertion"]
    result["num_random"] = num_random
    # hiding clip k (as padding) moves the prediction by about its stated contribution? (Pearson r)
    named = {"contribution": rankings[""], "centred_contribution": rankings["_centred"]}
    result["faithfulness"] = faithfulness(model, features, named, cfg.data.score_divisor)
    result["skipping_index"] = skipping_summary(explanations)
    result["variation"] = variation_summary(explanations)
    name = interpretability_file(split, mapping)
    (run / name).write_text(json.dumps(result, indent=2) + "\n")
    return result
