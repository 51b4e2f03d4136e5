"""Run each bad input through the real ``longaqa`` command line and tabulate the message it gets.

The table in ``docs/robustness.md`` is this script's output (between its ``bad-inputs`` markers):

    python scripts/bad_inputs_table.py           # print the markdown table
    python scripts/bad_inputs_table.py --write   # replace the table in docs/robustness.md

Every case builds its input in a temporary folder from a tiny synthetic RG-layout dataset, runs the
CLI in-process (the SIGINT case in a subprocess) and records the exit code and stderr. Temporary
paths are shown as ``<tmp>``; numbers that vary from run to run (an epoch count at SIGINT) as ``N``.
``tests/test_bad_inputs.py`` runs every case and checks it gets one clear error, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "robustness.md"
START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"
FEATURES = "swintx_avg_fps25_clip32"
TINY = [
    "model.input_dim=32", "model.d_model=16", "model.num_heads=2", "model.dim_feedforward=32",
    "model.num_queries=12", "model.head_hidden=[16,8]", "model.dropout=0.1", "train.batch_size=8",
    "train.epochs=2", "train.progress=false", "data.score_divisor=25", "train.device=cpu",
    "train.num_threads=1", "train.tensorboard=false",
]


def sets(overrides: list[str]) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


class Workspace:
    """A temporary folder with a clean dataset (``data``) and one finished tiny run (``run``)."""

    def __init__(self, root: Path):
        from longaqa.cli import main
        from longaqa.data.synthetic import RoutineSpec, write_routines

        self.root = root
        self.data = write_routines(root / "data", RoutineSpec(  # at most 12 clips: none cropped, no warning
            num_train=16, num_test=8, min_clips=10, max_clips=12, feature_dim=32, seed=5))
        self.run = root / "run"
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["train", "--data-root", str(self.data), *sets(TINY), "--quiet", "--out", str(self.run)]) == 0
        self.count = 0

    def fresh(self, name: str) -> Path:
        """A new path under the workspace."""
        self.count += 1
        return self.root / f"{name}{self.count}"

    def data_copy(self) -> Path:
        return Path(shutil.copytree(self.data, self.fresh("data")))

    def run_copy(self) -> Path:
        return Path(shutil.copytree(self.run, self.fresh("run")))

    def train(self, data: Path, *extra: str) -> list[str]:
        return ["train", "--data-root", str(data), *sets(TINY), *extra, "--out", str(self.fresh("out"))]


@dataclass
class Case:
    name: str
    """What is wrong, as a user would describe it."""
    prepare: Callable[[Workspace], list[str]]
    """Builds the bad input, returns the CLI arguments."""
    expect: str
    """A fragment the message must contain."""
    code: int = 2
    context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext


def _edit_labels(data: Path, split: str, edit: Callable[[list[str]], list[str]]) -> None:
    path = data / f"{split}.txt"
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")


def _feature(data: Path, index: int = 1) -> Path:
    return data / FEATURES / f"Ball_{index:03d}.npy"


def missing_feature(ws):
    data = ws.data_copy()
    _feature(data).unlink()
    return ws.train(data)


def truncated_feature(ws):
    data = ws.data_copy()
    blob = _feature(data).read_bytes()
    _feature(data).write_bytes(blob[: len(blob) // 2])
    return ws.train(data)


def nan_feature(ws):
    data = ws.data_copy()
    array = np.load(_feature(data))
    array[3, 5] = np.nan
    np.save(_feature(data), array)
    return ws.train(data)


def wrong_dim(ws):
    data = ws.data_copy()
    np.save(_feature(data), np.zeros((12, 1024), np.float32))
    return ws.train(data)


def one_dim(ws):
    data = ws.data_copy()
    np.save(_feature(data), np.zeros(32, np.float32))
    return ws.train(data)


def zero_clips(ws):
    data = ws.data_copy()
    np.save(_feature(data), np.zeros((0, 32), np.float32))
    return ws.train(data)


def pickled_npy(ws):
    data = ws.data_copy()
    np.save(_feature(data), np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return ws.train(data)


def junk_npy(ws):
    data = ws.data_copy()
    _feature(data).write_bytes(b"<html>404 Not Found</html>")  # what a failed download often saves
    return ws.train(data)


def short_row(ws):
    data = ws.data_copy()
    _edit_labels(data, "train", lambda rows: [*rows[:2], "Ball_002\t7.2\t4.2", *rows[3:]])
    return ws.train(data)


def text_score(ws):
    data = ws.data_copy()
    _edit_labels(data, "train", lambda rows: [*rows[:2], "Ball_002\t7.2\t4.2\tten\t0.6\t93", *rows[3:]])
    return ws.train(data)


def binary_labels(ws):
    data = ws.data_copy()
    (data / "train.txt").write_bytes(b"\xff\xfe\x00binary")
    return ws.train(data)


def missing_labels(ws):
    data = ws.data_copy()
    (data / "test.txt").unlink()
    return ws.train(data)


def duplicate(ws):
    data = ws.data_copy()
    _edit_labels(data, "train", lambda rows: [*rows, rows[3]])
    return ws.train(data)


def overlap(ws):
    data = ws.data_copy()
    train_rows = (data / "train.txt").read_text().splitlines()
    _edit_labels(data, "test", lambda rows: [*rows, train_rows[4]])
    return ws.train(data)


def nan_score(ws):
    data = ws.data_copy()
    _edit_labels(data, "train", lambda rows: [*rows[:2], "Ball_002\t7.2\t4.2\tnan\t0.6\t93", *rows[3:]])
    return ws.train(data)


def traversal(ws):
    data = ws.data_copy()
    _edit_labels(data, "train", lambda rows: [*rows, "../../etc/passwd\t1\t2\t3\t0\t30"])
    return ws.train(data)


def several(ws):
    data = ws.data_copy()
    _feature(data, 1).unlink()
    np.save(_feature(data, 2), np.full((12, 32), np.inf, np.float32))
    train_rows = (data / "train.txt").read_text().splitlines()
    _edit_labels(data, "test", lambda rows: [*rows, train_rows[5]])
    return ws.train(data)


def no_dataset(ws):
    return ws.train(ws.fresh("nowhere"))


def absent_class(ws):
    return ws.train(ws.data, "--set", "data.class_name=Hoop")


def exploding(ws):
    data = ws.data_copy()
    for path in (data / FEATURES).glob("*.npy"):
        np.save(path, np.load(path) * np.float32(1e38))
    return ws.train(data)


def unknown_key(ws):
    return ws.train(ws.data, "--set", "train.epoch=5")


def wrong_type(ws):
    return ws.train(ws.data, "--set", "train.epochs=many")


def bad_value(ws):
    return ws.train(ws.data, "--set", "model.num_heads=3")


def yaml_code(ws):
    path = ws.fresh("config").with_suffix(".yaml")
    path.write_text("train: !!python/object/apply:os.system ['echo owned']\n")
    return ["train", "--config", str(path), "--data-root", str(ws.data), "--out", str(ws.fresh("out"))]


def not_yaml(ws):
    path = ws.fresh("config").with_suffix(".yaml")
    path.write_text("model: [unclosed\n")
    return ["train", "--config", str(path), "--data-root", str(ws.data), "--out", str(ws.fresh("out"))]


def no_config(ws):
    return ["train", "--config", str(ws.fresh("missing")) + ".yaml", "--out", str(ws.fresh("out"))]


def existing_run(ws):
    return ["train", "--data-root", str(ws.data), *sets(TINY), "--out", str(ws.run)]


def unwritable(ws):
    blocker = ws.fresh("file")
    blocker.write_text("a file, not a folder")
    return ["train", "--data-root", str(ws.data), *sets(TINY), "--out", str(blocker / "run")]


@contextlib.contextmanager
def full_disk():
    import longaqa.checkpoint as checkpoint

    real = checkpoint.shutil.disk_usage
    checkpoint.shutil.disk_usage = lambda path: real(path)._replace(free=1024)
    try:
        yield
    finally:
        checkpoint.shutil.disk_usage = real


def disk_full(ws):
    return ws.train(ws.data)


def resume_nothing(ws):
    return ["train", "--resume", str(ws.fresh("empty"))]


def resume_changed(ws):
    run = ws.run_copy()
    return ["train", "--resume", str(run), "--set", "model.d_model=32", "--set", "loss.lambda_att=2"]


def resume_done(ws):
    return ["train", "--resume", str(ws.run_copy())]


def resume_corrupt(ws):
    run = ws.run_copy()
    blob = (run / "checkpoint.safetensors").read_bytes()
    (run / "checkpoint.safetensors").write_bytes(blob[: len(blob) // 3])
    return ["train", "--resume", str(run), "--set", "train.epochs=3"]


def resume_with_config(ws):
    return ["train", "--resume", str(ws.run), "--config", "configs/rg/ball.yaml"]


def evaluate_mismatch(ws):
    run = ws.run_copy()
    text = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(text.replace("d_model: 16", "d_model: 32", 1))
    return ["evaluate", str(run)]


def evaluate_corrupt(ws):
    run = ws.run_copy()
    (run / "weights.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    return ["evaluate", str(run)]


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def logo_pickle(ws):
    data = ws.fresh("logo")
    (data / FEATURES).mkdir(parents=True)
    (data / "anno_dict.pkl").write_bytes(pickle.dumps({("a", 1): RunsCode()}))
    (data / "train_split3.pkl").write_bytes(pickle.dumps([("a", 1)]))
    (data / "test_split3.pkl").write_bytes(pickle.dumps([("a", 2)]))
    return ws.train(data, "--set", "data.layout=logo")


def demo_out_file(ws):
    blocker = ws.fresh("file")
    blocker.write_text("a file, not a folder")
    return ["demo", "--out", str(blocker)]


def demo_force_foreign(ws):
    folder = ws.fresh("mywork")
    folder.mkdir()
    (folder / "notes.txt").write_text("not the demo's")
    return ["demo", "--out", str(folder), "--force"]


def long_name(ws):
    data = ws.data_copy()
    _edit_labels(data, "train", lambda rows: [*rows, "Ball_" + "x" * 300 + "\t1\t2\t3\t0\t30"])
    return ws.train(data)


def class_name_separator(ws):
    data = ws.data_copy()
    _edit_labels(data, "train", lambda rows: [*rows, "../Ball_900\t1\t2\t3\t0\t30"])
    return ws.train(data, "--set", "data.class_name=Ball")


def long_name_explaining(command: str, *extra: str):
    """explain, interpretability or report on a split that lists a 300-character video name."""
    def prepare(ws):
        data = ws.data_copy()
        _edit_labels(data, "test", lambda rows: [*rows, "Ball_" + "x" * 300 + "\t1\t2\t3\t0\t30"])
        out = ["--out", str(ws.fresh("out")) + (".html" if command == "report" else "")] if extra else []
        return [command, str(ws.run), "--data-root", str(data), *out]
    return prepare


def long_out(command: str):
    def prepare(ws):
        feature = ["--features", str(_feature(ws.data))] if command == "explain" else []
        return [command, str(ws.run), *feature, "--out", str(ws.root / ("x" * 300))]
    return prepare


def report_features_measure(ws):
    return ["report", str(ws.run), "--features", str(_feature(ws.data)), "--measure"]


def tiny_divisor(ws):
    return ws.train(ws.data, "--set", "data.score_divisor=1e-320")


def config_set(item):
    return lambda ws: ws.train(ws.data, "--set", item)


def billion_laughs(ws):
    path = ws.fresh("laughs").with_suffix(".yaml")
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]
    path.write_text("\n".join(lines) + "\nbase: *i\n")  # 9**9 items once expanded, from 450 bytes
    return ["train", "--config", str(path), "--data-root", str(ws.data), "--out", str(ws.fresh("out"))]


def _weights_edit(ws, edit, metadata=None):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    run = ws.run_copy()
    path = run / "weights.safetensors"
    with safe_open(str(path), framework="pt") as fh:
        meta = {**fh.metadata(), **(metadata or {})}
    save_file(edit(load_file(str(path))), str(path), metadata=meta)
    return ["evaluate", str(run)]


def weights_epoch_text(ws):
    return _weights_edit(ws, lambda state: state, {"epoch": "abc"})


def weights_epoch_negative(ws):
    return _weights_edit(ws, lambda state: state, {"epoch": "-3"})


def weights_nan(ws):
    def edit(state):
        key = sorted(state)[0]
        state[key] = state[key].clone()
        state[key].view(-1)[0] = float("nan")
        return state
    return _weights_edit(ws, edit)


def weights_int(ws):
    return _weights_edit(ws, lambda state: {k: v.round().long() for k, v in state.items()})


def checkpoint_epoch(value):
    def prepare(ws):
        from longaqa.checkpoint import load_checkpoint, save_checkpoint

        run = ws.run_copy()
        state = load_checkpoint(run / "checkpoint.safetensors")
        state["epoch"] = value
        save_checkpoint(run / "checkpoint.safetensors", state)
        return ["train", "--resume", str(run), "--set", "train.epochs=3"]
    return prepare


def run_json_root_number(ws):
    run = ws.run_copy()
    (run / "run.json").write_text('{"data_root": 5}')
    return ["evaluate", str(run)]


def run_json_missing(ws):
    run = ws.run_copy()
    (run / "run.json").unlink()
    return ["evaluate", str(run)]


def truth_scalars(ws):
    truth = ws.fresh("truth")
    truth.mkdir()
    for path in sorted((ws.data / "truth").glob("*.npz")):
        with np.load(path) as npz:
            np.savez(truth / path.name, **{key: np.float64(1.0) for key in npz.files})
    return ["interpretability", str(ws.run), "--truth", str(truth), "--num-random", "1", "--max-videos", "2"]


def interpretability_seed(ws):
    return ["interpretability", str(ws.run), "--seed", "-1"]


def extract_fps(ws):
    return ["extract", str(ws.fresh("videos")), "--weights", "w.pth", "--fps", "-5", "--out", str(ws.fresh("f"))]


def extract_out_file(ws):
    blocker = ws.fresh("file")
    blocker.write_text("a file, not a folder")
    return ["extract", str(ws.fresh("videos")), "--weights", "w.pth", "--out", str(blocker)]


def _generic(ws, edit: Callable[[list[str]], list[str]]) -> list[str]:
    """The workspace's dataset as the generic layout (labels.csv: name,score,split), edited."""
    data = ws.fresh("generic")
    shutil.copytree(ws.data / FEATURES, data / FEATURES)
    rows = ["name,score,split"]
    for split in ("train", "test"):
        for line in (ws.data / f"{split}.txt").read_text().splitlines()[1:]:
            fields = line.split()
            rows.append(f"{fields[0]},{fields[3]},{split}")
    (data / "labels.csv").write_text("\n".join(edit(rows)) + "\n")
    return ws.train(data, "--set", "data.layout=generic")


