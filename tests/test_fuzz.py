"""Property-based fuzzing of everything that reads user files: label parsers, the config loader, the
``.npy`` feature reader and the LOGO reader. Arbitrary bytes and mutated valid files must either load
or raise the project's own :class:`LongAQAError` naming the file; any other exception is a bug.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from longaqa.config import load_config, valid_keys
from longaqa.data.features import read_features
from longaqa.data.fisv import parse_fisv_labels
from longaqa.data.generic import parse_generic_labels
from longaqa.data.rg import parse_rg_labels
from longaqa.errors import LongAQAError

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The workplace's shared folder (real public label files in SHARED/data); may be absent."""
FUZZ = settings(
    max_examples=int(os.environ.get("LONGAQA_FUZZ_EXAMPLES", "150")),
    derandomize=os.environ.get("LONGAQA_FUZZ_RANDOM") != "1",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Fixed examples by default, so CI is repeatable; LONGAQA_FUZZ_RANDOM=1 LONGAQA_FUZZ_EXAMPLES=5000
searches afresh (do that after changing a reader)."""

RG_SAMPLE = (
    b"Video_Name\tDifficulty_Score    Execution_Score Total_Score\tPenalty\tVideo_length\n"
    b"Ball_001\t10.50\t8.30\t18.80\t0.00\t92\nBall_002\t7.20\t4.20\t10.80\t0.60\t93\n"
)
FISV_SAMPLE = b"1 28.71 29.36 1\n3 28.79 27.89 1\n5 32.2 28.9 0\n"
GENERIC_SAMPLE = b"name,score,split\nv1,10.5,train\nv2,7.25,test\nv3,3,train\n"


def real_or_sample(relative: str, sample: bytes) -> bytes:
    """The real public label file when the workplace has it, else a small sample in its format."""
    path = SHARED / "data" / relative
    return path.read_bytes() if path.is_file() else sample


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def mutate(data: st.DataObject, blob: bytes) -> bytes:
    """Random byte edits, insertions, deletions and a truncation of ``blob``."""
    out = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        kind = data.draw(st.sampled_from(["set", "insert", "delete"]), label="kind")
        pos = data.draw(st.integers(0, max(0, len(out) - 1)), label="pos")
        if kind == "set" and out:
            out[pos] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            out[pos:pos] = data.draw(
                st.sampled_from([b"\t", b" ", b"\n", b"nan", b"inf", b"-1e999", b"\x00", b"\xff", b",", b'"',
                                 b"x" * 200_000]), label="insert")
        elif out:
            del out[pos : pos + data.draw(st.integers(1, 50))]
    return bytes(out[: data.draw(st.integers(0, len(out)), label="cut")])


def expect_clean(load, path: Path) -> object | None:
    try:
        return load(path)
    except LongAQAError as exc:
        assert str(path) in str(exc) or path.name in str(exc), f"message does not name the file: {exc}"
        return None


# --- label parsers --------------------------------------------------------------------------------

PARSERS = {
    "rg": (parse_rg_labels, lambda: real_or_sample("rg_labels/train.txt", RG_SAMPLE)),
    "fisv": (parse_fisv_labels, lambda: real_or_sample("fisv_labels/train_dataset.txt", FISV_SAMPLE)),
    "generic": (lambda p: parse_generic_labels(p, "train"), lambda: GENERIC_SAMPLE),
}


@pytest.mark.parametrize("layout", PARSERS)
@FUZZ
@given(blob=st.binary(max_size=2048))
def test_label_parsers_on_arbitrary_bytes(scratch, layout, blob):
    parse, _ = PARSERS[layout]
    path = scratch / f"{layout}-labels.txt"
    path.write_bytes(blob)
    rows = expect_clean(parse, path)
    for row in rows or []:
        assert isinstance(row[0], str) and row[0]


@pytest.mark.parametrize("layout", PARSERS)
@FUZZ
@given(data=st.data())
def test_label_parsers_on_mutated_valid_files(scratch, layout, data):
    parse, valid = PARSERS[layout]
    path = scratch / f"{layout}-mutated.txt"
    path.write_bytes(mutate(data, valid()))
    expect_clean(parse, path)


@pytest.mark.parametrize("layout", PARSERS)
def test_label_parsers_read_the_unmutated_files(scratch, layout):
    parse, valid = PARSERS[layout]
    path = scratch / f"{layout}-valid.txt"
    path.write_bytes(valid())
    assert len(parse(path)) >= 2


# --- config loader --------------------------------------------------------------------------------

@FUZZ
@given(blob=st.binary(max_size=2048))
def test_config_loader_on_arbitrary_bytes(scratch, blob):
    path = scratch / "fuzz.yaml"
    path.write_bytes(blob)
    expect_clean(load_config, path)


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
KEYS = valid_keys()


@FUZZ
@given(
    tree=st.dictionaries(
        st.sampled_from(["model", "loss", "data", "train", "base", "other"]),
        st.one_of(yaml_values, st.dictionaries(st.sampled_from([k.split(".")[1] for k in KEYS] + ["bogus"]),
                                               yaml_values, max_size=6)),
        max_size=5,
    )
)
def test_config_loader_on_random_structures(scratch, tree):
    path = scratch / "structured.yaml"
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    cfg = expect_clean(load_config, path)
    if cfg is not None:
        assert cfg.model.d_model % cfg.model.num_heads == 0


@FUZZ
@given(key=st.sampled_from(KEYS) | st.text(max_size=20), value=st.text(max_size=30))
def test_config_overrides_on_random_strings(key, value):
    try:
        load_config(None, [f"{key}={value}"])
    except LongAQAError as exc:
        assert str(exc)


@FUZZ
@given(data=st.data())
def test_config_loader_on_mutated_shipped_config(scratch, data):
    shipped = sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml"))
    fallback = b"model:\n  d_model: 16\n  num_heads: 2\ntrain:\n  lr: 0.001\n"
    text = shipped[0].read_bytes() if shipped else fallback
    path = scratch / "mutated.yaml"
    path.write_bytes(mutate(data, text))
    expect_clean(load_config, path)


# --- .npy feature reader --------------------------------------------------------------------------

def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@FUZZ
@given(blob=st.binary(max_size=1024))
def test_npy_reader_on_arbitrary_bytes(scratch, blob):
    path = scratch / "fuzz.npy"
    path.write_bytes(b"\x93NUMPY" + blob if blob[:1] == b"\x01" else blob)
    expect_clean(lambda p: read_features(p, 8), path)


@pytest.mark.filterwarnings("ignore:Reading `.npy`")  # numpy warns about Python 2 style headers
@FUZZ
@given(data=st.data())
def test_npy_reader_on_mutated_valid_files(scratch, data):
    valid = npy_bytes(np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32))
    path = scratch / "mutated.npy"
    blob = mutate(data, valid)
    if data.draw(st.booleans(), label="edit header"):  # target the header: shapes, dtypes, versions
        header = valid[:128].decode("latin1")
        shapes = ["(5,)", "(0, 8)", "(10**9, 8)", "(99999999999, 8)", "(5, 8, 1)", "(-1, 8)", "(5, 9)", "()",
                  "[5, 8]"]
        dtypes = ["<f4", "|O", "<U3", ">f8", "<c8", "|b1", "V4"]
        header = header.replace("(5, 8)", data.draw(st.sampled_from(shapes), label="shape"))
        header = header.replace("<f4", data.draw(st.sampled_from(dtypes), label="dtype"))
        blob = header.encode("latin1")[:128].ljust(128) + valid[128:]
    path.write_bytes(blob)
    features = expect_clean(lambda p: read_features(p, 8), path)
    if features is not None:
        assert features.dtype == np.float32 and features.ndim == 2 and features.shape[1] == 8
        assert np.isfinite(features).all()


@FUZZ
@given(array=hnp.arrays(
    dtype=hnp.scalar_dtypes() | hnp.unicode_string_dtypes(),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
))
def test_npy_reader_on_valid_arrays_of_any_dtype_and_shape(scratch, array):
    path = scratch / "any.npy"
    path.write_bytes(npy_bytes(array))
    features = expect_clean(lambda p: read_features(p, None), path)
    if features is not None:
        assert features.dtype == np.float32 and features.ndim == 2 and features.shape[0] > 0
        assert np.isfinite(features).all()


# --- LOGO reader (pickled labels through the restricted unpickler) -------------------------------

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4) | st.tuples(st.text(max_size=4), st.integers()), inner, max_size=3),
    max_leaves=6,
)


@FUZZ
@given(annotations=plain | st.dictionaries(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3)), plain),
       split=plain | st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3)) | plain, max_size=4))
def test_logo_reader_on_random_pickled_structures(scratch, annotations, split):
    from longaqa.data.logo import load_logo_split

    (scratch / "anno_dict.pkl").write_bytes(pickle.dumps(annotations))
    (scratch / "train_split3.pkl").write_bytes(pickle.dumps(split))
    try:
        labels = load_logo_split(scratch, "train")
    except LongAQAError as exc:
        assert ".pkl" in str(exc)
    else:
        assert all(isinstance(name, str) and math.isfinite(score) for name, score in labels)
