"""Every bad input of docs/robustness.md gets one clear error through the real CLI, never a traceback."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_script():
    path = REPO / "scripts" / "bad_inputs_table.py"
    spec = importlib.util.spec_from_file_location("bad_inputs_table", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def outcomes():
    return load_script().outcomes(include_sigint=False)  # SIGINT: tests/test_resume.py


def test_every_bad_input_gets_one_clear_error(outcomes):
    assert len(outcomes) >= 30
    for outcome in outcomes:
        name, message = outcome.case.name, outcome.message
        assert outcome.code == outcome.case.code, (name, message)
        assert "Traceback" not in message and "Warning" not in message, (name, message)
        assert message.startswith("longaqa: error: "), (name, message)
        assert outcome.case.expect in message, (name, message)


def test_docs_table_lists_every_case(outcomes):
    doc = (REPO / "docs" / "robustness.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| ")]
    for outcome in outcomes:
        assert any(row.startswith(f"| {outcome.case.name} |") for row in rows), (
            f"{outcome.case.name!r} missing from docs/robustness.md; "
            "run python scripts/bad_inputs_table.py --write"
        )
