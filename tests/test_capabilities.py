"""Optional capabilities through the CLI: detected, reported, and required on demand.

The candidates are from-scratch JAX optimizers written as most people write them, with a constant
float learning rate (tests/candidates/constant_lr.py). The whole suite for them runs in the
mutation score (tests/test_mutants.py); here a subset shows the reporting and --optim-require.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKS = "test_learning_rate_schedule or test_first_two_steps or test_hyperparameters_as_arrays or test_matches_oracle and k10-float64-300"


def _run(pytester, target: str, *extra: str):
    pytester.syspathinsert(ROOT)
    result = pytester.runpytest_inprocess(
        f"--optim=tests.candidates.constant_lr:{target}", "--optim-reference=adam", "--optim-report=r",
        "-p", "no:randomly", "-p", "no:cacheprovider", "-k", CHECKS, *extra)
    doc = json.loads((pytester.path / "r.json").read_text())
    return result, doc["candidates"][f"tests.candidates.constant_lr:{target}"]


def test_constant_learning_rate_is_not_supported_and_passes(pytester):
    result, entry = _run(pytester, "adam")
    assert result.ret == 0, result.stdout.str()
    out = result.stdout.str()
    assert "schedules: not supported" in out
    assert "takes no learning-rate schedule: building it with learning_rate=<schedule> raised TypeError" in out
    assert entry["failed"] == 0 and entry["passed"] >= 4
    caps = entry["capabilities"]
    assert caps["schedules"]["status"] == "not supported" and "TypeError" in caps["schedules"]["reason"]
    assert caps["array_hyperparameters"]["status"] == "supported"
    assert caps["traced_hyperparameters"]["status"] == "not supported"  # float(lr) of a tracer
    md = (pytester.path / "r.md").read_text()
    assert "| schedules | not supported |" in md


def test_required_capability_that_is_not_supported_fails(pytester):
    result, entry = _run(pytester, "adam", "--optim-require=schedules")
    assert result.ret == 1
    (row,) = [r for f, r in entry["families"].items() if f == "schedules"]
    assert row["failed"] == 2
    message = row["failures"][0]["message"]
    assert "schedules is required (--optim-require) but not supported" in message
    assert "takes no learning-rate schedule" in message
    assert entry["capabilities"]["schedules"]["status"] == "not supported"
    # required capabilities are printed in the header, and the others still count n/a
    assert "required capabilities: schedules" in result.stdout.str()
    assert entry["capabilities"]["traced_hyperparameters"]["status"] == "not supported"


@pytest.mark.parametrize("target", ["adam_schedule_one_based", "adam_schedule_frozen"])
def test_schedule_accepted_but_wrong_fails(pytester, target):
    result, entry = _run(pytester, target)
    assert result.ret == 1
    assert entry["families"]["schedules"]["failed"] == 2
    assert entry["capabilities"]["schedules"]["status"] == "failed"
    assert entry["failed"] == 2  # only the schedule checks: the mathematics at a constant lr is right