def generic_newline_name(ws):
    return _generic(ws, lambda rows: [*rows[:3], '"Ball_0\n02",5.0,train', *rows[4:]])


def generic_two_score_columns(ws):
    return _generic(ws, lambda rows: ["name,score,score,split"] + [
        ",".join([*r.split(",")[:2], "0", r.split(",")[2]]) for r in rows[1:]])


def generic_underscore_number(ws):
    return _generic(ws, lambda rows: [*rows[:3], "Ball_002,1_0,train", *rows[4:]])


HELD_LOCKS = []
"""Run-folder locks the busy-folder case holds (as another process would) until the script exits."""


def busy_folder(ws):
    from longaqa.checkpoint import RunFolderLock

    folder = ws.fresh("busy")
    HELD_LOCKS.append(RunFolderLock(folder).__enter__())  # a training in progress there
    return ws.train(ws.data)[:-1] + [str(folder)]


CASES = [
    Case("feature file missing for a labelled video", missing_feature, "feature file not found"),
    Case("feature file truncated (download cut short)", truncated_feature, "truncated .npy file"),
    Case("NaN in a feature file", nan_feature, "NaN or infinite values"),
    Case("feature dimension differs from model.input_dim", wrong_dim, "does not match model.input_dim"),
    Case("feature file is 1-D", one_dim, "expected clip features of shape (T, D)"),
    Case("feature file with zero clips", zero_clips, "holds zero clips"),
    Case("feature file holds pickled Python objects", pickled_npy, "not a readable .npy array"),
    Case("feature file is not a .npy at all", junk_npy, "not a readable .npy array"),
    Case("label row with too few fields", short_row, "expected 6 fields"),
    Case("non-numeric score in a label row", text_score, "non-numeric score"),
    Case("label file is binary, not text", binary_labels, "not a text file"),
    Case("label file missing", missing_labels, "label file not found"),
    Case("video listed twice in a split", duplicate, "is listed 2 times"),
    Case("video in both train and test", overlap, "is also in the train split"),
    Case("score is NaN", nan_score, "non-finite score"),
    Case("video name escapes the feature folder", traversal, "is not a file name"),
    Case("several problems at once", several, "3 problem(s) in the dataset"),
    Case("dataset folder missing", no_dataset, "dataset folder not found"),
    Case("data.class_name names a class not in the labels", absent_class, "no videos of class 'Hoop'"),
    Case("features so large the loss overflows", exploding,
         "non-finite training loss (mse=nan, attention=nan, mse_weighted=nan, attention_weighted=nan, loss=nan); "
         "training stopped, no checkpoint had been written yet; the settings that can cause it: train.lr=0.0001 "
         "(lower it), data.score_divisor=25"),
    Case("unknown config key", unknown_key, "unknown config key"),
    Case("config value of the wrong type", wrong_type, "expected int"),
    Case("invalid config combination", bad_value, "must be divisible"),
    Case("config YAML that tries to run code", yaml_code, "not valid YAML"),
    Case("config file that is not YAML", not_yaml, "not valid YAML"),
    Case("config file missing", no_config, "config file not found"),
    Case("train --out on a folder holding a run", existing_run, "already holds a run"),
    Case("train --out under a file (unwritable)", unwritable, "cannot create the run folder"),
    Case("not enough free disk (simulated: 1 KiB free)", disk_full, "MiB free", context=full_disk),
    Case("train --resume on a folder without a run", resume_nothing, "not a run folder"),
    Case("train --resume changing the model", resume_changed, "different configuration"),
    Case("train --resume on a finished run", resume_done, "already complete"),
    Case("train --resume with a truncated checkpoint", resume_corrupt, "truncated or corrupt"),
    Case("train --resume with --config", resume_with_config, "drop --config"),
    Case("evaluate weights from another model configuration", evaluate_mismatch,
         "do not match the model configuration"),
    Case("evaluate a corrupt weights file", evaluate_corrupt, "truncated or corrupt"),
    Case("LOGO pickle that would run code", logo_pickle, "refused to load pickled posix.system"),
    Case("train --out a folder another training is writing", busy_folder,
         "another longaqa process (process N) is training in this run folder"),
    Case("video name too long for a file name (300 characters)", long_name,
         "characters): cannot be read (File name too long)"),
    Case("RG row name with a path separator, data.class_name set (was dropped silently)", class_name_separator,
         "line 18: video name '../Ball_900' is not a file name (it holds a path separator)"),
    Case("explain on a split listing a 300-character video name", long_name_explaining("explain", "out"),
         "characters): cannot be read (File name too long)"),
    Case("interpretability on a split listing a 300-character video name", long_name_explaining("interpretability"),
         "characters): cannot be read (File name too long)"),
    Case("report on a split listing a 300-character video name", long_name_explaining("report", "out"),
         "characters): cannot be read (File name too long)"),
    Case("explain --out a 300-character name", long_out("explain"), "could not create the folder (File name too long)"),
    Case("report --out a 300-character name", long_out("report"), "cannot be written (File name too long)"),
    Case("report --features with --measure", report_features_measure, "does not go with --features"),
    Case("data.score_divisor so small the scores overflow (1e-320)", tiny_divisor,
         "score(s) infinite"),
    Case("train.num_threads negative", config_set("train.num_threads=-1"), "train.num_threads must be >= 0"),
    Case("train.weight_decay negative", config_set("train.weight_decay=-1"), "train.weight_decay must be >= 0"),
    Case("model.head_hidden with a negative width", config_set("model.head_hidden=[-1]"),
         "model.head_hidden widths must be >= 1"),
    Case("data.fps zero (explanations divide by it)", config_set("data.fps=0"), "data.fps must be positive"),
    Case("loss.lambda_reg and loss.lambda_att both 0", lambda ws: ws.train(
        ws.data, "--set", "loss.lambda_reg=0", "--set", "loss.lambda_att=0"), "nothing would be trained"),
    Case("loss.att_temperature infinite", config_set("loss.att_temperature=inf"),
         "loss.att_temperature must be a positive finite number"),
    Case("config of nested YAML aliases (billion laughs, 450 bytes)", billion_laughs,
         "YAML aliases are not allowed"),
    Case("weights metadata epoch not a number", weights_epoch_text, "metadata epoch 'abc' is not a whole number"),
    Case("weights metadata epoch negative", weights_epoch_negative, "metadata epoch '-3' is not a whole number"),
    Case("weights holding NaN", weights_nan, "hold NaN or infinite values"),
    Case("weights of an integer dtype", weights_int, "dtype (file vs model)"),
    Case("checkpoint epoch not a number", checkpoint_epoch("abc"), "checkpoint state is corrupt (epoch 'abc'"),
    Case("checkpoint epoch negative", checkpoint_epoch(-1), "checkpoint state is corrupt (epoch '-1'"),
    Case("run.json data_root not a string", run_json_root_number, "data_root must be a folder name or null"),
    Case("run.json missing (evaluate)", run_json_missing, "run.json: not found"),
    Case("interpretability --seed negative", interpretability_seed, "--seed must be >= 0"),
    Case("truth .npz of 0-d arrays", truth_scalars, "truth fields must be 1-d arrays"),
    Case("extract --fps negative", extract_fps, "--fps must be a positive number"),
    Case("extract --out an existing file", extract_out_file, "exists and is not a folder"),
    Case("generic CSV: a quoted name holding a line break", generic_newline_name,
         "invalid video name 'Ball_0\\n02'"),
    Case("generic CSV: the score column twice", generic_two_score_columns, "'score' appear more than once"),
    Case("generic CSV: score 1_0 (Python's float reads 10)", generic_underscore_number, "non-numeric score '1_0'"),
    Case("demo --out an existing file", demo_out_file, "exists and is not a folder"),
    Case("demo --force on a folder the demo did not write", demo_force_foreign,
         "not a folder written by longaqa demo"),
]


