"""The restricted unpickler: plain data loads, code-running pickles and garbage are refused clearly."""

from __future__ import annotations

import collections
import os
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longaqa.errors import LongAQAError
from longaqa.safe_pickle import safe_load_pickle, safe_loads_pickle


def plain_data():
    return {
        ("Ball", 1): [np.arange(6, dtype=np.int64).reshape(2, 3), np.float32(2.5), 3, "Lower", None],
        "scores": np.linspace(0, 1, 5),
        "labels": np.array(["a", "bb"]),
        "flags": {True, False},
        "frozen": frozenset({1, 2}),
        "ordered": collections.OrderedDict(a=1.5, b=b"raw"),
        "default": collections.defaultdict(list, {"x": [1]}),
        "complex": 1 + 2j,
    }


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_round_trips(tmp_path, protocol):
    path = tmp_path / "anno_dict.pkl"
    path.write_bytes(pickle.dumps(plain_data(), protocol=protocol))
    loaded = safe_load_pickle(path)
    expected = plain_data()
    assert loaded.keys() == expected.keys()
    np.testing.assert_array_equal(loaded[("Ball", 1)][0], expected[("Ball", 1)][0])
    assert loaded[("Ball", 1)][1:] == expected[("Ball", 1)][1:]
    np.testing.assert_array_equal(loaded["scores"], expected["scores"])
    np.testing.assert_array_equal(loaded["labels"], expected["labels"])
    assert loaded["ordered"] == expected["ordered"]
    assert loaded["default"]["missing"] == []
    assert loaded["complex"] == 1 + 2j


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


class Custom:
    pass


@pytest.mark.parametrize(
    "payload, refused",
    [
        (RunsCode(), "os.system" if os.name != "nt" else "nt.system"),
        (Custom(), "Custom"),
        (np.array([1, "a"], dtype=object), "dtype object"),
        (np.ma.masked_array([1, 2], mask=[0, 1]), "numpy"),
        (eval, "builtins.eval"),
    ],
)
def test_code_and_objects_are_refused(tmp_path, payload, refused):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(LongAQAError, match="refused to load pickled") as info:
        safe_load_pickle(path)
    assert str(path) in str(info.value)
    assert refused.split(".")[-1] in str(info.value) or refused in str(info.value)


def test_object_arrays_when_asked_still_restricted(tmp_path):
    ok = tmp_path / "ok.pkl"
    ok.write_bytes(pickle.dumps(np.array([1, "a", (2, 3)], dtype=object)))
    loaded = safe_load_pickle(ok, allow_object_arrays=True)
    assert list(loaded) == [1, "a", (2, 3)]
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(np.array([RunsCode()], dtype=object)))
    with pytest.raises(LongAQAError, match="system"):
        safe_load_pickle(evil, allow_object_arrays=True)


def test_missing_truncated_and_empty(tmp_path):
    with pytest.raises(LongAQAError, match="pickle file not found"):
        safe_load_pickle(tmp_path / "nope.pkl")
    data = pickle.dumps(plain_data())
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(LongAQAError, match="cut.pkl: not a readable pickle"):
        safe_load_pickle(tmp_path / "cut.pkl")
    (tmp_path / "empty.pkl").write_bytes(b"")
    with pytest.raises(LongAQAError, match="empty.pkl"):
        safe_load_pickle(tmp_path / "empty.pkl")


FUZZ = settings(
    max_examples=int(os.environ.get("LONGAQA_FUZZ_EXAMPLES", "300")),
    derandomize=os.environ.get("LONGAQA_FUZZ_RANDOM") != "1",  # repeatable CI; see tests/test_fuzz.py
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.binary(max_size=512))
def test_arbitrary_bytes_only_raise_longaqa_error(data):
    try:
        safe_loads_pickle(data, "fuzz.pkl")
    except LongAQAError as exc:
        assert "fuzz.pkl" in str(exc)


@FUZZ
@given(st.data())
def test_mutated_valid_pickles_only_raise_longaqa_error(data):
    blob = bytearray(pickle.dumps(plain_data(), protocol=data.draw(st.integers(0, 5))))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(blob)))
    try:
        safe_loads_pickle(bytes(blob[:cut]), "mutated.pkl")
    except LongAQAError as exc:
        assert "mutated.pkl" in str(exc)