@dataclass
class Outcome:
    case: Case
    command: str
    code: int
    message: str


def sanitize(text: str, root: Path) -> str:
    text = text.replace(str(root.resolve()), "<tmp>").replace(str(root), "<tmp>")
    text = re.sub(r"\(process \d+\)", "(process N)", text)
    return re.sub(r"<tmp>/([a-z]+)\d+", r"<tmp>/\1", text)


def run_case(case: Case, ws: Workspace) -> Outcome:
    from longaqa.cli import main

    argv = case.prepare(ws)
    err, out = io.StringIO(), io.StringIO()
    with case.context(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    shown, i = [], 0
    while i < len(argv):  # the tiny-model overrides are the same everywhere: leave them out
        if argv[i] == "--set" and i + 1 < len(argv) and argv[i + 1] in TINY:
            i += 2
            continue
        shown.append(argv[i])
        i += 1
    command = "longaqa " + " ".join(shown)
    return Outcome(case, sanitize(command, ws.root), code, sanitize(err.getvalue().strip(), ws.root))


def run_sigint(ws: Workspace) -> Outcome:
    """SIGINT during training: the real CLI in a subprocess."""
    out = ws.fresh("out")
    argv = ["train", "--data-root", str(ws.data), *sets(TINY + ["train.epochs=100000"]), "--quiet", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "longaqa", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "epochs.csv").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    message = re.sub(r"epoch \d+/\d+", "epoch N/100000", sanitize(err.strip(), ws.root))
    case = Case("Ctrl-C (SIGINT) during training", lambda ws: argv, "checkpoint saved", code=130)
    return Outcome(case, "longaqa train ... (Ctrl-C)", proc.returncode, message)


def outcomes(include_sigint: bool = True) -> list[Outcome]:
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder))
        results = [run_case(case, ws) for case in CASES]
        if include_sigint:
            results.append(run_sigint(ws))
    return results


def _cell(text: str, limit: int = 400) -> str:
    text = text if len(text) <= limit else text[:limit] + " …"
    return text.replace("|", "\\|").replace("\n", "<br>")


def table(results: list[Outcome]) -> str:
    lines = ["| bad input | command | exit | message (stderr) |", "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.case.name} | `{_cell(r.command, 200)}` | {r.code} | {_cell(r.message)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"replace the table in {DOC}")
    args = parser.parse_args()
    text = table(outcomes())
    if not args.write:
        print(text)
        return
    doc = DOC.read_text(encoding="utf-8")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
